//! An acknowledged order survives the server being killed: concurrent
//! clients place orders, the server gets SIGKILL in the middle of the load,
//! and after a restart on the same database every order that got a 201 is
//! there, every unanswered request resolves to exactly one order when
//! retried with its key, and the stock ledger balances.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::server::*;
use serde_json::Value;

/// Concurrent clients, more than the SQLite pool's 8 connections.
const WORKERS: usize = 16;
/// The server is killed once this many orders were acknowledged.
const KILL_AFTER: usize = 120;
/// A worker stops after this many orders even if the kill never came.
const MAX_PER_WORKER: usize = 200;
const SKU: &str = "LA-003";

/// A request whose answer was cut off by the kill.
struct Unanswered {
    key: String,
    body: Value,
}

/// What the load saw: orders acknowledged (id, key, quantity) and
/// requests left without an answer.
#[derive(Default)]
struct Outcomes {
    acknowledged: Vec<(String, String, i64)>,
    unanswered: Vec<Unanswered>,
}

async fn acknowledged_orders_survive_sigkill(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut server = db.start().await;
    let pool = db.pool().await;
    let dealers: Vec<String> =
        sqlx::query_scalar("SELECT id FROM dealers WHERE region = 'gd' ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("gd dealers");
    // Hold no connection of our own across the kill and restart.
    pool.close().await;

    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(tokio::sync::Notify::new());
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (api, dealers) = (server.api.clone(), dealers.clone());
            let (outcomes, acknowledged, enough) =
                (outcomes.clone(), acknowledged.clone(), enough.clone());
            tokio::spawn(async move {
                for i in 0..MAX_PER_WORKER {
                    let key = format!("load-{w}-{i}");
                    let quantity = 1 + (i % 3) as i64;
                    let body = one_line_for(&dealers[(w * 7 + i) % dealers.len()], SKU, quantity);
                    match api.try_send(api.place_request(HQ, &key, &body)).await {
                        Ok(reply) => {
                            let order = reply.expect(201);
                            let id = order["id"].as_str().unwrap().to_string();
                            outcomes
                                .lock()
                                .unwrap()
                                .acknowledged
                                .push((id, key, quantity));
                            if acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                                enough.notify_one();
                            }
                        }
                        // The server is gone: this one may or may not have been written.
                        Err(_) => {
                            outcomes
                                .lock()
                                .unwrap()
                                .unanswered
                                .push(Unanswered { key, body });
                            return;
                        }
                    }
                }
            })
        })
        .collect();

    enough.notified().await;
    server.kill();
    for worker in workers {
        if let Err(err) = worker.await {
            std::panic::resume_unwind(err.into_panic());
        }
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    assert!(outcomes.acknowledged.len() >= KILL_AFTER);
    drop(server);

    let server = db.start().await;
    let pool = db.pool().await;
    for (id, key, quantity) in &outcomes.acknowledged {
        let order = server.order(id).await;
        assert_eq!(order["status"], "approved", "{key}: {order}");
        let reserved: i64 = order["allocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["quantity"].as_i64().unwrap())
            .sum();
        assert_eq!(reserved, *quantity, "{key}: {order}");
    }
    // A request cut off by the kill, retried with its key, ends as one order.
    let mut expected: BTreeSet<String> = outcomes
        .acknowledged
        .iter()
        .map(|(id, ..)| id.clone())
        .collect();
    let mut written_before_kill = 0;
    for unanswered in &outcomes.unanswered {
        let reply = server
            .place(HQ, &unanswered.key, unanswered.body.clone())
            .await;
        written_before_kill += usize::from(reply.header("idempotent-replayed").is_some());
        let order = reply.expect(201);
        assert!(
            expected.insert(order["id"].as_str().unwrap().to_string()),
            "{}: a retry answered with another key's order",
            unanswered.key
        );
    }
    eprintln!(
        "{} orders acknowledged before the kill; {} cut off, of which {written_before_kill} had been written",
        outcomes.acknowledged.len(),
        outcomes.unanswered.len()
    );
    let stored: BTreeSet<String> = server
        .list_all(HQ, "")
        .await
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        stored, expected,
        "exactly the acknowledged orders and one per retried key"
    );
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM orders").await,
        expected.len() as i64
    );
    assert_ledger_balances(&pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_orders_survive_sigkill_sqlite() {
    acknowledged_orders_survive_sigkill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_orders_survive_sigkill_postgres() {
    acknowledged_orders_survive_sigkill(Backend::Postgres).await;
}
