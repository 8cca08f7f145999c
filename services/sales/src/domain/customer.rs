//! Customers: what a valid one looks like, and what a valid change is.

use regal_errors::FieldViolation;
use regal_proto::{common::v1::Decimal as DecimalMessage, sales::v1 as proto};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::{Violations, clean_object, money, search_text};

pub const NAME_MAX: usize = 100;

fn name(value: &str) -> Result<String, FieldViolation> {
    regal_text::required("name", value, NAME_MAX)
}

fn credit_limit(message: Option<&DecimalMessage>) -> Option<Result<Decimal, FieldViolation>> {
    money::parse_message("credit_limit", message)
        .map(|amount| amount.and_then(|amount| money::non_negative("credit_limit", amount)))
}

fn object(
    field: &str,
    value: Option<&prost_types::Struct>,
) -> Option<Result<Map<String, Value>, FieldViolation>> {
    value.map(|object| clean_object(field, Some(object)))
}

/// A customer about to be created.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCustomer {
    pub name: String,
    /// Usually `{"phone": .., "email": ..}`; searched by the list.
    pub contacts: Map<String, Value>,
    pub billing_addr: Map<String, Value>,
    pub shipping_addr: Map<String, Value>,
    /// The most the customer may owe, >= 0.
    pub credit_limit: Decimal,
    /// What the customer owes now (negative: a credit in their favour).
    pub balance: Decimal,
}

impl TryFrom<&proto::CreateCustomerRequest> for NewCustomer {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::CreateCustomerRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let customer = Self {
            name: violations.take(name(&request.name)),
            contacts: violations.take(clean_object("contacts", request.contacts.as_ref())),
            billing_addr: violations
                .take(clean_object("billing_addr", request.billing_addr.as_ref())),
            shipping_addr: violations.take(clean_object(
                "shipping_addr",
                request.shipping_addr.as_ref(),
            )),
            credit_limit: violations
                .take_present(credit_limit(request.credit_limit.as_ref()))
                .unwrap_or_default(),
            balance: violations
                .take_present(money::parse_message("balance", request.balance.as_ref()))
                .unwrap_or_default(),
        };
        violations.finish(customer)
    }
}

/// A partial update: absent fields stay as they are; objects are replaced whole.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CustomerChanges {
    pub name: Option<String>,
    pub contacts: Option<Map<String, Value>>,
    pub billing_addr: Option<Map<String, Value>>,
    pub shipping_addr: Option<Map<String, Value>>,
    pub credit_limit: Option<Decimal>,
    pub balance: Option<Decimal>,
    pub is_active: Option<bool>,
}

impl CustomerChanges {
    /// The change that archives a customer.
    pub fn archive() -> Self {
        Self {
            is_active: Some(false),
            ..Self::default()
        }
    }
}

impl TryFrom<&proto::UpdateCustomerRequest> for CustomerChanges {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::UpdateCustomerRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let changes = Self {
            name: violations.take_present(request.name.as_deref().map(name)),
            contacts: violations.take_present(object("contacts", request.contacts.as_ref())),
            billing_addr: violations
                .take_present(object("billing_addr", request.billing_addr.as_ref())),
            shipping_addr: violations
                .take_present(object("shipping_addr", request.shipping_addr.as_ref())),
            credit_limit: violations.take_present(credit_limit(request.credit_limit.as_ref())),
            balance: violations
                .take_present(money::parse_message("balance", request.balance.as_ref())),
            is_active: request.is_active,
        };
        violations.finish(changes)
    }
}

/// Which customers a list shows.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CustomerFilter {
    /// Case-insensitive substring of the name, phone or email.
    pub search: Option<String>,
    pub include_inactive: bool,
}

impl From<&proto::ListCustomersRequest> for CustomerFilter {
    fn from(request: &proto::ListCustomersRequest) -> Self {
        Self {
            search: search_text(request.search.as_deref()),
            include_inactive: request.include_inactive,
        }
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
    fn a_customer_needs_a_name_a_non_negative_credit_limit_and_exact_money() {
        let violations = NewCustomer::try_from(&proto::CreateCustomerRequest {
            name: "<b></b>".to_owned(),
            credit_limit: decimal("-1"),
            balance: decimal("1.005"),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["name", "credit_limit", "balance"]);

        let customer = NewCustomer::try_from(&proto::CreateCustomerRequest {
            name: "  Jane <i>Doe</i> ".to_owned(),
            balance: decimal("-12.5"),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(customer.name, "Jane Doe");
        assert_eq!(money::to_text(customer.credit_limit), "0.00");
        assert_eq!(money::to_text(customer.balance), "-12.50");
    }

    #[test]
    fn an_update_changes_only_what_it_names() {
        let changes = CustomerChanges::try_from(&proto::UpdateCustomerRequest {
            credit_limit: decimal("100"),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(changes.name, None);
        assert_eq!(changes.contacts, None);
        assert_eq!(
            changes.credit_limit.map(money::to_text).as_deref(),
            Some("100.00")
        );
    }

    #[test]
    fn a_blank_search_is_no_search() {
        let filter = CustomerFilter::from(&proto::ListCustomersRequest {
            search: Some(" <b> </b> ".to_owned()),
            ..Default::default()
        });
        assert_eq!(filter.search, None);
    }
}
