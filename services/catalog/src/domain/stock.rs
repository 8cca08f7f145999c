//! Stock entries: the kinds of movement, and what a valid manual entry is.

use chrono::NaiveDate;
use regal_errors::FieldViolation;
use regal_proto::catalog::v1::{self as proto, StockEntryType};
use uuid::Uuid;

use super::{MAX_QUANTITY, Violations, parse_uuid, text};

pub const LOCATION_MAX: usize = 100;
pub const BATCH_MAX: usize = 100;
pub const REF_MAX: usize = 200;
pub const IDEMPOTENCY_KEY_MAX: usize = 200;

/// The kind of a ledger entry, as stored in `catalog.stock_entries.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    In,
    Out,
    Adjust,
    Sale,
    Refund,
    Reversal,
}

impl EntryType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::In => "IN",
            EntryType::Out => "OUT",
            EntryType::Adjust => "ADJUST",
            EntryType::Sale => "SALE",
            EntryType::Refund => "REFUND",
            EntryType::Reversal => "REVERSAL",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "IN" => EntryType::In,
            "OUT" => EntryType::Out,
            "ADJUST" => EntryType::Adjust,
            "SALE" => EntryType::Sale,
            "REFUND" => EntryType::Refund,
            "REVERSAL" => EntryType::Reversal,
            _ => return None,
        })
    }

    pub fn from_proto(value: StockEntryType) -> Option<Self> {
        Some(match value {
            StockEntryType::Unspecified => return None,
            StockEntryType::In => EntryType::In,
            StockEntryType::Out => EntryType::Out,
            StockEntryType::Adjust => EntryType::Adjust,
            StockEntryType::Sale => EntryType::Sale,
            StockEntryType::Refund => EntryType::Refund,
            StockEntryType::Reversal => EntryType::Reversal,
        })
    }

    pub fn to_proto(self) -> StockEntryType {
        match self {
            EntryType::In => StockEntryType::In,
            EntryType::Out => StockEntryType::Out,
            EntryType::Adjust => StockEntryType::Adjust,
            EntryType::Sale => StockEntryType::Sale,
            EntryType::Refund => StockEntryType::Refund,
            EntryType::Reversal => StockEntryType::Reversal,
        }
    }

    /// The signed effect on stock of an entry of this type carrying `qty`.
    pub fn delta(self, qty: i64) -> i64 {
        match self {
            EntryType::Out | EntryType::Sale => -qty,
            EntryType::In | EntryType::Refund | EntryType::Adjust | EntryType::Reversal => qty,
        }
    }

    /// Whether `DeleteStockEntry` may reverse it (the catalog's own entries are undone
    /// through their sale or refund instead).
    pub fn is_manual(self) -> bool {
        matches!(self, EntryType::In | EntryType::Out | EntryType::Adjust)
    }
}

fn expiry(value: &str) -> Result<Option<NaiveDate>, FieldViolation> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    regal_domain::parse_date("expiry", value).map(Some)
}

/// An `IN`, `OUT` or `ADJUST` entry posted by a person.
#[derive(Debug, Clone, PartialEq)]
pub struct NewStockEntry {
    pub product_id: Uuid,
    pub entry_type: EntryType,
    pub qty: i64,
    pub location: String,
    pub batch: String,
    pub expiry: Option<NaiveDate>,
    pub reference: String,
    pub idempotency_key: Option<String>,
}

impl NewStockEntry {
    /// What identifies the request behind an idempotency key: a replay of the key with a
    /// different entry is refused.
    pub fn fingerprint(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.product_id,
            self.entry_type.as_str(),
            self.qty,
            self.location,
            self.batch,
            self.expiry.map(|date| date.to_string()).unwrap_or_default(),
            self.reference
        )
    }
}

impl TryFrom<&proto::CreateStockEntryRequest> for NewStockEntry {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::CreateStockEntryRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let entry_type = match StockEntryType::try_from(request.r#type)
            .ok()
            .and_then(EntryType::from_proto)
            .filter(|entry_type| entry_type.is_manual())
        {
            Some(entry_type) => entry_type,
            None => {
                violations.push(FieldViolation::new(
                    "type",
                    "enum",
                    "Input should be 'IN', 'OUT' or 'ADJUST'",
                ));
                EntryType::In
            }
        };
        let qty = request.qty;
        if qty.unsigned_abs() > MAX_QUANTITY as u64 {
            violations.push(FieldViolation::new(
                "qty",
                "less_than_equal",
                format!("Quantity should be at most {MAX_QUANTITY} units"),
            ));
        } else if entry_type == EntryType::Adjust && qty == 0 {
            violations.push(FieldViolation::new(
                "qty",
                "value_error",
                "An adjustment should not be zero",
            ));
        } else if entry_type != EntryType::Adjust && qty <= 0 {
            violations.push(FieldViolation::new(
                "qty",
                "greater_than",
                "Input should be greater than 0",
            ));
        }
        let key = request.idempotency_key.trim();
        if key.chars().count() > IDEMPOTENCY_KEY_MAX {
            violations.push(FieldViolation::new(
                "header.idempotency-key",
                "string_too_long",
                format!("Idempotency-Key should have at most {IDEMPOTENCY_KEY_MAX} characters"),
            ));
        }
        let entry = Self {
            product_id: violations.take(parse_uuid("product_id", &request.product_id)),
            entry_type,
            qty,
            location: violations.take(text("location", &request.location, LOCATION_MAX)),
            batch: violations.take(text("batch", &request.batch, BATCH_MAX)),
            expiry: violations.take(expiry(&request.expiry)),
            reference: violations.take(text("ref", &request.r#ref, REF_MAX)),
            idempotency_key: Some(key.to_owned()).filter(|key| !key.is_empty()),
        };
        violations.finish(entry)
    }
}

/// A change of an entry's descriptive fields; absent fields stay.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct StockEntryChanges {
    pub location: Option<String>,
    pub batch: Option<String>,
    /// `Some(None)` removes the expiry date.
    pub expiry: Option<Option<NaiveDate>>,
    pub reference: Option<String>,
}

impl TryFrom<&proto::UpdateStockEntryRequest> for StockEntryChanges {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::UpdateStockEntryRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let changes = Self {
            location: violations.take_present(
                request
                    .location
                    .as_deref()
                    .map(|value| text("location", value, LOCATION_MAX)),
            ),
            batch: violations.take_present(
                request
                    .batch
                    .as_deref()
                    .map(|value| text("batch", value, BATCH_MAX)),
            ),
            expiry: violations.take_present(request.expiry.as_deref().map(expiry)),
            reference: violations.take_present(
                request
                    .r#ref
                    .as_deref()
                    .map(|value| text("ref", value, REF_MAX)),
            ),
        };
        violations.finish(changes)
    }
}

/// The filters of a stock entry list.
#[derive(Debug, Default, Clone)]
pub struct StockEntryFilter {
    pub product_id: Option<Uuid>,
    pub entry_type: Option<EntryType>,
}

impl TryFrom<&proto::ListStockEntriesRequest> for StockEntryFilter {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::ListStockEntriesRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let product_id = violations.take_present(
            request
                .product_id
                .as_deref()
                .filter(|id| !id.trim().is_empty())
                .map(|id| parse_uuid("query.product_id", id)),
        );
        let entry_type = match StockEntryType::try_from(request.r#type) {
            Ok(entry_type) => EntryType::from_proto(entry_type),
            Err(_) => {
                violations.push(FieldViolation::new(
                    "query.type",
                    "enum",
                    "Input should be 'IN', 'OUT', 'ADJUST', 'SALE', 'REFUND' or 'REVERSAL'",
                ));
                None
            }
        };
        violations.finish(Self {
            product_id,
            entry_type,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(entry_type: StockEntryType, qty: i64) -> proto::CreateStockEntryRequest {
        proto::CreateStockEntryRequest {
            product_id: Uuid::now_v7().to_string(),
            qty,
            r#type: entry_type as i32,
            ..Default::default()
        }
    }

    #[test]
    fn in_and_out_take_positive_quantities_and_adjust_a_signed_one() {
        assert!(NewStockEntry::try_from(&request(StockEntryType::In, 5)).is_ok());
        assert!(NewStockEntry::try_from(&request(StockEntryType::Out, 0)).is_err());
        assert!(NewStockEntry::try_from(&request(StockEntryType::Out, -2)).is_err());
        assert!(NewStockEntry::try_from(&request(StockEntryType::Adjust, -2)).is_ok());
        assert!(NewStockEntry::try_from(&request(StockEntryType::Adjust, 0)).is_err());
        assert!(NewStockEntry::try_from(&request(StockEntryType::In, MAX_QUANTITY + 1)).is_err());
    }

    #[test]
    fn only_manual_types_can_be_posted() {
        for entry_type in [
            StockEntryType::Unspecified,
            StockEntryType::Sale,
            StockEntryType::Refund,
            StockEntryType::Reversal,
        ] {
            let violations = NewStockEntry::try_from(&request(entry_type, 1)).unwrap_err();
            assert_eq!(violations[0].field, "type");
        }
    }

    #[test]
    fn expiry_is_an_iso_date() {
        let mut bad = request(StockEntryType::In, 1);
        bad.expiry = "31/12/2027".to_owned();
        assert_eq!(
            NewStockEntry::try_from(&bad).unwrap_err()[0].field,
            "expiry"
        );
        let mut good = request(StockEntryType::In, 1);
        good.expiry = "2027-12-31".to_owned();
        assert_eq!(
            NewStockEntry::try_from(&good).unwrap().expiry,
            NaiveDate::from_ymd_opt(2027, 12, 31)
        );
    }

    #[test]
    fn the_delta_follows_the_type() {
        assert_eq!(EntryType::Out.delta(3), -3);
        assert_eq!(EntryType::Sale.delta(3), -3);
        assert_eq!(EntryType::Refund.delta(3), 3);
        assert_eq!(EntryType::Reversal.delta(-3), -3);
    }
}
