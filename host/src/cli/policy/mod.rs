//! `chanhost policy apply|plan <dir>`: a folder of region TOML files is the
//! source of truth for each region's plugin set. The command reads it,
//! compares it with what the server runs, prints the plan and, once
//! confirmed, deploys every change as one rollout (all or nothing).

mod desired;
mod plan;
mod remote;
mod upload;

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use self::desired::PluginRef;
use self::remote::{Change, Client, Problem, bare_hash};
use crate::registry::signing::SecretKey;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Make a server's region plugin sets match a folder of region TOML
    /// files: print the plan, ask, then deploy it as one rollout.
    ///
    /// Reads `<dir>/regions/*.toml` if `<dir>/regions` exists, else
    /// `<dir>/*.toml`. Only `[plugins]` is applied (`[region]` names the
    /// region; its other fields are not deployed). With `<dir>/hq.toml`,
    /// its `[defaults]` fill the slots a region file leaves out; without
    /// it, those slots are left as the server has them. A `promotions`
    /// array is the region's exact set of promotions, each named by its
    /// `id` (promotions the server has beyond it are removed). Plugins are
    /// `builtin:<name>`, `<name>@<version>`, `sha256:<hex>` or a `.wasm`
    /// path relative to `<dir>`, uploaded first (signed by `<file>.sig` or
    /// `--key`) when the server's registry does not have it.
    Apply(ApplyArgs),
    /// What `apply` would change, without changing anything (`apply --dry-run`).
    Plan(PlanArgs),
}

#[derive(Args)]
pub struct ServerArgs {
    /// The server, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "CHANHOST_URL")]
    url: String,
    /// A bearer token of an HQ admin, or of a region admin for its region.
    #[arg(long, env = "CHANHOST_TOKEN", hide_env_values = true)]
    token: String,
}

#[derive(Args)]
pub struct ApplyArgs {
    /// The folder of region TOML files.
    dir: PathBuf,
    #[command(flatten)]
    server: ServerArgs,
    /// Only print the plan.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    /// Sign components to upload with this secret key (`<id>.key`) instead
    /// of their `<file>.sig`.
    #[arg(long)]
    key: Option<PathBuf>,
    /// Why, recorded with the rollout (default: `policy apply <dir>`).
    #[arg(long)]
    note: Option<String>,
}

#[derive(Args)]
pub struct PlanArgs {
    /// The folder of region TOML files.
    dir: PathBuf,
    #[command(flatten)]
    server: ServerArgs,
}

impl PolicyCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            PolicyCommand::Apply(args) => apply(args),
            PolicyCommand::Plan(args) => apply(ApplyArgs {
                dir: args.dir,
                server: args.server,
                dry_run: true,
                yes: false,
                key: None,
                note: None,
            }),
        }
    }
}

fn apply(args: ApplyArgs) -> anyhow::Result<ExitCode> {
    let desired = desired::read_folder(&args.dir)?;
    let key = args
        .key
        .as_deref()
        .map(|path| SecretKey::read(path).with_context(|| format!("--key {}", path.display())))
        .transpose()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = Client::new(&args.server.url, &args.server.token)?;
    let (current, registry) =
        runtime.block_on(async { tokio::try_join!(client.policy(), client.plugins()) })?;

    // Local files the registry lacks are read here, for the plan to name them.
    let mut local = BTreeMap::new();
    let mut engine = None;
    for region in desired.regions.values() {
        for slot in region.slots.values() {
            if let PluginRef::File(component) = &slot.plugin
                && !local.contains_key(&component.sha256)
                && !registry
                    .iter()
                    .any(|m| bare_hash(&m.hash) == component.sha256)
            {
                let engine = match &mut engine {
                    Some(engine) => engine,
                    None => engine.insert(upload::engine()?),
                };
                let info = upload::identify(engine, &component.path)
                    .with_context(|| slot.origin.clone())?;
                local.insert(component.sha256.clone(), info);
            }
        }
    }

    let plan = plan::plan(&desired, &current, &registry, &local).map_err(|err| {
        let scoped =
            matches!(err, plan::PlanError::UnknownRegions { .. }) && current.regions.len() == 1;
        if scoped {
            // A region admin's GET /v1/policy shows its own region only.
            anyhow::anyhow!(
                "{err} (a region admin's token sees only its own region: apply a folder \
                 holding that region's file)"
            )
        } else {
            err.into()
        }
    })?;
    let regions = desired.regions.len();
    if plan.is_empty() {
        println!(
            "No changes: the server matches {} ({regions} regions, {} managed slots).",
            args.dir.display(),
            plan.unchanged
        );
        return Ok(ExitCode::SUCCESS);
    }
    print!("{plan}");
    let (changes, changed_regions) = (plan.change_count(), plan.regions.len());
    println!(
        "Plan: {changes} {} in {changed_regions} {} ({} managed slots unchanged).",
        plural(changes, "change", "changes"),
        plural(changed_regions, "region", "regions"),
        plan.unchanged
    );
    if args.dry_run {
        println!("Dry run: nothing applied.");
        return Ok(ExitCode::SUCCESS);
    }

    // Signatures are checked before asking, so a yes is not wasted.
    let signed = plan
        .uploads()
        .iter()
        .map(|path| upload::sign(path, key.as_ref()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !args.yes
        && !confirm(&format!(
            "Apply {changes} {} to {changed_regions} {}? [y/N] ",
            plural(changes, "change", "changes"),
            plural(changed_regions, "region", "regions"),
        ))?
    {
        println!("Nothing applied.");
        return Ok(ExitCode::FAILURE);
    }

    runtime.block_on(async {
        for component in signed {
            let (path, key_id) = (component.path.clone(), component.key_id.clone());
            match upload::upload(&client, component).await? {
                Ok((manifest, new)) => println!(
                    "{} {}@{} (sha256:{}) from {}, signed by {key_id}",
                    if new { "Uploaded" } else { "Already stored:" },
                    manifest.name,
                    manifest.version,
                    bare_hash(&manifest.hash),
                    path.display()
                ),
                Err(problem) => {
                    eprintln!("The server refused {}: {}", path.display(), problem.detail);
                    for error in &problem.errors {
                        eprintln!("  {}: {}", error.path, error.message);
                    }
                    eprintln!("Nothing deployed.");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        let note = args
            .note
            .clone()
            .unwrap_or_else(|| format!("policy apply {}", args.dir.display()));
        let changes = plan.changes();
        match client.deploy(&changes, &note).await? {
            Ok(rollout) => {
                print_rollout(&rollout);
                Ok(ExitCode::SUCCESS)
            }
            Err(problem) => {
                print_problems(&problem, &changes);
                Ok(ExitCode::FAILURE)
            }
        }
    })
}

fn print_rollout(rollout: &remote::Rollout) {
    let activation = match rollout.activation_ms.as_f64() {
        Some(ms) => format!(", activated in {ms:.1} ms"),
        None => String::new(),
    };
    println!("Rollout {}{activation}:", rollout.rollout_id);
    for deployment in &rollout.deployments {
        let plugin = deployment
            .plugin
            .as_ref()
            .map_or("removed".to_string(), |p| p.label());
        let state = deployment.state.as_deref().unwrap_or("");
        println!(
            "  {}  {} {}  {plugin}  {state}",
            deployment.id, deployment.region, deployment.slot
        );
    }
}

/// A refused rollout: each problem with the region and slot it is about.
fn print_problems(problem: &Problem, changes: &[Change]) {
    eprintln!("The server refused the rollout; nothing was deployed.");
    if problem.errors.is_empty() {
        eprintln!("  {}", problem.detail);
    }
    for error in &problem.errors {
        eprintln!(
            "  {}{}: {}",
            error.path,
            about(&error.path, changes),
            error.message
        );
    }
}

/// ` (gd promotions/x)` for a path under `/changes/<i>`.
fn about(path: &str, changes: &[Change]) -> String {
    path.strip_prefix("/changes/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| changes.get(i))
        .map(|c| format!(" ({} {})", c.region, c.slot))
        .unwrap_or_default()
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    print!("{question}");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer)? == 0 {
        // No terminal to echo a newline: end the question's line here.
        println!();
    }
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
