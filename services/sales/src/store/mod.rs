//! SQL of the sales schema: plain async functions over a connection or transaction; the
//! use cases own the transactions.

pub mod dashboard;
pub mod drawers;
pub(crate) mod idempotency;
pub(crate) mod invoices;
pub(crate) mod pending;
pub(crate) mod refunds;
pub mod reports;
pub mod settings;
