//! The order lifecycle as a state machine: which actions each status allows
//! and where they lead. Pure rules; the store applies them with a
//! conditional update so two hosts cannot both move one order.
//!
//! ```text
//! pending_review ─approve→ approved ─allocate→ allocated ─ship→ partially_shipped ─ship→ shipped
//!       │                     │                   │                                     │ track
//!       └─reject→ rejected    └──────cancel───────┴→ cancelled                          ▼
//!                                          completed ←complete─ delivered ←confirm─ in_transit
//! ```

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    PendingReview,
    Approved,
    Allocated,
    PartiallyShipped,
    Shipped,
    InTransit,
    Delivered,
    Completed,
    Cancelled,
    Rejected,
}

/// What someone can do to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderAction {
    Approve,
    Reject,
    Allocate,
    Ship,
    Track,
    ConfirmReceipt,
    Complete,
    Cancel,
}

impl OrderAction {
    pub fn name(self) -> &'static str {
        match self {
            OrderAction::Approve => "approve",
            OrderAction::Reject => "reject",
            OrderAction::Allocate => "allocate",
            OrderAction::Ship => "ship",
            OrderAction::Track => "track",
            OrderAction::ConfirmReceipt => "confirm_receipt",
            OrderAction::Complete => "complete",
            OrderAction::Cancel => "cancel",
        }
    }
}

impl OrderStatus {
    pub fn name(self) -> &'static str {
        match self {
            OrderStatus::PendingReview => "pending_review",
            OrderStatus::Approved => "approved",
            OrderStatus::Allocated => "allocated",
            OrderStatus::PartiallyShipped => "partially_shipped",
            OrderStatus::Shipped => "shipped",
            OrderStatus::InTransit => "in_transit",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Rejected => "rejected",
        }
    }

    /// The actions this status allows.
    pub fn allowed(self) -> &'static [OrderAction] {
        use OrderAction::*;
        match self {
            OrderStatus::PendingReview => &[Approve, Reject, Cancel],
            OrderStatus::Approved => &[Allocate, Cancel],
            OrderStatus::Allocated => &[Ship, Cancel],
            OrderStatus::PartiallyShipped => &[Ship, Track],
            OrderStatus::Shipped => &[Track, ConfirmReceipt],
            OrderStatus::InTransit => &[Track, ConfirmReceipt],
            OrderStatus::Delivered => &[Complete],
            OrderStatus::Completed | OrderStatus::Cancelled | OrderStatus::Rejected => &[],
        }
    }

    /// Where `action` leads from here, or the actions allowed instead.
    /// `fully_shipped` says whether a shipment leaves nothing unshipped.
    pub fn after(
        self,
        action: OrderAction,
        fully_shipped: bool,
    ) -> Result<OrderStatus, &'static [OrderAction]> {
        if !self.allowed().contains(&action) {
            return Err(self.allowed());
        }
        Ok(match action {
            OrderAction::Approve => OrderStatus::Approved,
            OrderAction::Reject => OrderStatus::Rejected,
            OrderAction::Allocate => OrderStatus::Allocated,
            OrderAction::Ship if fully_shipped => OrderStatus::Shipped,
            OrderAction::Ship => OrderStatus::PartiallyShipped,
            // Tracking a partial delivery does not move the order yet.
            OrderAction::Track if self == OrderStatus::PartiallyShipped => self,
            OrderAction::Track => OrderStatus::InTransit,
            OrderAction::ConfirmReceipt => OrderStatus::Delivered,
            OrderAction::Complete => OrderStatus::Completed,
            OrderAction::Cancel => OrderStatus::Cancelled,
        })
    }

    /// Whether stock reserved for the order is still held.
    pub fn holds_reservations(self) -> bool {
        matches!(
            self,
            OrderStatus::PendingReview
                | OrderStatus::Approved
                | OrderStatus::Allocated
                | OrderStatus::PartiallyShipped
        )
    }
}

#[cfg(test)]
mod tests {
    use super::OrderAction::*;
    use super::OrderStatus::*;

    #[test]
    fn the_happy_path_reaches_completed() {
        let mut status = PendingReview;
        for (action, full) in [
            (Approve, false),
            (Allocate, false),
            (Ship, false),
            (Ship, true),
            (Track, false),
            (ConfirmReceipt, false),
            (Complete, false),
        ] {
            status = status.after(action, full).unwrap();
        }
        assert_eq!(status, Completed);
    }

    #[test]
    fn shipped_orders_cannot_be_cancelled_and_say_what_they_allow() {
        assert_eq!(
            Shipped.after(Cancel, false),
            Err(&[Track, ConfirmReceipt][..])
        );
        assert_eq!(Completed.after(Approve, false), Err(&[][..]));
    }

    #[test]
    fn cancel_is_allowed_until_goods_leave() {
        for status in [PendingReview, Approved, Allocated] {
            assert_eq!(status.after(Cancel, false), Ok(Cancelled));
        }
        assert!(PartiallyShipped.after(Cancel, false).is_err());
    }
}
