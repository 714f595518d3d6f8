//! The stock alert scanner. Per region × SKU, over the region's own
//! regional warehouses (dealer and store stock is the dealers'; HQ's is
//! HQ's), it compares available stock with the summed targets and with
//! demand, and keeps one open alert per condition:
//!
//! - `safety_stock`: available < `safety_stock_bp` of target;
//! - `slow_moving`: days of cover (available ÷ daily demand) above
//!   `slow_moving_days`;
//! - `shortfall_transfer`: (target − available) ÷ target above
//!   `shortfall_transfer_bp`, with a transfer drafted (status `draft`) from
//!   the neighbouring regional warehouse with the largest surplus over its
//!   own target, for HQ to approve — never while another transfer of that
//!   SKU into the region is under way;
//! - `production`: a sourcing plugin signalled a production alert on an
//!   order placed since the previous scan.
//!
//! Daily demand is the region's ordered cases of the last 30 days ÷ 30 once
//! the region has 30 days of order history, and the stock rows' baseline
//! forecast before that (a few days of orders spread over 30 would call
//! everything slow-moving). Stock alerts resolve themselves when a later
//! scan finds the condition gone; production alerts stay until a person
//! resolves them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde::Serialize;

use crate::api::AppState;
use crate::policy::{Decision, Signal};
use crate::store::alerts::{self, AlertKind, NewAlert};
use crate::store::catalogue::WarehouseView;
use crate::store::inventory::{self, StockFilter, StockRow};
use crate::store::transfers::{self, TransferLine, TransferStatus};
use crate::store::{StoreResult, decode_enum, now_ms};

/// Alert thresholds, from domain.md's reference figures unless HQ sets its own.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// Safety stock: available below this share of target (basis points).
    pub safety_stock_bp: u32,
    /// Slow-moving: more days of cover than this.
    pub slow_moving_days: u32,
    /// Shortfall that drafts a cross-region transfer plan (basis points).
    pub shortfall_transfer_bp: u32,
    /// How often the scanner runs.
    pub scan_interval_ms: u64,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            safety_stock_bp: 3000,
            slow_moving_days: 60,
            shortfall_transfer_bp: 2000,
            scan_interval_ms: 60_000,
        }
    }
}

impl AlertSettings {
    /// HQ's thresholds (hq.toml `[alerts]`), domain.md's figures by default.
    pub fn from_hq(hq: &crate::config::HqFile) -> Self {
        let a = &hq.alerts;
        AlertSettings {
            safety_stock_bp: a.safety_stock_bp,
            slow_moving_days: a.slow_moving_days,
            shortfall_transfer_bp: a.shortfall_transfer_bp,
            scan_interval_ms: a.scan_interval_ms,
        }
    }

    /// Available below the safety share of a (positive) target.
    pub fn below_safety(&self, available: i64, target: i64) -> bool {
        target > 0
            && i128::from(available) * 10_000
                < i128::from(target) * i128::from(self.safety_stock_bp)
    }

    /// More days of cover than the limit; stock with no demand at all is
    /// slow-moving as soon as there is any.
    pub fn slow_moving(&self, available: i64, cover: Option<f64>) -> bool {
        match cover {
            Some(days) => days > f64::from(self.slow_moving_days),
            None => available > 0,
        }
    }

    /// Short of a (positive) target by more than the transfer share.
    pub fn needs_transfer(&self, available: i64, target: i64) -> bool {
        target > 0
            && i128::from(shortfall(available, target)) * 10_000
                > i128::from(target) * i128::from(self.shortfall_transfer_bp)
    }
}

/// Days the available stock lasts at `daily_demand`; `None` without demand.
pub fn days_of_cover(available: i64, daily_demand: f64) -> Option<f64> {
    (daily_demand > 0.0).then(|| available.max(0) as f64 / daily_demand)
}

/// Cases missing to reach target (0 when at or above it).
pub fn shortfall(available: i64, target: i64) -> i64 {
    (target - available).max(0)
}

/// Days of order history that replace the baseline demand forecast.
pub const DEMAND_WINDOW_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;
/// Orders placed this long before the previous scan started are looked at
/// again, so one committed while that scan ran is not missed.
const SIGNAL_OVERLAP_MS: i64 = 10_000;

/// What one scan did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ScanSummary {
    pub started_at: i64,
    pub finished_at: i64,
    /// Region × SKU pairs looked at.
    pub pairs: usize,
    /// Alerts newly raised, by kind.
    pub raised: BTreeMap<&'static str, usize>,
    /// Alerts resolved because their condition cleared.
    pub resolved: usize,
    /// Transfers drafted for HQ's approval.
    pub transfers_drafted: Vec<String>,
    /// Orders whose production signals were read.
    pub orders_with_production_signals: usize,
    /// Open alerts after the scan, by kind.
    pub open: BTreeMap<&'static str, usize>,
}

/// One region × SKU: the region's regional warehouses summed.
#[derive(Debug, Default)]
struct Pair {
    available: i64,
    target: i64,
    baseline_demand: i64,
}

/// Runs one scan: raise, resolve, draft.
pub async fn scan(state: &AppState) -> StoreResult<ScanSummary> {
    let settings = &state.alerts;
    let started_at = now_ms();
    let mut summary = ScanSummary {
        started_at,
        ..ScanSummary::default()
    };

    // Everything is read first, outside the transaction; the writes that
    // follow are each guarded by the database (unique open alert, claimed
    // transfer link), so a concurrent scan elsewhere cannot double them.
    let mut conn = state.store.pool.acquire().await?;
    let rows = inventory::stock(
        &mut conn,
        &StockFilter {
            level: Some("region"),
            ..StockFilter::default()
        },
    )
    .await?;
    let mut pairs: BTreeMap<(String, String), Pair> = BTreeMap::new();
    for row in &rows {
        let pair = pairs
            .entry((row.region.clone(), row.sku.clone()))
            .or_default();
        pair.available += row.available();
        pair.target += row.target;
        pair.baseline_demand += row.daily_demand;
    }
    summary.pairs = pairs.len();
    let window_start = started_at - DEMAND_WINDOW_DAYS * DAY_MS;
    let full_history: BTreeSet<String> = alerts::first_orders(&mut conn)
        .await?
        .into_iter()
        .filter(|(_, first)| *first <= window_start)
        .map(|(region, _)| region)
        .collect();
    let ordered: HashMap<(String, String), i64> = if full_history.is_empty() {
        HashMap::new()
    } else {
        alerts::ordered_since(&mut conn, window_start)
            .await?
            .into_iter()
            .map(|(region, sku, cases)| ((region, sku), cases))
            .collect()
    };
    let open = alerts::open(&mut conn).await?;
    let open_keys: HashMap<&str, &alerts::AlertView> =
        open.iter().map(|a| (a.dedupe_key.as_str(), a)).collect();
    let mut transfers_under_way: BTreeSet<(String, String)> =
        transfers::open_destinations(&mut conn)
            .await?
            .into_iter()
            .collect();
    let since = alerts::last_scan_started(&mut conn)
        .await?
        .map(|last| last - SIGNAL_OVERLAP_MS)
        .unwrap_or(started_at - settings.scan_interval_ms as i64);
    let signalled = alerts::production_signals_since(&mut conn, since).await?;
    drop(conn);

    // What should be open now.
    let mut wanted: Vec<NewAlert> = Vec::new();
    for ((region, sku), pair) in &pairs {
        let demand = if full_history.contains(region) {
            ordered
                .get(&(region.clone(), sku.clone()))
                .copied()
                .unwrap_or(0) as f64
                / DEMAND_WINDOW_DAYS as f64
        } else {
            pair.baseline_demand as f64
        };
        let cover = days_of_cover(pair.available, demand);
        let figures = serde_json::json!({
            "available": pair.available,
            "target": pair.target,
            "daily_demand": (demand * 100.0).round() / 100.0,
            "demand_source": if full_history.contains(region) { "orders_last_30_days" } else { "baseline" },
            "days_of_cover": cover.map(|d| (d * 10.0).round() / 10.0),
            "shortfall": shortfall(pair.available, pair.target),
        });
        let mut raise = |kind: AlertKind, message: String| {
            wanted.push(NewAlert {
                kind,
                region: region.clone(),
                sku: sku.clone(),
                message,
                details: figures.clone(),
            })
        };
        if settings.below_safety(pair.available, pair.target) {
            raise(
                AlertKind::SafetyStock,
                format!(
                    "{region} {sku}: {} available is below {}% of the target {}",
                    pair.available,
                    settings.safety_stock_bp / 100,
                    pair.target
                ),
            );
        }
        if settings.slow_moving(pair.available, cover) {
            let cover = cover.map_or("no demand".to_string(), |d| format!("{d:.0} days of cover"));
            raise(
                AlertKind::SlowMoving,
                format!(
                    "{region} {sku}: {} available is {cover} (limit {} days)",
                    pair.available, settings.slow_moving_days
                ),
            );
        }
        if settings.needs_transfer(pair.available, pair.target) {
            raise(
                AlertKind::ShortfallTransfer,
                format!(
                    "{region} {sku}: short {} of the target {} ({}%)",
                    shortfall(pair.available, pair.target),
                    pair.target,
                    shortfall(pair.available, pair.target) * 100 / pair.target
                ),
            );
        }
    }
    let wanted_keys: BTreeSet<String> = wanted
        .iter()
        .map(|a| a.kind.dedupe_key(&a.region, &a.sku))
        .collect();
    let production = production_alerts(&signalled, &mut summary);

    let mut tx = state.store.begin_write().await?;
    let at = now_ms();
    for alert in open
        .iter()
        .filter(|a| a.kind.is_stock() && !wanted_keys.contains(&a.dedupe_key))
    {
        if alerts::resolve(
            &mut tx,
            &alert.id,
            "system (alert scan)",
            "condition cleared",
            at,
        )
        .await?
        {
            summary.resolved += 1;
        }
    }
    // Surplus per regional warehouse, spent as transfers are drafted.
    let mut surplus: HashMap<(String, String), i64> = rows
        .iter()
        .map(|r| {
            (
                (r.warehouse_id.clone(), r.sku.clone()),
                r.available() - r.target,
            )
        })
        .collect();
    for alert in wanted.iter().chain(production.iter()) {
        let key = alert.kind.dedupe_key(&alert.region, &alert.sku);
        let alert_id = match open_keys.get(key.as_str()) {
            Some(existing)
                if existing.kind == AlertKind::ShortfallTransfer
                    && existing.transfer_id.is_none() =>
            {
                existing.id.clone()
            }
            Some(_) => continue,
            None => match alerts::raise(&mut tx, alert, at).await? {
                Some(id) => {
                    *summary.raised.entry(alert.kind.name()).or_default() += 1;
                    id
                }
                None => continue,
            },
        };
        if alert.kind != AlertKind::ShortfallTransfer
            || transfers_under_way.contains(&(alert.region.clone(), alert.sku.clone()))
        {
            continue;
        }
        let pair = &pairs[&(alert.region.clone(), alert.sku.clone())];
        let Some((source, quantity)) = pick_source(
            state,
            &rows,
            &pairs,
            &surplus,
            &alert.region,
            &alert.sku,
            pair,
        ) else {
            continue;
        };
        let Some(destination) = largest_shortfall(&rows, &alert.region, &alert.sku) else {
            continue;
        };
        let mut transfer = super::transfers::new_transfer(
            &state.brand,
            &warehouse_view(source),
            &warehouse_view(destination),
            vec![TransferLine {
                sku: alert.sku.clone(),
                quantity,
            }],
            TransferStatus::Draft,
            format!(
                "drafted by the alert scan for alert {alert_id}: {}",
                alert.message
            ),
            "system (alert scan)".to_string(),
            at,
        );
        transfer.alert_id = Some(alert_id.clone());
        if !alerts::claim_transfer(&mut tx, &alert_id, &transfer.id).await? {
            continue;
        }
        transfers::insert(&mut tx, &transfer).await?;
        *surplus
            .entry((source.warehouse_id.clone(), alert.sku.clone()))
            .or_default() -= quantity;
        transfers_under_way.insert((alert.region.clone(), alert.sku.clone()));
        summary.transfers_drafted.push(transfer.id);
    }
    summary.finished_at = now_ms();
    let mut counts = BTreeMap::new();
    for (_, kind, n) in alerts::open_counts(&mut tx, None).await? {
        let kind: AlertKind = decode_enum("alert kind", &kind)?;
        counts.insert(kind.name(), n as usize);
    }
    summary.open = counts;
    alerts::record_scan(
        &mut tx,
        started_at,
        summary.finished_at,
        &serde_json::to_value(&summary).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(summary)
}

/// The neighbouring regional warehouse with the largest surplus over its
/// own target, in a neighbour region that is not short itself, and how much
/// to take: the shortfall, or the surplus if smaller.
fn pick_source<'a>(
    state: &AppState,
    rows: &'a [StockRow],
    pairs: &BTreeMap<(String, String), Pair>,
    surplus: &HashMap<(String, String), i64>,
    region: &str,
    sku: &str,
    pair: &Pair,
) -> Option<(&'a StockRow, i64)> {
    let neighbours = &state.brand.regions.get(region)?.region.neighbours;
    let need = shortfall(pair.available, pair.target);
    rows.iter()
        .filter(|r| r.sku == sku)
        .filter_map(|r| {
            let rank = neighbours.iter().position(|n| *n == r.region)?;
            let theirs = pairs.get(&(r.region.clone(), sku.to_string()))?;
            let spare = surplus
                .get(&(r.warehouse_id.clone(), sku.to_string()))
                .copied()
                .unwrap_or(0);
            (theirs.available >= theirs.target && spare > 0).then_some((r, rank, spare))
        })
        // Largest surplus; among equals the nearer neighbour, then the id.
        .max_by(|a, b| {
            a.2.cmp(&b.2)
                .then(b.1.cmp(&a.1))
                .then(b.0.warehouse_id.cmp(&a.0.warehouse_id))
        })
        .map(|(r, _, spare)| (r, need.min(spare)))
        .filter(|(_, q)| *q > 0)
}

/// The region's regional warehouse furthest below its own target (where
/// the transferred stock is delivered).
fn largest_shortfall<'a>(rows: &'a [StockRow], region: &str, sku: &str) -> Option<&'a StockRow> {
    rows.iter()
        .filter(|r| r.region == region && r.sku == sku)
        .max_by(|a, b| {
            (a.target - a.available())
                .cmp(&(b.target - b.available()))
                .then(b.warehouse_id.cmp(&a.warehouse_id))
        })
}

fn warehouse_view(row: &StockRow) -> WarehouseView {
    WarehouseView {
        id: row.warehouse_id.clone(),
        name: row.warehouse_name.clone(),
        region: row.region.clone(),
        level: crate::domain::WarehouseLevel::Region,
        owner: None,
    }
}

/// Production alerts from the orders' sourcing signals, one per region ×
/// SKU, summing the orders' shortfalls.
fn production_alerts(signalled: &[(String, String)], summary: &mut ScanSummary) -> Vec<NewAlert> {
    #[derive(Default)]
    struct Demand {
        shortfall: u64,
        demand: u64,
        available: u32,
        lead_days: u32,
        orders: Vec<String>,
    }
    let mut by_pair: BTreeMap<(String, String), Demand> = BTreeMap::new();
    for (order_id, decision) in signalled {
        let Ok(decision) = serde_json::from_str::<Decision>(decision) else {
            tracing::warn!(
                order_id,
                "alert scan: unreadable decision; production signals skipped"
            );
            continue;
        };
        let signals = decision.sourcing.map(|s| s.signals).unwrap_or_default();
        let mut counted = false;
        for signal in signals {
            if let Signal::ProductionAlert {
                sku,
                region,
                shortfall,
                demand,
                available,
                suggested_lead_days,
            } = signal
            {
                let d = by_pair.entry((region, sku)).or_default();
                d.shortfall += u64::from(shortfall);
                d.demand += u64::from(demand);
                d.available = available;
                d.lead_days = d.lead_days.max(suggested_lead_days);
                d.orders.push(order_id.clone());
                counted = true;
            }
        }
        summary.orders_with_production_signals += usize::from(counted);
    }
    by_pair
        .into_iter()
        .map(|((region, sku), d)| NewAlert {
            message: format!(
                "{region} {sku}: orders need {} cases more than the {} available; produce {} (suggested lead time {} days)",
                d.shortfall, d.available, d.shortfall, d.lead_days
            ),
            details: serde_json::json!({
                "quantity": d.shortfall,
                "demand": d.demand,
                "available": d.available,
                "suggested_lead_days": d.lead_days,
                "orders": d.orders,
            }),
            kind: AlertKind::Production,
            region,
            sku,
        })
        .collect()
}

/// Starts the periodic alert scan: once now, then every `scan_interval_ms`.
/// A failed scan is logged and the next one runs as planned.
pub fn spawn_scanner(state: AppState) {
    let interval = Duration::from_millis(state.alerts.scan_interval_ms.max(1_000));
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match scan(&state).await {
                Ok(s) => tracing::info!(
                    raised = ?s.raised,
                    resolved = s.resolved,
                    drafted = s.transfers_drafted.len(),
                    "alert scan"
                ),
                Err(err) => {
                    tracing::error!(error = %err, "alert scan failed; retrying at the next interval")
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> AlertSettings {
        AlertSettings::default()
    }

    #[test]
    fn safety_stock_is_strictly_below_thirty_percent() {
        let s = reference();
        assert!(s.below_safety(29, 100));
        assert!(!s.below_safety(30, 100));
        assert!(!s.below_safety(0, 0), "no target, no alert");
    }

    #[test]
    fn shortfall_transfer_is_strictly_above_twenty_percent() {
        let s = reference();
        assert!(!s.needs_transfer(80, 100));
        assert!(s.needs_transfer(79, 100));
        assert!(!s.needs_transfer(150, 100));
        assert_eq!(shortfall(150, 100), 0);
        assert_eq!(shortfall(60, 100), 40);
    }

    #[test]
    fn days_of_cover_divides_available_by_demand() {
        assert_eq!(days_of_cover(120, 2.0), Some(60.0));
        assert_eq!(days_of_cover(10, 0.0), None);
        assert_eq!(days_of_cover(-5, 1.0), Some(0.0));
        let s = reference();
        assert!(
            !s.slow_moving(120, days_of_cover(120, 2.0)),
            "exactly 60 days is not above 60"
        );
        assert!(s.slow_moving(122, days_of_cover(122, 2.0)));
        assert!(s.slow_moving(1, None), "stock nobody orders is slow-moving");
        assert!(!s.slow_moving(0, None));
    }

    #[test]
    fn production_signals_are_summed_per_region_and_sku() {
        let decision = |order: &str, shortfall: u32, lead: u32| {
            let plan = serde_json::json!({
                "allocations": [], "backorders": [], "priority": 0, "priority_reasons": [],
                "signals": [{"type": "production_alert", "sku": "BJ-018", "region": "js", "shortfall": shortfall,
                             "demand": shortfall + 10, "available": 10, "suggested_lead_days": lead}]
            });
            let decision = serde_json::json!({
                "order_id": order, "region": "js", "status": "accepted", "reasons": [], "lines": [],
                "free_goods": [], "adjustments": [],
                "totals": {"subtotal": 0, "line_discounts": 0, "order_discounts": 0, "total": 0},
                "sourcing": plan, "trace": {"steps": [], "total_us": 0}
            });
            (order.to_string(), decision.to_string())
        };
        let mut summary = ScanSummary::default();
        let alerts = production_alerts(
            &[decision("A", 50, 14), decision("B", 30, 21)],
            &mut summary,
        );
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].details["quantity"], 80);
        assert_eq!(alerts[0].details["suggested_lead_days"], 21);
        assert_eq!(summary.orders_with_production_signals, 2);
    }
}
