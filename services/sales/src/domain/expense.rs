//! Expenses: what a valid one looks like, what a valid change is, and list filters.

use chrono::NaiveDate;
use regal_errors::FieldViolation;
use regal_proto::{common::v1::Decimal as DecimalMessage, sales::v1 as proto};
use rust_decimal::Decimal;

use super::{Violations, money, parse_date, search_text, text};

pub const TYPE_MAX: usize = 50;
pub const NOTE_MAX: usize = 1000;

fn expense_type(value: &str) -> Result<String, FieldViolation> {
    regal_text::required("type", value, TYPE_MAX)
}

fn amount(message: Option<&DecimalMessage>) -> Option<Result<Decimal, FieldViolation>> {
    money::parse_message("amount", message)
        .map(|amount| amount.and_then(|amount| money::positive("amount", amount)))
}

fn note(value: &str) -> Result<String, FieldViolation> {
    text("note", value, NOTE_MAX)
}

/// An expense about to be recorded; its author is the caller, never the request.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExpense {
    pub expense_type: String,
    /// > 0.
    pub amount: Decimal,
    /// The day it belongs to; absent = today (UTC).
    pub date: Option<NaiveDate>,
    pub note: String,
}

impl TryFrom<&proto::CreateExpenseRequest> for NewExpense {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::CreateExpenseRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let expense_type = violations.take(expense_type(&request.r#type));
        let amount = match amount(request.amount.as_ref()) {
            Some(amount) => violations.take(amount),
            None => {
                violations.push(FieldViolation::new("amount", "missing", "Field required"));
                Decimal::ZERO
            }
        };
        let date = violations.take_present(
            request
                .date
                .as_deref()
                .filter(|date| !date.trim().is_empty())
                .map(|date| parse_date("date", date)),
        );
        let expense = Self {
            expense_type,
            amount,
            date,
            note: violations.take(note(&request.note)),
        };
        violations.finish(expense)
    }
}

/// A partial update: absent fields stay as they are.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ExpenseChanges {
    pub expense_type: Option<String>,
    pub amount: Option<Decimal>,
    pub date: Option<NaiveDate>,
    pub note: Option<String>,
}

impl TryFrom<&proto::UpdateExpenseRequest> for ExpenseChanges {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::UpdateExpenseRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let changes = Self {
            expense_type: violations.take_present(request.r#type.as_deref().map(expense_type)),
            amount: violations.take_present(amount(request.amount.as_ref())),
            date: violations
                .take_present(request.date.as_deref().map(|date| parse_date("date", date))),
            note: violations.take_present(request.note.as_deref().map(note)),
        };
        violations.finish(changes)
    }
}

/// Which expenses a list shows.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ExpenseFilter {
    /// Exact type (as stored: cleaned text, compared ignoring case).
    pub expense_type: Option<String>,
    /// First day, inclusive.
    pub from: Option<NaiveDate>,
    /// Last day, inclusive.
    pub to: Option<NaiveDate>,
}

impl TryFrom<&proto::ListExpensesRequest> for ExpenseFilter {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::ListExpensesRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let day = |field: &str, value: Option<&String>| {
            value
                .map(|value| value.trim())
                .filter(|value| !value.is_empty())
                .map(|value| parse_date(field, value))
        };
        let from = violations.take_present(day("query.from", request.from.as_ref()));
        let to = violations.take_present(day("query.to", request.to.as_ref()));
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            violations.push(FieldViolation::new(
                "query.to",
                "value_error",
                "'to' should not be before 'from'",
            ));
        }
        let filter = Self {
            expense_type: search_text(request.r#type.as_deref()),
            from,
            to,
        };
        violations.finish(filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(value: &str) -> Option<DecimalMessage> {
        Some(DecimalMessage {
            value: value.to_owned(),
        })
    }

    #[test]
    fn an_expense_needs_a_type_a_positive_amount_and_a_real_date() {
        let violations = NewExpense::try_from(&proto::CreateExpenseRequest {
            r#type: String::new(),
            amount: decimal("0"),
            date: Some("2026-02-30".to_owned()),
            note: "x".repeat(NOTE_MAX + 1),
        })
        .unwrap_err();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["type", "amount", "date", "note"]);

        let missing = NewExpense::try_from(&proto::CreateExpenseRequest {
            r#type: "rent".to_owned(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(missing[0].field, "amount");
        assert_eq!(missing[0].kind, "missing");
    }

    #[test]
    fn an_expense_without_a_date_belongs_to_today() {
        let expense = NewExpense::try_from(&proto::CreateExpenseRequest {
            r#type: " Rent ".to_owned(),
            amount: decimal("1200"),
            date: None,
            note: String::new(),
        })
        .unwrap();
        assert_eq!(expense.expense_type, "Rent");
        assert_eq!(expense.date, None);
        assert_eq!(money::to_text(expense.amount), "1200.00");
    }

    #[test]
    fn a_date_range_must_be_in_order() {
        let violations = ExpenseFilter::try_from(&proto::ListExpensesRequest {
            from: Some("2026-03-02".to_owned()),
            to: Some("2026-03-01".to_owned()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(violations[0].field, "query.to");
    }
}
