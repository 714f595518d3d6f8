//! The same four reference policies compiled natively and called in-process
//! (configurations parsed once, no sandbox, no guardrails, no trace): the
//! baseline `bench pipeline` compares the sandboxed pipeline against.

use anti_diversion::AntiDiversionChecks;
use chanhost_sdk::anti_diversion::{AntiDiversion, CheckInput, Verdict};
use chanhost_sdk::pricing::{PriceContext, Pricing, PricingInput};
use chanhost_sdk::promotion::{AdjustmentKind, PricedOrderLine, Promotion, PromotionInput};
use chanhost_sdk::sourcing::{Sourcing, SourcingInput, SourcingPlan, StockLevel, Warehouse};
use chanhost_sdk::{self as sdk, parse_config};
use pricing_tiered::TieredPricing;
use promotions::Promotions;
use sourcing_region_first::RegionFirst;

use crate::domain;
use crate::policy::{OrderContext, PolicySet, RegionPolicy};

/// Parsed configurations of one region's four slots.
pub struct NativePipeline<'a> {
    set: &'a PolicySet,
    region: &'a RegionPolicy,
    anti_diversion: anti_diversion::Config,
    pricing: pricing_tiered::Config,
    promotions: Vec<promotions::Config>,
    sourcing: sourcing_region_first::Config,
}

/// What the native pipeline decided, enough to compare with the sandbox.
pub struct NativeDecision {
    pub total: i64,
    pub plan: Option<SourcingPlan>,
}

impl<'a> NativePipeline<'a> {
    pub fn new(set: &'a PolicySet, region: &'a RegionPolicy) -> anyhow::Result<Self> {
        let parse_error = |e: Vec<sdk::ConfigError>| {
            anyhow::anyhow!("{:?}", e.into_iter().map(|e| e.message).collect::<Vec<_>>())
        };
        Ok(NativePipeline {
            set,
            region,
            anti_diversion: parse_config::<AntiDiversionChecks>(&region.anti_diversion.config_json)
                .map_err(parse_error)?,
            pricing: parse_config::<TieredPricing>(&region.pricing.config_json)
                .map_err(parse_error)?,
            promotions: region
                .promotions
                .iter()
                .map(|slot| parse_config::<Promotions>(&slot.config_json).map_err(parse_error))
                .collect::<Result<_, _>>()?,
            sourcing: parse_config::<RegionFirst>(&region.sourcing.config_json)
                .map_err(parse_error)?,
        })
    }

    pub fn evaluate(&self, context: &OrderContext) -> NativeDecision {
        // Each ordered SKU's catalogue entry once; lines refer to them by index.
        let mut products: Vec<sdk::Product> = Vec::new();
        let order = order(&context.order, |sku| {
            let index = products.iter().position(|p| p.sku == sku).or_else(|| {
                products.push(product(self.set.catalogue.get(sku)?));
                Some(products.len() - 1)
            });
            index.map_or(u32::MAX, |i| i as u32)
        });
        let dealer = dealer(&context.dealer);
        let verdict = AntiDiversionChecks::check(
            &self.anti_diversion,
            CheckInput {
                order: order.clone(),
                dealer: dealer.clone(),
                products: products.clone(),
            },
        );
        if matches!(verdict, Ok(Verdict::Reject(_))) {
            return NativeDecision {
                total: 0,
                plan: None,
            };
        }
        let prices = products
            .iter()
            .map(|p| {
                let (floor, ceiling) = self.set.guardrails.band(p.base_price);
                PriceContext {
                    sku: p.sku.clone(),
                    base_price: p.base_price,
                    region_adjustment_bp: self.region.region.adjustment_bp(&p.sku),
                    floor,
                    ceiling,
                }
            })
            .collect();
        let Ok(priced) = TieredPricing::price(
            &self.pricing,
            PricingInput {
                order: order.clone(),
                dealer: dealer.clone(),
                prices,
            },
        ) else {
            return NativeDecision {
                total: 0,
                plan: None,
            };
        };
        let lines: Vec<PricedOrderLine> = order
            .lines
            .iter()
            .zip(&priced)
            .map(|(l, p)| PricedOrderLine {
                line_no: l.line_no,
                product: l.product,
                quantity: l.quantity,
                unit_price: p.unit_price,
                amount: p.unit_price * i64::from(l.quantity),
            })
            .collect();
        let subtotal: i64 = lines.iter().map(|l| l.amount).sum();
        let mut total = subtotal;
        let mut sourcing_order = order.clone();
        let mut free_goods = Vec::new();
        for config in &self.promotions {
            let input = PromotionInput {
                order: order.clone(),
                dealer: dealer.clone(),
                products: products.clone(),
                lines: lines.clone(),
                subtotal,
                near_expiry_lots: Vec::new(),
            };
            for adjustment in Promotions::apply(config, input).unwrap_or_default() {
                match adjustment.kind {
                    AdjustmentKind::LineDiscount(d) => total -= d.amount,
                    AdjustmentKind::OrderDiscount(amount) => total -= amount,
                    AdjustmentKind::FreeGoods(g) => free_goods.push(g),
                }
            }
        }
        let mut sourcing_products = products;
        for g in free_goods {
            let line_no = sourcing_order.lines.len() as u32 + 1;
            let product = match sourcing_products.iter().position(|p| p.sku == g.sku) {
                Some(i) => i as u32,
                None => match self.set.catalogue.get(&g.sku) {
                    Some(p) => {
                        sourcing_products.push(product(p));
                        sourcing_products.len() as u32 - 1
                    }
                    None => u32::MAX,
                },
            };
            sourcing_order.lines.push(sdk::OrderLine {
                line_no,
                product,
                quantity: g.quantity,
            });
        }
        let neighbours = &self.region.region.neighbours;
        let warehouses = context
            .warehouses
            .iter()
            .map(|w| {
                let rank = if w.region == self.region.region.id {
                    0
                } else {
                    neighbours
                        .iter()
                        .position(|n| *n == w.region)
                        .map_or(neighbours.len() as u32 + 1, |i| i as u32 + 1)
                };
                warehouse(w, rank, &sourcing_products)
            })
            .collect();
        let plan = RegionFirst::source(
            &self.sourcing,
            SourcingInput {
                order: sourcing_order,
                dealer,
                products: sourcing_products,
                warehouses,
            },
        )
        .ok();
        NativeDecision { total, plan }
    }
}

fn order(order: &domain::Order, mut product: impl FnMut(&str) -> u32) -> sdk::Order {
    sdk::Order {
        id: order.id.clone(),
        dealer_id: order.dealer_id.clone(),
        region: order.region.clone(),
        ship_to: order.ship_to.clone(),
        order_type: match order.order_type {
            domain::OrderType::Spot => sdk::OrderType::Spot,
            domain::OrderType::Presale => sdk::OrderType::Presale,
            domain::OrderType::Reservation => sdk::OrderType::Reservation,
        },
        urgency: match order.urgency {
            domain::Urgency::Normal => sdk::Urgency::Normal,
            domain::Urgency::Expedited => sdk::Urgency::Expedited,
        },
        placed_at: order.placed_at,
        lines: order
            .lines
            .iter()
            .map(|l| sdk::OrderLine {
                line_no: l.line_no,
                product: product(&l.sku),
                quantity: l.quantity,
            })
            .collect(),
    }
}

fn dealer(dealer: &domain::Dealer) -> sdk::Dealer {
    sdk::Dealer {
        id: dealer.id.clone(),
        region: dealer.region.clone(),
        tier: match dealer.tier {
            domain::DealerTier::Strategic => sdk::DealerTier::Strategic,
            domain::DealerTier::Core => sdk::DealerTier::Core,
            domain::DealerTier::Standard => sdk::DealerTier::Standard,
        },
        class: match dealer.class {
            domain::CustomerClass::Dealer => sdk::CustomerClass::Dealer,
            domain::CustomerClass::KeyAccount => sdk::CustomerClass::KeyAccount,
            domain::CustomerClass::Shop => sdk::CustomerClass::Shop,
            domain::CustomerClass::Restaurant => sdk::CustomerClass::Restaurant,
        },
        territory: dealer.territory.clone(),
        credit_limit: dealer.credit_limit,
        outstanding_balance: dealer.outstanding_balance,
        usual_order_cases: dealer.usual_order_cases,
    }
}

fn product(product: &domain::Product) -> sdk::Product {
    sdk::Product {
        sku: product.sku.clone(),
        name: product.name.clone(),
        category: product.category.clone(),
        pack_size: product.pack_size,
        base_price: product.base_price,
        new_product: product.new_product,
        restricted_to_regions: product.restricted_to_regions.clone(),
    }
}

fn warehouse(
    warehouse: &domain::Warehouse,
    neighbour_rank: u32,
    products: &[sdk::Product],
) -> Warehouse {
    Warehouse {
        id: warehouse.id.clone(),
        region: warehouse.region.clone(),
        level: match warehouse.level {
            domain::WarehouseLevel::Hq => sdk::WarehouseLevel::Hq,
            domain::WarehouseLevel::Region => sdk::WarehouseLevel::Region,
            domain::WarehouseLevel::Dealer => sdk::WarehouseLevel::Dealer,
            domain::WarehouseLevel::Store => sdk::WarehouseLevel::Store,
        },
        neighbour_rank,
        stock: warehouse
            .available
            .iter()
            .filter_map(|(sku, available)| {
                let product = products.iter().position(|p| p.sku == *sku)?;
                Some(StockLevel {
                    product: product as u32,
                    available: *available,
                })
            })
            .collect(),
    }
}
