//! The signed plugin registry end to end: `chanhost keygen`, `chanhost
//! plugin sign` and `chanhost plugin publish` (the real binary) against the
//! real server's `POST /v1/plugins`, which stores a component signed by a key
//! HQ trusts and refuses unsigned, tampered and untrusted ones with the
//! reason.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::server::*;
use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The demo publisher key the example brand's hq.toml trusts.
fn demo_key() -> PathBuf {
    workspace().join("examples/keys/demo-publisher.key")
}

fn chanhost(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = chanhost_command();
    command
        .args(args)
        .env_remove("CHANHOST_URL")
        .env_remove("CHANHOST_TOKEN");
    for (name, value) in envs {
        command.env(name, value);
    }
    command.output().expect("run chanhost")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "chanhost failed: {}",
        stderr(output)
    );
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// A pricing component that is not bundled (so its first upload is new):
/// the hostile test plugin, `hostile-plugin@0.0.1`, in its default, well
/// behaved mode.
fn component(dir: &Path) -> (PathBuf, Vec<u8>) {
    let wasm = std::fs::read(HOSTILE_PRICING).expect("the hostile pricing component");
    let file = dir.join("hostile-pricing.wasm");
    std::fs::write(&file, &wasm).unwrap();
    (file, wasm)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `chanhost plugin sign <file> --key <key>`, to `<file>.sig`; the header value.
fn sign(file: &Path, key: &Path) -> String {
    succeeded(&chanhost(
        &["plugin", "sign", path_str(file), "--key", path_str(key)],
        &[],
    ));
    let mut sig = file.as_os_str().to_owned();
    sig.push(".sig");
    let signature: Value = serde_json::from_slice(&std::fs::read(sig).unwrap()).unwrap();
    format!(
        "{}:{}",
        signature["key_id"].as_str().unwrap(),
        signature["signature"].as_str().unwrap()
    )
}

/// `chanhost plugin publish <file> --url … --token …` (signature beside it).
fn publish(server: &TestServer, file: &Path, token: &str) -> Output {
    chanhost(
        &[
            "plugin",
            "publish",
            path_str(file),
            "--url",
            &server.base,
            "--token",
            token,
        ],
        &[],
    )
}

/// A raw upload, for what the CLI does not send.
async fn upload(server: &TestServer, token: &str, wasm: &[u8], signature: Option<&str>) -> Reply {
    let mut request = server
        .client()
        .post(server.url("/v1/plugins"))
        .bearer_auth(token)
        .header("content-type", "application/wasm")
        .body(wasm.to_vec());
    if let Some(signature) = signature {
        request = request.header("chanhost-signature", signature);
    }
    server.send(request).await
}

async fn listed(server: &TestServer) -> Vec<Value> {
    server.get(HQ, "/v1/plugins").await.expect(200)["plugins"]
        .as_array()
        .expect("plugins")
        .clone()
}

fn detail(problem: &Value) -> String {
    problem["detail"].as_str().unwrap_or_default().to_string()
}

async fn a_signed_component_is_published_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let dir = tempfile::tempdir().unwrap();
    let (file, wasm) = component(dir.path());
    sign(&file, &demo_key());

    let output = publish(&server, &file, HQ);
    succeeded(&output);
    assert!(stderr(&output).contains("published"), "{}", stderr(&output));
    let manifest: Value = serde_json::from_slice(&output.stdout).expect("manifest JSON");
    assert_eq!(manifest["name"], "hostile-plugin", "{manifest}");
    assert_eq!(manifest["kind"], "pricing");
    assert_eq!(manifest["version"], "0.0.1");
    assert_eq!(manifest["wit_version"], "0.2.0");
    assert_eq!(manifest["hash"], sha256_hex(&wasm));
    assert_eq!(manifest["size_bytes"], wasm.len());
    assert_eq!(manifest["publisher"], "demo-publisher");
    assert!(
        manifest["uploaded_by"]
            .as_str()
            .is_some_and(|by| !by.is_empty())
    );
    assert!(manifest["uploaded_at"].as_i64().is_some());

    // The same bytes again, by a region admin, with the server and token
    // from the environment: the stored manifest, unchanged.
    let again = chanhost(
        &["plugin", "publish", path_str(&file)],
        &[("CHANHOST_URL", &server.base), ("CHANHOST_TOKEN", GD_ADMIN)],
    );
    succeeded(&again);
    assert!(
        stderr(&again).contains("already published"),
        "{}",
        stderr(&again)
    );
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again, manifest);
    let raw = upload(&server, HQ, &wasm, Some(&sign(&file, &demo_key()))).await;
    assert_eq!(raw.expect(200), manifest);

    let hash = manifest["hash"].as_str().unwrap();
    assert_eq!(
        server
            .get(HQ, &format!("/v1/plugins/{hash}"))
            .await
            .expect(200),
        manifest
    );
    let plugins = listed(&server).await;
    assert_eq!(
        plugins
            .iter()
            .filter(|p| p["hash"] == hash)
            .collect::<Vec<_>>(),
        [&manifest],
        "{plugins:?}"
    );
    // The bundled plugins were registered at start: publishing one's exact
    // bytes answers its builtin manifest.
    let bundled = chanhost_bundled_plugins::find("pricing-tiered")
        .unwrap()
        .wasm;
    assert!(
        plugins
            .iter()
            .any(|p| p["hash"] == sha256_hex(bundled) && p["publisher"] == "builtin")
    );
    let bundled_file = dir.path().join("pricing-tiered.wasm");
    std::fs::write(&bundled_file, bundled).unwrap();
    sign(&bundled_file, &demo_key());
    let output = publish(&server, &bundled_file, GD_ADMIN);
    succeeded(&output);
    let builtin: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(builtin["name"], "pricing-tiered");
    assert_eq!(builtin["publisher"], "builtin");
}

#[tokio::test]
async fn a_signed_component_is_published_once_sqlite() {
    a_signed_component_is_published_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_signed_component_is_published_once_postgres() {
    a_signed_component_is_published_once(Backend::Postgres).await;
}

async fn unsigned_tampered_and_untrusted_components_are_refused(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.start().await;
    let dir = tempfile::tempdir().unwrap();
    let (file, wasm) = component(dir.path());
    let header = sign(&file, &demo_key());

    let problem = upload(&server, HQ, &wasm, None).await.problem(422);
    assert!(detail(&problem).contains("unsigned"), "{problem}");

    let problem = upload(&server, HQ, &wasm, Some("demo-publisher"))
        .await
        .problem(422);
    assert!(detail(&problem).contains("malformed"), "{problem}");

    // One byte of the description text changed after signing: still a
    // component that loads, no longer the one signed.
    let mut tampered = wasm.clone();
    let text = b"misbehaves as its configuration says";
    let at = tampered
        .windows(text.len())
        .position(|window| window == text)
        .expect("the fixture's description in its bytes");
    tampered[at] = b'M';
    let problem = upload(&server, HQ, &tampered, Some(&header))
        .await
        .problem(422);
    assert!(
        detail(&problem).contains("does not match this component"),
        "{problem}"
    );
    // The CLI notices before sending.
    std::fs::write(&file, &tampered).unwrap();
    let output = publish(&server, &file, HQ);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("has changed since it was signed"),
        "{}",
        stderr(&output)
    );
    std::fs::write(&file, &wasm).unwrap();

    // A key of the publisher's own that HQ was never told about.
    let keys = dir.path().join("keys");
    succeeded(&chanhost(
        &["keygen", "--id", "stranger-key", "--out", path_str(&keys)],
        &[],
    ));
    sign(&file, &keys.join("stranger-key.key"));
    let output = publish(&server, &file, HQ);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("422"), "{message}");
    assert!(
        message.contains("`stranger-key`, which HQ does not trust"),
        "{message}"
    );

    // Signed with a trusted key, but built for a contract this host does
    // not have: refused at upload, not when an order reaches it.
    let future = dir.path().join("future.wasm");
    let future_wasm = wat::parse_str(
        r#"(component
            (core module $m (func (export "f") (result i32) i32.const 0))
            (core instance $i (instantiate $m))
            (func $describe (result u32) (canon lift (core func $i "f")))
            (instance $pricing (export "describe" (func $describe)))
            (export "chanhost:policy/pricing@0.9.0" (instance $pricing)))"#,
    )
    .unwrap();
    std::fs::write(&future, &future_wasm).unwrap();
    let future_header = sign(&future, &demo_key());
    let problem = upload(&server, HQ, &future_wasm, Some(&future_header))
        .await
        .problem(422);
    assert!(
        detail(&problem).contains(
            "implements chanhost:policy/pricing@0.9.0, but this host supports versions 0.2.0, 0.1.0"
        ),
        "{problem}"
    );

    // Correctly signed, but dealers do not publish.
    let problem = upload(&server, GD_DEALER, &wasm, Some(&header))
        .await
        .problem(403);
    assert!(!detail(&problem).is_empty());

    assert!(
        !listed(&server)
            .await
            .iter()
            .any(|p| p["name"] == "hostile-plugin"),
        "nothing refused was stored"
    );
}

#[tokio::test]
async fn unsigned_tampered_and_untrusted_components_are_refused_sqlite() {
    unsigned_tampered_and_untrusted_components_are_refused(Backend::Sqlite).await;
}

#[tokio::test]
async fn unsigned_tampered_and_untrusted_components_are_refused_postgres() {
    unsigned_tampered_and_untrusted_components_are_refused(Backend::Postgres).await;
}

#[test]
fn keygen_writes_a_private_key_once_and_prints_the_trust_entry() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keys");
    let output = chanhost(
        &["keygen", "--id", "acme-release", "--out", path_str(&out)],
        &[],
    );
    succeeded(&output);
    let key = out.join("acme-release.key");
    let public: Value =
        serde_json::from_slice(&std::fs::read(out.join("acme-release.pub")).unwrap()).unwrap();
    assert_eq!(public["key_id"], "acme-release");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the secret key is private");
    }

    // What it prints from `[registry]` on is hq.toml as HQ would paste it.
    let stdout = String::from_utf8(output.stdout).unwrap();
    let snippet = &stdout[stdout.find("[registry]").expect("a [registry] snippet")..];
    let hq: toml::Table = toml::from_str(snippet).expect("the snippet is TOML");
    let trusted = &hq["registry"]["trusted_keys"][0];
    assert_eq!(trusted["id"].as_str(), Some("acme-release"));
    assert_eq!(
        trusted["public_key"].as_str(),
        public["public_key"].as_str()
    );

    let before = std::fs::read(&key).unwrap();
    let again = chanhost(
        &["keygen", "--id", "acme-release", "--out", path_str(&out)],
        &[],
    );
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read(&key).unwrap(), before, "the key is untouched");
}
