//! Local components a folder names that the server's registry does not
//! have yet: what they are (read here, for the plan) and their signed
//! upload.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::remote::{Client, Manifest, PluginInfo, Problem};
use crate::policy::{ComponentCache, Limits, Plugin, PolicyEngine};
use crate::registry::signing::{self, SecretKey, SignatureFile};

/// Name, version and kind of a component file, by loading it under the
/// default limits (the server refuses what does not load anyway).
pub fn identify(engine: &PolicyEngine, path: &Path) -> anyhow::Result<PluginInfo> {
    let wasm = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let plugin = Plugin::load(engine, &wasm)
        .with_context(|| format!("{} is not a usable plugin component", path.display()))?;
    let identity = plugin.identity();
    Ok(PluginInfo {
        name: identity.name.clone(),
        version: identity.version.clone(),
        kind: identity.kind.to_string(),
        hash: identity.hash.clone(),
    })
}

pub fn engine() -> anyhow::Result<PolicyEngine> {
    PolicyEngine::new(Limits::default(), ComponentCache::default_location())
}

/// A component ready to upload: its bytes and the signature header.
pub struct SignedComponent {
    pub path: PathBuf,
    pub wasm: Vec<u8>,
    pub key_id: String,
    pub header: String,
}

/// Signs with `key` when given, else uses `<file>.sig` beside the file.
pub fn sign(path: &Path, key: Option<&SecretKey>) -> anyhow::Result<SignedComponent> {
    let wasm = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let signature = match key {
        Some(key) => signing::sign(key, &wasm),
        None => {
            let mut sig_path = path.as_os_str().to_owned();
            sig_path.push(".sig");
            let sig_path = PathBuf::from(sig_path);
            if !sig_path.is_file() {
                bail!(
                    "{} is not in the server's registry and has no signature {}: sign it \
                     (`chanhost plugin sign`) or pass --key <id>.key",
                    path.display(),
                    sig_path.display()
                );
            }
            let signature = SignatureFile::read(&sig_path)?;
            if !signature.is_for(&wasm) {
                bail!(
                    "{} signs another build than {} (its sha256 differs): sign the file again \
                     or pass --key <id>.key",
                    sig_path.display(),
                    path.display()
                );
            }
            signature
        }
    };
    Ok(SignedComponent {
        path: path.to_path_buf(),
        wasm,
        key_id: signature.key_id.clone(),
        header: signature.header(),
    })
}

/// `POST /v1/plugins`: the one place a component goes to the registry.
pub async fn upload(
    client: &Client,
    component: SignedComponent,
) -> anyhow::Result<Result<(Manifest, bool), Problem>> {
    client.upload(component.wasm, &component.header).await
}
