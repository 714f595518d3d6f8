//! 64 clients racing for the scarce stock of one SKU, over real HTTP: on
//! SQLite, on PostgreSQL, and with two server processes sharing one
//! PostgreSQL database. Nothing is oversold, every order either got its
//! whole quantity or recorded the rest as a backorder (and waits for
//! review), and the stock ledger balances to the case.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::server::*;
use serde_json::Value;

const CLIENTS: usize = 64;
/// Jubilee 56°: the gd region and its three nearest neighbours hold a few
/// hundred cases of it, HQ a few hundred more; 64 × 20 cases is far more.
const SKU: &str = "BJ-010";
const QUANTITY: i64 = 20;
/// A placement may answer 503 when stock moves too fast under it; clients
/// retry with the same key, as the answer tells them to.
const RETRIES: usize = 50;

async fn race(db: &TestDb, servers: &[TestServer]) {
    let pool = db.pool().await;
    let before: BTreeMap<String, (i64, i64)> = sqlx::query_as::<_, (String, i64, i64)>(
        "SELECT warehouse_id, on_hand, reserved FROM stock WHERE sku = $1",
    )
    .bind(SKU)
    .fetch_all(&pool)
    .await
    .expect("stock before")
    .into_iter()
    .map(|(w, on_hand, reserved)| (w, (on_hand, reserved)))
    .collect();
    assert!(before.values().all(|&(_, reserved)| reserved == 0));
    let dealers: Vec<String> =
        sqlx::query_scalar("SELECT id FROM dealers WHERE region = 'gd' ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("gd dealers");
    assert!(!dealers.is_empty());

    let clients = (0..CLIENTS).map(|i| {
        let api = servers[i % servers.len()].api.clone();
        let dealer = dealers[i % dealers.len()].clone();
        async move {
            let body = one_line_for(&dealer, SKU, QUANTITY);
            for _ in 0..RETRIES {
                let reply = api.place(HQ, &format!("race-{i}"), body.clone()).await;
                if reply.status != 503 {
                    return reply.expect(201);
                }
                tokio::task::yield_now().await;
            }
            panic!("client {i}: still 503 after {RETRIES} tries");
        }
    });
    let placed: Vec<Value> = join_all(clients).await;

    let ids: BTreeSet<&str> = placed.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), CLIENTS, "one order per client");
    // Read back what was stored, all at once, through the other server
    // when there are two.
    let reader = servers.last().unwrap();
    let stored = join_all(ids.iter().map(|id| {
        let (api, id) = (reader.api.clone(), id.to_string());
        async move { api.order(&id).await }
    }))
    .await;
    let mut held_at: BTreeMap<String, i64> = BTreeMap::new();
    let (mut allocated_total, mut backordered_total) = (0, 0);
    for order in stored {
        let allocated: i64 = order["allocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                assert_eq!(a["sku"], SKU);
                *held_at
                    .entry(a["warehouse_id"].as_str().unwrap().to_string())
                    .or_default() += a["quantity"].as_i64().unwrap();
                a["quantity"].as_i64().unwrap()
            })
            .sum();
        let backordered: i64 = order["backorders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["quantity"].as_i64().unwrap())
            .sum();
        assert_eq!(
            allocated + backordered,
            QUANTITY,
            "every case is either reserved or backordered: {order}"
        );
        if backordered > 0 {
            assert_eq!(
                order["status"], "pending_review",
                "an order short of stock waits for review: {order}"
            );
        } else if order["status"] != "approved" {
            assert_eq!(order["status"], "pending_review", "{order}");
            assert!(
                !order["reasons"].as_array().unwrap().is_empty(),
                "a held order says why: {order}"
            );
        }
        allocated_total += allocated;
        backordered_total += backordered;
    }
    assert_eq!(
        allocated_total + backordered_total,
        CLIENTS as i64 * QUANTITY
    );
    assert!(
        backordered_total > 0,
        "the race was meant to run out of stock"
    );

    // Never oversold; every warehouse that served the race was emptied.
    for (warehouse, (on_hand_before, _)) in &before {
        let (on_hand, reserved) = stock(&pool, warehouse, SKU).await;
        let held = held_at.get(warehouse).copied().unwrap_or(0);
        assert_eq!(on_hand, *on_hand_before, "{warehouse}: nothing shipped");
        assert_eq!(
            reserved, held,
            "{warehouse}: reserved is what the orders hold"
        );
        assert!(
            reserved <= on_hand,
            "{warehouse}: oversold {reserved} of {on_hand}"
        );
        if held > 0 {
            assert_eq!(
                reserved, on_hand,
                "{warehouse} served the race but has stock left while orders backordered"
            );
        }
    }
    assert!(held_at.keys().all(|w| before.contains_key(w)));
    let ledger = assert_ledger_balances(&pool).await;
    assert_eq!(
        ledger.reserved, allocated_total,
        "only the race reserved anything"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_for_scarce_stock_sqlite() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    race(&db, &[server]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_for_scarce_stock_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let server = db.start().await;
    race(&db, &[server]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_for_scarce_stock_two_servers_one_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let first = db.start().await;
    let second = db.start().await;
    race(&db, &[first, second]).await;
}
