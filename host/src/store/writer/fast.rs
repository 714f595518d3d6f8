//! The batch fast path: decide in memory which orders of the batch fit the
//! stock as the database holds it now, then write them all with a few
//! multi-row statements. Returns `None`, having written nothing, when a
//! stock row changed under it (another host), so the caller takes the
//! careful path.

use std::collections::{BTreeMap, HashSet};

use sqlx::Row;

use super::super::bulk::{self, Value};
use super::super::inventory::MovementKind;
use super::super::orders::{Inserted, NewOrder};
use super::super::{Backend, Store, StoreResult, new_id};

type StockKey = (String, String);

pub async fn write(store: &Store, orders: &[&NewOrder]) -> StoreResult<Option<Vec<Inserted>>> {
    let mut tx = store.begin_write().await?;
    let taken = existing_keys(&mut tx, orders).await?;
    let mut available = stock(&mut tx, store.backend, orders).await?;

    // Decide in arrival order, as the careful path would.
    let mut seen_keys: HashSet<(&str, &str)> = HashSet::new();
    let mut reserve: BTreeMap<StockKey, i64> = BTreeMap::new();
    let mut outcomes = Vec::with_capacity(orders.len());
    let mut accepted: Vec<&NewOrder> = Vec::new();
    'orders: for order in orders {
        let key = (order.dealer_id.as_str(), order.idempotency_key.as_str());
        if taken.contains(&(key.0.to_string(), key.1.to_string())) || !seen_keys.insert(key) {
            outcomes.push(Inserted::Duplicate);
            continue;
        }
        for a in &order.allocations {
            let left = available
                .get(&(a.warehouse_id.clone(), a.sku.clone()))
                .copied()
                .unwrap_or(0);
            if left < a.quantity as i64 {
                seen_keys.remove(&key);
                outcomes.push(Inserted::OutOfStock {
                    warehouse_id: a.warehouse_id.clone(),
                    sku: a.sku.clone(),
                });
                continue 'orders;
            }
        }
        for a in &order.allocations {
            let stock_key = (a.warehouse_id.clone(), a.sku.clone());
            *available.get_mut(&stock_key).expect("checked above") -= a.quantity as i64;
            *reserve.entry(stock_key).or_default() += a.quantity as i64;
        }
        outcomes.push(Inserted::Created);
        accepted.push(order);
    }

    // Guarded updates of many stock rows per statement, in key order (the
    // lock order every writer uses); one row that no longer fits means
    // another host moved the stock, and the careful path decides.
    let reserve: Vec<(StockKey, i64)> = reserve.into_iter().collect();
    for chunk in reserve.chunks(bulk::MAX_PARAMS / 3) {
        let sql = format!(
            "UPDATE stock SET reserved = reserved + v.q \
             FROM (SELECT column1 AS w, column2 AS s, column3 AS q FROM (VALUES {}) AS t) AS v \
             WHERE stock.warehouse_id = v.w AND stock.sku = v.s AND stock.on_hand >= stock.reserved + v.q",
            value_rows(chunk.len(), 3)
        );
        let mut query = sqlx::query(&sql);
        for ((warehouse_id, sku), quantity) in chunk {
            query = query
                .bind(warehouse_id.as_str())
                .bind(sku.as_str())
                .bind(*quantity);
        }
        if query.execute(&mut *tx).await?.rows_affected() != chunk.len() as u64 {
            tx.rollback().await?;
            return Ok(None);
        }
    }
    insert_rows(&mut tx, &accepted).await?;
    tx.commit().await?;
    Ok(Some(outcomes))
}

/// `(dealer, key)` pairs of the batch that earlier orders already used.
async fn existing_keys(
    conn: &mut sqlx::AnyConnection,
    orders: &[&NewOrder],
) -> StoreResult<HashSet<(String, String)>> {
    let pairs: Vec<(&str, &str)> = orders
        .iter()
        .map(|o| (o.dealer_id.as_str(), o.idempotency_key.as_str()))
        .collect();
    let mut taken = HashSet::new();
    for chunk in pairs.chunks(bulk::MAX_PARAMS / 2) {
        let sql = format!(
            "SELECT o.dealer_id, o.idempotency_key \
             FROM (SELECT column1 AS d, column2 AS k FROM (VALUES {}) AS t) AS v \
             JOIN orders o ON o.dealer_id = v.d AND o.idempotency_key = v.k",
            value_rows(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (dealer, key) in chunk {
            query = query.bind(*dealer).bind(*key);
        }
        for row in query.fetch_all(&mut *conn).await? {
            taken.insert((row.try_get(0)?, row.try_get(1)?));
        }
    }
    Ok(taken)
}

/// Available stock of every row the batch wants to reserve.
async fn stock(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    orders: &[&NewOrder],
) -> StoreResult<BTreeMap<StockKey, i64>> {
    // Hosts sharing PostgreSQL each run a writer: lock the rows now, in key
    // order, so that overlapping batches queue instead of deadlocking. On
    // SQLite the one writer holds the database's write lock already.
    let lock = match backend {
        Backend::Postgres => " ORDER BY s.warehouse_id, s.sku FOR UPDATE OF s",
        Backend::Sqlite => "",
    };
    let pairs: Vec<(&str, &str)> = orders
        .iter()
        .flat_map(|o| &o.allocations)
        .map(|a| (a.warehouse_id.as_str(), a.sku.as_str()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out = BTreeMap::new();
    // Exact (warehouse, SKU) pairs: `IN (…) AND IN (…)` would read their
    // whole cross product.
    for chunk in pairs.chunks(bulk::MAX_PARAMS / 2) {
        let sql = format!(
            "SELECT s.warehouse_id, s.sku, s.on_hand - s.reserved \
             FROM (SELECT column1 AS w, column2 AS k FROM (VALUES {}) AS t) AS v \
             JOIN stock s ON s.warehouse_id = v.w AND s.sku = v.k{lock}",
            value_rows(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (w, k) in chunk {
            query = query.bind(*w).bind(*k);
        }
        for row in query.fetch_all(&mut *conn).await? {
            out.insert((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?);
        }
    }
    Ok(out)
}

/// Everything of the accepted orders but the stock update: orders, lines,
/// allocations, reservation movements, backorders, timelines.
async fn insert_rows(conn: &mut sqlx::AnyConnection, orders: &[&NewOrder]) -> StoreResult<()> {
    let mut order_rows = Vec::with_capacity(orders.len());
    let mut lines = Vec::new();
    let mut allocations = Vec::new();
    let mut movements = Vec::new();
    let mut backorders = Vec::new();
    let mut events = Vec::new();
    for o in orders {
        order_rows.push(vec![
            Value::from(&o.id),
            (&o.dealer_id).into(),
            (&o.region).into(),
            (&o.ship_to).into(),
            super::super::encode_enum(&o.order_type).into(),
            super::super::encode_enum(&o.urgency).into(),
            o.status.name().into(),
            o.placed_at.into(),
            o.placed_at.into(),
            o.subtotal.into(),
            o.discount.into(),
            o.total.into(),
            0i64.into(),
            o.priority.into(),
            (&o.reasons_json).into(),
            (&o.decision_json).into(),
            (&o.context_json).into(),
            (&o.idempotency_key).into(),
            (&o.request_hash).into(),
            (&o.placed_by).into(),
        ]);
        for l in &o.lines {
            lines.push(vec![
                Value::from(&o.id),
                l.line_no.into(),
                (&l.sku).into(),
                l.quantity.into(),
                l.unit_price.into(),
                l.discount.into(),
                l.amount.into(),
                l.free.into(),
                l.promotion_id.clone().into(),
            ]);
        }
        for a in &o.allocations {
            allocations.push(vec![
                Value::from(&o.id),
                (&a.warehouse_id).into(),
                (&a.sku).into(),
                a.quantity.into(),
            ]);
            movements.push(vec![
                Value::from(new_id("MOV")),
                (&a.warehouse_id).into(),
                (&a.sku).into(),
                MovementKind::Reservation.as_str().into(),
                0i64.into(),
                (a.quantity as i64).into(),
                "order placed".into(),
                (&o.placed_by).into(),
                Some(o.id.clone()).into(),
                o.placed_at.into(),
            ]);
        }
        for (sku, quantity) in &o.backorders {
            backorders.push(vec![Value::from(&o.id), sku.into(), (*quantity).into()]);
        }
        for e in o.initial_timeline() {
            events.push(vec![
                Value::from(new_id("EVT")),
                (&o.id).into(),
                e.from_status.into(),
                e.to_status.into(),
                e.action.into(),
                e.actor.into(),
                e.at.into(),
                e.note.into(),
            ]);
        }
    }
    bulk::insert(
        conn,
        "orders",
        &[
            "id",
            "dealer_id",
            "region",
            "ship_to",
            "order_type",
            "urgency",
            "status",
            "placed_at",
            "updated_at",
            "subtotal",
            "discount",
            "total",
            "paid",
            "priority",
            "reasons",
            "decision",
            "context",
            "idempotency_key",
            "request_hash",
            "placed_by",
        ],
        &order_rows,
    )
    .await?;
    bulk::insert(
        conn,
        "order_lines",
        &[
            "order_id",
            "line_no",
            "sku",
            "quantity",
            "unit_price",
            "discount",
            "amount",
            "free",
            "promotion_id",
        ],
        &lines,
    )
    .await?;
    bulk::insert(
        conn,
        "allocations",
        &["order_id", "warehouse_id", "sku", "quantity"],
        &allocations,
    )
    .await?;
    bulk::insert(
        conn,
        "movements",
        &[
            "id",
            "warehouse_id",
            "sku",
            "kind",
            "on_hand_delta",
            "reserved_delta",
            "reason",
            "actor",
            "order_id",
            "at",
        ],
        &movements,
    )
    .await?;
    bulk::insert(
        conn,
        "backorders",
        &["order_id", "sku", "quantity"],
        &backorders,
    )
    .await?;
    bulk::insert(
        conn,
        "order_events",
        &[
            "id",
            "order_id",
            "from_status",
            "to_status",
            "action",
            "actor",
            "at",
            "note",
        ],
        &events,
    )
    .await?;
    Ok(())
}

/// `($1, $2), ($3, $4), …`: `rows` tuples of `width` parameters.
fn value_rows(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
