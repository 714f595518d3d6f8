//! Deployments (which plugin and configuration a region slot runs, since
//! when, instead of what), the audit log of every policy change, and the
//! comparisons shadow deployments made on live orders.
//!
//! A slot has at most one active deployment per mode (a unique index says
//! so), so two hosts changing the same slot at once cannot both win: the
//! second transaction fails and nothing of it is kept.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{StoreError, StoreResult, decode_enum, encode_enum, new_id};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Decides the slot for the whole region.
    #[default]
    Live,
    /// Decides the slot for an audience of the region's dealers.
    Canary,
    /// Runs beside the slot on live orders; only compared.
    Shadow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    Active,
    /// A later deployment took the slot.
    Superseded,
    /// Rolled back by a person.
    RolledBack,
    /// Rolled back by the guard: its fault rate passed HQ's threshold.
    AutoRolledBack,
    /// A canary that became the whole region's deployment.
    Promoted,
    /// A canary or shadow ended by a person.
    Stopped,
}

/// One deployment row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub id: String,
    pub rollout_id: String,
    pub region: String,
    pub slot: String,
    pub mode: Mode,
    pub state: DeploymentState,
    /// `None` removes a promotion slot.
    pub plugin_hash: Option<String>,
    pub config_json: String,
    pub audience_json: Option<String>,
    pub previous_id: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub note: String,
    pub ended_at: Option<i64>,
    pub ended_by: Option<String>,
}

impl Deployment {
    /// The configuration it deploys; `None` for a promotion's removal.
    pub fn config(&self) -> Option<serde_json::Value> {
        self.plugin_hash
            .as_ref()
            .map(|_| serde_json::from_str(&self.config_json).unwrap_or_default())
    }
}

const COLUMNS: &str = "id, rollout_id, region, slot, mode, state, plugin_hash, config_json, \
    audience_json, previous_id, created_by, created_at, note, ended_at, ended_by";

fn deployment(row: &AnyRow) -> StoreResult<Deployment> {
    Ok(Deployment {
        id: row.try_get("id")?,
        rollout_id: row.try_get("rollout_id")?,
        region: row.try_get("region")?,
        slot: row.try_get("slot")?,
        mode: decode_enum("deployment mode", &row.try_get::<String, _>("mode")?)?,
        state: decode_enum("deployment state", &row.try_get::<String, _>("state")?)?,
        plugin_hash: row.try_get("plugin_hash")?,
        config_json: row.try_get("config_json")?,
        audience_json: row.try_get("audience_json")?,
        previous_id: row.try_get("previous_id")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        note: row.try_get("note")?,
        ended_at: row.try_get("ended_at")?,
        ended_by: row.try_get("ended_by")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, d: &Deployment) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO deployments ({COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ))
    .bind(&d.id)
    .bind(&d.rollout_id)
    .bind(&d.region)
    .bind(&d.slot)
    .bind(encode_enum(&d.mode))
    .bind(encode_enum(&d.state))
    .bind(&d.plugin_hash)
    .bind(&d.config_json)
    .bind(&d.audience_json)
    .bind(&d.previous_id)
    .bind(&d.created_by)
    .bind(d.created_at)
    .bind(&d.note)
    .bind(d.ended_at)
    .bind(&d.ended_by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<Deployment>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM deployments WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(deployment).transpose()
}

/// Every active deployment, oldest first: the order they are applied in.
pub async fn active(conn: &mut AnyConnection) -> StoreResult<Vec<Deployment>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM deployments WHERE state = 'active' ORDER BY id"
    ))
    .fetch_all(conn)
    .await?;
    rows.iter().map(deployment).collect()
}

/// The active deployment of a slot in a mode.
pub async fn active_in(
    conn: &mut AnyConnection,
    region: &str,
    slot: &str,
    mode: Mode,
) -> StoreResult<Option<Deployment>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM deployments
         WHERE region = $1 AND slot = $2 AND mode = $3 AND state = 'active'"
    ))
    .bind(region)
    .bind(slot)
    .bind(encode_enum(&mode))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(deployment).transpose()
}

/// The newest active live or canary deployment of a region: the rollout a
/// region rollback undoes.
pub async fn latest_deciding(
    conn: &mut AnyConnection,
    region: &str,
) -> StoreResult<Option<Deployment>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM deployments
         WHERE region = $1 AND state = 'active' AND mode IN ('live', 'canary')
         ORDER BY id DESC LIMIT 1"
    ))
    .bind(region)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(deployment).transpose()
}

/// Active live and canary deployments of one rollout in one region.
pub async fn active_of_rollout(
    conn: &mut AnyConnection,
    rollout_id: &str,
    region: &str,
) -> StoreResult<Vec<Deployment>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM deployments
         WHERE rollout_id = $1 AND region = $2 AND state = 'active' AND mode IN ('live', 'canary')
         ORDER BY id"
    ))
    .bind(rollout_id)
    .bind(region)
    .fetch_all(conn)
    .await?;
    rows.iter().map(deployment).collect()
}

/// Ends an active deployment; `false` if it was no longer active.
pub async fn end(
    conn: &mut AnyConnection,
    id: &str,
    state: DeploymentState,
    actor: &str,
    at: i64,
) -> StoreResult<bool> {
    let result = sqlx::query(
        "UPDATE deployments SET state = $1, ended_at = $2, ended_by = $3
         WHERE id = $4 AND state = 'active'",
    )
    .bind(encode_enum(&state))
    .bind(at)
    .bind(actor)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Makes a superseded deployment active again (a rollback to it).
pub async fn reactivate(conn: &mut AnyConnection, id: &str) -> StoreResult<bool> {
    let result = sqlx::query(
        "UPDATE deployments SET state = 'active', ended_at = NULL, ended_by = NULL
         WHERE id = $1 AND state = 'superseded'",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub region: Option<String>,
    pub slot: Option<String>,
    /// Only ids before this one (the cursor).
    pub before: Option<String>,
    pub limit: u32,
}

/// Deployments newest first.
pub async fn history(
    conn: &mut AnyConnection,
    filter: &HistoryFilter,
) -> StoreResult<Vec<Deployment>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM deployments
         WHERE ($1 IS NULL OR region = $1) AND ($2 IS NULL OR slot = $2)
           AND ($3 IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(&filter.region)
    .bind(&filter.slot)
    .bind(&filter.before)
    .bind(i64::from(filter.limit))
    .fetch_all(conn)
    .await?;
    rows.iter().map(deployment).collect()
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: i64,
    pub actor: String,
    /// upload, deploy, promote, stop, rollback, auto_rollback.
    pub action: String,
    pub region: Option<String>,
    pub slot: Option<String>,
    pub deployment_id: Option<String>,
    /// What changed: plugin versions, configuration diffs, the reason.
    pub detail: serde_json::Value,
}

impl AuditEntry {
    /// An entry about one deployment (its region, slot and id).
    pub fn about(actor: &str, action: &str, at: i64, deployment: &Deployment) -> Self {
        AuditEntry {
            region: Some(deployment.region.clone()),
            slot: Some(deployment.slot.clone()),
            deployment_id: Some(deployment.id.clone()),
            ..AuditEntry::new(actor, action, at)
        }
    }

    pub fn new(actor: &str, action: &str, at: i64) -> Self {
        AuditEntry {
            id: new_id("AUD"),
            at,
            actor: actor.to_string(),
            action: action.to_string(),
            region: None,
            slot: None,
            deployment_id: None,
            detail: serde_json::Value::Null,
        }
    }
}

pub async fn audit(conn: &mut AnyConnection, entry: &AuditEntry) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO policy_audit (id, at, actor, action, region, slot, deployment_id, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&entry.id)
    .bind(entry.at)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.region)
    .bind(&entry.slot)
    .bind(&entry.deployment_id)
    .bind(entry.detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Audit entries newest first, optionally of one region.
pub async fn audit_log(
    conn: &mut AnyConnection,
    region: Option<&str>,
    before: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<AuditEntry>> {
    let rows = sqlx::query(
        "SELECT id, at, actor, action, region, slot, deployment_id, detail FROM policy_audit
         WHERE ($1 IS NULL OR region = $1) AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3",
    )
    .bind(region)
    .bind(before)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let detail: String = row.try_get("detail")?;
            Ok(AuditEntry {
                id: row.try_get("id")?,
                at: row.try_get("at")?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                region: row.try_get("region")?,
                slot: row.try_get("slot")?,
                deployment_id: row.try_get("deployment_id")?,
                detail: serde_json::from_str(&detail)
                    .map_err(|e| StoreError::corrupt("audit detail", e))?,
            })
        })
        .collect()
}

/// The newest audit id: it changes whenever any host changes policy.
pub async fn last_change(conn: &mut AnyConnection) -> StoreResult<Option<String>> {
    let row = sqlx::query("SELECT MAX(id) AS id FROM policy_audit")
        .fetch_one(conn)
        .await?;
    Ok(row.try_get("id")?)
}

/// Records one comparison a shadow deployment made; `diff_json` only when
/// the decisions differ.
pub async fn record_shadow(
    conn: &mut AnyConnection,
    deployment_id: &str,
    order_id: &str,
    at: i64,
    diff_json: Option<&str>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO shadow_results (id, deployment_id, order_id, at, differs, diff_json)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id("SHD"))
    .bind(deployment_id)
    .bind(order_id)
    .bind(at)
    .bind(i64::from(diff_json.is_some()))
    .bind(diff_json)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many orders a shadow deployment was compared on, and the recorded
/// differences, oldest first.
pub async fn shadow_results(
    conn: &mut AnyConnection,
    deployment_id: &str,
) -> StoreResult<(u64, Vec<String>)> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM shadow_results WHERE deployment_id = $1")
        .bind(deployment_id)
        .fetch_one(&mut *conn)
        .await?;
    let compared: i64 = row.try_get("n")?;
    let rows = sqlx::query(
        "SELECT diff_json FROM shadow_results WHERE deployment_id = $1 AND differs = 1 ORDER BY id",
    )
    .bind(deployment_id)
    .fetch_all(conn)
    .await?;
    let diffs = rows
        .iter()
        .map(|row| row.try_get::<String, _>("diff_json"))
        .collect::<Result<_, _>>()?;
    Ok((compared as u64, diffs))
}
