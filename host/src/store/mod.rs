//! Durable state on SQLite (the embedded default) or PostgreSQL, through one
//! sqlx `Any` pool and one SQL dialect. One repository module per aggregate;
//! the schema lives in `host/migrations/` and is applied at start.
//!
//! Rules every repository keeps so that several hosts can share one
//! PostgreSQL: stock only changes through conditional updates that re-check
//! availability in the database (never a read-then-write in Rust), every
//! change of stock writes a movement in the same transaction, and
//! idempotency is a unique index, not a lookup.

pub mod alerts;
pub mod bulk;
pub mod catalogue;
pub mod claims;
pub mod dealers;
pub mod deployments;
pub mod history;
pub mod inventory;
pub mod orders;
pub mod payments;
pub mod registry;
pub mod seed;
pub mod stock_book;
pub mod tokens;
pub mod transfers;
pub mod writer;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use stock_book::StockBook;
pub use writer::OrderWriter;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://<file> or postgres://…")]
    UnsupportedUrl(String),
    #[error("stored {what} is corrupt: {detail}")]
    Corrupt { what: &'static str, detail: String },
}

impl StoreError {
    pub fn corrupt(what: &'static str, detail: impl std::fmt::Display) -> Self {
        StoreError::Corrupt {
            what,
            detail: detail.to_string(),
        }
    }

    /// A unique index refused the row (an idempotent replay, a duplicate id).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// A trigger refused the statement with `RAISE(…, message)`.
    pub fn is_raised(&self, message: &str) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.message() == message)
    }

    /// A CHECK constraint refused the row (the database's own oversell guard).
    pub fn is_check_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_check_violation())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The connection pool and what it is connected to.
#[derive(Clone)]
pub struct Store {
    pub pool: AnyPool,
    /// Where write transactions run ([`Store::begin_write`]): one
    /// connection on SQLite, the shared pool on PostgreSQL.
    pub write_pool: AnyPool,
    pub backend: Backend,
    /// What placement reads instead of the stock table: SQLite only.
    pub stock_book: Option<Arc<StockBook>>,
}

impl Store {
    /// Opens (creating if needed) `<dir>/chanhost.db`.
    pub async fn open_data_dir(dir: &Path) -> StoreResult<Store> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        let url = format!("sqlite://{}?mode=rwc", dir.join("chanhost.db").display());
        Store::connect(&url).await
    }

    /// Connects to `sqlite://…` or `postgres://…` and applies migrations.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        let (pool, write_pool) = match backend {
            // SQLite takes one writer at a time: writes get a connection of
            // their own, so a write never waits behind the readers for a
            // connection nor spins on the database's lock, and that
            // connection's page cache stays warm with the pages writes touch.
            Backend::Sqlite => {
                let reads = sqlite_pool(8, None).connect_with(options.clone()).await?;
                let writes = sqlite_pool(1, Some(WRITER_PRAGMAS))
                    .connect_with(options)
                    .await?;
                tokio::spawn(checkpoint_wal(reads.clone()));
                (reads, writes)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                (pool.clone(), pool)
            }
        };
        MIGRATOR.run(&write_pool).await?;
        let stock_book = match backend {
            Backend::Sqlite => {
                write_pool.execute(stock_book::SQLITE_SCHEMA).await?;
                Some(Arc::new(StockBook::default()))
            }
            Backend::Postgres => None,
        };
        Ok(Store {
            pool,
            write_pool,
            backend,
            stock_book,
        })
    }

    /// Whether the newest migration this binary knows has been applied.
    pub async fn migrated(&self) -> StoreResult<bool> {
        let newest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await?;
        Ok(applied == Some(newest))
    }
}

/// The schema, migrated at start (`host/migrations/`).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Begins a transaction that will write. On SQLite it takes the write
    /// lock up front (`BEGIN IMMEDIATE`): a transaction that reads first and
    /// writes later cannot upgrade once another write has committed, and
    /// would fail instead of waiting its turn.
    pub async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.write_pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write_pool.begin().await?,
        })
    }
}

/// Every SQLite connection: WAL lets readers run beside the one writer;
/// FULL makes each commit durable before it is acknowledged.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA mmap_size = 268435456; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON";

/// The write connection, besides: it leaves checkpoints to
/// [`checkpoint_wal`], on another connection, unless the log grows far past
/// SQLite's default (1,000 pages): a checkpoint inside a commit held up
/// every order of the next batch. Statement journals (kept while a
/// multi-row statement runs, to undo it alone) stay in memory.
const WRITER_PRAGMAS: &str = "PRAGMA wal_autocheckpoint = 16000; PRAGMA temp_store = MEMORY";

/// A SQLite pool of `connections`, each set up with [`SQLITE_PRAGMAS`] and
/// then `extra`.
fn sqlite_pool(connections: u32, extra: Option<&'static str>) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(SQLITE_PRAGMAS).await?;
                if let Some(extra) = extra {
                    conn.execute(extra).await?;
                }
                Ok(())
            })
        })
}

/// Copies the write-ahead log into the database every so often, beside
/// the writer (a passive checkpoint never waits for it nor blocks it).
/// Ends when the pool closes.
async fn checkpoint_wal(reads: AnyPool) {
    let mut every = tokio::time::interval(Duration::from_millis(200));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !reads.is_closed() {
        every.tick().await;
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&reads)
            .await
            && !reads.is_closed()
        {
            tracing::warn!(error = %err, "WAL checkpoint failed");
        }
    }
}

/// A new time-ordered row id with a readable prefix, e.g. `ORD-0193…`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A serde enum's snake_case name, as stored in a TEXT column.
pub fn encode_enum<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        other => panic!("not a unit enum: {other:?}"),
    }
}

/// The inverse of [`encode_enum`]; a name the code does not know is corrupt data.
pub fn decode_enum<T: serde::de::DeserializeOwned>(
    what: &'static str,
    name: &str,
) -> StoreResult<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|_| StoreError::corrupt(what, format!("unknown value {name:?}")))
}

/// Builds `$start, $start+1, …` placeholders for an `IN (…)` list.
pub fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_from_start() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
        assert_eq!(placeholders(1, 0), "");
    }

    #[test]
    fn ids_sort_by_creation() {
        let a = new_id("ORD");
        let b = new_id("ORD");
        assert!(a < b, "{a} < {b}");
        assert!(a.starts_with("ORD-"));
    }
}
