//! Near-expiry clearance (临期清仓) for one region: HQ flags production
//! lots that near their best-before date; this promotion takes a
//! percentage off every order line of a flagged product, more the nearer
//! the date, so that the region moves the stock while it can still sell.
//!
//! - Only orders placed with the configured `region` get it.
//! - Only products with a lot in `near_expiry_lots` get it; when a product
//!   has several, the line is priced on the one with the earliest
//!   best-before date, which warehouses ship first (first expired, first
//!   out).
//! - Days left are whole days from the order's `placed_at` to the lot's
//!   `best_before`; the step is the one nearest the date that the lot has
//!   reached. A lot past its date gets nothing (and a warning in the
//!   trace): it is not for sale, at a discount or otherwise.
//! - The discount is `off_bp` of the line's amount, rounded half away from
//!   zero, never more than the line.

mod config;
mod dates;

use chanhost_sdk::log::{debug, info, warn};
use chanhost_sdk::money::{percent_of, push_yuan, yuan};
use chanhost_sdk::promotion::{
    Adjustment, AdjustmentKind, LineDiscount, NearExpiryLot, Promotion, PromotionInput,
};
use chanhost_sdk::text::push_int;
use chanhost_sdk::{ConfigError, Fen, Plugin, PluginError};

pub use config::{Config, Step};
use dates::{days_left, iso_date};

pub struct NearExpiryClearance;

impl Plugin for NearExpiryClearance {
    type Config = Config;
    const NAME: &'static str = "near-expiry-clearance";
    const VERSION: &'static str = "1.0.0";
    const SUMMARY: &'static str = "A percentage off the lines of lots flagged near expiry, rising as the best-before date nears, for one region.";

    fn validate(config: &Config) -> Vec<ConfigError> {
        config.problems()
    }
}

impl Promotion for NearExpiryClearance {
    fn apply(config: &Config, input: PromotionInput) -> Result<Vec<Adjustment>, PluginError> {
        if input.order.region != config.region {
            debug(&format!(
                "order of region {}; this clearance is for {}",
                input.order.region, config.region
            ));
            return Ok(Vec::new());
        }
        let first_out = first_out_lots(&input.near_expiry_lots, input.products.len());
        let placed_at = input.order.placed_at;
        let mut adjustments = Vec::new();
        let mut total: Fen = 0;
        for line in &input.lines {
            let Some(lot) = first_out.get(line.product as usize).copied().flatten() else {
                continue;
            };
            let sku = &input.products[line.product as usize].sku;
            let Some(days) = days_left(placed_at, lot.best_before) else {
                warn(&format!(
                    "line {}: lot {} of {sku} was best before {}, before the order: no clearance",
                    line.line_no,
                    lot.lot,
                    iso_date(lot.best_before)
                ));
                continue;
            };
            let Some(step) = config.step_for(days) else {
                debug(&format!(
                    "line {}: lot {} of {sku} has {days} days left, more than any step",
                    line.line_no, lot.lot
                ));
                continue;
            };
            let amount = line.amount.max(0);
            let off = percent_of(amount, step.off_bp as i32).clamp(0, amount);
            if off == 0 {
                continue;
            }
            total = total.saturating_add(off);
            adjustments.push(Adjustment {
                promotion_id: config.promotion_id.clone(),
                kind: AdjustmentKind::LineDiscount(LineDiscount {
                    line_no: line.line_no,
                    amount: off,
                }),
                description: describe(config, lot, sku, days, step, line.line_no, amount, off),
            });
        }
        if !adjustments.is_empty() {
            info(&format!(
                "{}: {} line(s) of near-expiry lots, {} off",
                config.promotion_id,
                adjustments.len(),
                yuan(total)
            ));
        }
        Ok(adjustments)
    }
}

/// Per input product (same index), its flagged lot with the earliest
/// best-before date (the first listed on a tie). Lots of products that are
/// not in the input are left out.
fn first_out_lots(lots: &[NearExpiryLot], products: usize) -> Vec<Option<&NearExpiryLot>> {
    let mut first: Vec<Option<&NearExpiryLot>> = vec![None; products];
    for lot in lots {
        match first.get_mut(lot.product as usize) {
            Some(slot) if slot.is_none_or(|kept| lot.best_before < kept.best_before) => {
                *slot = Some(lot)
            }
            Some(_) => {}
            None => debug(&format!(
                "lot {} refers to product {}, which is not in the input",
                lot.lot, lot.product
            )),
        }
    }
    first
}

/// "临期清仓: lot L20250311 of BJ-500 best before 2025-04-10, 28 days left:
/// 25% off line 1 of ¥3,000.00 = ¥750.00".
#[allow(clippy::too_many_arguments)]
fn describe(
    config: &Config,
    lot: &NearExpiryLot,
    sku: &str,
    days: u64,
    step: &Step,
    line_no: u32,
    amount: Fen,
    off: Fen,
) -> String {
    let mut why = String::with_capacity(128);
    why.push_str(config.label());
    why.push_str(": lot ");
    why.push_str(&lot.lot);
    why.push_str(" of ");
    why.push_str(sku);
    why.push_str(" best before ");
    why.push_str(&iso_date(lot.best_before));
    why.push_str(", ");
    push_int(&mut why, days as i64);
    why.push_str(if days == 1 {
        " day left: "
    } else {
        " days left: "
    });
    why.push_str(&percent(step.off_bp));
    why.push_str(" off line ");
    push_int(&mut why, line_no);
    why.push_str(" of ");
    push_yuan(&mut why, amount);
    why.push_str(" = ");
    push_yuan(&mut why, off);
    why
}

/// 2500 → "25%", 1250 → "12.5%", 5 → "0.05%".
fn percent(bp: u32) -> String {
    let mut out = String::with_capacity(8);
    push_int(&mut out, bp / 100);
    if !bp.is_multiple_of(100) {
        out.push('.');
        out.push(char::from(b'0' + (bp % 100 / 10) as u8));
        if !bp.is_multiple_of(10) {
            out.push(char::from(b'0' + (bp % 10) as u8));
        }
    }
    out.push('%');
    out
}

chanhost_sdk::export_promotion!(NearExpiryClearance);

#[cfg(test)]
mod tests;
