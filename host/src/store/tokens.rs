//! API tokens, kept as SHA-256 hashes bound to a role.

use sqlx::Row;

use super::{Store, StoreResult, now_ms};
use crate::api::auth::{Caller, Role};

/// The caller a token hash belongs to, if any. A dealer's region comes
/// from the dealer's record, so it cannot drift from it.
pub async fn find(store: &Store, token_hash: &str) -> StoreResult<Option<Caller>> {
    let row = sqlx::query(
        "SELECT t.name, t.role, t.region, t.dealer_id, d.region \
         FROM api_tokens t LEFT JOIN dealers d ON d.id = t.dealer_id \
         WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&store.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let name: String = row.try_get(0)?;
    let role: String = row.try_get(1)?;
    let region: Option<String> = row.try_get(2)?;
    let dealer_id: Option<String> = row.try_get(3)?;
    let dealer_region: Option<String> = row.try_get(4)?;
    let role = match (role.as_str(), region, dealer_id, dealer_region) {
        ("hq_admin", ..) => Role::HqAdmin,
        ("region_admin", Some(region), ..) => Role::RegionAdmin { region },
        ("dealer", _, Some(dealer_id), Some(region)) => Role::Dealer { dealer_id, region },
        (other, ..) => {
            return Err(super::StoreError::corrupt(
                "api token",
                format!("role {other} lacks its binding"),
            ));
        }
    };
    Ok(Some(Caller { name, role }))
}

/// Stores a token's hash for a role; a token already known is left as is.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    token_hash: &str,
    name: &str,
    role: &Role,
) -> StoreResult<()> {
    let (role_name, region, dealer_id) = match role {
        Role::HqAdmin => ("hq_admin", None, None),
        Role::RegionAdmin { region } => ("region_admin", Some(region.as_str()), None),
        Role::Dealer { dealer_id, .. } => ("dealer", None, Some(dealer_id.as_str())),
    };
    sqlx::query(
        "INSERT INTO api_tokens (token_hash, name, role, region, dealer_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (token_hash) DO NOTHING",
    )
    .bind(token_hash)
    .bind(name)
    .bind(role_name)
    .bind(region)
    .bind(dealer_id)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}
