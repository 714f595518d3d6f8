//! Builders for a plugin's native unit tests: a plausible order, dealer and
//! product with every field filled, to be adjusted with struct update
//! syntax where a test cares.
//!
//! ```
//! use chanhost_sdk::testing;
//! let order = testing::order(&[("BJ-500", 12), ("WN-001", 3)]);
//! assert_eq!(order.lines[1].line_no, 2);
//! let dealer = chanhost_sdk::Dealer { usual_order_cases: 50, ..testing::dealer() };
//! # let _ = dealer;
//! ```

use crate::{
    CustomerClass, Dealer, DealerTier, Fen, Order, OrderLine, OrderType, Product, Urgency,
};

/// The region the builders place everything in.
pub const REGION: &str = "r01";

/// Order `o1` by dealer `d1` in [`REGION`], shipped there, a normal spot
/// order placed at time 0, with `lines` numbered from 1.
pub fn order(lines: &[(&str, u32)]) -> Order {
    Order {
        id: "o1".into(),
        dealer_id: "d1".into(),
        region: REGION.into(),
        ship_to: REGION.into(),
        order_type: OrderType::Spot,
        urgency: Urgency::Normal,
        placed_at: 0,
        lines: lines
            .iter()
            .enumerate()
            .map(|(i, (sku, quantity))| OrderLine {
                line_no: i as u32 + 1,
                sku: (*sku).into(),
                quantity: *quantity,
            })
            .collect(),
    }
}

/// Dealer `d1`: a core-tier dealer of [`REGION`] whose territory is that
/// region, with ¥1,000,000 of credit, nothing outstanding, and a usual
/// order of 10 cases.
pub fn dealer() -> Dealer {
    Dealer {
        id: "d1".into(),
        region: REGION.into(),
        tier: DealerTier::Core,
        class: CustomerClass::Dealer,
        territory: vec![REGION.into()],
        credit_limit: 100_000_000,
        outstanding_balance: 0,
        usual_order_cases: 10,
    }
}

/// An unrestricted, established product of 6 bottles a case.
pub fn product(sku: &str, category: &str, base_price: Fen) -> Product {
    Product {
        sku: sku.into(),
        name: sku.into(),
        category: category.into(),
        pack_size: 6,
        base_price,
        new_product: false,
        restricted_to_regions: Vec::new(),
    }
}
