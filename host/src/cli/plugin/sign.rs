//! `chanhost plugin sign`: a publisher's signature of a component.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::registry::signing::{self, SecretKey};

pub(super) fn read_component(file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("reading {}", file.display()))
}

/// `<file>.sig`, beside the component.
pub(super) fn default_signature_path(file: &Path) -> PathBuf {
    let mut path = file.as_os_str().to_owned();
    path.push(".sig");
    PathBuf::from(path)
}

pub fn run(file: &Path, key: &Path, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
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
