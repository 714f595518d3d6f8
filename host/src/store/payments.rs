//! Repository for payments (being written).
