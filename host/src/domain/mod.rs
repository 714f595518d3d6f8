//! Plain types and rules of the dealer channel: no I/O, no plugins, no SQL.

pub mod catalogue;
pub mod lifecycle;
pub mod order;

pub use catalogue::{Product, Warehouse, WarehouseLevel};
pub use lifecycle::{OrderAction, OrderStatus};
pub use order::{CustomerClass, Dealer, DealerTier, Order, OrderLine, OrderType, Urgency};

/// Integer minor units of money (fen). Never a float.
pub type Fen = i64;

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type TimestampMs = i64;
