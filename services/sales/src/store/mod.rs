//! The SQL of the sales service: plain functions over a connection or transaction. The
//! use cases own `begin()` / `commit()`.

pub mod dashboard;
pub mod drawers;
pub mod reports;
pub mod settings;
