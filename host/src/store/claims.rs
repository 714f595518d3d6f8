//! Repository for claims (being written).
