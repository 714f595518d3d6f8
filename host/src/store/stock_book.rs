//! The stock book: on SQLite, what placement reads instead of the stock
//! table. It holds the available cases of every HQ and region-level
//! warehouse (the only warehouses an order is sourced from), so placing an
//! order costs no stock read on the database's threads.
//!
//! The book is written by the order writer alone, from figures it read
//! under the write lock, so it is exact as of the writer's last commit.
//! Anything else that changes stock or warehouses (receipts, shipments,
//! cancellations, transfers, claims, an edit made with the `sqlite3` tool)
//! bumps the database's stock epoch through triggers ([`SQLITE_SCHEMA`]);
//! the writer's own writes bump it too, and it reads the epoch they left.
//! When the writer finds an epoch in the database other than the one its
//! last commit left, something else changed stock: it reloads the book
//! under its lock, which starts a new generation of the book. Each order
//! carries the generation it was evaluated on, and the writer sends back
//! the orders of an older generation to be evaluated again. A figure that
//! is merely behind the writer's own batch in flight is caught when the
//! writer decides the next batch on the book, as the last one settled it.
//!
//! PostgreSQL has no book: hosts sharing one database each read the table.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// One candidate stock row, as `inventory::available_in` returns it:
/// `(warehouse id, region, level, sku, available cases)`.
pub type CandidateStock = (String, String, String, String, i64);

/// One row of [`LOAD_SQL`]: a candidate warehouse `(id, region, level)`
/// with one SKU and its available cases, or none for a warehouse without
/// stock.
pub type BookRow = (String, String, String, Option<String>, Option<i64>);

/// The epoch table and the triggers that keep it, SQLite only (the book's
/// companion; PostgreSQL has neither). Created at start, after the
/// migrations, idempotently. Every row change of `stock` or `warehouses`
/// bumps the epoch, the order writer's own reservations included: the
/// writer reads the epoch after its writes, so it knows its own.
pub const SQLITE_SCHEMA: &str = "\
CREATE TABLE IF NOT EXISTS stock_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL);
INSERT OR IGNORE INTO stock_epoch (id, epoch) VALUES (1, 0);
CREATE TRIGGER IF NOT EXISTS stock_epoch_stock_insert AFTER INSERT ON stock
    BEGIN UPDATE stock_epoch SET epoch = epoch + 1; END;
CREATE TRIGGER IF NOT EXISTS stock_epoch_stock_update AFTER UPDATE ON stock
    BEGIN UPDATE stock_epoch SET epoch = epoch + 1; END;
CREATE TRIGGER IF NOT EXISTS stock_epoch_stock_delete AFTER DELETE ON stock
    BEGIN UPDATE stock_epoch SET epoch = epoch + 1; END;
CREATE TRIGGER IF NOT EXISTS stock_epoch_warehouse_insert AFTER INSERT ON warehouses
    BEGIN UPDATE stock_epoch SET epoch = epoch + 1; END;
CREATE TRIGGER IF NOT EXISTS stock_epoch_warehouse_update AFTER UPDATE ON warehouses
    BEGIN UPDATE stock_epoch SET epoch = epoch + 1; END;
CREATE TRIGGER IF NOT EXISTS stock_epoch_warehouse_delete AFTER DELETE ON warehouses
    BEGIN UPDATE stock_epoch SET epoch = epoch + 1; END;
CREATE VIEW IF NOT EXISTS stock_epoch_expected AS SELECT epoch FROM stock_epoch;
CREATE TRIGGER IF NOT EXISTS stock_epoch_expected_check INSTEAD OF INSERT ON stock_epoch_expected
    BEGIN SELECT RAISE(ABORT, 'stock book is stale') WHERE NEW.epoch IS NOT (SELECT epoch FROM stock_epoch); END";

/// Fails its transaction's statement unless the stock epoch is still the
/// one bound (see [`SQLITE_SCHEMA`]'s `stock_epoch_expected`): the writer's
/// guard when it decides a batch on the book alone, without reading stock.
pub const EXPECT_EPOCH_SQL: &str = "INSERT INTO stock_epoch_expected (epoch) VALUES (?)";

/// What the guard's failure says.
pub const STALE_MESSAGE: &str = "stock book is stale";

/// The query that loads the whole book: every candidate warehouse, with
/// each stock row it has (a warehouse without stock still appears once).
/// Its rows are [`BookRow`]s.
pub const LOAD_SQL: &str = "SELECT w.id, w.region, w.level, s.sku, s.on_hand - s.reserved \
     FROM warehouses w LEFT JOIN stock s ON s.warehouse_id = w.id \
     WHERE w.level IN ('hq', 'region')";

/// The current epoch, read in the writer's transaction.
pub const EPOCH_SQL: &str = "SELECT epoch FROM stock_epoch";

/// See the module documentation.
#[derive(Debug, Default)]
pub struct StockBook {
    book: RwLock<Option<Book>>,
    /// Loads so far: the generation of the book in use.
    generation: AtomicU64,
}

#[derive(Debug)]
struct Book {
    generation: u64,
    /// The database's stock epoch these figures are exact for.
    epoch: i64,
    warehouses: Vec<Candidate>,
    /// Available cases by warehouse, then SKU.
    available: HashMap<String, HashMap<String, i64>>,
}

/// Part of the book, as [`StockBook::figures`] reads it.
#[derive(Debug, PartialEq)]
pub struct Figures {
    pub generation: u64,
    pub epoch: i64,
    /// Available cases by `(warehouse, SKU)`.
    pub available: BTreeMap<(String, String), i64>,
}

#[derive(Debug)]
struct Candidate {
    id: String,
    region: String,
    level: String,
}

impl StockBook {
    /// The rows `inventory::available_in(regions, skus)` would read, and the
    /// book's generation; `None` while the book is not loaded.
    pub fn available_in(
        &self,
        regions: &[&str],
        skus: &[&str],
    ) -> Option<(u64, Vec<CandidateStock>)> {
        let guard = self.book.read().ok()?;
        let book = guard.as_ref()?;
        let mut rows = Vec::new();
        for w in &book.warehouses {
            let candidate =
                w.level == "hq" || (w.level == "region" && regions.contains(&w.region.as_str()));
            let Some(stock) = book.available.get(&w.id).filter(|_| candidate) else {
                continue;
            };
            for sku in skus {
                if let Some(available) = stock.get(*sku) {
                    rows.push((
                        w.id.clone(),
                        w.region.clone(),
                        w.level.clone(),
                        sku.to_string(),
                        *available,
                    ));
                }
            }
        }
        Some((book.generation, rows))
    }

    /// The loaded book's generation, if the database's stock `epoch` is
    /// still the one it is exact for: `None` when something other than the
    /// writer changed stock since (or no book is loaded).
    pub fn current(&self, epoch: i64) -> Option<u64> {
        let guard = self.book.read().ok()?;
        let book = guard.as_ref()?;
        (book.epoch == epoch).then_some(book.generation)
    }

    /// The book's figures for `keys` (`(warehouse, SKU)` pairs; one the
    /// book does not hold has none), with its generation and the epoch they
    /// are exact for; `None` while no book is loaded.
    pub fn figures<'a>(
        &self,
        keys: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Option<Figures> {
        let guard = self.book.read().ok()?;
        let book = guard.as_ref()?;
        let available = keys
            .into_iter()
            .map(|(warehouse_id, sku)| {
                let cases = book
                    .available
                    .get(warehouse_id)
                    .and_then(|stock| stock.get(sku))
                    .copied()
                    .unwrap_or(0);
                ((warehouse_id.to_string(), sku.to_string()), cases)
            })
            .collect();
        Some(Figures {
            generation: book.generation,
            epoch: book.epoch,
            available,
        })
    }

    /// Replaces the whole book with [`LOAD_SQL`]'s rows, read at `epoch`:
    /// a new generation, whose number it returns.
    pub fn load(&self, epoch: i64, rows: impl IntoIterator<Item = BookRow>) -> u64 {
        let mut warehouses = Vec::new();
        let mut available: HashMap<String, HashMap<String, i64>> = HashMap::new();
        for (id, region, level, sku, cases) in rows {
            let stock = available.entry(id.clone()).or_insert_with(|| {
                warehouses.push(Candidate {
                    id: id.clone(),
                    region,
                    level,
                });
                HashMap::new()
            });
            if let (Some(sku), Some(cases)) = (sku, cases) {
                stock.insert(sku, cases);
            }
        }
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(mut book) = self.book.write() {
            *book = Some(Book {
                generation,
                epoch,
                warehouses,
                available,
            });
        }
        generation
    }

    /// After the writer's commit: the figures it now knows exactly, and the
    /// epoch its commit left. The generation stays. A figure of a warehouse
    /// the book does not hold (not a candidate) is not needed and left out.
    pub fn settle<'a>(
        &self,
        epoch: i64,
        figures: impl IntoIterator<Item = (&'a str, &'a str, i64)>,
    ) {
        let Ok(mut guard) = self.book.write() else {
            return;
        };
        let Some(book) = guard.as_mut() else {
            return;
        };
        book.epoch = epoch;
        for (warehouse_id, sku, cases) in figures {
            if let Some(stock) = book.available.get_mut(warehouse_id) {
                stock.insert(sku.to_string(), cases);
            }
        }
    }

    /// Drops the book (after a write whose effect the writer cannot tell):
    /// placement reads the table until the writer loads it again.
    pub fn forget(&self) {
        if let Ok(mut book) = self.book.write() {
            *book = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded() -> StockBook {
        let book = StockBook::default();
        let row = |id: &str, region: &str, level: &str, sku: Option<&str>, cases: Option<i64>| {
            (
                id.to_string(),
                region.to_string(),
                level.to_string(),
                sku.map(str::to_string),
                cases,
            )
        };
        book.load(
            7,
            [
                row("W-GD", "gd", "region", Some("A"), Some(5)),
                row("W-GD", "gd", "region", Some("B"), Some(0)),
                row("W-GX", "gx", "region", Some("A"), Some(3)),
                row("W-HQ", "ha", "hq", Some("A"), Some(100)),
                row("W-EMPTY", "gd", "region", None, None),
            ],
        );
        book
    }

    #[test]
    fn answers_as_the_stock_query_does() {
        let book = loaded();
        let (generation, mut rows) = book.available_in(&["gd"], &["A", "B", "C"]).unwrap();
        rows.sort();
        assert_eq!(generation, 1);
        let ids: Vec<(&str, &str, i64)> = rows
            .iter()
            .map(|(w, _, _, sku, n)| (w.as_str(), sku.as_str(), *n))
            .collect();
        // Own region's warehouses and every HQ warehouse; not the
        // neighbour that was not asked for, nothing for an unknown SKU.
        assert_eq!(
            ids,
            [("W-GD", "A", 5), ("W-GD", "B", 0), ("W-HQ", "A", 100)]
        );
    }

    #[test]
    fn settles_the_writers_figures_and_epoch() {
        let book = loaded();
        assert_eq!(book.current(7), Some(1));
        book.settle(9, [("W-GD", "A", 2), ("W-STORE", "A", 1)]);
        // Its own writes moved the epoch: the generation stays.
        assert_eq!(book.current(9), Some(1));
        assert_eq!(book.current(10), None, "another epoch: changed elsewhere");
        let (generation, rows) = book.available_in(&["gd"], &["A"]).unwrap();
        assert_eq!(generation, 1);
        assert!(rows.contains(&("W-GD".into(), "gd".into(), "region".into(), "A".into(), 2)));
        assert_eq!(
            rows.len(),
            2,
            "a warehouse that is no candidate is not added"
        );
    }

    #[test]
    fn a_forgotten_book_answers_nothing() {
        let book = loaded();
        book.forget();
        assert_eq!(book.available_in(&["gd"], &["A"]), None);
        assert_eq!(book.current(7), None);
        // Settling an unloaded book loads nothing.
        book.settle(7, [("W-GD", "A", 2)]);
        assert_eq!(book.current(7), None);
        // Loading again starts a new generation.
        assert_eq!(book.load(8, []), 2);
        assert_eq!(book.current(8), Some(2));
    }
}
