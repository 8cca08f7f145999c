//! The sales service of Regal POS: owns the `sales` schema and serves `regal.sales.v1`.

mod rpc;
mod startup;

pub use startup::{Application, migrate};

/// The Postgres schema this service owns (and its name on audit events).
pub const SCHEMA: &str = "sales";
