//! The catalog service of Regal POS: owns the `catalog` schema (products, vendors, the
//! stock ledger, reservations) and serves `regal.catalog.v1`.

mod catalog;
mod domain;
mod error;
mod rpc;
mod startup;
mod store;

pub use startup::{Application, migrate};

/// The Postgres schema this service owns (and its name on audit events).
pub const SCHEMA: &str = "catalog";
