//! The writer against a real SQLite file: both paths give the same answers.

use super::*;
use crate::domain::{OrderStatus, OrderType, Urgency};
use crate::store::orders::{NewAllocation, NewOrder};

/// A batch's outcomes, whichever way it was written.
async fn write_batch(store: &Store, orders: &[&NewOrder]) -> StoreResult<Vec<Inserted>> {
    super::write_batch(store, orders).await.map(|w| w.outcomes)
}

async fn store_with_stock(dir: &std::path::Path, on_hand: i64) -> Store {
    let store = Store::open_data_dir(dir).await.unwrap();
    for sql in [
        "INSERT INTO regions (id, name, neighbours, price_adjustment_bp, listing) VALUES ('r1', 'R1', '[]', 0, '{}')",
        "INSERT INTO products (sku, name, category, pack_size, base_price, new_product, restricted_to) VALUES ('S1', 'S1', 'baijiu', 6, 100, 0, '[]')",
        "INSERT INTO warehouses (id, name, region, level) VALUES ('W1', 'W1', 'r1', 'region')",
        "INSERT INTO dealers (id, name, region, tier, class, territory, credit_limit, outstanding_balance, usual_order_cases) VALUES ('D1', 'D1', 'r1', 'core', 'dealer', '[\"r1\"]', 0, 0, 10)",
    ] {
        sqlx::query(sql).execute(&store.pool).await.unwrap();
    }
    sqlx::query(
        "INSERT INTO stock (warehouse_id, sku, on_hand, reserved) VALUES ('W1', 'S1', $1, 0)",
    )
    .bind(on_hand)
    .execute(&store.pool)
    .await
    .unwrap();
    store
}

fn order(key: &str, quantity: u32) -> NewOrder {
    NewOrder {
        id: crate::store::new_id("ORD"),
        dealer_id: "D1".into(),
        region: "r1".into(),
        ship_to: "r1".into(),
        order_type: OrderType::Spot,
        urgency: Urgency::Normal,
        status: OrderStatus::Approved,
        placed_at: 1,
        subtotal: 100,
        discount: 0,
        total: 100,
        priority: 0,
        reasons_json: "[]".into(),
        decision_json: "{}".into(),
        context_json: "{}".into(),
        idempotency_key: key.into(),
        request_hash: "h".into(),
        placed_by: "test".into(),
        lines: Vec::new(),
        allocations: vec![NewAllocation {
            warehouse_id: "W1".into(),
            sku: "S1".into(),
            quantity,
        }],
        backorders: Vec::new(),
        book_generation: None,
    }
}

async fn reserved(store: &Store) -> (i64, i64) {
    let (reserved,): (i64,) = sqlx::query_as("SELECT reserved FROM stock")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    let (moved,): (i64,) =
        sqlx::query_as("SELECT CAST(COALESCE(SUM(reserved_delta), 0) AS BIGINT) FROM movements")
            .fetch_one(&store.pool)
            .await
            .unwrap();
    (reserved, moved)
}

#[tokio::test]
async fn both_paths_agree_on_stock_and_duplicates() {
    for careful in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_stock(dir.path(), 10).await;
        let first = order("k1", 4);
        let a = order("k2", 4);
        let again = order("k2", 4);
        let too_much = order("k3", 4);
        let fits = order("k4", 2);
        let batch = [&first, &a, &again, &too_much, &fits];
        let outcomes = if careful {
            write_each(&store, &batch).await
        } else {
            write_batch(&store, &batch).await
        }
        .unwrap();
        assert_eq!(
            outcomes,
            vec![
                Inserted::Created,
                Inserted::Created,
                Inserted::Duplicate,
                Inserted::OutOfStock {
                    warehouse_id: "W1".into(),
                    sku: "S1".into()
                },
                Inserted::Created,
            ],
            "careful = {careful}"
        );
        assert_eq!(reserved(&store).await, (10, 10));
        // A key used by an earlier batch is a duplicate too, though its
        // stock is gone: decided on the book (which the careful path
        // does not keep) in one call that reads its key.
        let replay = order("k1", 1);
        assert_eq!(
            super::write_batch(&store, &[&replay]).await.unwrap(),
            Written {
                path: if careful { "reads" } else { "book" },
                outcomes: vec![Inserted::Duplicate]
            }
        );
        let (orders,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(orders, 3);
    }
}

#[tokio::test]
async fn a_later_batch_sees_what_earlier_batches_reserved() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_stock(dir.path(), 5).await;
    let big = order("k1", 5);
    assert_eq!(
        fast::write(&store, &[&big]).await.unwrap(),
        Some(Written {
            path: "reads",
            outcomes: vec![Inserted::Created]
        })
    );
    let more = order("k2", 1);
    assert_eq!(
        write_batch(&store, &[&more]).await.unwrap(),
        vec![Inserted::OutOfStock {
            warehouse_id: "W1".into(),
            sku: "S1".into()
        }]
    );
    assert_eq!(reserved(&store).await, (5, 5));
}

#[tokio::test]
async fn a_batch_failing_midway_writes_nothing_and_the_next_batch_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_stock(dir.path(), 10).await;
    let first = order("k1", 2);
    // The same order id twice: the second insert fails after the stock
    // update of the same call has run.
    let mut clash = order("k2", 3);
    clash.id = first.id.clone();
    assert!(fast::write(&store, &[&first, &clash]).await.is_err());
    assert_eq!(reserved(&store).await, (0, 0));
    let (orders,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(orders, 0);

    // The write connection was rolled back, not left inside the failed
    // transaction: the next batch commits.
    let next = order("k3", 1);
    assert_eq!(
        write_batch(&store, &[&next]).await.unwrap(),
        vec![Inserted::Created]
    );
    assert_eq!(reserved(&store).await, (1, 1));
}

/// Stock arriving the way a receipt's transaction (or the `sqlite3` tool)
/// adds it: not through the order writer.
async fn receive_outside_the_writer(store: &Store, cases: i64) {
    sqlx::query("UPDATE stock SET on_hand = on_hand + $1")
        .bind(cases)
        .execute(&store.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_stock_book_follows_the_writer_and_stale_orders_go_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_stock(dir.path(), 10).await;
    let book = store.stock_book.clone().expect("SQLite keeps a stock book");
    let available = |book: &crate::store::StockBook| {
        let (generation, rows) = book.available_in(&["r1"], &["S1"])?;
        Some((generation, rows[0].4))
    };
    assert_eq!(available(&book), None, "loaded by the writer's first batch");

    assert_eq!(
        write_batch(&store, &[&order("k1", 4)]).await.unwrap(),
        vec![Inserted::Created]
    );
    let (first, cases) = available(&book).unwrap();
    assert_eq!(cases, 6, "the first batch loads the book and settles it");

    // Orders evaluated on the book are written while nothing else moves
    // stock, decided on the book in one call: the writer's own
    // reservations keep the generation.
    let mut on_book = order("k2", 1);
    on_book.book_generation = Some(first);
    assert_eq!(
        super::write_batch(&store, &[&on_book]).await.unwrap(),
        Written {
            path: "book",
            outcomes: vec![Inserted::Created]
        }
    );
    assert_eq!(available(&book), Some((first, 5)));

    // Stock arrives outside the writer: an order evaluated on the old book
    // goes back, and the book is loaded again with the receipt.
    receive_outside_the_writer(&store, 10).await;
    let mut stale = order("k3", 1);
    stale.book_generation = Some(first);
    assert_eq!(
        write_batch(&store, &[&stale]).await.unwrap(),
        vec![Inserted::Stale]
    );
    let (second, cases) = available(&book).unwrap();
    assert_ne!(second, first);
    assert_eq!(cases, 15);
    stale.book_generation = Some(second);
    assert_eq!(
        write_batch(&store, &[&stale]).await.unwrap(),
        vec![Inserted::Created]
    );

    // The careful path checks the same way, and drops the book it does
    // not keep.
    receive_outside_the_writer(&store, 1).await;
    let mut stale = order("k4", 1);
    stale.book_generation = Some(second);
    assert_eq!(
        write_each(&store, &[&stale]).await.unwrap(),
        vec![Inserted::Stale]
    );
    assert_eq!(available(&book), None);
    assert_eq!(reserved(&store).await, (6, 6));
}

#[tokio::test]
async fn a_batch_decided_on_a_wrong_book_cannot_oversell() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_stock(dir.path(), 10).await;
    let book = store.stock_book.clone().expect("SQLite keeps a stock book");
    assert_eq!(
        write_batch(&store, &[&order("k1", 4)]).await.unwrap(),
        vec![Inserted::Created]
    );
    // A book that claims stock the table does not hold, at the epoch the
    // database has (a bug, not a change elsewhere): the batch decided on it
    // fails the table's CHECK, is written again on figures read under the
    // lock, and the book gets the true figure back.
    let figures = book.figures([("W1", "S1")]).unwrap();
    book.settle(figures.epoch, [("W1", "S1", 100)]);
    let mut greedy = order("k2", 50);
    greedy.book_generation = Some(figures.generation);
    assert_eq!(
        write_batch(&store, &[&greedy]).await.unwrap(),
        vec![Inserted::OutOfStock {
            warehouse_id: "W1".into(),
            sku: "S1".into()
        }]
    );
    assert_eq!(reserved(&store).await, (4, 4));
    let figures = book.figures([("W1", "S1")]).unwrap();
    assert_eq!(figures.available[&("W1".to_string(), "S1".to_string())], 6);

    // A batch of the book's own decision that fails for another reason (an
    // order id used twice) writes nothing, and the next batch is written.
    let first = order("k3", 1);
    let mut clash = order("k4", 1);
    clash.id = first.id.clone();
    assert!(write_batch(&store, &[&first, &clash]).await.is_err());
    assert_eq!(reserved(&store).await, (4, 4));
    assert_eq!(
        write_batch(&store, &[&order("k5", 1)]).await.unwrap(),
        vec![Inserted::Created]
    );
    assert_eq!(reserved(&store).await, (5, 5));
}
