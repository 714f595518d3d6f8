//! Repository for alerts (being written).
