//! A low-code promotion engine: a region lists its promotions as data
//! (满减 spend thresholds, 买赠 buy N get M, 限时折扣 percent off) with
//! optional time windows, SKU / category / dealer-tier filters and
//! exclusive groups, and every adjustment says which promotion gave it.
//!
//! Evaluation, in this order:
//! 1. promotions outside their window (`starts_at` inclusive, `ends_at`
//!    exclusive, against `order.placed_at`) or not for the dealer's tier
//!    are dropped;
//! 2. in each exclusive `group` only the member worth most to the dealer
//!    survives, each member valued alone on the order as priced (free goods
//!    at the gift's unit price); ties go to the one listed first;
//! 3. survivors stack, by kind: every `percent_off` (each on what is left
//!    of a line after earlier ones), then every `spend_threshold` (on the
//!    eligible lines' amounts after those line discounts), then every
//!    `buy_n_get_m`; within a kind, in configuration order.
//!
//! No discount takes a line or the order below zero: each is capped at
//! what remains, and a promotion capped to nothing gives no adjustment.

use chanhost_sdk::log::{debug, info};
use chanhost_sdk::money::{percent_of, push_yuan, yuan};
use chanhost_sdk::promotion::{
    Adjustment, AdjustmentKind, FreeGoods, LineDiscount, PricedOrderLine, Promotion, PromotionInput,
};
use chanhost_sdk::text::push_int;
use chanhost_sdk::{ConfigError, DealerTier, Fen, Plugin, PluginError, TimestampMs};
use schemars::JsonSchema;
use serde::Deserialize;

/// A dealer tier, as a region names it in its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Strategic,
    Core,
    Standard,
}

/// What a promotion gives.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Kind {
    /// 满减: spend at least `threshold` on eligible lines, get `off` off
    /// the order; with `repeat`, `off` again for every full `threshold`.
    SpendThreshold {
        threshold: Fen,
        off: Fen,
        #[serde(default)]
        repeat: bool,
    },
    /// 买赠: per eligible line, every `buy` cases give `get` cases free, of
    /// the same SKU or of `gift_sku`.
    BuyNGetM {
        buy: u32,
        get: u32,
        #[serde(default)]
        gift_sku: Option<String>,
    },
    /// 限时折扣: `percent_bp` basis points off every eligible line.
    PercentOff { percent_bp: u32 },
}

/// One configured promotion.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionRule {
    /// Unique within the configuration; tags every adjustment.
    pub id: String,
    /// Shown in descriptions instead of the id when set.
    #[serde(default)]
    pub name: Option<String>,
    /// Promotions sharing a group exclude each other.
    #[serde(default)]
    pub group: Option<String>,
    /// First instant the promotion applies (ms since epoch, inclusive).
    #[serde(default)]
    pub starts_at: Option<TimestampMs>,
    /// Instant the promotion stops applying (exclusive).
    #[serde(default)]
    pub ends_at: Option<TimestampMs>,
    /// Only these SKUs count (empty: all).
    #[serde(default)]
    pub skus: Vec<String>,
    /// Only these product categories count (empty: all).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Only dealers of these tiers (empty: all).
    #[serde(default)]
    pub tiers: Vec<Tier>,
    pub kind: Kind,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub promotions: Vec<PromotionRule>,
}

pub struct Promotions;

impl Plugin for Promotions {
    type Config = Config;
    const NAME: &'static str = "promotions";
    const VERSION: &'static str = "1.0.0";
    const SUMMARY: &'static str = "Spend thresholds, buy N get M and timed percent-off promotions, configured as data, stacked or grouped.";

    fn validate(config: &Config) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        for (i, p) in config.promotions.iter().enumerate() {
            let at = |field: &str| format!("/promotions/{i}/{field}");
            if p.id.trim().is_empty() {
                errors.push(ConfigError::new(at("id"), "must not be empty"));
            } else if let Some(first) = config.promotions[..i].iter().position(|q| q.id == p.id) {
                errors.push(ConfigError::new(
                    at("id"),
                    format!(
                        "duplicate promotion id `{}` (first at /promotions/{first})",
                        p.id
                    ),
                ));
            }
            if p.group.as_deref().is_some_and(|g| g.trim().is_empty()) {
                errors.push(ConfigError::new(at("group"), "must not be empty when set"));
            }
            if let (Some(start), Some(end)) = (p.starts_at, p.ends_at)
                && start >= end
            {
                errors.push(ConfigError::new(
                    at("ends_at"),
                    format!("must be after starts_at ({start}), got {end}"),
                ));
            }
            for (field, values) in [("skus", &p.skus), ("categories", &p.categories)] {
                for (k, v) in values.iter().enumerate() {
                    if v.trim().is_empty() {
                        errors.push(ConfigError::new(
                            format!("/promotions/{i}/{field}/{k}"),
                            "must not be empty",
                        ));
                    }
                }
            }
            match &p.kind {
                Kind::SpendThreshold { threshold, off, .. } => {
                    if *threshold <= 0 {
                        errors.push(ConfigError::new(
                            at("kind/threshold"),
                            format!("must be positive, got {threshold}"),
                        ));
                    }
                    if *off <= 0 {
                        errors.push(ConfigError::new(
                            at("kind/off"),
                            format!("must be positive, got {off}"),
                        ));
                    } else if off >= threshold && *threshold > 0 {
                        errors.push(ConfigError::new(
                            at("kind/off"),
                            format!(
                                "must be less than the threshold {}, got {}",
                                yuan(*threshold),
                                yuan(*off)
                            ),
                        ));
                    }
                }
                Kind::BuyNGetM { buy, get, gift_sku } => {
                    if *buy == 0 {
                        errors.push(ConfigError::new(at("kind/buy"), "must be at least 1"));
                    }
                    if *get == 0 {
                        errors.push(ConfigError::new(at("kind/get"), "must be at least 1"));
                    }
                    if gift_sku.as_deref().is_some_and(|s| s.trim().is_empty()) {
                        errors.push(ConfigError::new(
                            at("kind/gift_sku"),
                            "must not be empty when set",
                        ));
                    }
                }
                Kind::PercentOff { percent_bp } => {
                    if !(1..=9_000).contains(percent_bp) {
                        errors.push(ConfigError::new(
                            at("kind/percent_bp"),
                            format!("must be 1..=9000 basis points, got {percent_bp}"),
                        ));
                    }
                }
            }
        }
        errors
    }
}

/// What is left of the order as promotions apply.
#[derive(Clone)]
struct State {
    /// Per input line (same index), its amount after line discounts.
    net: Vec<Fen>,
    order_off: Fen,
}

impl State {
    fn new(lines: &[PricedOrderLine]) -> Self {
        State {
            net: lines.iter().map(|l| l.amount.max(0)).collect(),
            order_off: 0,
        }
    }

    fn total(&self) -> Fen {
        self.net
            .iter()
            .fold(0, |sum: Fen, n| sum.saturating_add(*n))
            - self.order_off
    }
}

impl Promotion for Promotions {
    fn apply(config: &Config, input: PromotionInput) -> Result<Vec<Adjustment>, PluginError> {
        let input = &Priced::new(&input);
        let in_force: Vec<&PromotionRule> = config
            .promotions
            .iter()
            .filter(|p| {
                let on = in_window(p, input.order.placed_at) && for_tier(p, input.dealer.tier);
                if !on {
                    debug(&format!(
                        "{}: outside its window or not for this tier",
                        p.id
                    ));
                }
                on
            })
            .collect();

        // Exclusive groups: keep the member worth most on its own.
        let survivors: Vec<&PromotionRule> = in_force
            .iter()
            .copied()
            .filter(|p| {
                let Some(group) = &p.group else { return true };
                let value = |q: &PromotionRule| {
                    benefit(&evaluate(q, input, &mut State::new(&input.lines)), input)
                };
                let mine = value(p);
                let beaten = in_force
                    .iter()
                    .filter(|q| q.group.as_ref() == Some(group) && q.id != p.id)
                    .any(|q| {
                        let theirs = value(q);
                        // Ties go to whichever is listed first.
                        theirs > mine
                            || (theirs == mine && position(config, &q.id) < position(config, &p.id))
                    });
                if beaten {
                    debug(&format!(
                        "{}: loses group `{group}` (worth {})",
                        p.id,
                        yuan(mine)
                    ));
                }
                !beaten
            })
            .collect();

        let mut state = State::new(&input.lines);
        let mut adjustments = Vec::new();
        for phase in 0..3 {
            for p in survivors.iter().filter(|p| phase_of(&p.kind) == phase) {
                let given = evaluate(p, input, &mut state);
                if !given.is_empty() {
                    info(&format!(
                        "{}: {} adjustment(s) worth {}",
                        p.id,
                        given.len(),
                        yuan(benefit(&given, input))
                    ));
                }
                adjustments.extend(given);
            }
        }
        Ok(adjustments)
    }
}

fn position(config: &Config, id: &str) -> usize {
    config
        .promotions
        .iter()
        .position(|p| p.id == id)
        .unwrap_or(usize::MAX)
}

fn phase_of(kind: &Kind) -> u8 {
    match kind {
        Kind::PercentOff { .. } => 0,
        Kind::SpendThreshold { .. } => 1,
        Kind::BuyNGetM { .. } => 2,
    }
}

fn in_window(p: &PromotionRule, at: TimestampMs) -> bool {
    p.starts_at.is_none_or(|s| at >= s) && p.ends_at.is_none_or(|e| at < e)
}

fn for_tier(p: &PromotionRule, tier: DealerTier) -> bool {
    let tier = match tier {
        DealerTier::Strategic => Tier::Strategic,
        DealerTier::Core => Tier::Core,
        DealerTier::Standard => Tier::Standard,
    };
    p.tiers.is_empty() || p.tiers.contains(&tier)
}

/// The input with each line's SKU and product category, looked up once.
struct Priced<'a> {
    input: &'a PromotionInput,
    /// Per input line (same index), its SKU ("" if its product is not in
    /// the input).
    skus: Vec<&'a str>,
    /// Per input line (same index), its product's category.
    categories: Vec<Option<&'a str>>,
}

impl<'a> Priced<'a> {
    fn new(input: &'a PromotionInput) -> Self {
        let products = input
            .lines
            .iter()
            .map(|line| input.products.get(line.product as usize));
        Priced {
            input,
            skus: products
                .clone()
                .map(|p| p.map_or("", |p| p.sku.as_str()))
                .collect(),
            categories: products.map(|p| p.map(|p| p.category.as_str())).collect(),
        }
    }
}

impl std::ops::Deref for Priced<'_> {
    type Target = PromotionInput;
    fn deref(&self) -> &PromotionInput {
        self.input
    }
}

/// Whether input line `i` counts for `p`.
fn eligible(p: &PromotionRule, i: usize, input: &Priced) -> bool {
    (p.skus.is_empty() || p.skus.iter().any(|s| s == input.skus[i]))
        && (p.categories.is_empty()
            || input.categories[i].is_some_and(|c| p.categories.iter().any(|x| x == c)))
}

/// The adjustments `p` gives on `state`, which it updates.
fn evaluate(p: &PromotionRule, input: &Priced, state: &mut State) -> Vec<Adjustment> {
    let label = p.name.as_deref().unwrap_or(&p.id);
    let adjust = |kind, description: String| Adjustment {
        promotion_id: p.id.clone(),
        kind,
        description,
    };
    let mut out = Vec::new();
    match &p.kind {
        Kind::PercentOff { percent_bp } => {
            for (i, line) in input
                .lines
                .iter()
                .enumerate()
                .filter(|(i, _)| eligible(p, *i, input))
            {
                let before = state.net[i];
                let off = percent_of(before, *percent_bp as i32).clamp(0, before);
                if off == 0 {
                    continue;
                }
                state.net[i] -= off;
                out.push(adjust(
                    AdjustmentKind::LineDiscount(LineDiscount {
                        line_no: line.line_no,
                        amount: off,
                    }),
                    {
                        // "{label}: {percent} off line {n} ({sku}) of {before} = {off}",
                        // appended rather than formatted: one per discounted line.
                        let mut why = String::with_capacity(64);
                        why.push_str(label);
                        why.push_str(": ");
                        why.push_str(&percent(*percent_bp));
                        why.push_str(" off line ");
                        push_int(&mut why, line.line_no);
                        why.push_str(" (");
                        why.push_str(input.skus[i]);
                        why.push_str(") of ");
                        push_yuan(&mut why, before);
                        why.push_str(" = ");
                        push_yuan(&mut why, off);
                        why
                    },
                ));
            }
        }
        Kind::SpendThreshold {
            threshold,
            off,
            repeat,
        } => {
            let spend = input
                .lines
                .iter()
                .enumerate()
                .filter(|(i, _)| eligible(p, *i, input))
                .fold(0, |sum: Fen, (i, _)| sum.saturating_add(state.net[i]));
            let times = if spend < *threshold {
                0
            } else if *repeat {
                spend / threshold
            } else {
                1
            };
            let wanted = off.saturating_mul(times);
            let given = wanted.min(state.total());
            if given > 0 {
                state.order_off += given;
                let mut why = if *repeat {
                    format!(
                        "{label}: spend {}, {times} × every {} → {} off",
                        yuan(spend),
                        yuan(*threshold),
                        yuan(wanted)
                    )
                } else {
                    format!(
                        "{label}: spend {} ≥ {} → {} off",
                        yuan(spend),
                        yuan(*threshold),
                        yuan(wanted)
                    )
                };
                if given < wanted {
                    why += &format!(", capped at the {} that remains", yuan(given));
                }
                out.push(adjust(AdjustmentKind::OrderDiscount(given), why));
            }
        }
        Kind::BuyNGetM { buy, get, gift_sku } => {
            for (i, line) in input
                .lines
                .iter()
                .enumerate()
                .filter(|(i, _)| eligible(p, *i, input))
            {
                let free = (line.quantity / buy).saturating_mul(*get);
                if free == 0 {
                    continue;
                }
                let gift = gift_sku.as_deref().unwrap_or(input.skus[i]);
                out.push(adjust(
                    AdjustmentKind::FreeGoods(FreeGoods {
                        sku: gift.to_string(),
                        quantity: free,
                    }),
                    {
                        // "{label}: buy {buy} get {get}: line {n} ordered {q} cases
                        // of {sku} → {free} cases of {gift} free", appended.
                        let mut why = String::with_capacity(96);
                        why.push_str(label);
                        why.push_str(": buy ");
                        push_int(&mut why, *buy);
                        why.push_str(" get ");
                        push_int(&mut why, *get);
                        why.push_str(": line ");
                        push_int(&mut why, line.line_no);
                        why.push_str(" ordered ");
                        push_int(&mut why, line.quantity);
                        why.push_str(" cases of ");
                        why.push_str(input.skus[i]);
                        why.push_str(" → ");
                        push_int(&mut why, free);
                        why.push_str(" cases of ");
                        why.push_str(gift);
                        why.push_str(" free");
                        why
                    },
                ));
            }
        }
    }
    out
}

/// What adjustments are worth to the dealer, free goods at the gift's unit
/// price (from the order, else the catalogue's base price).
fn benefit(adjustments: &[Adjustment], input: &Priced) -> Fen {
    adjustments.iter().fold(0, |sum: Fen, a| {
        sum.saturating_add(match &a.kind {
            AdjustmentKind::LineDiscount(d) => d.amount,
            AdjustmentKind::OrderDiscount(off) => *off,
            AdjustmentKind::FreeGoods(g) => {
                let unit = input
                    .lines
                    .iter()
                    .zip(&input.skus)
                    .find(|(_, sku)| **sku == g.sku)
                    .map(|(l, _)| l.unit_price)
                    .or_else(|| {
                        input
                            .products
                            .iter()
                            .find(|p| p.sku == g.sku)
                            .map(|p| p.base_price)
                    })
                    .unwrap_or(0);
                unit.max(0).saturating_mul(Fen::from(g.quantity))
            }
        })
    })
}

/// 500 → "5%", 1250 → "12.5%".
fn percent(bp: u32) -> String {
    if bp.is_multiple_of(100) {
        format!("{}%", bp / 100)
    } else {
        format!("{}.{:02}", bp / 100, bp % 100)
            .trim_end_matches('0')
            .to_string()
            + "%"
    }
}

chanhost_sdk::export_promotion!(Promotions);

#[cfg(test)]
mod tests;
