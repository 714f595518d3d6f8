//! Group commit for order placement. Requests queue on a channel; one task
//! takes everything queued (up to [`MAX_BATCH`]) and writes it in one
//! transaction, acknowledged by one durable commit (one fsync on SQLite).
//!
//! The fast path reads the batch's stock rows and idempotency keys once,
//! decides in memory which orders fit (in arrival order), then writes them
//! with multi-row inserts and one guarded update per stock row. If another
//! host moved that stock in between, a guard fails and the batch is written
//! again the careful way: each order in its own savepoint, so one order out
//! of stock or replayed does not undo its neighbours.

use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

mod fast;

use super::orders::{self, Inserted, NewOrder};
use super::{Store, StoreError, StoreResult, stock_book};
use crate::metrics::CommitMetrics;
use sqlx::Acquire;

/// Most orders one commit carries.
pub const MAX_BATCH: usize = 256;

type Request = (NewOrder, oneshot::Sender<StoreResult<Inserted>>);

/// The handle placement uses; cheap to clone.
#[derive(Clone)]
pub struct OrderWriter {
    queue: mpsc::Sender<Request>,
}

impl OrderWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(store: Store, metrics: CommitMetrics) -> OrderWriter {
        let (queue, requests) = mpsc::channel(MAX_BATCH * 8);
        tokio::spawn(run(store, requests, metrics));
        OrderWriter { queue }
    }

    /// Writes one order; resolves once it is durably committed (or refused).
    pub async fn write(&self, order: NewOrder) -> StoreResult<Inserted> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((order, reply))
            .await
            .map_err(|_| StoreError::corrupt("order writer", "stopped"))?;
        answer
            .await
            .map_err(|_| StoreError::corrupt("order writer", "dropped the request"))?
    }
}

async fn run(store: Store, mut requests: mpsc::Receiver<Request>, metrics: CommitMetrics) {
    let mut batch: Vec<Request> = Vec::with_capacity(MAX_BATCH);
    while requests.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let orders: Vec<&NewOrder> = batch.iter().map(|(order, _)| order).collect();
        let started = Instant::now();
        let written = write_batch(&store, &orders).await;
        match written {
            Ok(Written { path, outcomes }) => {
                metrics.observe(started.elapsed(), orders.len(), path);
                for ((_, reply), outcome) in batch.drain(..).zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            // A batch can fail as a whole (a deadlock with another host, a
            // lost connection): then each order gets its own transaction, so
            // one bad order cannot fail the others.
            Err(err) => {
                tracing::warn!(error = %err, orders = batch.len(), "batch commit failed; writing one by one");
                metrics.observe(started.elapsed(), batch.len(), "failed");
                for (order, reply) in batch.drain(..) {
                    let outcome = write_each(&store, &[&order]).await.map(|mut o| o.remove(0));
                    let _ = reply.send(outcome);
                }
            }
        }
    }
}

/// A written batch: each order's outcome, and how it was written (the
/// `path` label of `db_commit_batches_total`).
#[derive(Debug, PartialEq)]
struct Written {
    path: &'static str,
    outcomes: Vec<Inserted>,
}

async fn write_batch(store: &Store, orders: &[&NewOrder]) -> StoreResult<Written> {
    if let Some(written) = fast::write(store, orders).await? {
        return Ok(written);
    }
    Ok(Written {
        path: "careful",
        outcomes: write_each(store, orders).await?,
    })
}

/// The careful path: one savepoint per order. It does not keep the stock
/// book: placement reads the table until the next batch loads the book.
async fn write_each(store: &Store, orders: &[&NewOrder]) -> StoreResult<Vec<Inserted>> {
    let mut tx = store.begin_write().await?;
    let generation = match &store.stock_book {
        Some(book) => {
            let epoch = sqlx::query_scalar(stock_book::EPOCH_SQL)
                .fetch_one(&mut *tx)
                .await?;
            let generation = book.current(epoch);
            book.forget();
            generation
        }
        None => None,
    };
    let mut outcomes = Vec::with_capacity(orders.len());
    for order in orders {
        if order.evaluated_on_older_book(generation) {
            outcomes.push(Inserted::Stale);
            continue;
        }
        let mut savepoint = tx.begin().await?;
        let outcome = match orders::insert(&mut savepoint, order).await {
            Ok(outcome) => outcome,
            // The database's own guard (CHECK on stock) speaks for the
            // conditional update if a race slipped past it.
            Err(err) if err.is_check_violation() => Inserted::OutOfStock {
                warehouse_id: String::new(),
                sku: String::new(),
            },
            Err(err) => return Err(err),
        };
        if outcome == Inserted::Created {
            savepoint.commit().await?;
        } else {
            savepoint.rollback().await?;
        }
        outcomes.push(outcome);
    }
    tx.commit().await?;
    Ok(outcomes)
}

#[cfg(test)]
mod tests;
