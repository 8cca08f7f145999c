//! `PUT /invoices/{id}` as asked: a partial update of a draft, or a status move.

use regal_domain::{Violations, parse_optional_uuid, parse_path_id};
use regal_errors::FieldViolation;
use regal_proto::sales::v1 as proto;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::sale::{PaymentIn, SaleLines, discount, payments, take_all};

/// Where an update may move an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMove {
    Issued,
    Paid,
    Cancelled,
}

impl StatusMove {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Paid => "paid",
            Self::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceUpdate {
    pub id: Uuid,
    pub lines: Option<SaleLines>,
    /// `Some(None)` makes it a walk-in sale.
    pub customer_id: Option<Option<Uuid>>,
    /// `Some(None)` removes the salesman.
    pub salesman_id: Option<Option<Uuid>>,
    pub discount: Option<Decimal>,
    pub payments: Option<Vec<PaymentIn>>,
    pub status: Option<StatusMove>,
}

impl InvoiceUpdate {
    pub fn parse(request: &proto::UpdateInvoiceRequest) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        let id = violations.take(parse_path_id(&request.id));
        let lines = request.items.as_ref().map(|list| {
            if list.items.is_empty() {
                violations.push(FieldViolation::new(
                    "items",
                    "missing",
                    "At least one item is required",
                ));
            }
            take_all(&mut violations, SaleLines::parse(&list.items, "items"))
        });
        let customer_id = violations.take_present(
            request
                .customer_id
                .as_deref()
                .map(|value| parse_optional_uuid("customer_id", value)),
        );
        let salesman_id = violations.take_present(
            request
                .salesman_id
                .as_deref()
                .map(|value| parse_optional_uuid("salesman_id", value)),
        );
        let discount = request
            .discount
            .as_ref()
            .map(|message| discount(&mut violations, Some(message)));
        let payments = request
            .payments
            .as_ref()
            .map(|list| payments(&mut violations, &list.payments, "payments"));
        let status = match request.status.map(proto::InvoiceStatus::try_from) {
            None => None,
            Some(Ok(proto::InvoiceStatus::Issued)) => Some(StatusMove::Issued),
            Some(Ok(proto::InvoiceStatus::Paid)) => Some(StatusMove::Paid),
            Some(Ok(proto::InvoiceStatus::Cancelled)) => Some(StatusMove::Cancelled),
            Some(_) => {
                violations.push(FieldViolation::new(
                    "status",
                    "enum",
                    "Input should be 'issued', 'paid' or 'cancelled'",
                ));
                None
            }
        };
        violations.finish(Self {
            id,
            lines,
            customer_id,
            salesman_id,
            discount,
            payments,
            status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fields_stay_and_empty_references_clear() {
        let request = proto::UpdateInvoiceRequest {
            id: Uuid::now_v7().to_string(),
            customer_id: Some(String::new()),
            status: Some(proto::InvoiceStatus::Paid as i32),
            ..Default::default()
        };
        let update = InvoiceUpdate::parse(&request).unwrap();
        assert_eq!(update.customer_id, Some(None));
        assert_eq!(update.salesman_id, None);
        assert_eq!(update.lines, None);
        assert_eq!(update.status, Some(StatusMove::Paid));
    }

    #[test]
    fn drafts_and_refund_states_cannot_be_asked_for() {
        for status in [proto::InvoiceStatus::Draft, proto::InvoiceStatus::Refunded] {
            let request = proto::UpdateInvoiceRequest {
                id: Uuid::now_v7().to_string(),
                status: Some(status as i32),
                ..Default::default()
            };
            assert!(InvoiceUpdate::parse(&request).is_err());
        }
    }
}
