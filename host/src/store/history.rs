//! Stored orders as a replay reads them: a region's orders placed in a
//! time range, oldest first, in pages, each with the exact input the
//! pipeline had (`context`) and the decision it gave (`decision`).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult};
use crate::domain::TimestampMs;
use crate::policy::replay::StoredOrder;

/// Which orders: `region`'s, placed at or after `from` and before `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRange {
    pub region: String,
    pub from: TimestampMs,
    pub to: TimestampMs,
}

/// How many orders a range holds.
pub async fn count(store: &Store, range: &HistoryRange) -> StoreResult<u64> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM orders WHERE region = $1 AND placed_at >= $2 AND placed_at < $3",
    )
    .bind(&range.region)
    .bind(range.from)
    .bind(range.to)
    .fetch_one(&store.pool)
    .await?;
    Ok(row.try_get::<i64, _>(0)?.max(0) as u64)
}

/// Reads a range page by page, in placement order (`placed_at`, then id).
pub struct History<'a> {
    store: &'a Store,
    range: HistoryRange,
    page_size: u32,
    /// The last `(placed_at, id)` read; `None` before the first page.
    after: Option<(TimestampMs, String)>,
    done: bool,
}

impl<'a> History<'a> {
    pub fn new(store: &'a Store, range: HistoryRange, page_size: u32) -> Self {
        History {
            store,
            range,
            page_size: page_size.max(1),
            after: None,
            done: false,
        }
    }

    /// The next page of orders, `None` once the range is read.
    pub async fn next_page(&mut self) -> StoreResult<Option<Vec<StoredOrder>>> {
        if self.done {
            return Ok(None);
        }
        // The cursor is a keyset on orders_region(region, placed_at, id).
        let (after_at, after_id) = self
            .after
            .clone()
            .unwrap_or((self.range.from, String::new()));
        let rows = sqlx::query(&format!(
            "SELECT id, placed_at, context, decision FROM orders \
             WHERE region = $1 AND placed_at < $2 \
             AND (placed_at > $3 OR (placed_at = $3 AND id > $4)) \
             ORDER BY placed_at, id LIMIT {}",
            self.page_size
        ))
        .bind(&self.range.region)
        .bind(self.range.to)
        .bind(after_at)
        .bind(after_id)
        .fetch_all(&self.store.pool)
        .await?;
        if rows.len() < self.page_size as usize {
            self.done = true;
        }
        let orders = rows
            .iter()
            .map(stored_order)
            .collect::<StoreResult<Vec<_>>>()?;
        match orders.last() {
            Some(last) => self.after = Some((last.placed_at, last.id.clone())),
            None => return Ok(None),
        }
        Ok(Some(orders))
    }
}

fn stored_order(row: &AnyRow) -> StoreResult<StoredOrder> {
    let id: String = row.try_get(0)?;
    let placed_at: i64 = row.try_get(1)?;
    let context: String = row.try_get(2)?;
    let decision: String = row.try_get(3)?;
    let context = serde_json::from_str(&context)
        .map_err(|e| StoreError::corrupt("order context", format!("order {id}: {e}")))?;
    let decision = serde_json::from_str(&decision)
        .map_err(|e| StoreError::corrupt("order decision", format!("order {id}: {e}")))?;
    Ok(StoredOrder {
        id,
        placed_at,
        context,
        decision,
    })
}
