//! The auth service of Regal POS: owns the `auth` schema and serves `regal.auth.v1`.

mod accounts;
mod admin;
mod domain;
mod error;
mod passwords;
mod rate_limit;
mod rpc;
mod startup;
mod store;

pub use startup::{Application, migrate};

/// The Postgres schema this service owns (and its name on audit events).
pub const SCHEMA: &str = "auth";
