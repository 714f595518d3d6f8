//! Orders: the placed order with its priced lines, reservations per source
//! warehouse, backorders, decision trace and timeline. [`insert`] writes all
//! of it and reserves stock in the caller's transaction, or nothing.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::inventory::{self, Movement, MovementKind};
use super::{StoreError, StoreResult, decode_enum, new_id};
use crate::domain::{Fen, OrderStatus, OrderType, TimestampMs, Urgency};

/// Everything placement decided about one order, ready to be written.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub id: String,
    pub dealer_id: String,
    pub region: String,
    pub ship_to: String,
    pub order_type: OrderType,
    pub urgency: Urgency,
    pub status: OrderStatus,
    pub placed_at: TimestampMs,
    pub subtotal: Fen,
    pub discount: Fen,
    pub total: Fen,
    pub priority: i64,
    /// The verdict's reasons (why it is held), JSON.
    pub reasons_json: String,
    /// The decision with its trace, JSON.
    pub decision_json: String,
    /// The pipeline's full input, JSON: what a replay re-runs.
    pub context_json: String,
    pub idempotency_key: String,
    pub request_hash: String,
    pub placed_by: String,
    pub lines: Vec<NewLine>,
    pub allocations: Vec<NewAllocation>,
    pub backorders: Vec<(String, u32)>,
    /// The generation of the stock book the order was evaluated on
    /// (SQLite); `None` when its stock was read from the table.
    pub book_generation: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct NewLine {
    pub line_no: u32,
    pub sku: String,
    pub quantity: u32,
    pub unit_price: Fen,
    pub discount: Fen,
    pub amount: Fen,
    pub free: bool,
    pub promotion_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NewAllocation {
    pub warehouse_id: String,
    pub sku: String,
    pub quantity: u32,
}

impl NewOrder {
    /// Whether the order was evaluated on a stock book older than
    /// `generation`, the writer's current one (`None`: no book is in use).
    /// An order whose stock was read from the table never is.
    pub fn evaluated_on_older_book(&self, generation: Option<u64>) -> bool {
        self.book_generation.is_some() && self.book_generation != generation
    }

    /// The timeline a new order starts with: placed, and approved by the
    /// pipeline when nothing held it.
    pub fn initial_timeline(&self) -> Vec<EventView> {
        let mut events = vec![EventView {
            from_status: None,
            to_status: OrderStatus::PendingReview.name().to_string(),
            action: "place".to_string(),
            actor: self.placed_by.clone(),
            at: self.placed_at,
            note: String::new(),
        }];
        if self.status == OrderStatus::Approved {
            events.push(EventView {
                from_status: Some(OrderStatus::PendingReview.name().to_string()),
                to_status: OrderStatus::Approved.name().to_string(),
                action: "approve".to_string(),
                actor: "system (policy pipeline allowed the order)".to_string(),
                at: self.placed_at,
                note: String::new(),
            });
        }
        events
    }

    /// The order as `view` would read it back right after `insert`, without
    /// the round trips.
    pub fn view(&self) -> StoreResult<OrderView> {
        let reasons = serde_json::from_str(&self.reasons_json)
            .map_err(|e| StoreError::corrupt("order reasons", e))?;
        Ok(OrderView {
            header: OrderHeader {
                id: self.id.clone(),
                dealer_id: self.dealer_id.clone(),
                region: self.region.clone(),
                ship_to: self.ship_to.clone(),
                order_type: self.order_type,
                urgency: self.urgency,
                status: self.status,
                placed_at: self.placed_at,
                updated_at: self.placed_at,
                subtotal: self.subtotal,
                discount: self.discount,
                total: self.total,
                paid: 0,
                priority: self.priority,
                placed_by: self.placed_by.clone(),
                request_hash: self.request_hash.clone(),
            },
            reasons,
            lines: self
                .lines
                .iter()
                .map(|l| LineView {
                    line_no: l.line_no,
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    discount: l.discount,
                    amount: l.amount,
                    free: l.free,
                    promotion_id: l.promotion_id.clone(),
                })
                .collect(),
            allocations: {
                let mut allocations: Vec<AllocationView> = self
                    .allocations
                    .iter()
                    .map(|a| AllocationView {
                        warehouse_id: a.warehouse_id.clone(),
                        sku: a.sku.clone(),
                        quantity: a.quantity,
                        shipped: 0,
                        released: 0,
                    })
                    .collect();
                allocations
                    .sort_by(|a, b| (&a.warehouse_id, &a.sku).cmp(&(&b.warehouse_id, &b.sku)));
                allocations
            },
            backorders: self
                .backorders
                .iter()
                .map(|(sku, quantity)| BackorderView {
                    sku: sku.clone(),
                    quantity: *quantity,
                })
                .collect(),
            shipments: Vec::new(),
            timeline: self.initial_timeline(),
            allowed_actions: self.status.allowed().iter().map(|a| a.name()).collect(),
        })
    }
}

/// How writing one order ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    Created,
    /// The dealer already placed an order under this idempotency key.
    Duplicate,
    /// Stock moved since the pipeline looked: re-evaluate.
    OutOfStock {
        warehouse_id: String,
        sku: String,
    },
    /// Stock changed outside the order writer since the stock book the
    /// order was evaluated on: re-evaluate on the reloaded book.
    Stale,
}

/// Writes the order, its lines, reservations (with movements), backorders
/// and first timeline entries. On `OutOfStock` or `Duplicate` the caller
/// must roll back what this wrote (it runs inside a savepoint).
pub async fn insert(conn: &mut AnyConnection, order: &NewOrder) -> StoreResult<Inserted> {
    let inserted = sqlx::query(
        "INSERT INTO orders (id, dealer_id, region, ship_to, order_type, urgency, status, placed_at, \
         updated_at, subtotal, discount, total, paid, priority, reasons, decision, context, \
         idempotency_key, request_hash, placed_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, 0, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (dealer_id, idempotency_key) DO NOTHING",
    )
    .bind(&order.id)
    .bind(&order.dealer_id)
    .bind(&order.region)
    .bind(&order.ship_to)
    .bind(super::encode_enum(&order.order_type))
    .bind(super::encode_enum(&order.urgency))
    .bind(order.status.name())
    .bind(order.placed_at)
    .bind(order.subtotal)
    .bind(order.discount)
    .bind(order.total)
    .bind(order.priority)
    .bind(&order.reasons_json)
    .bind(&order.decision_json)
    .bind(&order.context_json)
    .bind(&order.idempotency_key)
    .bind(&order.request_hash)
    .bind(&order.placed_by)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(Inserted::Duplicate);
    }
    for line in &order.lines {
        sqlx::query(
            "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price, discount, amount, free, promotion_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&order.id)
        .bind(line.line_no as i64)
        .bind(&line.sku)
        .bind(line.quantity as i64)
        .bind(line.unit_price)
        .bind(line.discount)
        .bind(line.amount)
        .bind(line.free as i64)
        .bind(&line.promotion_id)
        .execute(&mut *conn)
        .await?;
    }
    // One lock order for every writer, so hosts sharing PostgreSQL cannot deadlock.
    let mut allocations = order.allocations.clone();
    allocations.sort();
    for allocation in &allocations {
        let reserve = Movement {
            order_id: Some(&order.id),
            ..Movement::new(
                &allocation.warehouse_id,
                &allocation.sku,
                MovementKind::Reservation,
                0,
                allocation.quantity as i64,
                "order placed",
                &order.placed_by,
                order.placed_at,
            )
        };
        if !inventory::apply(conn, &reserve).await? {
            return Ok(Inserted::OutOfStock {
                warehouse_id: allocation.warehouse_id.clone(),
                sku: allocation.sku.clone(),
            });
        }
        sqlx::query("INSERT INTO allocations (order_id, warehouse_id, sku, quantity) VALUES ($1, $2, $3, $4)")
            .bind(&order.id)
            .bind(&allocation.warehouse_id)
            .bind(&allocation.sku)
            .bind(allocation.quantity as i64)
            .execute(&mut *conn)
            .await?;
    }
    for (sku, quantity) in &order.backorders {
        sqlx::query("INSERT INTO backorders (order_id, sku, quantity) VALUES ($1, $2, $3)")
            .bind(&order.id)
            .bind(sku)
            .bind(*quantity as i64)
            .execute(&mut *conn)
            .await?;
    }
    for event in order.initial_timeline() {
        let from = event
            .from_status
            .as_deref()
            .map(|s| decode_enum("order status", s))
            .transpose()?;
        let to = decode_enum("order status", &event.to_status)?;
        record_event(
            conn,
            &order.id,
            from,
            to,
            &event.action,
            &event.actor,
            event.at,
            &event.note,
        )
        .await?;
    }
    Ok(Inserted::Created)
}

/// Appends one entry to an order's timeline.
#[allow(clippy::too_many_arguments)]
pub async fn record_event(
    conn: &mut AnyConnection,
    order_id: &str,
    from: Option<OrderStatus>,
    to: OrderStatus,
    action: &str,
    actor: &str,
    at: TimestampMs,
    note: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO order_events (id, order_id, from_status, to_status, action, actor, at, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id("EVT"))
    .bind(order_id)
    .bind(from.map(|s| s.name()))
    .bind(to.name())
    .bind(action)
    .bind(actor)
    .bind(at)
    .bind(note)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends a timeline entry that does not move the order (a payment, a
/// claim), naming the status the order holds now, in the caller's
/// transaction.
pub async fn record_note(
    conn: &mut AnyConnection,
    order_id: &str,
    action: &str,
    actor: &str,
    at: TimestampMs,
    note: &str,
) -> StoreResult<()> {
    let status = header(conn, order_id)
        .await?
        .ok_or_else(|| StoreError::corrupt("order", format!("{order_id} vanished")))?
        .status;
    record_event(
        conn,
        order_id,
        Some(status),
        status,
        action,
        actor,
        at,
        note,
    )
    .await
}

/// The order row: header, totals and status, without its children.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OrderHeader {
    pub id: String,
    pub dealer_id: String,
    pub region: String,
    pub ship_to: String,
    pub order_type: OrderType,
    pub urgency: Urgency,
    pub status: OrderStatus,
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = i64)]
    pub placed_at: TimestampMs,
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = i64)]
    pub updated_at: TimestampMs,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub subtotal: Fen,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub discount: Fen,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub total: Fen,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub paid: Fen,
    pub priority: i64,
    pub placed_by: String,
    #[serde(skip)]
    pub request_hash: String,
}

pub const HEADER_COLUMNS: &str = "id, dealer_id, region, ship_to, order_type, urgency, status, placed_at, \
     updated_at, subtotal, discount, total, paid, priority, placed_by, request_hash";

pub fn header_from_row(row: &AnyRow) -> StoreResult<OrderHeader> {
    let order_type: String = row.try_get(4)?;
    let urgency: String = row.try_get(5)?;
    let status: String = row.try_get(6)?;
    Ok(OrderHeader {
        id: row.try_get(0)?,
        dealer_id: row.try_get(1)?,
        region: row.try_get(2)?,
        ship_to: row.try_get(3)?,
        order_type: decode_enum("order type", &order_type)?,
        urgency: decode_enum("urgency", &urgency)?,
        status: decode_enum("order status", &status)?,
        placed_at: row.try_get(7)?,
        updated_at: row.try_get(8)?,
        subtotal: row.try_get(9)?,
        discount: row.try_get(10)?,
        total: row.try_get(11)?,
        paid: row.try_get(12)?,
        priority: row.try_get(13)?,
        placed_by: row.try_get(14)?,
        request_hash: row.try_get(15)?,
    })
}

pub async fn header(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<OrderHeader>> {
    let sql = format!("SELECT {HEADER_COLUMNS} FROM orders WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(header_from_row).transpose()
}

/// The order a dealer placed under an idempotency key, if any.
pub async fn by_idempotency_key(
    conn: &mut AnyConnection,
    dealer_id: &str,
    key: &str,
) -> StoreResult<Option<OrderHeader>> {
    let sql = format!(
        "SELECT {HEADER_COLUMNS} FROM orders WHERE dealer_id = $1 AND idempotency_key = $2"
    );
    let row = sqlx::query(&sql)
        .bind(dealer_id)
        .bind(key)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(header_from_row).transpose()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineView {
    pub line_no: u32,
    pub sku: String,
    pub quantity: u32,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub unit_price: Fen,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub discount: Fen,
    /// Money in fen (1/100 yuan), an integer.
    #[schema(value_type = i64)]
    pub amount: Fen,
    pub free: bool,
    pub promotion_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AllocationView {
    pub warehouse_id: String,
    pub sku: String,
    pub quantity: u32,
    pub shipped: u32,
    pub released: u32,
}

impl AllocationView {
    /// Reserved and not yet shipped or released.
    pub fn outstanding(&self) -> u32 {
        self.quantity - self.shipped - self.released
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct EventView {
    pub from_status: Option<String>,
    pub to_status: String,
    pub action: String,
    pub actor: String,
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = i64)]
    pub at: TimestampMs,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TrackingView {
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = i64)]
    pub at: TimestampMs,
    pub location: String,
    pub description: String,
    pub recorded_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ShipmentView {
    pub id: String,
    pub warehouse_id: String,
    pub carrier: String,
    pub tracking_no: String,
    pub status: String,
    pub claim_id: Option<String>,
    pub shipped_by: String,
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = i64)]
    pub shipped_at: TimestampMs,
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = Option<i64>)]
    pub delivered_at: Option<TimestampMs>,
    pub lines: Vec<ShipmentLine>,
    pub tracking: Vec<TrackingView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ShipmentLine {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BackorderView {
    pub sku: String,
    pub quantity: u32,
}

/// An order with everything that hangs off it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    #[serde(flatten)]
    pub header: OrderHeader,
    /// The policy's reasons for holding the order (codes and messages), as
    /// decided at placement; empty when it was approved outright.
    pub reasons: serde_json::Value,
    pub lines: Vec<LineView>,
    pub allocations: Vec<AllocationView>,
    pub backorders: Vec<BackorderView>,
    pub shipments: Vec<ShipmentView>,
    pub timeline: Vec<EventView>,
    /// The actions the order's status allows now.
    pub allowed_actions: Vec<&'static str>,
}

fn count(value: i64) -> u32 {
    value.clamp(0, u32::MAX as i64) as u32
}

pub async fn allocations(
    conn: &mut AnyConnection,
    order_id: &str,
) -> StoreResult<Vec<AllocationView>> {
    let rows = sqlx::query(
        "SELECT warehouse_id, sku, quantity, shipped, released FROM allocations \
         WHERE order_id = $1 ORDER BY warehouse_id, sku",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AllocationView {
                warehouse_id: row.try_get(0)?,
                sku: row.try_get(1)?,
                quantity: count(row.try_get(2)?),
                shipped: count(row.try_get(3)?),
                released: count(row.try_get(4)?),
            })
        })
        .collect()
}

/// The whole order, or `None` if there is no such order.
pub async fn view(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<OrderView>> {
    let Some(header) = header(conn, id).await? else {
        return Ok(None);
    };
    let (reasons,): (String,) = sqlx::query_as("SELECT reasons FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let reasons =
        serde_json::from_str(&reasons).map_err(|e| StoreError::corrupt("order reasons", e))?;

    let lines = sqlx::query(
        "SELECT line_no, sku, quantity, unit_price, discount, amount, free, promotion_id \
         FROM order_lines WHERE order_id = $1 ORDER BY line_no",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(LineView {
            line_no: count(row.try_get(0)?),
            sku: row.try_get(1)?,
            quantity: count(row.try_get(2)?),
            unit_price: row.try_get(3)?,
            discount: row.try_get(4)?,
            amount: row.try_get(5)?,
            free: row.try_get::<i64, _>(6)? != 0,
            promotion_id: row.try_get(7)?,
        })
    })
    .collect::<StoreResult<Vec<_>>>()?;

    let allocations = allocations(conn, id).await?;

    let backorders = sqlx::query_as::<_, (String, i64)>(
        "SELECT sku, quantity FROM backorders WHERE order_id = $1 ORDER BY sku",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(sku, quantity)| BackorderView {
        sku,
        quantity: count(quantity),
    })
    .collect();

    let shipments = shipments(conn, id).await?;

    let timeline = sqlx::query_as::<_, EventView>(
        "SELECT from_status, to_status, action, actor, at, note FROM order_events \
         WHERE order_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;

    let allowed_actions = header.status.allowed().iter().map(|a| a.name()).collect();
    Ok(Some(OrderView {
        header,
        reasons,
        lines,
        allocations,
        backorders,
        shipments,
        timeline,
        allowed_actions,
    }))
}

async fn shipments(conn: &mut AnyConnection, order_id: &str) -> StoreResult<Vec<ShipmentView>> {
    let rows = sqlx::query(
        "SELECT id, warehouse_id, carrier, tracking_no, status, claim_id, shipped_by, shipped_at, delivered_at \
         FROM shipments WHERE order_id = $1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: String = row.try_get(0)?;
        let lines = sqlx::query_as::<_, (String, i64)>(
            "SELECT sku, quantity FROM shipment_lines WHERE shipment_id = $1 ORDER BY sku",
        )
        .bind(&id)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(sku, quantity)| ShipmentLine {
            sku,
            quantity: count(quantity),
        })
        .collect();
        let tracking = sqlx::query_as::<_, TrackingView>(
            "SELECT at, location, description, recorded_by FROM tracking_events WHERE shipment_id = $1 ORDER BY id",
        )
        .bind(&id)
        .fetch_all(&mut *conn)
        .await?;
        out.push(ShipmentView {
            id,
            warehouse_id: row.try_get(1)?,
            carrier: row.try_get(2)?,
            tracking_no: row.try_get(3)?,
            status: row.try_get(4)?,
            claim_id: row.try_get(5)?,
            shipped_by: row.try_get(6)?,
            shipped_at: row.try_get(7)?,
            delivered_at: row.try_get(8)?,
            lines,
            tracking,
        });
    }
    Ok(out)
}

/// The stored decision with its trace, as JSON.
pub async fn decision(
    conn: &mut AnyConnection,
    id: &str,
) -> StoreResult<Option<(serde_json::Value, serde_json::Value)>> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT decision, context FROM orders WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    row.map(|(decision, context)| {
        Ok((
            serde_json::from_str(&decision)
                .map_err(|e| StoreError::corrupt("order decision", e))?,
            serde_json::from_str(&context).map_err(|e| StoreError::corrupt("order context", e))?,
        ))
    })
    .transpose()
}

/// Filters for listing orders; all optional.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub dealer_id: Option<String>,
    pub region: Option<String>,
    pub status: Option<OrderStatus>,
    pub placed_from: Option<TimestampMs>,
    pub placed_to: Option<TimestampMs>,
    /// Continue after this `(placed_at, id)`, newest first.
    pub after: Option<(TimestampMs, String)>,
    pub limit: u32,
}

/// Orders newest first, `limit + 1` fetched so the caller knows if more follow.
pub async fn list(conn: &mut AnyConnection, filter: &OrderFilter) -> StoreResult<Vec<OrderHeader>> {
    let mut sql = format!("SELECT {HEADER_COLUMNS} FROM orders WHERE 1 = 1");
    let mut binds: Vec<Bind> = Vec::new();
    let mut push = |sql: &mut String, clause: &str, value: Bind| {
        binds.push(value);
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    };
    if let Some(dealer) = &filter.dealer_id {
        push(&mut sql, " AND dealer_id = ?", Bind::Text(dealer.clone()));
    }
    if let Some(region) = &filter.region {
        push(&mut sql, " AND region = ?", Bind::Text(region.clone()));
    }
    if let Some(status) = filter.status {
        push(
            &mut sql,
            " AND status = ?",
            Bind::Text(status.name().to_string()),
        );
    }
    if let Some(from) = filter.placed_from {
        push(&mut sql, " AND placed_at >= ?", Bind::Int(from));
    }
    if let Some(to) = filter.placed_to {
        push(&mut sql, " AND placed_at < ?", Bind::Int(to));
    }
    if let Some((at, id)) = &filter.after {
        push(&mut sql, " AND (placed_at < ?", Bind::Int(*at));
        push(&mut sql, " OR (placed_at = ?", Bind::Int(*at));
        push(&mut sql, " AND id < ?))", Bind::Text(id.clone()));
    }
    sql.push_str(&format!(
        " ORDER BY placed_at DESC, id DESC LIMIT {}",
        filter.limit + 1
    ));
    let mut query = sqlx::query(&sql);
    for bind in binds {
        query = match bind {
            Bind::Text(text) => query.bind(text),
            Bind::Int(int) => query.bind(int),
        };
    }
    let rows = query.fetch_all(conn).await?;
    rows.iter().map(header_from_row).collect()
}

enum Bind {
    Text(String),
    Int(i64),
}

/// Moves the order from `from` to `to` if nobody moved it first; false if
/// its status was no longer `from`.
pub async fn set_status(
    conn: &mut AnyConnection,
    id: &str,
    from: OrderStatus,
    to: OrderStatus,
    at: TimestampMs,
) -> StoreResult<bool> {
    let updated = sqlx::query(
        "UPDATE orders SET status = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND status = $4",
    )
    .bind(to.name())
    .bind(at)
    .bind(id)
    .bind(from.name())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Releases every reservation the order still holds (cancel, reject).
pub async fn release_reservations(
    conn: &mut AnyConnection,
    order_id: &str,
    actor: &str,
    reason: &str,
    at: TimestampMs,
) -> StoreResult<()> {
    for allocation in allocations(conn, order_id).await? {
        let outstanding = allocation.outstanding();
        if outstanding == 0 {
            continue;
        }
        let release = Movement {
            order_id: Some(order_id),
            ..Movement::new(
                &allocation.warehouse_id,
                &allocation.sku,
                MovementKind::Release,
                0,
                -(outstanding as i64),
                reason,
                actor,
                at,
            )
        };
        if !inventory::apply(conn, &release).await? {
            return Err(StoreError::corrupt(
                "stock",
                format!(
                    "{} {} holds less reserved than order {order_id}",
                    allocation.warehouse_id, allocation.sku
                ),
            ));
        }
        sqlx::query("UPDATE allocations SET released = released + $1 WHERE order_id = $2 AND warehouse_id = $3 AND sku = $4")
            .bind(outstanding as i64)
            .bind(order_id)
            .bind(&allocation.warehouse_id)
            .bind(&allocation.sku)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
