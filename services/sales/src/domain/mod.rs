//! Requests as domain values that have checked themselves, and the exact money of sales
//! and refunds.

pub(crate) mod invoice_update;
pub(crate) mod pricing;
pub(crate) mod receipt;
pub(crate) mod refund;
pub(crate) mod sale;
