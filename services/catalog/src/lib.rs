//! The catalog service of Regal POS: owns the `catalog` schema and serves `regal.catalog.v1`.

mod rpc;
mod startup;

pub use startup::{Application, migrate};

/// The Postgres schema this service owns (and its name on audit events).
pub const SCHEMA: &str = "catalog";
