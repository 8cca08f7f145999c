//! Requests as domain values that have checked themselves (each request is parsed into one
//! of these at the first line of its handler), and the exact money of sales and refunds.

pub mod drawer;
pub(crate) mod invoice_update;
pub(crate) mod pricing;
pub(crate) mod receipt;
pub(crate) mod refund;
pub mod report;
pub(crate) mod sale;
pub mod settings;
