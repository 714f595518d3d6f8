//! Dealers and stores: profile, territory, credit limit and balance.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{StoreError, StoreResult, decode_enum};
use crate::domain::{CustomerClass, Dealer, DealerTier};

/// A dealer as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DealerView {
    pub name: String,
    #[serde(flatten)]
    pub dealer: Dealer,
}

const COLUMNS: &str = "id, name, region, tier, class, territory, credit_limit, outstanding_balance, usual_order_cases";

fn from_row(row: &AnyRow) -> StoreResult<DealerView> {
    let tier: String = row.try_get(3)?;
    let class: String = row.try_get(4)?;
    let territory: String = row.try_get(5)?;
    let tier: DealerTier = decode_enum("dealer tier", &tier)?;
    let class: CustomerClass = decode_enum("dealer class", &class)?;
    let usual: i64 = row.try_get(8)?;
    Ok(DealerView {
        name: row.try_get(1)?,
        dealer: Dealer {
            id: row.try_get(0)?,
            region: row.try_get(2)?,
            tier,
            class,
            territory: serde_json::from_str(&territory)
                .map_err(|e| StoreError::corrupt("dealer territory", e))?,
            credit_limit: row.try_get(6)?,
            outstanding_balance: row.try_get(7)?,
            usual_order_cases: usual.clamp(0, u32::MAX as i64) as u32,
        },
    })
}

pub async fn get<'c, E>(conn: E, id: &str) -> StoreResult<Option<DealerView>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let sql = format!("SELECT {COLUMNS} FROM dealers WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// Dealers of a region (or all), by id.
pub async fn list<'c, E>(conn: E, region: Option<&str>) -> StoreResult<Vec<DealerView>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = match region {
        Some(region) => {
            let sql = format!("SELECT {COLUMNS} FROM dealers WHERE region = $1 ORDER BY id");
            sqlx::query(&sql).bind(region).fetch_all(conn).await?
        }
        None => {
            let sql = format!("SELECT {COLUMNS} FROM dealers ORDER BY id");
            sqlx::query(&sql).fetch_all(conn).await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// Adds a dealer; false if the id is taken.
pub async fn insert(conn: &mut sqlx::AnyConnection, dealer: &DealerView) -> StoreResult<bool> {
    let d = &dealer.dealer;
    let inserted = sqlx::query(
        "INSERT INTO dealers (id, name, region, tier, class, territory, credit_limit, outstanding_balance, usual_order_cases) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&d.id)
    .bind(&dealer.name)
    .bind(&d.region)
    .bind(super::encode_enum(&d.tier))
    .bind(super::encode_enum(&d.class))
    .bind(serde_json::to_string(&d.territory).expect("json"))
    .bind(d.credit_limit)
    .bind(d.outstanding_balance)
    .bind(d.usual_order_cases as i64)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Rewrites a dealer's profile; the balance is left to payments.
pub async fn update_profile(
    conn: &mut sqlx::AnyConnection,
    dealer: &DealerView,
) -> StoreResult<bool> {
    let d = &dealer.dealer;
    let updated = sqlx::query(
        "UPDATE dealers SET name = $1, tier = $2, class = $3, territory = $4, credit_limit = $5, usual_order_cases = $6 \
         WHERE id = $7",
    )
    .bind(&dealer.name)
    .bind(super::encode_enum(&d.tier))
    .bind(super::encode_enum(&d.class))
    .bind(serde_json::to_string(&d.territory).expect("json"))
    .bind(d.credit_limit)
    .bind(d.usual_order_cases as i64)
    .bind(&d.id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}
