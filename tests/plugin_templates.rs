//! `chanhost plugin new`, through the real binary: for each of the four
//! kinds the generated crate's own tests pass under `cargo test`, it builds
//! to a component that `chanhost plugin check` loads as the kind's world
//! under the crate's name, and its fixtures pass `chanhost plugin test`.
//! And the refusals: a name that is no crate name, a directory in use.
//!
//! The generated crates share one cargo target directory,
//! `target/templates`, so that a rerun only rebuilds the crates themselves.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{chanhost, workspace};
use serde_json::Value;

const KINDS: [&str; 4] = ["anti-diversion", "pricing", "promotion", "sourcing"];

/// A cargo for a generated crate, as its author would run it: without the
/// outer cargo's variables (they describe the host's build, not this one),
/// with the target directory the generated crates share.
fn cargo(crate_dir: &Path, args: &[&str]) -> Output {
    common::nested_cargo()
        .current_dir(crate_dir)
        .env("CARGO_TARGET_DIR", shared_target_dir())
        .args(args)
        .output()
        .expect("run cargo")
}

fn shared_target_dir() -> PathBuf {
    workspace().join("target/templates")
}

/// The command's exit code and output, for a failure message.
fn report(what: &str, output: &Output) -> String {
    format!(
        "{what}: exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn succeeded(what: &str, output: &Output) -> Result<(), String> {
    if output.status.success() {
        Ok(())
    } else {
        Err(report(what, output))
    }
}

/// Tests passed, summed over cargo test's `test result: ok. N passed; …`
/// lines (unit tests, doc tests).
fn passed_tests(cargo_test_stdout: &str) -> usize {
    cargo_test_stdout
        .lines()
        .filter_map(|line| line.strip_prefix("test result: ok. "))
        .filter_map(|rest| rest.split(' ').next()?.parse::<usize>().ok())
        .sum()
}

/// Everything a crate of `kind` must do, from `plugin new` to its fixtures
/// passing under the production runtime.
fn generate_build_and_test(parent: &Path, kind: &str) -> Result<(), String> {
    let name = format!("tpl-{kind}");
    let crate_dir = parent.join(&name);
    let new = chanhost([
        "plugin".as_ref(),
        "new".as_ref(),
        kind.as_ref(),
        name.as_ref(),
        "--dir".as_ref(),
        crate_dir.as_os_str(),
    ]);
    succeeded("chanhost plugin new", &new)?;
    let printed = String::from_utf8_lossy(&new.stdout);
    let lib = name.replace('-', "_");
    for expected in [
        format!("created {kind} plugin `{name}`"),
        "cargo test".to_string(),
        "cargo build --release --target wasm32-wasip2".to_string(),
        format!("chanhost plugin test target/wasm32-wasip2/release/{lib}.wasm fixtures"),
    ] {
        if !printed.contains(&expected) {
            return Err(report(
                &format!("plugin new does not print {expected:?}"),
                &new,
            ));
        }
    }
    for file in ["Cargo.toml", "src/lib.rs", "README.md", ".gitignore"] {
        if !crate_dir.join(file).is_file() {
            return Err(format!(
                "plugin new made no {file} in {}",
                crate_dir.display()
            ));
        }
    }
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&manifest).map_err(|err| err.to_string())?;
    let sdk = manifest
        .get("dependencies")
        .and_then(|deps| deps.get("chanhost-sdk"))
        .ok_or("the generated Cargo.toml does not depend on chanhost-sdk")?;
    let sdk_path = Path::new(sdk.get("path").and_then(|p| p.as_str()).unwrap_or_default());
    if !sdk_path.is_absolute() || !sdk_path.join("Cargo.toml").is_file() {
        return Err(format!(
            "the SDK dependency is not an absolute path to it: {sdk}"
        ));
    }
    if sdk.get("features") != Some(&toml::Value::Array(vec![kind.into()])) {
        return Err(format!(
            "the SDK dependency should have the feature {kind}: {sdk}"
        ));
    }
    if !manifest.contains_key("workspace") {
        return Err("the generated crate has no [workspace] table of its own".into());
    }
    let cases = std::fs::read_dir(crate_dir.join("fixtures"))
        .map_err(|err| format!("fixtures/: {err}"))?
        .count();
    if cases == 0 {
        return Err("plugin new made no fixture".into());
    }

    let tests = cargo(&crate_dir, &["test"]);
    succeeded("cargo test", &tests)?;
    if passed_tests(&String::from_utf8_lossy(&tests.stdout)) == 0 {
        return Err(report("cargo test ran no test of the example", &tests));
    }

    let build = cargo(
        &crate_dir,
        &["build", "--release", "--target", "wasm32-wasip2"],
    );
    succeeded("cargo build --release --target wasm32-wasip2", &build)?;
    let wasm = shared_target_dir().join(format!("wasm32-wasip2/release/{lib}.wasm"));

    let check = chanhost(["plugin".as_ref(), "check".as_ref(), wasm.as_os_str()]);
    succeeded("chanhost plugin check", &check)?;
    let checked: Value = serde_json::from_slice(&check.stdout).map_err(|err| err.to_string())?;
    let world = format!("chanhost:policy/{kind}-plugin@0.2.0");
    if checked["loads"] != true
        || checked["world"] != world.as_str()
        || checked["identity"]["name"] != name.as_str()
        || checked["identity"]["version"] != "0.1.0"
    {
        return Err(report(
            &format!("plugin check should load {world}, named {name}, version 0.1.0"),
            &check,
        ));
    }

    let fixtures = chanhost([
        "plugin".as_ref(),
        "test".as_ref(),
        wasm.as_os_str(),
        crate_dir.join("fixtures").as_os_str(),
    ]);
    succeeded("chanhost plugin test <wasm> fixtures", &fixtures)
}

#[test]
fn every_kind_is_a_crate_that_tests_builds_loads_and_passes_its_fixtures() {
    let parent = tempfile::tempdir().unwrap();
    let failures: Vec<String> = KINDS
        .iter()
        .filter_map(|kind| {
            generate_build_and_test(parent.path(), kind)
                .err()
                .map(|failure| format!("== {kind}\n{failure}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `plugin new` refused: exit 2, the reason on stderr, nothing written.
fn assert_refused(output: &Output, reason: &str) {
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        report("plugin new", output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(reason), "stderr lacks {reason:?}: {stderr}");
    assert!(output.stdout.is_empty(), "{}", report("plugin new", output));
}

#[test]
fn names_that_are_not_crate_names_are_refused() {
    let parent = tempfile::tempdir().unwrap();
    for (name, reason) in [
        (
            "Gd-Pricing",
            "is not a valid crate name ('G' is not allowed)",
        ),
        (
            "gd pricing",
            "is not a valid crate name (' ' is not allowed)",
        ),
        ("9-regions", "it must start with a letter"),
        (
            "gd/pricing",
            "is not a valid crate name ('/' is not allowed)",
        ),
        ("struct", "`struct` is a Rust keyword"),
        (
            "chanhost-sdk",
            "taken by Rust, cargo or a dependency of the plugin",
        ),
        ("", "the plugin name is empty"),
    ] {
        let dir = parent.path().join("crate");
        let output = chanhost([
            "plugin".as_ref(),
            "new".as_ref(),
            "pricing".as_ref(),
            name.as_ref(),
            "--dir".as_ref(),
            dir.as_os_str(),
        ]);
        assert_refused(&output, reason);
        assert!(
            !dir.exists(),
            "`{name}` was refused but {} was made",
            dir.display()
        );
    }
}

#[test]
fn a_directory_in_use_is_left_alone() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("gd-pricing");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let output = chanhost([
        "plugin".as_ref(),
        "new".as_ref(),
        "pricing".as_ref(),
        "gd-pricing".as_ref(),
        "--dir".as_ref(),
        dir.as_os_str(),
    ]);
    assert_refused(&output, "already exists and is not empty");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "plugin new wrote into a directory in use");

    // Without --dir, the crate goes to ./<name>, which is the same folder.
    let output = Command::new(env!("CARGO_BIN_EXE_chanhost"))
        .args(["plugin", "new", "pricing", "gd-pricing"])
        .current_dir(parent.path())
        .output()
        .unwrap();
    assert_refused(&output, "gd-pricing already exists and is not empty");

    // An empty directory is fine.
    let empty = parent.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let output = chanhost([
        "plugin".as_ref(),
        "new".as_ref(),
        "promotion".as_ref(),
        "gd-clearance".as_ref(),
        "--dir".as_ref(),
        empty.as_os_str(),
    ]);
    assert!(output.status.success(), "{}", report("plugin new", &output));
    assert!(empty.join("src/lib.rs").is_file());
}

#[test]
fn an_sdk_that_is_not_one_is_refused() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("gd-pricing");
    let output = chanhost([
        "plugin".as_ref(),
        "new".as_ref(),
        "pricing".as_ref(),
        "gd-pricing".as_ref(),
        "--dir".as_ref(),
        dir.as_os_str(),
        "--sdk".as_ref(),
        parent.path().as_os_str(),
    ]);
    assert_refused(&output, "is the chanhost SDK");
    assert!(!dir.exists());

    // A source tree is as good as its plugins/sdk.
    let output = chanhost([
        "plugin".as_ref(),
        "new".as_ref(),
        "pricing".as_ref(),
        "gd-pricing".as_ref(),
        "--dir".as_ref(),
        dir.as_os_str(),
        "--sdk".as_ref(),
        workspace().as_os_str(),
    ]);
    assert!(output.status.success(), "{}", report("plugin new", &output));
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let sdk = workspace().join("plugins/sdk").canonicalize().unwrap();
    assert!(
        manifest.contains(&format!("path = \"{}\"", sdk.display())),
        "{manifest}"
    );
}
