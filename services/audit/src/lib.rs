//! The audit service of Regal POS: owns the `audit` schema and serves `regal.audit.v1`.

mod rpc;
mod startup;

pub use startup::{Application, migrate};

/// The Postgres schema this service owns (and its name on audit events).
pub const SCHEMA: &str = "audit";
