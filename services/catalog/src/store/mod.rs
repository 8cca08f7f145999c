//! The SQL of the catalog service: plain functions over a connection or transaction. The
//! use cases own `begin()` / `commit()`.

pub mod products;
pub mod reservations;
pub mod stock;
pub mod vendors;

/// A `LIKE` pattern matching `text` anywhere, with its wildcards escaped.
pub fn contains_pattern(text: &str) -> String {
    format!(
        "%{}%",
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}
