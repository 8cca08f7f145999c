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

pub use regal_domain::{Violations, clean_object, money, parse_date, parse_uuid, text};

/// A list's search text: cleaned of markup like stored text, so that it can match it;
/// blank counts as no search.
pub fn search_text(value: Option<&str>) -> Option<String> {
    value
        .map(regal_text::strip_markup)
        .filter(|value| !value.is_empty())
}
