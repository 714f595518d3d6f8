//! Builders for a plugin's native unit tests: a plausible order, dealer and
//! product with every field filled, to be adjusted with struct update
//! syntax where a test cares.
//!
//! ```
//! use chanhost_sdk::testing;
//! let order = testing::order(&[("BJ-500", 12), ("WN-001", 3)]);
//! assert_eq!((order.lines[1].line_no, order.lines[1].product), (2, 1));
//! let dealer = chanhost_sdk::Dealer { usual_order_cases: 50, ..testing::dealer() };
//! # let _ = dealer;
//! ```

use crate::{
    CustomerClass, Dealer, DealerTier, Fen, Order, OrderLine, OrderType, Product, Urgency,
};

/// The region the builders place everything in.
pub const REGION: &str = "r01";

/// Order `o1` by dealer `d1` in [`REGION`], shipped there, a normal spot
/// order placed at time 0, with `lines` numbered from 1. Each line refers
/// to its SKU's index among the order's distinct SKUs in order of first
/// appearance, which is where [`products_for`] puts them.
pub fn order(lines: &[(&str, u32)]) -> Order {
    let skus = skus(lines);
    let index = |sku: &str| skus.iter().position(|s| *s == sku).unwrap_or(0) as u32;
    order_with(lines, index)
}

/// Like [`order`], but each line refers to its SKU's index in `products`
/// (`u32::MAX` when the SKU is not there, as for a SKU with no catalogue
/// entry).
pub fn order_in(products: &[Product], lines: &[(&str, u32)]) -> Order {
    let index = |sku: &str| {
        products
            .iter()
            .position(|p| p.sku == sku)
            .map_or(u32::MAX, |i| i as u32)
    };
    order_with(lines, index)
}

/// The distinct SKUs of `lines`, in order of first appearance.
pub fn skus<'a>(lines: &[(&'a str, u32)]) -> Vec<&'a str> {
    let mut skus: Vec<&str> = Vec::new();
    for (sku, _) in lines {
        if !skus.contains(sku) {
            skus.push(sku);
        }
    }
    skus
}

/// A product per distinct SKU of `lines`, in the order [`order`] numbers
/// them, each made by `product`.
pub fn products_for(lines: &[(&str, u32)], product: impl Fn(&str) -> Product) -> Vec<Product> {
    skus(lines).into_iter().map(product).collect()
}

fn order_with(lines: &[(&str, u32)], index: impl Fn(&str) -> u32) -> Order {
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
                product: index(sku),
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
