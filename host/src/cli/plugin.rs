//! `chanhost plugin …`: look inside a plugin component, sign it with a
//! publisher key, and publish it to an HQ server's registry.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use serde_json::json;

use crate::policy::{ComponentCache, Limits, Plugin, PolicyEngine};
use crate::registry::signing::{self, SIGNATURE_HEADER, SecretKey, SignatureFile};

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Create a ready plugin crate of one kind: SDK dependency, WIT wired,
    /// an example that passes its test and fixtures, a build command.
    New(super::plugin_new::NewArgs),
    /// Which world a component implements, its description and size, and
    /// whether it loads under the production limits. Prints JSON; exits
    /// non-zero when the component cannot be used.
    Check {
        /// The component (.wasm) to check.
        file: PathBuf,
    },
    /// Sign a component with a publisher key (from `chanhost keygen`);
    /// writes the signature file `chanhost plugin publish` sends.
    Sign {
        /// The component (.wasm) to sign.
        file: PathBuf,
        /// The publisher's secret key file, `<id>.key`.
        #[arg(long)]
        key: PathBuf,
        /// Where to write the signature [default: <file>.sig].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Upload a signed component to a server's plugin registry. Prints the
    /// stored manifest as JSON; exits non-zero with the server's reason when
    /// it refuses the component.
    Publish {
        /// The component (.wasm) to upload.
        file: PathBuf,
        /// The server's base URL, e.g. http://127.0.0.1:8080.
        #[arg(long, env = "CHANHOST_URL")]
        url: String,
        /// A bearer token of an HQ or region admin.
        #[arg(long, env = "CHANHOST_TOKEN", hide_env_values = true)]
        token: String,
        /// The signature from `chanhost plugin sign` [default: <file>.sig].
        #[arg(long)]
        signature: Option<PathBuf>,
    },
}

impl PluginCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            PluginCommand::New(args) => super::plugin_new::run(args),
            PluginCommand::Check { file } => check(file),
            PluginCommand::Sign { file, key, out } => sign(&file, &key, out),
            PluginCommand::Publish {
                file,
                url,
                token,
                signature,
            } => publish(&file, &url, &token, signature),
        }
    }
}

fn check(file: PathBuf) -> anyhow::Result<ExitCode> {
    let wasm = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let limits = Limits::default();
    let engine = PolicyEngine::new(limits.clone(), ComponentCache::default_location())?;
    let report = match Plugin::load(&engine, &wasm) {
        Ok(plugin) => {
            let describe = plugin.describe();
            json!({
                "file": file.display().to_string(),
                "loads": true,
                "world": format!("chanhost:policy/{}-plugin@{}", plugin.kind(), plugin.identity().wit_version),
                "identity": plugin.identity(),
                "description": plugin.description(),
                "size_bytes": plugin.size_bytes(),
                "describe_call": { "fuel_used": describe.fuel_used, "duration_us": describe.duration.as_micros() as u64 },
                "limits": limits,
            })
        }
        Err(err) => json!({
            "file": file.display().to_string(),
            "loads": false,
            "size_bytes": wasm.len(),
            "error": err.to_string(),
            "limits": limits,
        }),
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if report["loads"] == true {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn read_component(file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("reading {}", file.display()))
}

/// `<file>.sig`, beside the component.
fn default_signature_path(file: &Path) -> PathBuf {
    let mut path = file.as_os_str().to_owned();
    path.push(".sig");
    PathBuf::from(path)
}

fn sign(file: &Path, key: &Path, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let wasm = read_component(file)?;
    let secret = SecretKey::read(key)?;
    let signature = signing::sign(&secret, &wasm);
    let out = out.unwrap_or_else(|| default_signature_path(file));
    signature.write(&out)?;
    println!(
        "signed {} (sha256 {}) with key {}: {}",
        file.display(),
        signature.sha256,
        signature.key_id,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn publish(
    file: &Path,
    url: &str,
    token: &str,
    signature: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let wasm = read_component(file)?;
    let signature_path = signature.unwrap_or_else(|| default_signature_path(file));
    let signature = SignatureFile::read(&signature_path).with_context(|| {
        format!(
            "the component needs a signature: `chanhost plugin sign {} --key <id>.key`",
            file.display()
        )
    })?;
    // Caught here with both file names rather than as the server's
    // "does not match this component".
    if !signature.is_for(&wasm) {
        anyhow::bail!(
            "{} was made for another component (sha256 {}); {} has changed since it was signed: sign it again",
            signature_path.display(),
            signature.sha256,
            file.display()
        );
    }
    let base = url.trim_end_matches('/');
    let endpoint = if base.ends_with("/v1") {
        format!("{base}/plugins")
    } else {
        format!("{base}/v1/plugins")
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (status, body) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(&endpoint)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/wasm")
            .header(SIGNATURE_HEADER, signature.header())
            .body(wasm)
            .send()
            .await
            .with_context(|| format!("POST {endpoint}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .with_context(|| format!("reading the answer of POST {endpoint}"))?;
        anyhow::Ok((status, text))
    })?;
    let json: Option<serde_json::Value> = serde_json::from_str(&body).ok();
    if status.is_success() {
        let manifest =
            json.with_context(|| format!("{endpoint} answered {status} with no JSON"))?;
        eprintln!(
            "{}",
            if status == reqwest::StatusCode::CREATED {
                "published"
            } else {
                "already published (same content)"
            }
        );
        println!("{}", serde_json::to_string_pretty(&manifest)?);
        return Ok(ExitCode::SUCCESS);
    }
    let detail = json
        .as_ref()
        .and_then(|problem| problem["detail"].as_str())
        .unwrap_or(body.trim());
    let mut message = format!("{endpoint} refused the component ({status}): {detail}");
    let errors = json
        .as_ref()
        .and_then(|problem| problem["errors"].as_array())
        .cloned()
        .unwrap_or_default();
    for error in errors {
        let path = error["path"].as_str().unwrap_or("");
        let text = error["message"].as_str().unwrap_or("");
        let line = format!("{path}: {text}");
        // A single problem is usually the detail itself.
        if !detail.contains(&line) {
            message.push_str(&format!("\n  {line}"));
        }
    }
    anyhow::bail!(message)
}
