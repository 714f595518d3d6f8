//! The batch fast path: decide in memory which orders of the batch fit the
//! stock as the database holds it now, then write them all with a few
//! multi-row statements.
//!
//! On SQLite each call to the connection's thread is a hand-off between
//! threads, and on a busy machine a woken thread may wait for a core (about
//! a millisecond per call was measured under `bench http`), so a batch
//! makes as few as it can. Usually that is one: the batch is decided on the
//! stock book (`store::stock_book`), which is exact while the database's
//! stock epoch is the book's, and the call checks that epoch under the
//! write lock before it writes ([`write_on_book`]). When the check fails,
//! a reused idempotency key fails its insert or the stock CHECK fails, the
//! batch is rolled back
//! and written with two calls ([`write_sqlite_reading`]): the write lock and
//! every read (idempotency keys, stock rows, epoch; the whole book again if
//! the epoch moved) in one, every write and the commit in the other.
//! Either way the book gets the figures the batch left, and the epoch its
//! own writes left, before the connection is given back.
//!
//! On PostgreSQL, where several hosts may share the database, the stock
//! rows are locked when read and each update is guarded; if a guard fails
//! (another host moved the stock) the batch is rolled back and `None`
//! returned, so the caller takes the careful path.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use sqlx::Row;
use sqlx::pool::PoolConnection;

use super::super::bulk::{self, Params, Statement, Value};
use super::super::inventory::MovementKind;
use super::super::orders::{Inserted, NewOrder};
use super::super::stock_book::{self, StockBook};
use super::super::{Backend, Store, StoreError, StoreResult, new_id};
use super::Written;

type StockKey = (String, String);

pub(super) async fn write(store: &Store, orders: &[&NewOrder]) -> StoreResult<Option<Written>> {
    let (path, outcomes) = match store.backend {
        Backend::Sqlite => write_sqlite(store, orders).await?,
        Backend::Postgres => match write_postgres(store, orders).await? {
            Some(outcomes) => ("reads", outcomes),
            None => return Ok(None),
        },
    };
    Ok(Some(Written { path, outcomes }))
}

async fn write_sqlite(
    store: &Store,
    orders: &[&NewOrder],
) -> StoreResult<(&'static str, Vec<Inserted>)> {
    if let Some(book) = store.stock_book.as_deref()
        && let Some(outcomes) = write_on_book(store, book, orders).await?
    {
        return Ok(("book", outcomes));
    }
    Ok(("reads", write_sqlite_reading(store, orders).await?))
}

/// The usual SQLite batch, when the stock book is loaded: decided on the
/// book's figures, which are exact as long as the database's stock epoch is
/// the book's, and written in one call to the connection's thread. The
/// call's first statement after `BEGIN IMMEDIATE` checks that epoch under
/// the write lock and fails if anything else moved stock; an idempotency
/// key used before fails its insert on the unique index; a CHECK on stock
/// fails if the book was ever wrong. Any of these rolls the batch back and
/// answers `None`: the caller then writes the batch reading every key and
/// figure under the lock, which reloads the book if needed. An order that
/// does not fit is not written, and answered as the reading path would: a
/// duplicate if its key was used before (a replay), else out of stock.
async fn write_on_book(
    store: &Store,
    book: &StockBook,
    orders: &[&NewOrder],
) -> StoreResult<Option<Vec<Inserted>>> {
    let Some(figures) = book.figures(stock_keys(orders)) else {
        return Ok(None);
    };
    let found = Found {
        taken: HashSet::new(),
        available: figures.available,
        epoch: Some(figures.epoch),
    };
    let batch = decide(orders, found, Some(figures.generation));
    // An order out of stock may be a replay of a placed one, whose answer
    // is its first order: the call reads those orders' keys (before its
    // own inserts, as the reading path would).
    let short: Vec<(&str, &str)> = orders
        .iter()
        .zip(&batch.outcomes)
        .filter(|(_, outcome)| matches!(outcome, Inserted::OutOfStock { .. }))
        .map(|(order, _)| (order.dealer_id.as_str(), order.idempotency_key.as_str()))
        .collect();
    let writes = Statement::join(
        [
            Statement::plain("BEGIN IMMEDIATE"),
            Statement {
                sql: stock_book::EXPECT_EPOCH_SQL.into(),
                values: vec![Value::from(figures.epoch)],
            },
        ]
        .into_iter()
        .chain(key_reads(Backend::Sqlite, &short))
        .chain(reserve(Backend::Sqlite, &batch.reserve))
        .chain(inserts(Backend::Sqlite, &batch.accepted))
        .chain([
            Statement::plain(stock_book::EPOCH_SQL),
            Statement::plain("COMMIT"),
        ]),
    );
    let mut conn = store.write_pool.acquire().await?;
    let rows = match writes.query().persistent(false).fetch_all(&mut *conn).await {
        Ok(rows) => rows,
        Err(err) => {
            let err = StoreError::from(err);
            roll_back(&mut conn).await;
            if err.is_unique_violation()
                || err.is_check_violation()
                || err.is_raised(stock_book::STALE_MESSAGE)
            {
                return Ok(None);
            }
            book.forget();
            return Err(err);
        }
    };
    settle(book, &rows, &batch)?;
    // Every row but the last (the epoch) is a key used before.
    let taken = read_rows(&rows[..rows.len() - 1])?.taken;
    let mut outcomes = batch.outcomes;
    for (order, outcome) in orders.iter().zip(&mut outcomes) {
        if matches!(outcome, Inserted::OutOfStock { .. })
            && taken.contains(&(order.dealer_id.clone(), order.idempotency_key.clone()))
        {
            *outcome = Inserted::Duplicate;
        }
    }
    Ok(Some(outcomes))
}

/// Stores in the book what a committed batch knows: the epoch its last
/// row read and the figures it left.
fn settle(book: &StockBook, rows: &[sqlx::any::AnyRow], batch: &Batch) -> StoreResult<()> {
    let epoch: i64 = match rows.last() {
        Some(row) => row.try_get(0)?,
        None => return Err(StoreError::corrupt("stock epoch", "no row")),
    };
    book.settle(
        epoch,
        batch
            .available
            .iter()
            .map(|((warehouse_id, sku), cases)| (warehouse_id.as_str(), sku.as_str(), *cases)),
    );
    Ok(())
}

/// A SQLite batch that reads what it decides on under the write lock: the
/// idempotency keys, the stock rows and the epoch (and the whole book
/// again when the epoch is not the book's).
async fn write_sqlite_reading(store: &Store, orders: &[&NewOrder]) -> StoreResult<Vec<Inserted>> {
    let book = store.stock_book.as_deref();
    let mut conn = store.write_pool.acquire().await?;
    let written = async {
        let reads = Statement::join(
            std::iter::once(Statement::plain("BEGIN IMMEDIATE"))
                .chain(reads(Backend::Sqlite, orders, ""))
                .chain(book.map(|_| Statement::plain(EPOCH_READ))),
        );
        let rows = reads
            .query()
            .persistent(false)
            .fetch_all(&mut *conn)
            .await?;
        let found = read_rows(&rows)?;
        let generation = match (book, found.epoch) {
            (Some(book), Some(epoch)) => Some(match book.current(epoch) {
                Some(generation) => generation,
                None => load_book(&mut conn, book, epoch).await?,
            }),
            _ => None,
        };
        let batch = decide(orders, found, generation);
        let writes = Statement::join(
            reserve(Backend::Sqlite, &batch.reserve)
                .into_iter()
                .chain(inserts(Backend::Sqlite, &batch.accepted))
                .chain(book.map(|_| Statement::plain(stock_book::EPOCH_SQL)))
                .chain(std::iter::once(Statement::plain("COMMIT"))),
        );
        let rows = writes
            .query()
            .persistent(false)
            .fetch_all(&mut *conn)
            .await?;
        // Settled before the connection goes back: no other write can come
        // between the commit and the book.
        if let Some(book) = book {
            settle(book, &rows, &batch)?;
        }
        Ok(batch.outcomes)
    }
    .await;
    if written.is_err() {
        roll_back(&mut conn).await;
        if let Some(book) = book {
            book.forget();
        }
    }
    written
}

/// The epoch as a row of [`reads`]' shape (`what` 2).
const EPOCH_READ: &str = "SELECT 2, '', '', epoch FROM stock_epoch";

/// Loads the whole stock book in the writer's transaction, under its lock;
/// returns the new generation.
async fn load_book(
    conn: &mut PoolConnection<sqlx::Any>,
    book: &StockBook,
    epoch: i64,
) -> StoreResult<u64> {
    let rows: Vec<stock_book::BookRow> = sqlx::query_as(stock_book::LOAD_SQL)
        .fetch_all(&mut **conn)
        .await?;
    Ok(book.load(epoch, rows))
}

/// Ends a failed batch's transaction (the error may have come before it
/// began or after it ended: then there is nothing to roll back). A
/// connection that cannot say is not given back to the pool.
async fn roll_back(conn: &mut PoolConnection<sqlx::Any>) {
    use sqlx::Executor;
    if let Err(err) = conn.execute("ROLLBACK").await {
        let message = err.to_string();
        if !message.contains("no transaction is active") {
            tracing::warn!(error = %message, "rolling back a failed batch failed; closing its connection");
            conn.close_on_drop();
        }
    }
}

async fn write_postgres(store: &Store, orders: &[&NewOrder]) -> StoreResult<Option<Vec<Inserted>>> {
    // Lock the rows now, in key order, so that overlapping batches of
    // hosts sharing the database queue instead of deadlocking.
    const LOCK: &str = " ORDER BY s.warehouse_id, s.sku FOR UPDATE OF s";
    let mut tx = store.begin_write().await?;
    let mut rows = Vec::new();
    for read in reads(Backend::Postgres, orders, LOCK) {
        rows.extend(read.query().fetch_all(&mut *tx).await?);
    }
    let found = read_rows(&rows)?;
    let batch = decide(orders, found, None);
    // One row that no longer fits means another host moved the stock.
    for update in reserve(Backend::Postgres, &batch.reserve) {
        let expected = update.values.len() as u64 / 3;
        if update.query().execute(&mut *tx).await?.rows_affected() != expected {
            tx.rollback().await?;
            return Ok(None);
        }
    }
    for insert in inserts(Backend::Postgres, &batch.accepted) {
        insert.query().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(Some(batch.outcomes))
}

/// What a batch decided: each order's outcome, the orders to write and
/// the stock they reserve.
struct Batch<'a> {
    outcomes: Vec<Inserted>,
    accepted: Vec<&'a NewOrder>,
    reserve: Vec<(StockKey, i64)>,
    /// Every stock row read, as it stands once the batch is written.
    available: BTreeMap<StockKey, i64>,
}

/// Decides in arrival order, as the careful path would. `generation` is
/// the stock book's, when there is one: an order evaluated on an older
/// one is sent back.
fn decide<'a>(orders: &[&'a NewOrder], found: Found, generation: Option<u64>) -> Batch<'a> {
    let Found {
        taken,
        mut available,
        ..
    } = found;
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
        if order.evaluated_on_older_book(generation) {
            seen_keys.remove(&key);
            outcomes.push(Inserted::Stale);
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
    Batch {
        outcomes,
        accepted,
        reserve: reserve.into_iter().collect(),
        available,
    }
}

/// The reads a batch decides on, as rows of `(what, a, b, n)`: `what` 0 is
/// a `(dealer, idempotency key)` pair that an earlier order already used;
/// 1 is a `(warehouse, SKU)` stock row and its available cases (2, the
/// stock epoch, is [`EPOCH_READ`] on SQLite). Exact pairs, joined through `VALUES`: `IN (…) AND IN (…)` would read their
/// whole cross product.
fn reads(backend: Backend, orders: &[&NewOrder], stock_lock: &str) -> Vec<Statement> {
    let keys: Vec<(&str, &str)> = orders
        .iter()
        .map(|o| (o.dealer_id.as_str(), o.idempotency_key.as_str()))
        .collect();
    let stock: Vec<(&str, &str)> = stock_keys(orders).into_iter().collect();
    let mut statements = key_reads(backend, &keys);
    for chunk in stock.chunks(bulk::MAX_PARAMS / 2) {
        let mut read = pairs_statement(
            backend,
            chunk,
            "SELECT 1, s.warehouse_id, s.sku, s.on_hand - s.reserved",
            "JOIN stock s ON s.warehouse_id = v.a AND s.sku = v.b",
        );
        read.sql.push_str(stock_lock);
        statements.push(read);
    }
    statements
}

/// The `(warehouse, SKU)` stock rows the orders allocate from, each once.
fn stock_keys<'a>(orders: &[&'a NewOrder]) -> BTreeSet<(&'a str, &'a str)> {
    orders
        .iter()
        .flat_map(|o| &o.allocations)
        .map(|a| (a.warehouse_id.as_str(), a.sku.as_str()))
        .collect()
}

/// The `(dealer, idempotency key)` pairs of `keys` that earlier orders
/// used, as rows of [`reads`]' shape (`what` 0).
fn key_reads(backend: Backend, keys: &[(&str, &str)]) -> Vec<Statement> {
    keys.chunks(bulk::MAX_PARAMS / 2)
        .map(|chunk| {
            pairs_statement(
                backend,
                chunk,
                "SELECT 0, o.dealer_id, o.idempotency_key, 0",
                "JOIN orders o ON o.dealer_id = v.a AND o.idempotency_key = v.b",
            )
        })
        .collect()
}

fn pairs_statement(
    backend: Backend,
    pairs: &[(&str, &str)],
    select: &str,
    join: &str,
) -> Statement {
    Statement {
        sql: format!(
            "{select} FROM (SELECT column1 AS a, column2 AS b FROM (VALUES {}) AS t) AS v {join}",
            Params::new(backend).rows(pairs.len(), 2)
        ),
        values: pairs
            .iter()
            .flat_map(|(a, b)| [Value::from(*a), Value::from(*b)])
            .collect(),
    }
}

/// What [`reads`] found: the idempotency keys taken and the stock
/// available; on SQLite also the stock epoch.
struct Found {
    taken: HashSet<(String, String)>,
    available: BTreeMap<StockKey, i64>,
    epoch: Option<i64>,
}

/// The rows of [`reads`].
fn read_rows(rows: &[sqlx::any::AnyRow]) -> StoreResult<Found> {
    let mut taken = HashSet::new();
    let mut available = BTreeMap::new();
    let mut epoch = None;
    for row in rows {
        let pair = (row.try_get(1)?, row.try_get(2)?);
        match row.try_get::<i64, _>(0)? {
            0 => {
                taken.insert(pair);
            }
            1 => {
                available.insert(pair, row.try_get(3)?);
            }
            _ => epoch = Some(row.try_get(3)?),
        }
    }
    Ok(Found {
        taken,
        available,
        epoch,
    })
}

/// Reserves the batch's stock, many rows per statement, in key order (the
/// lock order every writer uses). On PostgreSQL each row is guarded, and
/// the caller counts the rows updated; on SQLite the stock was read under
/// the write lock, and the table's CHECK would fail the statement if it
/// ever did not fit.
fn reserve(backend: Backend, reserve: &[(StockKey, i64)]) -> Vec<Statement> {
    let guard = match backend {
        Backend::Postgres => " AND stock.on_hand >= stock.reserved + v.q",
        Backend::Sqlite => "",
    };
    reserve
        .chunks(bulk::MAX_PARAMS / 3)
        .map(|chunk| Statement {
            sql: format!(
                "UPDATE stock SET reserved = reserved + v.q \
                 FROM (SELECT column1 AS w, column2 AS s, column3 AS q FROM (VALUES {}) AS t) AS v \
                 WHERE stock.warehouse_id = v.w AND stock.sku = v.s{guard}",
                Params::new(backend).rows(chunk.len(), 3)
            ),
            values: chunk
                .iter()
                .flat_map(|((warehouse_id, sku), quantity)| {
                    [
                        Value::from(warehouse_id),
                        Value::from(sku),
                        Value::from(*quantity),
                    ]
                })
                .collect(),
        })
        .collect()
}

/// Everything of the accepted orders but the stock update: orders, lines,
/// allocations, reservation movements, backorders, timelines.
fn inserts(backend: Backend, orders: &[&NewOrder]) -> Vec<Statement> {
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
    let mut statements = bulk::inserts(backend, "orders", ORDER_COLUMNS, order_rows);
    statements.extend(bulk::inserts(backend, "order_lines", LINE_COLUMNS, lines));
    statements.extend(bulk::inserts(
        backend,
        "allocations",
        &["order_id", "warehouse_id", "sku", "quantity"],
        allocations,
    ));
    statements.extend(bulk::inserts(
        backend,
        "movements",
        MOVEMENT_COLUMNS,
        movements,
    ));
    statements.extend(bulk::inserts(
        backend,
        "backorders",
        &["order_id", "sku", "quantity"],
        backorders,
    ));
    statements.extend(bulk::inserts(
        backend,
        "order_events",
        EVENT_COLUMNS,
        events,
    ));
    statements
}

const ORDER_COLUMNS: &[&str] = &[
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
];

const LINE_COLUMNS: &[&str] = &[
    "order_id",
    "line_no",
    "sku",
    "quantity",
    "unit_price",
    "discount",
    "amount",
    "free",
    "promotion_id",
];

const MOVEMENT_COLUMNS: &[&str] = &[
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
];

const EVENT_COLUMNS: &[&str] = &[
    "id",
    "order_id",
    "from_status",
    "to_status",
    "action",
    "actor",
    "at",
    "note",
];
