//! Custom orders: their status, what a valid one looks like, and what a valid change is.

use regal_errors::FieldViolation;
use regal_proto::sales::v1::{self as proto, CustomOrderStatus as StatusMessage};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Violations, clean_object, parse_uuid};

/// Where a custom order stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CustomOrderStatus {
    #[default]
    Pending,
    InProgress,
    Completed,
    Cancelled,
}

impl CustomOrderStatus {
    /// The stored (and REST) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn from_stored(name: &str) -> Option<Self> {
        Some(match name {
            "pending" => Self::Pending,
            "in_progress" => Self::InProgress,
            "completed" => Self::Completed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    pub fn to_proto(self) -> StatusMessage {
        match self {
            Self::Pending => StatusMessage::Pending,
            Self::InProgress => StatusMessage::InProgress,
            Self::Completed => StatusMessage::Completed,
            Self::Cancelled => StatusMessage::Cancelled,
        }
    }

    /// A status of the wire: `None` for UNSPECIFIED, an error for a number no status has.
    fn from_proto(field: &str, value: i32) -> Result<Option<Self>, FieldViolation> {
        match StatusMessage::try_from(value) {
            Ok(StatusMessage::Unspecified) => Ok(None),
            Ok(StatusMessage::Pending) => Ok(Some(Self::Pending)),
            Ok(StatusMessage::InProgress) => Ok(Some(Self::InProgress)),
            Ok(StatusMessage::Completed) => Ok(Some(Self::Completed)),
            Ok(StatusMessage::Cancelled) => Ok(Some(Self::Cancelled)),
            Err(_) => Err(invalid_status(field)),
        }
    }
}

fn invalid_status(field: &str) -> FieldViolation {
    FieldViolation::new(
        field,
        "enum",
        "Input should be 'pending', 'in_progress', 'completed' or 'cancelled'",
    )
}

/// A reference that may be absent or, as an empty string, removed.
fn reference(field: &str, value: &str) -> Result<Option<Uuid>, FieldViolation> {
    regal_domain::parse_optional_uuid(field, value)
}

/// A custom order about to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCustomOrder {
    pub customer_id: Option<Uuid>,
    pub fields: Map<String, Value>,
    pub status: CustomOrderStatus,
    pub linked_invoice: Option<Uuid>,
}

impl TryFrom<&proto::CreateCustomOrderRequest> for NewCustomOrder {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::CreateCustomOrderRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let order = Self {
            customer_id: violations.take(reference(
                "customer_id",
                request.customer_id.as_deref().unwrap_or(""),
            )),
            fields: violations.take(clean_object("fields", request.fields.as_ref())),
            status: violations
                .take(CustomOrderStatus::from_proto("status", request.status))
                .unwrap_or_default(),
            linked_invoice: violations.take(reference(
                "linked_invoice",
                request.linked_invoice.as_deref().unwrap_or(""),
            )),
        };
        violations.finish(order)
    }
}

/// A partial update: absent fields stay as they are; `Some(None)` removes a link; the
/// fields object is replaced whole.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CustomOrderChanges {
    pub customer_id: Option<Option<Uuid>>,
    pub fields: Option<Map<String, Value>>,
    pub status: Option<CustomOrderStatus>,
    pub linked_invoice: Option<Option<Uuid>>,
}

impl TryFrom<&proto::UpdateCustomOrderRequest> for CustomOrderChanges {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::UpdateCustomOrderRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let status = request.status.map(|value| {
            CustomOrderStatus::from_proto("status", value)
                .and_then(|status| status.ok_or_else(|| invalid_status("status")))
        });
        let changes = Self {
            customer_id: violations.take_present(
                request
                    .customer_id
                    .as_deref()
                    .map(|id| reference("customer_id", id)),
            ),
            fields: violations.take_present(
                request
                    .fields
                    .as_ref()
                    .map(|object| clean_object("fields", Some(object))),
            ),
            status: violations.take_present(status),
            linked_invoice: violations.take_present(
                request
                    .linked_invoice
                    .as_deref()
                    .map(|id| reference("linked_invoice", id)),
            ),
        };
        violations.finish(changes)
    }
}

/// Which custom orders a list shows.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CustomOrderFilter {
    pub status: Option<CustomOrderStatus>,
    pub customer_id: Option<Uuid>,
}

impl TryFrom<&proto::ListCustomOrdersRequest> for CustomOrderFilter {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::ListCustomOrdersRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let filter = Self {
            status: violations.take(CustomOrderStatus::from_proto(
                "query.status",
                request.status,
            )),
            customer_id: violations.take_present(
                request
                    .customer_id
                    .as_deref()
                    .filter(|id| !id.trim().is_empty())
                    .map(|id| parse_uuid("query.customer_id", id)),
            ),
        };
        violations.finish(filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_order_is_pending_unless_told_otherwise() {
        let order = NewCustomOrder::try_from(&proto::CreateCustomOrderRequest::default()).unwrap();
        assert_eq!(order.status, CustomOrderStatus::Pending);
        assert_eq!(order.customer_id, None);
    }

    #[test]
    fn bad_ids_and_unknown_statuses_are_refused_together() {
        let violations = NewCustomOrder::try_from(&proto::CreateCustomOrderRequest {
            customer_id: Some("nope".to_owned()),
            status: 42,
            linked_invoice: Some("also-nope".to_owned()),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["customer_id", "status", "linked_invoice"]);
    }

    #[test]
    fn an_empty_link_removes_it_and_an_unspecified_status_is_refused() {
        let changes = CustomOrderChanges::try_from(&proto::UpdateCustomOrderRequest {
            linked_invoice: Some(String::new()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(changes.linked_invoice, Some(None));
        assert_eq!(changes.customer_id, None);

        let violations = CustomOrderChanges::try_from(&proto::UpdateCustomOrderRequest {
            status: Some(StatusMessage::Unspecified as i32),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(violations[0].field, "status");
    }

    #[test]
    fn stored_names_round_trip() {
        for status in [
            CustomOrderStatus::Pending,
            CustomOrderStatus::InProgress,
            CustomOrderStatus::Completed,
            CustomOrderStatus::Cancelled,
        ] {
            assert_eq!(
                CustomOrderStatus::from_stored(status.as_str()),
                Some(status)
            );
        }
    }
}
