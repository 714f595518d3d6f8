//! Moving an order through its lifecycle: who may take each action, the
//! stock it moves, and the timeline entry it leaves. Each action is one
//! transaction guarded by the order's current status, so two hosts (or two
//! clicks) cannot both apply it; the loser gets a 409 naming what is allowed.

use serde::Deserialize;

use crate::api::{ApiError, ApiResult, AppState, Caller};
use crate::domain::{OrderAction, OrderStatus};
use crate::store::inventory::{self, Movement, MovementKind};
use crate::store::orders::{self, OrderHeader, OrderView, ShipmentLine};
use crate::store::{StoreError, new_id, now_ms};

/// Who may take an action besides HQ (which may take them all).
fn check_permission(caller: &Caller, order: &OrderHeader, action: OrderAction) -> ApiResult<()> {
    let verb = action.name();
    match action {
        // The dealer confirms receipt of its own goods and may cancel its
        // own order before it ships; staff of the region do the rest.
        OrderAction::ConfirmReceipt | OrderAction::Cancel => {
            caller.require_party(&order.dealer_id, &order.region, verb)
        }
        _ => caller.require_admin_of(&order.region, verb),
    }
}

/// Loads an order the caller may see, or 404/403.
pub async fn visible_order(
    conn: &mut sqlx::AnyConnection,
    caller: &Caller,
    id: &str,
) -> ApiResult<OrderHeader> {
    let order = orders::header(conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order", id))?;
    caller.require_party(&order.dealer_id, &order.region, "see this order")?;
    Ok(order)
}

fn conflict(order: &OrderHeader, action: OrderAction, allowed: &[OrderAction]) -> ApiError {
    ApiError::conflict(
        format!(
            "order {} is {}; it cannot {}",
            order.id,
            order.status.name(),
            action.name()
        ),
        allowed.iter().map(|a| a.name().to_string()).collect(),
    )
}

/// The body of simple transitions: an optional note for the timeline.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    #[serde(default)]
    pub note: String,
}

/// Approve, reject, allocate, confirm receipt, complete or cancel.
pub async fn transition(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: OrderAction,
    note: &str,
) -> ApiResult<OrderView> {
    debug_assert!(!matches!(action, OrderAction::Ship | OrderAction::Track));
    let mut tx = state.store.begin_write().await?;
    let order = visible_order(&mut tx, caller, id).await?;
    check_permission(caller, &order, action)?;
    let next = order
        .status
        .after(action, false)
        .map_err(|allowed| conflict(&order, action, allowed))?;
    let at = now_ms();
    if action == OrderAction::ConfirmReceipt {
        let outstanding: u32 = orders::allocations(&mut tx, id)
            .await?
            .iter()
            .map(|a| a.outstanding())
            .sum();
        if outstanding > 0 {
            return Err(ApiError::conflict(
                format!(
                    "order {id} still has {outstanding} cases to ship; receipt can be confirmed once all have shipped"
                ),
                vec!["track".into()],
            ));
        }
        sqlx::query("UPDATE shipments SET status = 'delivered', delivered_at = $1 WHERE order_id = $2 AND delivered_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await
            ?;
    }
    if !orders::set_status(&mut tx, id, order.status, next, at).await? {
        return Err(moved_meanwhile(&mut tx, id, action).await);
    }
    if matches!(next, OrderStatus::Cancelled | OrderStatus::Rejected) {
        orders::release_reservations(
            &mut tx,
            id,
            &caller.actor(),
            &format!("order {}", next.name()),
            at,
        )
        .await?;
    }
    orders::record_event(
        &mut tx,
        id,
        Some(order.status),
        next,
        action.name(),
        &caller.actor(),
        at,
        note,
    )
    .await?;
    tx.commit().await?;
    reload(state, id).await
}

/// The order's status changed between our read and our write.
async fn moved_meanwhile(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    action: OrderAction,
) -> ApiError {
    match orders::header(conn, id).await {
        Ok(Some(now)) => conflict(&now, action, now.status.allowed()),
        Ok(None) => ApiError::not_found("order", id),
        Err(err) => err.into(),
    }
}

pub async fn reload(state: &AppState, id: &str) -> ApiResult<OrderView> {
    let mut conn = state.store.pool.acquire().await?;
    orders::view(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order", id))
}

/// The body of `POST /v1/orders/{id}/shipments`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipRequest {
    pub warehouse_id: String,
    pub carrier: String,
    pub tracking_no: String,
    /// What leaves; everything still reserved at that warehouse when absent.
    #[serde(default)]
    pub lines: Option<Vec<ShipmentLine>>,
}

/// Ships (part of) what one warehouse holds for the order.
pub async fn ship(
    state: &AppState,
    caller: &Caller,
    id: &str,
    request: ShipRequest,
) -> ApiResult<OrderView> {
    for (field, value) in [
        ("/carrier", &request.carrier),
        ("/tracking_no", &request.tracking_no),
    ] {
        if value.trim().is_empty() {
            return Err(ApiError::invalid(field, "must not be empty"));
        }
    }
    let mut tx = state.store.begin_write().await?;
    let order = visible_order(&mut tx, caller, id).await?;
    check_permission(caller, &order, OrderAction::Ship)?;
    if let Err(allowed) = order.status.after(OrderAction::Ship, false) {
        return Err(conflict(&order, OrderAction::Ship, allowed));
    }
    let allocations = orders::allocations(&mut tx, id).await?;
    let here: Vec<_> = allocations
        .iter()
        .filter(|a| a.warehouse_id == request.warehouse_id)
        .collect();
    if here.is_empty() {
        return Err(ApiError::invalid(
            "/warehouse_id",
            format!(
                "order {id} holds no stock at warehouse {}",
                request.warehouse_id
            ),
        ));
    }
    let lines: Vec<ShipmentLine> = match request.lines {
        Some(lines) => lines,
        None => here
            .iter()
            .filter(|a| a.outstanding() > 0)
            .map(|a| ShipmentLine {
                sku: a.sku.clone(),
                quantity: a.outstanding(),
            })
            .collect(),
    };
    if lines.is_empty() {
        return Err(ApiError::conflict(
            format!(
                "everything order {id} holds at {} has shipped",
                request.warehouse_id
            ),
            order
                .status
                .allowed()
                .iter()
                .map(|a| a.name().to_string())
                .collect(),
        ));
    }
    let at = now_ms();
    let shipment_id = new_id("SHP");
    sqlx::query(
        "INSERT INTO shipments (id, order_id, warehouse_id, carrier, tracking_no, status, shipped_by, shipped_at) \
         VALUES ($1, $2, $3, $4, $5, 'shipped', $6, $7)",
    )
    .bind(&shipment_id)
    .bind(id)
    .bind(&request.warehouse_id)
    .bind(request.carrier.trim())
    .bind(request.tracking_no.trim())
    .bind(caller.actor())
    .bind(at)
    .execute(&mut *tx)
    .await
    ?;
    let actor = caller.actor();
    for (i, line) in lines.iter().enumerate() {
        let allocation = here.iter().find(|a| a.sku == line.sku);
        let outstanding = allocation.map_or(0, |a| a.outstanding());
        if line.quantity == 0 || line.quantity > outstanding {
            return Err(ApiError::invalid(
                format!("/lines/{i}/quantity"),
                format!(
                    "{} of {} reserved and unshipped at {}; asked to ship {}",
                    outstanding, line.sku, request.warehouse_id, line.quantity
                ),
            ));
        }
        let movement = Movement {
            order_id: Some(id),
            ..Movement::new(
                &request.warehouse_id,
                &line.sku,
                MovementKind::Shipment,
                -(line.quantity as i64),
                -(line.quantity as i64),
                "order shipped",
                &actor,
                at,
            )
        };
        if !inventory::apply(&mut tx, &movement).await? {
            return Err(StoreError::corrupt(
                "stock",
                format!(
                    "{} {} cannot cover its own reservation",
                    request.warehouse_id, line.sku
                ),
            )
            .into());
        }
        sqlx::query("UPDATE allocations SET shipped = shipped + $1 WHERE order_id = $2 AND warehouse_id = $3 AND sku = $4")
            .bind(line.quantity as i64)
            .bind(id)
            .bind(&request.warehouse_id)
            .bind(&line.sku)
            .execute(&mut *tx)
            .await
            ?;
        sqlx::query("INSERT INTO shipment_lines (shipment_id, sku, quantity) VALUES ($1, $2, $3)")
            .bind(&shipment_id)
            .bind(&line.sku)
            .bind(line.quantity as i64)
            .execute(&mut *tx)
            .await
            .map_err(|err| match StoreError::from(err) {
                e if e.is_unique_violation() => ApiError::invalid(
                    format!("/lines/{i}/sku"),
                    format!("{} appears twice", line.sku),
                ),
                e => e.into(),
            })?;
    }
    let unshipped: u32 = orders::allocations(&mut tx, id)
        .await?
        .iter()
        .map(|a| a.outstanding())
        .sum();
    let next = order
        .status
        .after(OrderAction::Ship, unshipped == 0)
        .map_err(|allowed| conflict(&order, OrderAction::Ship, allowed))?;
    if !orders::set_status(&mut tx, id, order.status, next, at).await? {
        return Err(moved_meanwhile(&mut tx, id, OrderAction::Ship).await);
    }
    let note = format!(
        "shipment {shipment_id} from {} by {} ({})",
        request.warehouse_id,
        request.carrier.trim(),
        request.tracking_no.trim()
    );
    orders::record_event(
        &mut tx,
        id,
        Some(order.status),
        next,
        "ship",
        &actor,
        at,
        &note,
    )
    .await?;
    tx.commit().await?;
    reload(state, id).await
}

/// The body of `POST /v1/orders/{id}/shipments/{shipment}/events`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingEvent {
    /// When the carrier saw it (ms since the epoch); now when absent.
    #[serde(default)]
    pub at: Option<i64>,
    pub location: String,
    pub description: String,
}

/// Records a carrier's tracking event; the first one puts a fully shipped
/// order in transit.
pub async fn track(
    state: &AppState,
    caller: &Caller,
    id: &str,
    shipment_id: &str,
    event: TrackingEvent,
) -> ApiResult<OrderView> {
    let mut tx = state.store.begin_write().await?;
    let order = visible_order(&mut tx, caller, id).await?;
    check_permission(caller, &order, OrderAction::Track)?;
    let next = order
        .status
        .after(OrderAction::Track, false)
        .map_err(|allowed| conflict(&order, OrderAction::Track, allowed))?;
    let found: Option<(String,)> =
        sqlx::query_as("SELECT id FROM shipments WHERE id = $1 AND order_id = $2")
            .bind(shipment_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    if found.is_none() {
        return Err(ApiError::not_found("shipment", shipment_id));
    }
    let at = now_ms();
    sqlx::query(
        "INSERT INTO tracking_events (id, shipment_id, at, location, description, recorded_by) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id("TRK"))
    .bind(shipment_id)
    .bind(event.at.unwrap_or(at))
    .bind(&event.location)
    .bind(&event.description)
    .bind(caller.actor())
    .execute(&mut *tx)
    .await
    ?;
    sqlx::query("UPDATE shipments SET status = 'in_transit' WHERE id = $1 AND status = 'shipped'")
        .bind(shipment_id)
        .execute(&mut *tx)
        .await?;
    if next != order.status {
        if !orders::set_status(&mut tx, id, order.status, next, at).await? {
            return Err(moved_meanwhile(&mut tx, id, OrderAction::Track).await);
        }
        let note = format!(
            "{}: {} at {}",
            shipment_id, event.description, event.location
        );
        orders::record_event(
            &mut tx,
            id,
            Some(order.status),
            next,
            "track",
            &caller.actor(),
            at,
            &note,
        )
        .await?;
    }
    tx.commit().await?;
    reload(state, id).await
}
