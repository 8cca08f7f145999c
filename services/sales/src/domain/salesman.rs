//! Salesmen: what a valid one looks like, and what a valid change is.

use regal_errors::FieldViolation;
use regal_proto::{common::v1::Decimal as DecimalMessage, sales::v1 as proto};
use rust_decimal::Decimal;

use super::{Violations, money, search_text};

pub const NAME_MAX: usize = 100;
pub const CODE_MAX: usize = 20;

fn name(value: &str) -> Result<String, FieldViolation> {
    regal_text::required("name", value, NAME_MAX)
}

/// A salesman's code as typed at the till: 1 to 20 letters, digits, `-` or `_`, stored in
/// upper case so that codes are unique ignoring case (`s-01` and `S-01` are the same code).
fn code(value: &str) -> Result<String, FieldViolation> {
    let code = value.trim();
    if code.is_empty() {
        return Err(FieldViolation::new("code", "missing", "Field required"));
    }
    if code.chars().count() > CODE_MAX {
        return Err(FieldViolation::new(
            "code",
            "string_too_long",
            format!("String should have at most {CODE_MAX} characters"),
        ));
    }
    if !code
        .chars()
        .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_'))
    {
        return Err(FieldViolation::new(
            "code",
            "string_pattern_mismatch",
            "Code may contain only letters, digits, '-' and '_'",
        ));
    }
    Ok(code.to_ascii_uppercase())
}

fn commission_rate(message: Option<&DecimalMessage>) -> Option<Result<Decimal, FieldViolation>> {
    money::parse_message("commission_rate", message)
        .map(|rate| rate.and_then(|rate| money::percentage("commission_rate", rate)))
}

/// A salesman about to be created.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSalesman {
    pub name: String,
    /// Upper case, unique.
    pub code: String,
    /// Percentage of the net sales credited to them, 0 to 100.
    pub commission_rate: Decimal,
}

impl TryFrom<&proto::CreateSalesmanRequest> for NewSalesman {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::CreateSalesmanRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let salesman = Self {
            name: violations.take(name(&request.name)),
            code: violations.take(code(&request.code)),
            commission_rate: violations
                .take_present(commission_rate(request.commission_rate.as_ref()))
                .unwrap_or_default(),
        };
        violations.finish(salesman)
    }
}

/// A partial update: absent fields stay as they are.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SalesmanChanges {
    pub name: Option<String>,
    pub code: Option<String>,
    pub commission_rate: Option<Decimal>,
    pub is_active: Option<bool>,
}

impl SalesmanChanges {
    /// The change that archives a salesman.
    pub fn archive() -> Self {
        Self {
            is_active: Some(false),
            ..Self::default()
        }
    }
}

impl TryFrom<&proto::UpdateSalesmanRequest> for SalesmanChanges {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::UpdateSalesmanRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let changes = Self {
            name: violations.take_present(request.name.as_deref().map(name)),
            code: violations.take_present(request.code.as_deref().map(code)),
            commission_rate: violations
                .take_present(commission_rate(request.commission_rate.as_ref())),
            is_active: request.is_active,
        };
        violations.finish(changes)
    }
}

/// Which salesmen a list shows.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SalesmanFilter {
    /// Case-insensitive substring of the name or code.
    pub search: Option<String>,
    pub include_inactive: bool,
}

impl From<&proto::ListSalesmenRequest> for SalesmanFilter {
    fn from(request: &proto::ListSalesmenRequest) -> Self {
        Self {
            search: search_text(request.search.as_deref()),
            include_inactive: request.include_inactive,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_short_plain_and_upper_case() {
        assert_eq!(code(" s-01 ").unwrap(), "S-01");
        assert_eq!(code("ab_9").unwrap(), "AB_9");
        assert_eq!(code("").unwrap_err().kind, "missing");
        assert_eq!(code("a b").unwrap_err().kind, "string_pattern_mismatch");
        assert_eq!(
            code("<script>").unwrap_err().kind,
            "string_pattern_mismatch"
        );
        assert_eq!(code(&"x".repeat(21)).unwrap_err().kind, "string_too_long");
    }

    #[test]
    fn a_salesman_needs_a_name_a_code_and_a_rate_within_a_hundred() {
        let violations = NewSalesman::try_from(&proto::CreateSalesmanRequest {
            name: " ".to_owned(),
            code: String::new(),
            commission_rate: Some(DecimalMessage {
                value: "100.01".to_owned(),
            }),
        })
        .unwrap_err();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["name", "code", "commission_rate"]);

        let salesman = NewSalesman::try_from(&proto::CreateSalesmanRequest {
            name: "Ali".to_owned(),
            code: "a1".to_owned(),
            commission_rate: None,
        })
        .unwrap();
        assert_eq!(salesman.code, "A1");
        assert_eq!(money::to_text(salesman.commission_rate), "0.00");
    }
}
