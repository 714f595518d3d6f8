//! Builds the reference plugins (and the host's hostile test plugins) as
//! WebAssembly components with a nested cargo, into `target/bundle`, so
//! that a plain `cargo build` or `cargo test` of the host has them.
//!
//! The nested cargo uses its own target directory: the outer one is locked
//! by the cargo running this script.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates built, with the file name their component gets.
const PLUGINS: &[&str] = &[
    "anti-diversion",
    "pricing-tiered",
    "promotions",
    "sourcing-region-first",
    "hostile-plugin",
    "hostile-sourcing",
    "hostile-promotion",
    "hostile-anti-diversion",
    "pricing-wit-0-1-0",
];

/// Test fixtures: the crates under `tests/fixtures`.
fn is_fixture(plugin: &str) -> bool {
    plugin.starts_with("hostile-") || plugin == "pricing-wit-0-1-0"
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("plugins/bundle is two levels deep")
        .to_path_buf();
    for watched in [
        "wit",
        "plugins/sdk",
        "tests/fixtures/hostile-common",
        "Cargo.toml",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    for plugin in PLUGINS {
        let dir = if is_fixture(plugin) {
            "tests/fixtures"
        } else {
            "plugins"
        };
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(dir).join(plugin).display()
        );
    }

    let target_dir = workspace.join("target").join("bundle");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args([
            "build",
            "--quiet",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "plugin",
            "--target-dir",
        ])
        .arg(&target_dir);
    for plugin in PLUGINS {
        command.args(["-p", plugin]);
    }
    // The outer build's flags are for the host, not for wasm guests.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_") && key != "CARGO_HOME" && key != "CARGO_MAKEFLAGS"
            || key == "RUSTFLAGS"
            || key == "RUSTC_WRAPPER"
            || key == "RUSTC_WORKSPACE_WRAPPER"
        {
            command.env_remove(key.as_ref());
        }
    }
    let status = command.status().expect("run cargo to build the plugins");
    if !status.success() {
        panic!(
            "building the reference plugins for wasm32-wasip2 failed (see above). \
             Is the target installed? Run `rustup target add wasm32-wasip2` \
             (scripts/setup does it for you)."
        );
    }

    let out = target_dir.join("wasm32-wasip2").join("plugin");
    for plugin in PLUGINS {
        let file = out.join(format!("{}.wasm", plugin.replace('-', "_")));
        assert!(file.exists(), "expected {} after the build", file.display());
        let constant = plugin.replace('-', "_").to_uppercase();
        println!(
            "cargo:rustc-env=CHANHOST_PLUGIN_{constant}={}",
            file.display()
        );
    }
}
