//! Placing an order: validate, load what the region's plugins need in one
//! read, run the pipeline once, then write the order and reserve its stock
//! in one transaction. If stock moved between the read and the write, the
//! order is evaluated again on fresh stock; nothing is ever half-written.
//! On SQLite the stock comes from the stock book (`store::stock_book`), not
//! a read of the table.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::api::{ApiError, ApiResult, AppState, Caller, FieldProblem, Role};
use crate::domain::{Order, OrderLine, OrderStatus, OrderType, Urgency, Warehouse, WarehouseLevel};
use crate::policy::{Decision, DecisionStatus, OrderContext, Reason};
use crate::store::orders::{self, Inserted, NewAllocation, NewLine, NewOrder, OrderView};
use crate::store::stock_book::CandidateStock;
use crate::store::{self, dealers, inventory};

/// Largest quantity one line may ask for, in cases.
pub const MAX_LINE_QUANTITY: i64 = 1_000_000;
/// Most lines one order may have.
pub const MAX_LINES: usize = 500;
/// Evaluations per order before giving up on contended stock (an answer
/// of 503 that a retry with the same key may still place). On SQLite an
/// attempt costs an evaluation on the stock book, not a read.
const ATTEMPTS: usize = 8;

/// The body of `POST /v1/orders`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    /// Required for HQ and region admins placing on a dealer's behalf;
    /// a dealer's own token implies it.
    #[serde(default)]
    #[schema(example = "D-GD-0001")]
    pub dealer_id: Option<String>,
    /// Territory to ship to; the dealer's region when absent.
    #[serde(default)]
    #[schema(example = "gd")]
    pub ship_to: Option<String>,
    #[serde(default)]
    pub order_type: OrderType,
    #[serde(default)]
    pub urgency: Urgency,
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<PlaceLine>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceLine {
    #[schema(example = "BJ-001")]
    pub sku: String,
    /// Cases. Signed so that a negative quantity gets a clear 422, not a
    /// parse error.
    #[schema(minimum = 1, maximum = 1_000_000, example = 5)]
    pub quantity: i64,
}

/// How placement ended, for the handler to answer.
pub enum Placed {
    /// A new order (accepted or held for review).
    Created(Box<OrderView>),
    /// The same request was placed before under this key: its order.
    Replayed(Box<OrderView>),
}

pub async fn place(
    state: &AppState,
    caller: &Caller,
    idempotency_key: &str,
    request: PlaceOrder,
) -> ApiResult<Placed> {
    let dealer_id = match (&caller.role, &request.dealer_id) {
        (Role::Dealer { dealer_id, .. }, Some(asked)) if asked != dealer_id => {
            return Err(ApiError::forbidden(format!(
                "dealer {dealer_id} may not order for dealer {asked}"
            )));
        }
        (Role::Dealer { dealer_id, .. }, _) => dealer_id.clone(),
        (_, Some(asked)) => asked.clone(),
        (_, None) => {
            return Err(ApiError::invalid(
                "/dealer_id",
                "required when an admin places an order",
            ));
        }
    };
    // Connections are taken per read and never held across the writer's
    // commit: the writer needs one too, and a pool of waiting placements
    // would starve it.
    let dealer = dealers::get(&state.store.pool, &dealer_id)
        .await?
        .ok_or_else(|| ApiError::invalid("/dealer_id", format!("unknown dealer {dealer_id}")))?
        .dealer;
    caller.require_party(&dealer.id, &dealer.region, "place orders")?;
    validate_lines(state, &request)?;
    if let Some(ship_to) = &request.ship_to
        && !state.brand.regions.contains_key(ship_to)
    {
        return Err(ApiError::invalid(
            "/ship_to",
            format!("unknown territory {ship_to}"),
        ));
    }

    // A retry is found by the unique index when its order is written: one
    // read less for every first attempt, one evaluation more per retry.
    let request_hash = request_hash(&dealer.id, &request);

    let region = state.brand.regions.get(&dealer.region).ok_or_else(|| {
        ApiError::Internal(format!(
            "dealer {} belongs to unconfigured region {}",
            dealer.id, dealer.region
        ))
    })?;
    let mut regions: Vec<&str> = vec![dealer.region.as_str()];
    regions.extend(region.region.neighbours.iter().map(String::as_str));
    let skus: Vec<&str> = request
        .lines
        .iter()
        .map(|l| l.sku.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let placed_at = store::now_ms();
    let order = Order {
        id: store::new_id("ORD"),
        dealer_id: dealer.id.clone(),
        region: dealer.region.clone(),
        ship_to: request
            .ship_to
            .clone()
            .unwrap_or_else(|| dealer.region.clone()),
        order_type: request.order_type,
        urgency: request.urgency,
        placed_at,
        lines: request
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| OrderLine {
                line_no: i as u32 + 1,
                sku: line.sku.clone(),
                quantity: line.quantity as u32,
            })
            .collect(),
    };
    // Free goods a promotion adds need stock too: read every listed SKU the
    // plugins might add only when they do (rare), by re-reading on retry.
    let mut extra_skus: BTreeSet<String> = BTreeSet::new();
    for _ in 0..ATTEMPTS {
        let mut all_skus = skus.clone();
        all_skus.extend(extra_skus.iter().map(String::as_str));
        let (book_generation, rows) = candidate_stock(state, &regions, &all_skus).await?;
        let context = OrderContext {
            order: order.clone(),
            dealer: dealer.clone(),
            warehouses: warehouses_from(rows),
        };
        let (decision, context) = evaluate(state, context).await?;
        let free_missing: BTreeSet<String> = decision
            .free_goods
            .iter()
            .map(|f| f.sku.clone())
            .filter(|sku| !all_skus.contains(&sku.as_str()))
            .collect();
        if !free_missing.is_empty() {
            extra_skus.extend(free_missing);
            continue;
        }
        if decision.status == DecisionStatus::Rejected {
            // A retry of an order that was placed keeps its first answer,
            // whatever the policy would say now.
            if let Some(existing) = find_by_key(state, &dealer.id, idempotency_key).await? {
                return replay(state, existing, &request_hash).await;
            }
            state.metrics.record_placed(&decision);
            return Err(rejected(&decision));
        }
        let new_order = new_order(
            &context,
            &decision,
            book_generation,
            idempotency_key,
            &request_hash,
            &caller.actor(),
        )?;
        let view = new_order.view()?;
        match state.writer.write(new_order).await? {
            Inserted::Created => {
                state.metrics.record_placed(&decision);
                return Ok(Placed::Created(Box::new(view)));
            }
            Inserted::Duplicate => {
                let existing = find_by_key(state, &dealer.id, idempotency_key)
                    .await?
                    .ok_or_else(|| ApiError::Internal("idempotent order vanished".into()))?;
                return replay(state, existing, &request_hash).await;
            }
            Inserted::OutOfStock { warehouse_id, sku } => {
                tracing::debug!(order = %order.id, %warehouse_id, %sku, "stock moved during placement; re-evaluating");
            }
            Inserted::Stale => {
                tracing::debug!(order = %order.id, "stock changed outside the order writer; re-evaluating");
            }
        }
    }
    Err(ApiError::Unavailable(
        "stock for this order is changing too fast to reserve; nothing was placed, retry with the same Idempotency-Key".into(),
    ))
}

fn validate_lines(state: &AppState, request: &PlaceOrder) -> ApiResult<()> {
    let mut problems = Vec::new();
    if request.lines.is_empty() {
        problems.push(FieldProblem::new(
            "/lines",
            "an order needs at least one line",
        ));
    }
    if request.lines.len() > MAX_LINES {
        problems.push(FieldProblem::new(
            "/lines",
            format!("at most {MAX_LINES} lines per order"),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, line) in request.lines.iter().enumerate() {
        if !state.brand.catalogue.contains_key(&line.sku) {
            problems.push(FieldProblem::new(
                format!("/lines/{i}/sku"),
                format!("unknown SKU {}", line.sku),
            ));
        } else if !seen.insert(line.sku.as_str()) {
            problems.push(FieldProblem::new(
                format!("/lines/{i}/sku"),
                format!(
                    "SKU {} appears on two lines; put the whole quantity on one",
                    line.sku
                ),
            ));
        }
        if line.quantity <= 0 {
            problems.push(FieldProblem::new(
                format!("/lines/{i}/quantity"),
                "quantity must be at least 1",
            ));
        } else if line.quantity > MAX_LINE_QUANTITY {
            problems.push(FieldProblem::new(
                format!("/lines/{i}/quantity"),
                format!("quantity above {MAX_LINE_QUANTITY} cases"),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_fields(problems))
    }
}

/// A fingerprint of what was asked, to tell a retry from a different
/// request that reuses a key.
fn request_hash(dealer_id: &str, request: &PlaceOrder) -> String {
    let mut request = request.clone();
    request.dealer_id = Some(dealer_id.to_string());
    let bytes = serde_json::to_vec(&request).expect("request serialises");
    hex::encode(Sha256::digest(bytes))
}

async fn find_by_key(
    state: &AppState,
    dealer_id: &str,
    key: &str,
) -> ApiResult<Option<orders::OrderHeader>> {
    let mut conn = state.store.pool.acquire().await?;
    Ok(orders::by_idempotency_key(&mut conn, dealer_id, key).await?)
}

async fn replay(
    state: &AppState,
    existing: orders::OrderHeader,
    request_hash: &str,
) -> ApiResult<Placed> {
    let mut conn = state.store.pool.acquire().await?;
    if existing.request_hash != request_hash {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            format!(
                "this key already placed order {} with a different request",
                existing.id
            ),
        ));
    }
    let view = orders::view(&mut conn, &existing.id)
        .await?
        .ok_or_else(|| ApiError::not_found("order", existing.id.clone()))?;
    Ok(Placed::Replayed(Box::new(view)))
}

/// The stock the order may draw on, from the stock book when it is loaded
/// (with its generation), else from the table.
async fn candidate_stock(
    state: &AppState,
    regions: &[&str],
    skus: &[&str],
) -> ApiResult<(Option<u64>, Vec<CandidateStock>)> {
    if let Some((generation, rows)) = state
        .store
        .stock_book
        .as_ref()
        .and_then(|book| book.available_in(regions, skus))
    {
        return Ok((Some(generation), rows));
    }
    let mut conn = state.store.pool.acquire().await?;
    Ok((
        None,
        inventory::available_in(&mut conn, regions, skus).await?,
    ))
}

fn warehouses_from(rows: Vec<CandidateStock>) -> Vec<Warehouse> {
    let mut warehouses: BTreeMap<String, Warehouse> = BTreeMap::new();
    for (id, region, level, sku, available) in rows {
        let level = match level.as_str() {
            "hq" => WarehouseLevel::Hq,
            _ => WarehouseLevel::Region,
        };
        let warehouse = warehouses.entry(id.clone()).or_insert_with(|| Warehouse {
            id,
            region,
            level,
            available: BTreeMap::new(),
        });
        warehouse
            .available
            .insert(sku, available.clamp(0, u32::MAX as i64) as u32);
    }
    warehouses.into_values().collect()
}

/// Runs the pipeline off the async threads: plugin calls are CPU work.
async fn evaluate(state: &AppState, context: OrderContext) -> ApiResult<(Decision, OrderContext)> {
    // The set is held for the whole evaluation: a deployment landing
    // meanwhile takes the next order, not half of this one.
    let policies = state.policies.current();
    let (decision, context, policies) = tokio::task::spawn_blocking(move || {
        let decision = policies.evaluate(&context);
        (decision, context, policies)
    })
    .await
    .map_err(|err| ApiError::Internal(format!("pipeline task: {err}")))?;
    let decision = decision.map_err(|err| ApiError::invalid("/", err.to_string()))?;
    state.metrics.record_plugin_calls(&decision);
    state.deployments.shadow(&policies, &context, &decision);
    Ok((decision, context))
}

fn rejected(decision: &Decision) -> ApiError {
    let reasons = decision
        .reasons
        .iter()
        .map(|r| format!("{}: {}", r.code, r.message))
        .collect::<Vec<_>>()
        .join("; ");
    ApiError::Unprocessable {
        detail: format!("order rejected by the region's policy: {reasons}"),
        problems: Vec::new(),
        extra: Some(serde_json::json!({ "reasons": decision.reasons, "decision": decision })),
    }
}

fn new_order(
    context: &OrderContext,
    decision: &Decision,
    book_generation: Option<u64>,
    idempotency_key: &str,
    request_hash: &str,
    actor: &str,
) -> ApiResult<NewOrder> {
    let order = &context.order;
    let mut lines: Vec<NewLine> = decision
        .lines
        .iter()
        .map(|line| NewLine {
            line_no: line.line_no,
            sku: line.sku.clone(),
            quantity: line.quantity,
            unit_price: line.unit_price,
            discount: line.discount,
            amount: line.amount - line.discount,
            free: false,
            promotion_id: None,
        })
        .collect();
    lines.extend(decision.free_goods.iter().map(|free| NewLine {
        line_no: free.line_no,
        sku: free.sku.clone(),
        quantity: free.quantity,
        unit_price: 0,
        discount: 0,
        amount: 0,
        free: true,
        promotion_id: Some(free.promotion_id.clone()),
    }));
    let plan = decision.sourcing.as_ref();
    let mut allocations: BTreeMap<(String, String), u32> = BTreeMap::new();
    for a in plan.map(|p| p.allocations.as_slice()).unwrap_or_default() {
        *allocations
            .entry((a.warehouse_id.clone(), a.sku.clone()))
            .or_default() += a.quantity;
    }
    let mut backorders: BTreeMap<String, u32> = BTreeMap::new();
    for b in plan.map(|p| p.backorders.as_slice()).unwrap_or_default() {
        *backorders.entry(b.sku.clone()).or_default() += b.quantity;
    }
    let status = match decision.status {
        DecisionStatus::Accepted if backorders.is_empty() => OrderStatus::Approved,
        _ => OrderStatus::PendingReview,
    };
    // A backorder holds the order too; say so next to the policy's reasons.
    let mut reasons = decision.reasons.clone();
    if !backorders.is_empty() {
        let short = backorders
            .iter()
            .map(|(sku, q)| format!("{q} × {sku}"))
            .collect::<Vec<_>>()
            .join(", ");
        reasons.push(Reason {
            code: "backorder".into(),
            message: format!("available stock does not cover {short}; held for review"),
        });
    }
    Ok(NewOrder {
        id: order.id.clone(),
        dealer_id: order.dealer_id.clone(),
        region: order.region.clone(),
        ship_to: order.ship_to.clone(),
        order_type: order.order_type,
        urgency: order.urgency,
        status,
        placed_at: order.placed_at,
        subtotal: decision.totals.subtotal,
        discount: decision.totals.line_discounts + decision.totals.order_discounts,
        total: decision.totals.total,
        priority: plan.map_or(0, |p| p.priority as i64),
        reasons_json: to_json(&reasons)?,
        decision_json: to_json(decision)?,
        context_json: to_json(context)?,
        idempotency_key: idempotency_key.to_string(),
        request_hash: request_hash.to_string(),
        placed_by: actor.to_string(),
        lines,
        allocations: allocations
            .into_iter()
            .map(|((warehouse_id, sku), quantity)| NewAllocation {
                warehouse_id,
                sku,
                quantity,
            })
            .collect(),
        backorders: backorders.into_iter().collect(),
        book_generation,
    })
}

/// JSON text for a TEXT column.
fn to_json<T: serde::Serialize>(value: &T) -> ApiResult<String> {
    serde_json::to_string(value).map_err(|err| ApiError::Internal(format!("serialising: {err}")))
}
