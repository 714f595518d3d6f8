//! Application services: the work one request asks for, spanning the
//! policy pipeline and the store, kept out of the HTTP handlers.

pub mod alerts;
pub mod claims;
pub mod deployments;
pub mod lifecycle;
pub mod payments;
pub mod placement;
pub mod transfers;
