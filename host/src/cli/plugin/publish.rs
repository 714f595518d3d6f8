//! `chanhost plugin publish`: upload a signed component to a server's
//! plugin registry.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::sign::{default_signature_path, read_component};
use crate::registry::signing::{SIGNATURE_HEADER, SignatureFile};

pub fn run(
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
