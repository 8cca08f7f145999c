//! The SQL of the auth service: plain functions over a connection or transaction. The
//! use cases own `begin()` / `commit()`.

pub mod sessions;
pub mod users;
