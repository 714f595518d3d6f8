//! The plugin registry: published components, stored content-addressed
//! with their manifest, and the signatures that say who published them.

pub mod signing;
