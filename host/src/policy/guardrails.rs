//! HQ's guardrails: rules no plugin output may break, checked by the host
//! on every output. A finding makes the output a plugin fault.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::types::{Adjustment, AdjustmentKind, PricedLine, SourcingPlan};
use crate::domain::{Fen, Order, Product, Warehouse};

/// HQ's limits on prices and promotions, set in `hq.toml` under `[hq]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Guardrails {
    /// Unit prices must stay within base ± this many basis points.
    pub price_band_bp: i32,
    /// All promotions together may take at most this share of the subtotal.
    pub max_discount_bp: i32,
    /// Free goods (valued at base price) may be worth at most this share of
    /// the subtotal.
    pub max_free_goods_bp: i32,
}

impl Default for Guardrails {
    fn default() -> Self {
        Guardrails {
            price_band_bp: 1_000,
            max_discount_bp: 3_000,
            max_free_goods_bp: 2_000,
        }
    }
}

/// Where an order stands when a promotion plugin's output is checked.
#[derive(Debug, Clone, Default)]
pub struct PromotedSoFar {
    /// What each line is still worth after earlier line discounts.
    pub line_amounts: BTreeMap<u32, Fen>,
    /// The order before any promotion.
    pub subtotal: Fen,
    /// Line and order discounts given by earlier promotions.
    pub discount: Fen,
    /// Free goods given by earlier promotions, at base price.
    pub free_goods: Fen,
}

impl Guardrails {
    /// The lowest and highest unit price HQ allows for a base price.
    pub fn band(&self, base_price: Fen) -> (Fen, Fen) {
        let delta = bp_of(base_price, self.price_band_bp);
        (base_price - delta, base_price + delta)
    }

    pub fn max_discount(&self, subtotal: Fen) -> Fen {
        bp_of(subtotal, self.max_discount_bp)
    }

    pub fn max_free_goods(&self, subtotal: Fen) -> Fen {
        bp_of(subtotal, self.max_free_goods_bp)
    }

    /// Pricing: exactly one price per order line, each inside the band.
    pub fn check_prices(
        &self,
        order: &Order,
        products: &BTreeMap<String, Product>,
        lines: &[PricedLine],
    ) -> Vec<String> {
        let mut findings = Vec::new();
        let mut priced: HashMap<u32, &PricedLine> = HashMap::new();
        for line in lines {
            if priced.insert(line.line_no, line).is_some() {
                findings.push(format!("line {} priced twice", line.line_no));
            }
            if !order.lines.iter().any(|l| l.line_no == line.line_no) {
                findings.push(format!("priced line {} is not in the order", line.line_no));
            }
        }
        for line in &order.lines {
            let Some(priced) = priced.get(&line.line_no) else {
                findings.push(format!("line {} ({}) has no price", line.line_no, line.sku));
                continue;
            };
            let Some(product) = products.get(&line.sku) else {
                continue;
            };
            let (floor, ceiling) = self.band(product.base_price);
            if priced.unit_price < 0 {
                findings.push(format!(
                    "line {}: negative unit price {}",
                    line.line_no, priced.unit_price
                ));
            } else if priced.unit_price < floor || priced.unit_price > ceiling {
                findings.push(format!(
                    "line {} ({}): unit price {} is outside HQ's band {}..={} (base {} ± {} bp)",
                    line.line_no,
                    line.sku,
                    priced.unit_price,
                    floor,
                    ceiling,
                    product.base_price,
                    self.price_band_bp
                ));
            }
        }
        findings
    }

    /// Promotions: amounts positive, lines real, nothing below zero, total
    /// discount and free goods under HQ's caps, counting what earlier
    /// promotions already gave.
    pub fn check_adjustments(
        &self,
        adjustments: &[Adjustment],
        so_far: &PromotedSoFar,
        products: &BTreeMap<String, Product>,
        listed: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        let mut findings = Vec::new();
        let subtotal = so_far.subtotal;
        let mut remaining = so_far.line_amounts.clone();
        let mut discount = so_far.discount;
        let mut free_goods = so_far.free_goods;
        for adjustment in adjustments {
            let id = &adjustment.promotion_id;
            if id.trim().is_empty() {
                findings.push("an adjustment has no promotion id".into());
            }
            match &adjustment.kind {
                AdjustmentKind::LineDiscount { line_no, amount } => match remaining.get_mut(line_no) {
                    None => findings.push(format!("{id}: discount on line {line_no}, which is not in the order")),
                    Some(_) if *amount <= 0 => findings.push(format!("{id}: line discount {amount} is not positive")),
                    Some(left) if *amount > *left => findings.push(format!(
                        "{id}: discount {amount} on line {line_no} would take it below zero ({left} left)"
                    )),
                    Some(left) => {
                        *left -= amount;
                        discount += amount;
                    }
                },
                AdjustmentKind::OrderDiscount { amount } => {
                    if *amount <= 0 {
                        findings.push(format!("{id}: order discount {amount} is not positive"));
                    } else {
                        discount += amount;
                    }
                }
                AdjustmentKind::FreeGoods { sku, quantity } => match products.get(sku) {
                    None => findings.push(format!("{id}: free goods of unknown SKU {sku}")),
                    Some(_) if !listed(sku) => findings.push(format!("{id}: free goods SKU {sku} is not listed in this region")),
                    Some(_) if *quantity == 0 => findings.push(format!("{id}: free goods of zero cases")),
                    Some(product) => free_goods += product.base_price.saturating_mul(i64::from(*quantity)),
                },
            }
        }
        if discount > subtotal {
            findings.push(format!("discounts {discount} exceed the order subtotal {subtotal}: the order would go below zero"));
        } else if discount > self.max_discount(subtotal) {
            findings.push(format!(
                "discounts {discount} exceed HQ's maximum of {} bp of the subtotal ({})",
                self.max_discount_bp,
                self.max_discount(subtotal)
            ));
        }
        if free_goods > self.max_free_goods(subtotal) {
            findings.push(format!(
                "free goods worth {free_goods} exceed HQ's maximum of {} bp of the subtotal ({})",
                self.max_free_goods_bp,
                self.max_free_goods(subtotal)
            ));
        }
        findings
    }

    /// Sourcing: real warehouses, never above available stock, and every
    /// demanded case either allocated or explicitly backordered.
    pub fn check_sourcing(
        &self,
        plan: &SourcingPlan,
        demand: &BTreeMap<String, u64>,
        warehouses: &[Warehouse],
    ) -> Vec<String> {
        // Every order is checked and almost every plan is sound: prove
        // that cheaply first, and list the findings only when it fails.
        if sourcing_is_sound(plan, demand, warehouses) {
            return Vec::new();
        }
        self.check_sourcing_in_full(plan, demand, warehouses)
    }

    /// [`Guardrails::check_sourcing`] without the quick proof.
    fn check_sourcing_in_full(
        &self,
        plan: &SourcingPlan,
        demand: &BTreeMap<String, u64>,
        warehouses: &[Warehouse],
    ) -> Vec<String> {
        let mut findings = Vec::new();
        let by_id: HashMap<&str, &Warehouse> =
            warehouses.iter().map(|w| (w.id.as_str(), w)).collect();
        let mut taken: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        let mut covered: BTreeMap<&str, u64> = BTreeMap::new();
        for allocation in &plan.allocations {
            if allocation.quantity == 0 {
                findings.push(format!(
                    "allocation of zero cases of {} from {}",
                    allocation.sku, allocation.warehouse_id
                ));
            }
            if !by_id.contains_key(allocation.warehouse_id.as_str()) {
                findings.push(format!(
                    "allocation to unknown warehouse {}",
                    allocation.warehouse_id
                ));
                continue;
            }
            *taken
                .entry((&allocation.warehouse_id, &allocation.sku))
                .or_default() += u64::from(allocation.quantity);
            *covered.entry(&allocation.sku).or_default() += u64::from(allocation.quantity);
        }
        for ((warehouse, sku), quantity) in &taken {
            let available = by_id[warehouse].available.get(*sku).copied().unwrap_or(0);
            if *quantity > u64::from(available) {
                findings.push(format!("{quantity} cases of {sku} allocated from {warehouse}, which has {available} available"));
            }
        }
        for backorder in &plan.backorders {
            *covered.entry(&backorder.sku).or_default() += u64::from(backorder.quantity);
        }
        for (sku, wanted) in demand {
            let got = covered.get(sku.as_str()).copied().unwrap_or(0);
            if got != *wanted {
                findings.push(format!(
                    "{sku}: {wanted} cases ordered but {got} allocated or backordered"
                ));
            }
        }
        for sku in covered.keys() {
            if !demand.contains_key(*sku) {
                findings.push(format!("{sku} allocated but not ordered"));
            }
        }
        findings
    }
}

/// Whether [`Guardrails::check_sourcing`] finds nothing in `plan`, decided
/// with sorted vectors instead of maps. `false` only means the full check
/// must run (it names the findings).
fn sourcing_is_sound(
    plan: &SourcingPlan,
    demand: &BTreeMap<String, u64>,
    warehouses: &[Warehouse],
) -> bool {
    // (warehouse, SKU, cases) per allocation, then summed per pair.
    let mut taken: Vec<(usize, &str, u64)> = Vec::with_capacity(plan.allocations.len());
    for a in &plan.allocations {
        let Some(w) = warehouses.iter().position(|w| w.id == a.warehouse_id) else {
            return false;
        };
        if a.quantity == 0 {
            return false;
        }
        taken.push((w, &a.sku, u64::from(a.quantity)));
    }
    taken.sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
    for run in taken.chunk_by(|x, y| x.0 == y.0 && x.1 == y.1) {
        let (w, sku, _) = run[0];
        let quantity: u64 = run.iter().map(|t| t.2).sum();
        let available = warehouses[w].available.get(sku).copied().unwrap_or(0);
        if quantity > u64::from(available) {
            return false;
        }
    }
    // Cases allocated or backordered per SKU must be exactly the demand.
    let mut covered: Vec<(&str, u64)> = taken.iter().map(|t| (t.1, t.2)).collect();
    covered.extend(
        plan.backorders
            .iter()
            .map(|b| (b.sku.as_str(), u64::from(b.quantity))),
    );
    covered.sort_unstable_by(|x, y| x.0.cmp(y.0));
    let mut covered = covered
        .chunk_by(|x, y| x.0 == y.0)
        .map(|run| (run[0].0, run.iter().map(|c| c.1).sum::<u64>()));
    let mut demand = demand.iter();
    loop {
        match (covered.next(), demand.next()) {
            (None, None) => return true,
            (Some((sku, got)), Some((wanted_sku, wanted)))
                if sku == wanted_sku && got == *wanted => {}
            _ => return false,
        }
    }
}

/// `bp` basis points of `amount`, rounded toward zero (a band never grows
/// by rounding).
fn bp_of(amount: Fen, bp: i32) -> Fen {
    (i128::from(amount) * i128::from(bp) / 10_000) as Fen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::WarehouseLevel;
    use crate::policy::types::{Allocation, Backorder};

    fn product(sku: &str, base: Fen) -> Product {
        Product {
            sku: sku.into(),
            name: sku.into(),
            category: "baijiu".into(),
            pack_size: 6,
            base_price: base,
            new_product: false,
            restricted_to_regions: vec![],
            near_expiry_lots: vec![],
        }
    }

    #[test]
    fn band_is_base_plus_minus_ten_percent() {
        assert_eq!(Guardrails::default().band(100_000), (90_000, 110_000));
    }

    #[test]
    fn discounts_over_the_cap_or_below_zero_are_findings() {
        let g = Guardrails::default();
        let so_far = PromotedSoFar {
            line_amounts: BTreeMap::from([(1, 10_000)]),
            subtotal: 10_000,
            ..Default::default()
        };
        let products = BTreeMap::from([("A".to_string(), product("A", 1_000))]);
        let adj = |kind| Adjustment {
            promotion_id: "p".into(),
            kind,
            description: String::new(),
        };
        let ok = [adj(AdjustmentKind::LineDiscount {
            line_no: 1,
            amount: 2_000,
        })];
        assert!(
            g.check_adjustments(&ok, &so_far, &products, |_| true)
                .is_empty()
        );
        let too_much = [adj(AdjustmentKind::OrderDiscount { amount: 3_001 })];
        assert_eq!(
            g.check_adjustments(&too_much, &so_far, &products, |_| true)
                .len(),
            1
        );
        let below_zero = [adj(AdjustmentKind::LineDiscount {
            line_no: 1,
            amount: 10_001,
        })];
        assert!(
            g.check_adjustments(&below_zero, &so_far, &products, |_| true)[0]
                .contains("below zero")
        );
        let free = [adj(AdjustmentKind::FreeGoods {
            sku: "A".into(),
            quantity: 3,
        })];
        assert!(g.check_adjustments(&free, &so_far, &products, |_| true)[0].contains("free goods"));
    }

    #[test]
    fn sourcing_must_cover_exactly_from_real_stock() {
        let g = Guardrails::default();
        let warehouses = vec![Warehouse {
            id: "W1".into(),
            region: "r01".into(),
            level: WarehouseLevel::Region,
            available: BTreeMap::from([("A".to_string(), 5)]),
        }];
        let demand = BTreeMap::from([("A".to_string(), 8)]);
        let plan = |allocations: Vec<(&str, u32)>, backorder: u32| SourcingPlan {
            allocations: allocations
                .into_iter()
                .map(|(w, q)| Allocation {
                    warehouse_id: w.into(),
                    sku: "A".into(),
                    quantity: q,
                })
                .collect(),
            backorders: if backorder > 0 {
                vec![Backorder {
                    sku: "A".into(),
                    quantity: backorder,
                }]
            } else {
                vec![]
            },
            priority: 0,
            priority_reasons: vec![],
            signals: vec![],
        };
        assert!(
            g.check_sourcing(&plan(vec![("W1", 5)], 3), &demand, &warehouses)
                .is_empty()
        );
        assert!(
            !g.check_sourcing(&plan(vec![("W1", 8)], 0), &demand, &warehouses)
                .is_empty()
        );
        assert!(
            !g.check_sourcing(&plan(vec![("W9", 5)], 3), &demand, &warehouses)
                .is_empty()
        );
        assert!(
            !g.check_sourcing(&plan(vec![("W1", 5)], 0), &demand, &warehouses)
                .is_empty()
        );
        // Split allocations are summed per warehouse and SKU.
        assert!(
            g.check_sourcing(&plan(vec![("W1", 2), ("W1", 3)], 3), &demand, &warehouses)
                .is_empty()
        );
        assert!(
            !g.check_sourcing(&plan(vec![("W1", 3), ("W1", 3)], 2), &demand, &warehouses)
                .is_empty()
        );
        assert!(
            !g.check_sourcing(&plan(vec![("W1", 5), ("W1", 0)], 3), &demand, &warehouses)
                .is_empty()
        );
        // A SKU not ordered, even backordered at zero, is a finding.
        let mut extra = plan(vec![("W1", 5)], 3);
        extra.backorders.push(Backorder {
            sku: "B".into(),
            quantity: 0,
        });
        assert!(!g.check_sourcing(&extra, &demand, &warehouses).is_empty());
    }

    /// The quick proof and the full check agree on every plan tried.
    #[test]
    fn the_quick_sourcing_proof_agrees_with_the_full_check() {
        let warehouses: Vec<Warehouse> = ["W1", "W2"]
            .iter()
            .map(|id| Warehouse {
                id: (*id).into(),
                region: "r01".into(),
                level: WarehouseLevel::Region,
                available: BTreeMap::from([("A".to_string(), 4), ("B".to_string(), 2)]),
            })
            .collect();
        let demand = BTreeMap::from([("A".to_string(), 6), ("B".to_string(), 3)]);
        let skus = ["A", "B", "C"];
        let ids = ["W1", "W2", "W9"];
        for a in 0..27u32 {
            for q in 0..5u32 {
                for back in 0..4u32 {
                    let allocation = |k: u32, quantity: u32| Allocation {
                        warehouse_id: ids[(k % 3) as usize].into(),
                        sku: skus[(k / 3 % 3) as usize].into(),
                        quantity,
                    };
                    let plan = SourcingPlan {
                        allocations: vec![allocation(a, q), allocation(a / 9, 4), allocation(4, 2)],
                        backorders: vec![Backorder {
                            sku: skus[(back % 3) as usize].into(),
                            quantity: back,
                        }],
                        priority: 0,
                        priority_reasons: vec![],
                        signals: vec![],
                    };
                    let full =
                        Guardrails::default().check_sourcing_in_full(&plan, &demand, &warehouses);
                    assert_eq!(
                        sourcing_is_sound(&plan, &demand, &warehouses),
                        full.is_empty(),
                        "{plan:?}: {full:?}"
                    );
                }
            }
        }
    }
}
