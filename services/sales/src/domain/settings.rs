//! The store settings: what a valid partial update is.

use regal_domain::{MAX_QUANTITY, Violations};
use regal_errors::FieldViolation;
use regal_proto::sales::v1 as proto;

pub const STORE_NAME_MAX: usize = 100;
pub const ADDRESS_MAX: usize = 300;
pub const RECEIPT_FOOTER_MAX: usize = 300;

/// An ISO 4217 code: three letters, stored in capitals (`usd` becomes `USD`).
fn currency(value: &str) -> Result<String, FieldViolation> {
    let code = value.trim();
    if code.len() == 3 && code.bytes().all(|byte| byte.is_ascii_alphabetic()) {
        Ok(code.to_ascii_uppercase())
    } else {
        Err(FieldViolation::new(
            "currency",
            "string_pattern_mismatch",
            "Currency should be an ISO 4217 code of three letters, e.g. USD",
        ))
    }
}

fn low_stock_threshold(value: i64) -> Result<i64, FieldViolation> {
    if value < 0 {
        return Err(FieldViolation::new(
            "low_stock_threshold",
            "greater_than_equal",
            "Input should be greater than or equal to 0",
        ));
    }
    if value > MAX_QUANTITY {
        return Err(FieldViolation::new(
            "low_stock_threshold",
            "less_than_equal",
            format!("Input should be less than or equal to {MAX_QUANTITY}"),
        ));
    }
    Ok(value)
}

/// A partial update of the settings: absent fields stay as they are.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SettingsChanges {
    pub store_name: Option<String>,
    pub address: Option<String>,
    pub currency: Option<String>,
    pub receipt_footer: Option<String>,
    pub low_stock_threshold: Option<i64>,
}

impl TryFrom<&proto::UpdateSettingsRequest> for SettingsChanges {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::UpdateSettingsRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let optional_text = |field: &str, value: &str, max: usize| {
            regal_text::optional(field, value, max).map(Option::unwrap_or_default)
        };
        let changes = Self {
            store_name: violations.take_present(
                request
                    .store_name
                    .as_deref()
                    .map(|name| regal_text::required("store_name", name, STORE_NAME_MAX)),
            ),
            address: violations.take_present(
                request
                    .address
                    .as_deref()
                    .map(|address| optional_text("address", address, ADDRESS_MAX)),
            ),
            currency: violations.take_present(request.currency.as_deref().map(currency)),
            receipt_footer: violations.take_present(
                request
                    .receipt_footer
                    .as_deref()
                    .map(|footer| optional_text("receipt_footer", footer, RECEIPT_FOOTER_MAX)),
            ),
            low_stock_threshold: violations
                .take_present(request.low_stock_threshold.map(low_stock_threshold)),
        };
        violations.finish(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_changes_are_cleaned_and_absent_fields_stay_absent() {
        let changes = SettingsChanges::try_from(&proto::UpdateSettingsRequest {
            store_name: Some(" <b>Corner</b> Shop ".to_owned()),
            currency: Some(" kes ".to_owned()),
            receipt_footer: Some("<script>x</script>Karibu".to_owned()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(changes.store_name.as_deref(), Some("Corner Shop"));
        assert_eq!(changes.currency.as_deref(), Some("KES"));
        assert_eq!(changes.receipt_footer.as_deref(), Some("xKaribu"));
        assert_eq!(changes.address, None);
        assert_eq!(changes.low_stock_threshold, None);

        let cleared = SettingsChanges::try_from(&proto::UpdateSettingsRequest {
            address: Some("   ".to_owned()),
            low_stock_threshold: Some(0),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(cleared.address.as_deref(), Some(""));
        assert_eq!(cleared.low_stock_threshold, Some(0));
    }

    #[test]
    fn bad_settings_are_all_reported() {
        let violations = SettingsChanges::try_from(&proto::UpdateSettingsRequest {
            store_name: Some(" ".to_owned()),
            currency: Some("US$".to_owned()),
            low_stock_threshold: Some(-1),
            address: Some("a".repeat(ADDRESS_MAX + 1)),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            ["store_name", "address", "currency", "low_stock_threshold"]
        );
        for code in ["US", "EURO", "U5D", ""] {
            assert!(currency(code).is_err(), "{code}");
        }
    }
}
