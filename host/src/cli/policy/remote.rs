//! The server side of `policy apply`, over the HTTP API: the effective
//! plugin sets (`GET /v1/policy`), the plugin registry (`GET`/`POST
//! /v1/plugins`) and the one rollout (`POST /v1/deployments`).

use anyhow::{Context, bail};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET /v1/policy`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServerPolicy {
    pub regions: Vec<ServerRegion>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerRegion {
    pub region: String,
    #[serde(default)]
    pub slots: Vec<ServerSlot>,
}

/// One slot as the server runs it.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSlot {
    pub slot: String,
    pub plugin: PluginInfo,
    #[serde(default)]
    pub config: Value,
    #[serde(default)]
    pub canary: Option<Value>,
    #[serde(default)]
    pub shadow: Option<Value>,
}

/// Which component a slot runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub kind: String,
    /// sha256 of the component, hex.
    pub hash: String,
}

impl PluginInfo {
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Same content, whichever way the hash is spelled.
    pub fn same_component(&self, other: &PluginInfo) -> bool {
        bare_hash(&self.hash) == bare_hash(&other.hash)
    }
}

/// A hash without a `sha256:` prefix, lower case.
pub fn bare_hash(hash: &str) -> String {
    hash.strip_prefix("sha256:")
        .unwrap_or(hash)
        .to_ascii_lowercase()
}

/// A registry entry (`GET /v1/plugins`, `POST /v1/plugins`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Manifest {
    pub hash: String,
    pub name: String,
    pub kind: String,
    pub version: String,
    /// `builtin` for the plugins bundled with the server.
    #[serde(default)]
    pub publisher: Option<String>,
}

impl Manifest {
    pub fn info(&self) -> PluginInfo {
        PluginInfo {
            name: self.name.clone(),
            version: self.version.clone(),
            kind: self.kind.clone(),
            hash: bare_hash(&self.hash),
        }
    }

    pub fn is_builtin(&self) -> bool {
        self.publisher.as_deref() == Some("builtin")
    }
}

/// One change of a rollout, as `POST /v1/deployments` takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub region: String,
    pub slot: String,
    /// `builtin:<name>`, `<name>@<version>` or `sha256:<hex>`; `None`
    /// removes a promotion slot.
    pub plugin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
}

/// `POST /v1/deployments`' answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Rollout {
    pub rollout_id: String,
    #[serde(default)]
    pub activation_ms: Value,
    #[serde(default)]
    pub deployments: Vec<DeploymentView>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DeploymentView {
    pub id: String,
    pub region: String,
    pub slot: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub plugin: Option<PluginInfo>,
}

/// A problem+json refusal.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Problem {
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub errors: Vec<FieldProblem>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FieldProblem {
    pub path: String,
    pub message: String,
}

/// A client of one server, as one caller.
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    /// `url` is the server's address, with or without `/v1`.
    pub fn new(url: &str, token: &str) -> anyhow::Result<Client> {
        let base = url.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base).to_string();
        reqwest::Url::parse(&base).with_context(|| format!("--url {url} is not a URL"))?;
        Ok(Client {
            base,
            token: token.to_string(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(120))
                .build()?,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1{path}", self.base)
    }

    pub async fn policy(&self) -> anyhow::Result<ServerPolicy> {
        let body = self.get("/policy").await?;
        serde_json::from_value(body).context("GET /v1/policy: unexpected answer")
    }

    /// The whole registry, following the pages.
    pub async fn plugins(&self) -> anyhow::Result<Vec<Manifest>> {
        #[derive(Deserialize)]
        struct Page {
            plugins: Vec<Manifest>,
            #[serde(default)]
            next_cursor: Option<String>,
        }
        let mut plugins = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(cursor) => format!("/plugins?limit=500&cursor={cursor}"),
                None => "/plugins?limit=500".to_string(),
            };
            let page: Page = serde_json::from_value(self.get(&path).await?)
                .context("GET /v1/plugins: unexpected answer")?;
            plugins.extend(page.plugins);
            match page.next_cursor {
                Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
                _ => return Ok(plugins),
            }
        }
    }

    /// Uploads a component; `Ok(Ok((manifest, true)))` when it is new to
    /// the registry, `(…, false)` when it was already stored.
    pub async fn upload(
        &self,
        wasm: Vec<u8>,
        signature_header: &str,
    ) -> anyhow::Result<Result<(Manifest, bool), Problem>> {
        let response = self
            .http
            .post(self.url("/plugins"))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/wasm")
            .header(crate::registry::signing::SIGNATURE_HEADER, signature_header)
            .body(wasm)
            .send()
            .await
            .with_context(|| format!("POST {}", self.url("/plugins")))?;
        let status = response.status();
        let body = read_json(response, "POST /v1/plugins").await?;
        match status {
            StatusCode::CREATED | StatusCode::OK => Ok(Ok((
                serde_json::from_value(body).context("POST /v1/plugins: unexpected answer")?,
                status == StatusCode::CREATED,
            ))),
            StatusCode::UNPROCESSABLE_ENTITY => Ok(Err(problem(body))),
            _ => refused("POST /v1/plugins", status, body),
        }
    }

    /// One rollout of every change, live; a 422 is the server's problems.
    pub async fn deploy(
        &self,
        changes: &[Change],
        note: &str,
    ) -> anyhow::Result<Result<Rollout, Problem>> {
        let request = serde_json::json!({ "changes": changes, "mode": "live", "note": note });
        let response = self
            .http
            .post(self.url("/deployments"))
            .bearer_auth(&self.token)
            .json(&request)
            .send()
            .await
            .with_context(|| format!("POST {}", self.url("/deployments")))?;
        let status = response.status();
        let body = read_json(response, "POST /v1/deployments").await?;
        match status {
            StatusCode::CREATED | StatusCode::OK => {
                Ok(Ok(serde_json::from_value(body)
                    .context("POST /v1/deployments: unexpected answer")?))
            }
            StatusCode::UNPROCESSABLE_ENTITY => Ok(Err(problem(body))),
            _ => refused("POST /v1/deployments", status, body),
        }
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let url = self.url(path);
        let response = self
            .http
            .get(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = response.status();
        let what = format!("GET /v1{path}");
        let body = read_json(response, &what).await?;
        if status != StatusCode::OK {
            return refused(&what, status, body);
        }
        Ok(body)
    }
}

async fn read_json(response: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("{what}: reading the answer"))?;
    if text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text)
        .with_context(|| format!("{what}: {status} with a body that is not JSON: {text}"))
}

fn problem(body: Value) -> Problem {
    serde_json::from_value(body).unwrap_or_default()
}

fn refused<T>(what: &str, status: StatusCode, body: Value) -> anyhow::Result<T> {
    let problem = problem(body);
    let mut message = format!("{what}: {status}");
    if !problem.detail.is_empty() {
        message.push_str(&format!(": {}", problem.detail));
    }
    if status == StatusCode::NOT_FOUND {
        message.push_str(" (does this server support policy deployments?)");
    }
    bail!(message)
}
