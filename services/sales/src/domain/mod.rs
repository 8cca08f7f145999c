//! Values the sales service accepts only once they are valid: each request is parsed into
//! one of these at the first line of its handler.

mod custom_order;
mod customer;
mod expense;
mod salesman;

pub use custom_order::{CustomOrderChanges, CustomOrderFilter, CustomOrderStatus, NewCustomOrder};
pub use customer::{CustomerChanges, CustomerFilter, NewCustomer};
pub use expense::{ExpenseChanges, ExpenseFilter, NewExpense};
pub use salesman::{NewSalesman, SalesmanChanges, SalesmanFilter};

pub use regal_domain::{
    Violations, clean_object, money, parse_date, parse_uuid, search_text, text,
};
