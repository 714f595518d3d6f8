//! Loads a brand's data set (warehouses, dealers, opening stock, demo
//! tokens) into an empty store. A store that already holds dealers is left
//! alone, so restarting never resets stock; of several hosts starting at
//! once on one PostgreSQL, one seeds and the others find it done.

use super::inventory::{self, Movement, MovementKind};
use super::{Store, StoreResult, encode_enum, now_ms};
use crate::api::auth::{Role, hash_token};
use crate::config::dataset::{self, Dataset};

/// What seeding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeded {
    Loaded {
        dealers: usize,
        warehouses: usize,
        stock_rows: usize,
    },
    AlreadyPresent,
}

pub async fn seed(store: &Store, data: &Dataset) -> StoreResult<Seeded> {
    let mut tx = store.begin_write().await?;
    if store.backend == super::Backend::Postgres {
        // Hosts starting together on one database: the first seeds, the
        // others wait here and then find the dealers present.
        sqlx::query("LOCK TABLE dealers IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
    }
    let (present,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM dealers")
        .fetch_one(&mut *tx)
        .await?;
    if present > 0 {
        return Ok(Seeded::AlreadyPresent);
    }
    let at = now_ms();
    for w in &data.warehouses {
        sqlx::query(
            "INSERT INTO warehouses (id, name, region, level, owner) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&w.id)
        .bind(&w.name)
        .bind(&w.region)
        .bind(encode_enum(&w.level))
        .bind(&w.owner)
        .execute(&mut *tx)
        .await?;
    }
    for d in &data.dealers {
        sqlx::query(
            "INSERT INTO dealers (id, name, region, tier, class, territory, credit_limit, \
             outstanding_balance, usual_order_cases) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&d.id)
        .bind(&d.name)
        .bind(&d.region)
        .bind(encode_enum(&d.tier))
        .bind(encode_enum(&d.class))
        .bind(serde_json::to_string(&d.territory).expect("json"))
        .bind(d.credit_limit)
        .bind(d.outstanding_balance)
        .bind(d.usual_order_cases as i64)
        .execute(&mut *tx)
        .await?;
    }
    for s in &data.stock {
        sqlx::query(
            "INSERT INTO stock (warehouse_id, sku, on_hand, reserved, target, daily_demand) \
             VALUES ($1, $2, 0, 0, $3, $4) ON CONFLICT (warehouse_id, sku) DO NOTHING",
        )
        .bind(&s.warehouse)
        .bind(&s.sku)
        .bind(s.target as i64)
        .bind(s.daily_demand as i64)
        .execute(&mut *tx)
        .await?;
        if s.on_hand > 0 {
            let receipt = Movement::new(
                &s.warehouse,
                &s.sku,
                MovementKind::Receipt,
                s.on_hand as i64,
                0,
                "opening stock",
                "seed",
                at,
            );
            inventory::apply(&mut tx, &receipt).await?;
        }
    }
    for t in &data.tokens {
        let role = match t.role {
            dataset::Role::HqAdmin => Role::HqAdmin,
            dataset::Role::RegionAdmin => Role::RegionAdmin {
                region: t.region.clone().unwrap_or_default(),
            },
            dataset::Role::Dealer => Role::Dealer {
                dealer_id: t.dealer.clone().unwrap_or_default(),
                region: String::new(),
            },
        };
        super::tokens::insert(&mut tx, &hash_token(&t.token), &t.name, &role).await?;
    }
    tx.commit().await?;
    Ok(Seeded::Loaded {
        dealers: data.dealers.len(),
        warehouses: data.warehouses.len(),
        stock_rows: data.stock.len(),
    })
}
