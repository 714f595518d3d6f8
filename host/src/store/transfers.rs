//! Repository for transfers (being written).
