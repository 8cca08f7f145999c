//! The SQL of the catalog service: plain functions over a connection or transaction. The
//! use cases own `begin()` / `commit()`.

pub mod products;
pub mod reservations;
pub mod stock;
pub mod vendors;

pub use regal_db::contains_pattern;
