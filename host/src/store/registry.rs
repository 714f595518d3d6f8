//! Published plugin components, content-addressed by sha256, with the
//! manifest that says what each one is and who published it.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::StoreResult;

/// What the registry knows of a component, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Manifest {
    pub hash: String,
    pub name: String,
    pub kind: String,
    pub version: String,
    pub wit_version: String,
    pub size_bytes: i64,
    /// The key id whose signature was verified, or `builtin`.
    pub publisher: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

/// The publisher of the components shipped inside the binary.
pub const BUILTIN_PUBLISHER: &str = "builtin";

const COLUMNS: &str =
    "hash, name, kind, version, wit_version, size_bytes, publisher, uploaded_by, uploaded_at";

fn manifest(row: &AnyRow) -> StoreResult<Manifest> {
    Ok(Manifest {
        hash: row.try_get("hash")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        version: row.try_get("version")?,
        wit_version: row.try_get("wit_version")?,
        size_bytes: row.try_get("size_bytes")?,
        publisher: row.try_get("publisher")?,
        uploaded_by: row.try_get("uploaded_by")?,
        uploaded_at: row.try_get("uploaded_at")?,
    })
}

/// Stores a component unless its hash is already there; `false` when it was.
/// A unique violation means another component holds its `name@version`.
pub async fn insert(
    conn: &mut AnyConnection,
    manifest: &Manifest,
    signature: Option<&str>,
    wasm: &[u8],
) -> StoreResult<bool> {
    let result = sqlx::query(&format!(
        "INSERT INTO plugin_artifacts ({COLUMNS}, signature, wasm)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (hash) DO NOTHING"
    ))
    .bind(&manifest.hash)
    .bind(&manifest.name)
    .bind(&manifest.kind)
    .bind(&manifest.version)
    .bind(&manifest.wit_version)
    .bind(manifest.size_bytes)
    .bind(&manifest.publisher)
    .bind(&manifest.uploaded_by)
    .bind(manifest.uploaded_at)
    .bind(signature)
    .bind(wasm)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn get(conn: &mut AnyConnection, hash: &str) -> StoreResult<Option<Manifest>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM plugin_artifacts WHERE hash = $1"
    ))
    .bind(hash)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(manifest).transpose()
}

/// The component published as `name@version` (the newest, for built-ins,
/// which a newer binary may have rebuilt under the same version).
pub async fn by_name_version(
    conn: &mut AnyConnection,
    name: &str,
    version: &str,
) -> StoreResult<Option<Manifest>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM plugin_artifacts WHERE name = $1 AND version = $2
         ORDER BY uploaded_at DESC LIMIT 1"
    ))
    .bind(name)
    .bind(version)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(manifest).transpose()
}

/// Manifests, newest first, after the `(uploaded_at, hash)` cursor.
pub async fn list(
    conn: &mut AnyConnection,
    after: Option<(i64, String)>,
    limit: u32,
) -> StoreResult<Vec<Manifest>> {
    let (at, hash) = after.unwrap_or((i64::MAX, String::new()));
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM plugin_artifacts
         WHERE uploaded_at < $1 OR (uploaded_at = $1 AND hash < $2)
         ORDER BY uploaded_at DESC, hash DESC LIMIT $3"
    ))
    .bind(at)
    .bind(hash)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    rows.iter().map(manifest).collect()
}

/// A component's bytes.
pub async fn wasm(conn: &mut AnyConnection, hash: &str) -> StoreResult<Option<Vec<u8>>> {
    let row = sqlx::query("SELECT wasm FROM plugin_artifacts WHERE hash = $1")
        .bind(hash)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|row| row.try_get("wasm")).transpose()?)
}
