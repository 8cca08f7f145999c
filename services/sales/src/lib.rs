//! The sales service of Regal POS: owns the `sales` schema (customers, salesmen, expenses,
//! custom orders, invoices, payments, refunds, cash drawers, shifts, idempotency keys,
//! store settings) and serves `regal.sales.v1`.

mod admin;
mod back_office;
mod cash;
mod domain;
mod error;
mod refunding;
mod reporting;
mod rpc;
mod selling;
mod startup;
mod store;

pub use startup::{Application, migrate};

/// Hooks of the test build (`fault-injection` feature): never compiled into production.
#[cfg(feature = "fault-injection")]
pub mod testing {
    pub use crate::{refunding::SKIP_RESTOCK_KEY, selling::saga::CRASH_AFTER_RESERVE_KEY};
}

/// The Postgres schema this service owns (and its name on audit events).
pub const SCHEMA: &str = "sales";
