//! Values the sales service accepts only once they are valid: each request is parsed into
//! one of these at the first line of its handler; and the exact money of sales and refunds.

mod custom_order;
mod customer;
pub mod drawer;
mod expense;
pub(crate) mod invoice_update;
pub(crate) mod pricing;
pub(crate) mod receipt;
pub(crate) mod refund;
pub mod report;
pub(crate) mod sale;
mod salesman;
pub mod settings;

pub use custom_order::{CustomOrderChanges, CustomOrderFilter, CustomOrderStatus, NewCustomOrder};
pub use customer::{CustomerChanges, CustomerFilter, NewCustomer};
pub use expense::{ExpenseChanges, ExpenseFilter, NewExpense};
pub use salesman::{NewSalesman, SalesmanChanges, SalesmanFilter};

pub use regal_domain::{
    Violations, clean_object, money, parse_date, parse_uuid, search_text, text,
};
