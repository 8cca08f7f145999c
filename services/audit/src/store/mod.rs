//! SQL of the audit schema.

pub mod log;
pub mod partitions;
pub mod progress;
