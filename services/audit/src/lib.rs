//! The audit service of Regal POS: owns the `audit` schema (the append-only, hash-chained,
//! monthly partitioned audit log) and serves `regal.audit.v1`. It reads the other services'
//! events from the Redis stream, repairs gaps from their outboxes over gRPC, and drops
//! partitions past the retention period.

pub mod domain;
pub mod gaps;
pub mod retention;
mod rpc;
mod startup;
pub mod store;
pub mod stream;

pub use startup::{Application, migrate};

/// The Postgres schema this service owns (and its name on audit events).
pub const SCHEMA: &str = "audit";
