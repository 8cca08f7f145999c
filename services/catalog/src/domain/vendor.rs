//! Vendors: what a valid one looks like, and what a valid change is.

use regal_errors::FieldViolation;
use regal_proto::catalog::v1 as proto;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::{Violations, clean_object, money};

pub const NAME_MAX: usize = 100;

fn name(value: &str) -> Result<String, FieldViolation> {
    regal_text::required("name", value, NAME_MAX)
}

/// A vendor about to be created.
#[derive(Debug, Clone)]
pub struct NewVendor {
    pub name: String,
    pub contacts: Map<String, Value>,
    pub terms: Map<String, Value>,
    /// Money owed to the vendor (negative: a credit with them).
    pub balance: Decimal,
}

impl TryFrom<&proto::CreateVendorRequest> for NewVendor {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::CreateVendorRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let vendor = Self {
            name: violations.take(name(&request.name)),
            contacts: violations.take(clean_object("contacts", request.contacts.as_ref())),
            terms: violations.take(clean_object("terms", request.terms.as_ref())),
            balance: violations
                .take_present(money::parse_message("balance", request.balance.as_ref()))
                .unwrap_or_default(),
        };
        violations.finish(vendor)
    }
}

/// A partial update: absent fields stay as they are.
#[derive(Debug, Default, Clone)]
pub struct VendorChanges {
    pub name: Option<String>,
    pub contacts: Option<Map<String, Value>>,
    pub terms: Option<Map<String, Value>>,
    pub balance: Option<Decimal>,
    pub is_active: Option<bool>,
}

impl TryFrom<&proto::UpdateVendorRequest> for VendorChanges {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::UpdateVendorRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let changes = Self {
            name: violations.take_present(request.name.as_deref().map(name)),
            contacts: violations.take_present(
                request
                    .contacts
                    .as_ref()
                    .map(|object| clean_object("contacts", Some(object))),
            ),
            terms: violations.take_present(
                request
                    .terms
                    .as_ref()
                    .map(|object| clean_object("terms", Some(object))),
            ),
            balance: violations
                .take_present(money::parse_message("balance", request.balance.as_ref())),
            is_active: request.is_active,
        };
        violations.finish(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vendor_needs_a_name_and_an_exact_balance() {
        let violations = NewVendor::try_from(&proto::CreateVendorRequest {
            name: " <i></i> ".to_owned(),
            balance: Some(regal_proto::common::v1::Decimal {
                value: "1.001".to_owned(),
            }),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["name", "balance"]);

        let vendor = NewVendor::try_from(&proto::CreateVendorRequest {
            name: " Acme ".to_owned(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(vendor.name, "Acme");
        assert_eq!(money::to_text(vendor.balance), "0.00");
    }
}
