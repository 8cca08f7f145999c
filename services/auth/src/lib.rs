//! The auth service of Regal POS: owns the `auth` schema and serves `regal.auth.v1`.

mod admin;
mod passwords;
mod rpc;
mod startup;

pub use startup::{Application, migrate};

/// The Postgres schema this service owns (and its name on audit events).
pub const SCHEMA: &str = "auth";
