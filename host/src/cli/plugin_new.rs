//! `chanhost plugin new <kind> <name>`: a ready plugin crate.
//!
//! The crate is written from templates embedded in the binary
//! (`host/templates/plugin/`): a common `Cargo.toml`, README and
//! `.gitignore`, and per kind an example plugin (`src/lib.rs`, with unit
//! tests) and fixtures for `chanhost plugin test`. The templates are plain
//! files with `{{placeholder}}`s, kept valid Rust, TOML and JSON so they
//! read (and diff) as what they generate.
//!
//! The SDK is not published: the crate depends on it by absolute path, by
//! default the SDK of the source tree this binary was built from.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::policy::PluginKind;

#[derive(clap::Args)]
pub struct NewArgs {
    /// The plugin kind: anti-diversion, pricing, promotion or sourcing.
    pub kind: PluginKind,
    /// The crate's name, which is also the plugin's name, e.g. `gd-clearance`:
    /// lowercase letters, digits, `-` and `_`, starting with a letter.
    pub name: String,
    /// Where to create the crate; it must not exist or be empty
    /// [default: ./<name>].
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The chanhost SDK to depend on: its folder (`plugins/sdk`) or a
    /// chanhost source tree [default: the SDK of the source tree this
    /// chanhost was built from].
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

/// Exit code of a refusal (bad name, occupied directory, no SDK): the same
/// "could not do it at all" as `plugin run` and `plugin test`.
const REFUSED: u8 = 2;

pub fn run(args: NewArgs) -> anyhow::Result<ExitCode> {
    match create(&args) {
        Ok(created) => {
            created.print();
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            Ok(ExitCode::from(REFUSED))
        }
    }
}

/// What `create` wrote, for the summary.
struct Created {
    kind: PluginKind,
    name: String,
    dir: PathBuf,
    sdk: PathBuf,
    files: Vec<String>,
}

fn create(args: &NewArgs) -> anyhow::Result<Created> {
    check_crate_name(&args.name)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    check_target_dir(&dir)?;
    let sdk = find_sdk(args.sdk.as_deref(), Path::new(BUILT_FROM_SDK))?;
    let template = Template::of(args.kind);
    let values = Values {
        name: &args.name,
        kind: args.kind,
        sdk: &sdk,
    };

    let mut files: Vec<(String, String)> = vec![
        ("Cargo.toml".into(), values.fill(CARGO_TOML)),
        (".gitignore".into(), GITIGNORE.into()),
        ("README.md".into(), values.fill(&template.readme())),
        ("src/lib.rs".into(), values.fill(template.lib_rs)),
    ];
    // The versions the SDK is built and tested with, rather than whatever
    // is newest on the registry the day the crate is made; cargo drops the
    // entries the plugin does not use at its first build.
    if let Some(lock) = sdk_workspace_lock(&sdk) {
        files.push(("Cargo.lock".into(), lock));
    }
    for fixture in template.fixtures {
        let case = format!("fixtures/{}", fixture.case);
        files.push((format!("{case}/input.json"), fixture.input.into()));
        if let Some(config) = fixture.config {
            files.push((format!("{case}/config.toml"), config.into()));
        }
        files.push((format!("{case}/expected.json"), fixture.expected.into()));
    }

    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (path, contents) in &files {
        write_new(&dir.join(path), contents)?;
    }
    Ok(Created {
        kind: args.kind,
        name: args.name.clone(),
        dir,
        sdk,
        files: files.into_iter().map(|(path, _)| path).collect(),
    })
}

/// Writes a file that must not exist yet (the directory was empty).
fn write_new(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut file| file.write_all(contents.as_bytes()))
        .with_context(|| format!("writing {}", path.display()))
}

impl Created {
    fn print(&self) {
        let lib = self.name.replace('-', "_");
        println!(
            "created {} plugin `{}` in {}",
            self.kind,
            self.name,
            self.dir.display()
        );
        for file in &self.files {
            println!("  {file}");
        }
        println!("chanhost-sdk: {}", self.sdk.display());
        println!();
        println!("next:");
        println!("  cd {}", self.dir.display());
        println!("  cargo test");
        println!("  cargo build --release --target wasm32-wasip2");
        println!("  chanhost plugin test target/wasm32-wasip2/release/{lib}.wasm fixtures");
        println!("then edit src/lib.rs and fixtures/ (README.md has the rest: run, sign, publish)");
    }
}

/// A name cargo accepts for a package and its library, that does not
/// collide with what the plugin depends on. Stricter than cargo in one
/// way: lowercase only, as plugin names appear in region files and the
/// registry.
fn check_crate_name(name: &str) -> anyhow::Result<()> {
    const HINT: &str = "use lowercase ASCII letters, digits, `-` and `_`, starting with a letter, e.g. `gd-clearance`";
    if name.is_empty() {
        anyhow::bail!("the plugin name is empty: {HINT}");
    }
    if name.len() > 64 {
        anyhow::bail!(
            "`{name}` is not a valid crate name: at most 64 characters, got {}",
            name.len()
        );
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
    {
        anyhow::bail!("`{name}` is not a valid crate name ({bad:?} is not allowed): {HINT}");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        anyhow::bail!("`{name}` is not a valid crate name (it must start with a letter): {HINT}");
    }
    let lib = name.replace('-', "_");
    if RUST_KEYWORDS.contains(&lib.as_str()) {
        anyhow::bail!("`{name}` is not a valid crate name: `{lib}` is a Rust keyword");
    }
    if RESERVED.contains(&lib.as_str()) {
        anyhow::bail!(
            "`{name}` is not a valid crate name: it is taken by Rust, cargo or a dependency of the plugin (chanhost-sdk, serde, schemars); pick another"
        );
    }
    Ok(())
}

/// Keywords, reserved ones included: a library may not be named after one.
const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Names of the standard crates, of cargo's build directories, and of the
/// plugin's own dependencies (as library names, `-` read as `_`).
const RESERVED: &[&str] = &[
    "std",
    "core",
    "alloc",
    "proc_macro",
    "test",
    "build",
    "deps",
    "examples",
    "incremental",
    "chanhost_sdk",
    "serde",
    "serde_json",
    "serde_path_to_error",
    "schemars",
    "wit_bindgen",
];

/// The crate goes into a new or empty directory, never over anything.
fn check_target_dir(dir: &Path) -> anyhow::Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                anyhow::bail!(
                    "{} already exists and is not empty: pick another name or --dir",
                    dir.display()
                );
            }
            Ok(())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if dir.exists() => anyhow::bail!(
            "{} already exists and is not a directory: pick another name or --dir",
            dir.display()
        ),
        Err(err) => Err(err).with_context(|| format!("reading {}", dir.display())),
    }
}

/// Where this binary's source tree keeps the SDK, when it is still there.
const BUILT_FROM_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/sdk");

/// The SDK's folder, absolute: `--sdk` (the SDK itself or a source tree
/// holding it at `plugins/sdk`), else `built_from`, the SDK this binary was
/// built with.
fn find_sdk(given: Option<&Path>, built_from: &Path) -> anyhow::Result<PathBuf> {
    let Some(given) = given else {
        return is_sdk(built_from).with_context(|| {
            format!(
                "the plugin needs the chanhost SDK, which is not on crates.io, and the source tree this chanhost was built from is gone ({}): pass --sdk <path to a chanhost checkout's plugins/sdk>",
                built_from.display()
            )
        });
    };
    is_sdk(given)
        .or_else(|| is_sdk(&given.join("plugins/sdk")))
        .with_context(|| {
            format!(
                "--sdk {}: neither it nor its plugins/sdk is the chanhost SDK (a Cargo.toml of package `chanhost-sdk`)",
                given.display()
            )
        })
}

/// `dir`, canonicalised, when it holds the `chanhost-sdk` package.
fn is_sdk(dir: &Path) -> Option<PathBuf> {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let manifest: toml::Table = toml::from_str(&manifest).ok()?;
    let name = manifest.get("package")?.get("name")?.as_str()?;
    (name == "chanhost-sdk")
        .then(|| dir.canonicalize().ok())
        .flatten()
}

/// The lockfile of the workspace the SDK belongs to (`plugins/sdk` → the
/// tree's `Cargo.lock`), when there is one.
fn sdk_workspace_lock(sdk: &Path) -> Option<String> {
    let root = sdk.parent()?.parent()?;
    std::fs::read_to_string(root.join("Cargo.lock")).ok()
}

/// The values of the templates' placeholders.
struct Values<'a> {
    name: &'a str,
    kind: PluginKind,
    sdk: &'a Path,
}

impl Values<'_> {
    fn fill(&self, template: &str) -> String {
        // A TOML string, escaped (a Windows path has backslashes).
        let sdk = toml::Value::String(self.sdk.display().to_string()).to_string();
        template
            .replace("{{name}}", self.name)
            .replace("{{lib_name}}", &self.name.replace('-', "_"))
            .replace("{{kind}}", self.kind.interface())
            .replace("\"{{sdk_path}}\"", &sdk)
    }
}

const CARGO_TOML: &str = include_str!("../../templates/plugin/Cargo.toml.tmpl");
const README: &str = include_str!("../../templates/plugin/README.md");
const GITIGNORE: &str = include_str!("../../templates/plugin/gitignore");

/// One kind's example plugin and its fixtures.
struct Template {
    /// A paragraph for the README on what the example does.
    about: &'static str,
    /// The region file's slot for the plugin, for the README.
    region_toml: &'static str,
    lib_rs: &'static str,
    fixtures: &'static [Fixture],
}

/// One case of `chanhost plugin test`: `fixtures/<case>/…`.
struct Fixture {
    case: &'static str,
    input: &'static str,
    config: Option<&'static str>,
    expected: &'static str,
}

/// A fixture of the templates, `<kind>/fixtures/<case>/`, with or without
/// a `config.toml`.
macro_rules! fixture {
    ($kind:literal, $case:literal) => {
        fixture!(@ $kind, $case, Some(include_str!(concat!(
            "../../templates/plugin/", $kind, "/fixtures/", $case, "/config.toml"
        ))))
    };
    ($kind:literal, $case:literal, no_config) => {
        fixture!(@ $kind, $case, None)
    };
    (@ $kind:literal, $case:literal, $config:expr) => {
        Fixture {
            case: $case,
            input: include_str!(concat!(
                "../../templates/plugin/", $kind, "/fixtures/", $case, "/input.json"
            )),
            config: $config,
            expected: include_str!(concat!(
                "../../templates/plugin/", $kind, "/fixtures/", $case, "/expected.json"
            )),
        }
    };
}

impl Template {
    /// The README, with this kind's parts.
    fn readme(&self) -> String {
        // A case with a configuration, for the `plugin run` example.
        let example_case = self
            .fixtures
            .iter()
            .find(|fixture| fixture.config.is_some())
            .map_or("<case>", |fixture| fixture.case);
        README
            .replace("{{about}}", self.about)
            .replace("{{region_toml}}", self.region_toml.trim_end())
            .replace("{{example_case}}", example_case)
    }

    fn of(kind: PluginKind) -> &'static Template {
        match kind {
            PluginKind::AntiDiversion => &ANTI_DIVERSION,
            PluginKind::Pricing => &PRICING,
            PluginKind::Promotion => &PROMOTION,
            PluginKind::Sourcing => &SOURCING,
        }
    }
}

static ANTI_DIVERSION: Template = Template {
    about: "The example holds an order for review when its total cases exceed a configurable multiple of the dealer's usual order size (never below a minimum), and rejects it beyond a second, optional multiple.",
    region_toml: r#"[plugins.anti_diversion]
plugin = "{{name}}@0.1.0"
[plugins.anti_diversion.config]
hold_factor = 3
reject_factor = 10
"#,
    lib_rs: include_str!("../../templates/plugin/anti-diversion/lib.rs"),
    fixtures: &[
        fixture!("anti-diversion", "usual-order-allowed", no_config),
        fixture!("anti-diversion", "five-times-usual-held"),
        fixture!("anti-diversion", "far-above-usual-rejected"),
    ],
};

static PRICING: Template = Template {
    about: "The example prices every line at the region's price (HQ base price with the region's adjustment) plus a configurable markup, optionally rounded to whole yuan, and keeps it inside HQ's band.",
    region_toml: r#"[plugins.pricing]
plugin = "{{name}}@0.1.0"
[plugins.pricing.config]
markup_bp = 150
round_to_yuan = true
"#,
    lib_rs: include_str!("../../templates/plugin/pricing/lib.rs"),
    fixtures: &[
        fixture!("pricing", "regional-price", no_config),
        fixture!("pricing", "markup-rounded"),
        fixture!("pricing", "markup-capped-at-ceiling"),
    ],
};

static PROMOTION: Template = Template {
    about: "The example is a spend threshold (满减): when the order's spend on the configured categories reaches the threshold, it takes a fixed amount off the order, optionally once per full threshold.",
    region_toml: r#"[[plugins.promotions]]
id = "baijiu-5000"             # the slot: a region may run several promotions
plugin = "{{name}}@0.1.0"
[plugins.promotions.config]
promotion_id = "baijiu-5000"
threshold = 500000
off = 30000
categories = ["baijiu"]
"#,
    lib_rs: include_str!("../../templates/plugin/promotion/lib.rs"),
    fixtures: &[
        fixture!("promotion", "below-threshold"),
        fixture!("promotion", "threshold-reached"),
        fixture!("promotion", "repeated-per-threshold"),
    ],
};

static SOURCING: Template = Template {
    about: "The example ships every line from the order's own region first (then, if configured, from neighbour regions up to a rank), larger stocks first, and backorders what no warehouse can ship, with a production alert per backordered SKU.",
    region_toml: r#"[plugins.sourcing]
plugin = "{{name}}@0.1.0"
[plugins.sourcing.config]
max_neighbour_rank = 1
"#,
    lib_rs: include_str!("../../templates/plugin/sourcing/lib.rs"),
    fixtures: &[
        fixture!("sourcing", "own-region-covers", no_config),
        fixture!("sourcing", "split-and-backorder"),
        fixture!("sourcing", "neighbour-fills-in"),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_of_every_template_is_filled() {
        let sdk = Path::new("/src/chanhost/plugins/sdk");
        for kind in PluginKind::ALL {
            let values = Values {
                name: "gd-example",
                kind,
                sdk,
            };
            let template = Template::of(kind);
            let readme = template.readme();
            assert!(
                !readme.contains("fixtures/<case>/input.json"),
                "{kind}: no fixture has a config.toml"
            );
            for text in [CARGO_TOML, readme.as_str(), template.lib_rs] {
                let filled = values.fill(text);
                assert!(
                    !filled.contains("{{"),
                    "{kind}: a placeholder is left in\n{filled}"
                );
            }
            let manifest: toml::Table = toml::from_str(&values.fill(CARGO_TOML)).unwrap();
            assert_eq!(manifest["package"]["name"].as_str(), Some("gd-example"));
            let sdk_dependency = &manifest["dependencies"]["chanhost-sdk"];
            assert_eq!(
                sdk_dependency["path"].as_str(),
                Some("/src/chanhost/plugins/sdk")
            );
            assert_eq!(
                sdk_dependency["features"].as_array().unwrap()[0].as_str(),
                Some(kind.interface())
            );
            assert!(!template.fixtures.is_empty());

            // The README's region file is one `policy apply` reads.
            let readme = values.fill(&readme);
            let region_file = readme
                .split("```toml\n")
                .nth(1)
                .and_then(|rest| rest.split("```").next())
                .expect("the README shows a region file");
            let region: crate::config::RegionFile = toml::from_str(region_file)
                .unwrap_or_else(|err| panic!("{kind}: {err}\n{region_file}"));
            let plugins = region.plugins;
            let slot = match kind {
                PluginKind::AntiDiversion => plugins.anti_diversion,
                PluginKind::Pricing => plugins.pricing,
                PluginKind::Promotion => plugins.promotions.and_then(|p| p.into_iter().next()),
                PluginKind::Sourcing => plugins.sourcing,
            }
            .unwrap_or_else(|| panic!("{kind}: the README's region file has no {kind} slot"));
            assert_eq!(slot.plugin.get_ref(), "gd-example@0.1.0");
        }
    }

    #[test]
    fn names_cargo_would_refuse_are_refused() {
        for good in ["gd-clearance", "sc_pricing", "r2d2"] {
            check_crate_name(good).unwrap();
        }
        for bad in [
            "",
            "Gd",
            "2gd",
            "-gd",
            "gd.pricing",
            "gd pricing",
            "self",
            "test",
            "serde",
        ] {
            assert!(check_crate_name(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(check_crate_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn without_a_source_tree_the_sdk_must_be_given() {
        let gone = Path::new("/nonexistent/chanhost/plugins/sdk");
        let err = find_sdk(None, gone).unwrap_err();
        assert!(format!("{err:#}").contains("pass --sdk"), "{err:#}");
        let here = find_sdk(None, Path::new(BUILT_FROM_SDK)).unwrap();
        assert!(here.is_absolute() && here.ends_with("plugins/sdk"));
        let given = find_sdk(
            Some(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))),
            gone,
        );
        assert_eq!(given.unwrap(), here);
    }
}
