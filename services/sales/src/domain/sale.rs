//! What a sale asks for (quick-sell, a new invoice, a draft being edited), checked once
//! at the edge: lines, customer, salesman, invoice-level discount, payments, and the
//! idempotency key.

use regal_domain::{MAX_QUANTITY, Violations, money, parse_optional_uuid, parse_uuid};
use regal_errors::FieldViolation;
use regal_proto::sales::v1 as proto;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The most distinct products one sale may carry (the catalog's limit too).
pub const MAX_LINES: usize = 500;
/// The longest `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Cash,
    Card,
    Other,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cash => "cash",
            Self::Card => "card",
            Self::Other => "other",
        }
    }

    /// A stored method name; unknown names (impossible under the table's CHECK) read as
    /// `other`.
    pub fn from_stored(name: &str) -> Self {
        match name {
            "cash" => Self::Cash,
            "card" => Self::Card,
            _ => Self::Other,
        }
    }

    pub fn from_message(method: proto::PaymentMethod) -> Option<Self> {
        match method {
            proto::PaymentMethod::Cash => Some(Self::Cash),
            proto::PaymentMethod::Card => Some(Self::Card),
            proto::PaymentMethod::Other => Some(Self::Other),
            proto::PaymentMethod::Unspecified => None,
        }
    }

    pub fn to_message(self) -> proto::PaymentMethod {
        match self {
            Self::Cash => proto::PaymentMethod::Cash,
            Self::Card => proto::PaymentMethod::Card,
            Self::Other => proto::PaymentMethod::Other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentIn {
    pub method: PaymentMethod,
    pub amount: Decimal,
}

/// The lines of a sale: one quantity per product, in the order each product first
/// appears (lines of one product are added up, as the catalog reserves them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLines(Vec<(Uuid, i64)>);

impl SaleLines {
    pub fn parse(items: &[proto::ItemQuantity], field: &str) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        let mut merged: Vec<(Uuid, i64)> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let product_id = parse_uuid(&format!("{field}.{index}.product_id"), &item.product_id);
            let quantity = if item.quantity <= 0 {
                Err(FieldViolation::new(
                    format!("{field}.{index}.quantity"),
                    "greater_than",
                    "Input should be greater than 0",
                ))
            } else {
                Ok(item.quantity)
            };
            let (Some(product_id), Some(quantity)) = (
                violations.take_present(Some(product_id)),
                violations.take_present(Some(quantity)),
            ) else {
                continue;
            };
            add(&mut merged, product_id, quantity);
        }
        check_size(&mut violations, &merged, field);
        violations.finish(Self(merged))
    }

    /// The original backend's form: one unit of each id, an id may repeat.
    pub fn parse_product_ids(ids: &[String]) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        let mut merged: Vec<(Uuid, i64)> = Vec::new();
        for (index, id) in ids.iter().enumerate() {
            if let Some(product_id) =
                violations.take_present(Some(parse_uuid(&format!("product_ids.{index}"), id)))
            {
                add(&mut merged, product_id, 1);
            }
        }
        check_size(&mut violations, &merged, "product_ids");
        violations.finish(Self(merged))
    }

    pub fn lines(&self) -> &[(Uuid, i64)] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn add(merged: &mut Vec<(Uuid, i64)>, product_id: Uuid, quantity: i64) {
    match merged.iter_mut().find(|(id, _)| *id == product_id) {
        Some((_, total)) => *total = total.saturating_add(quantity),
        None => merged.push((product_id, quantity)),
    }
}

fn check_size(violations: &mut Violations, merged: &[(Uuid, i64)], field: &str) {
    if merged.iter().any(|(_, quantity)| *quantity > MAX_QUANTITY) {
        violations.push(FieldViolation::new(
            field,
            "less_than_equal",
            format!("At most {MAX_QUANTITY} units of one product"),
        ));
    }
    if merged.len() > MAX_LINES {
        violations.push(FieldViolation::new(
            field,
            "too_long",
            format!("At most {MAX_LINES} distinct products"),
        ));
    }
}

/// Everything a sale needs besides the catalog's prices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleTerms {
    pub lines: SaleLines,
    pub customer_id: Option<Uuid>,
    pub salesman_id: Option<Uuid>,
    /// Invoice-level discount, money, >= 0.
    pub discount: Decimal,
    pub payments: Vec<PaymentIn>,
}

/// A quick-sell as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickSale {
    pub terms: SaleTerms,
    pub idempotency_key: Option<String>,
}

impl QuickSale {
    pub fn parse(request: &proto::QuickSellRequest) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        let lines = match (request.items.is_empty(), request.product_ids.is_empty()) {
            (false, false) => {
                violations.push(FieldViolation::new(
                    "items",
                    "value_error",
                    "Send either items or product_ids, not both",
                ));
                SaleLines::default()
            }
            (true, true) => {
                violations.push(FieldViolation::new(
                    "items",
                    "missing",
                    "At least one item is required",
                ));
                SaleLines::default()
            }
            (false, true) => take_all(&mut violations, SaleLines::parse(&request.items, "items")),
            (true, false) => take_all(
                &mut violations,
                SaleLines::parse_product_ids(&request.product_ids),
            ),
        };
        let customer_id = optional_id(
            &mut violations,
            "customer_id",
            request.customer_id.as_deref(),
        );
        let salesman_id = optional_id(
            &mut violations,
            "salesman_id",
            request.salesman_id.as_deref(),
        );
        let discount = discount(&mut violations, request.discount.as_ref());
        let payments = payments(&mut violations, &request.payments, "payments");
        let idempotency_key = violations.take(idempotency_key(&request.idempotency_key));
        violations.finish(Self {
            terms: SaleTerms {
                lines,
                customer_id,
                salesman_id,
                discount,
                payments,
            },
            idempotency_key,
        })
    }
}

/// The status a new invoice asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestedStatus {
    Draft,
    Issued,
    Paid,
    /// Paid when the payments cover the total, issued otherwise.
    ByPayments,
}

/// A new invoice as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice {
    pub terms: SaleTerms,
    pub status: RequestedStatus,
    pub idempotency_key: Option<String>,
}

impl NewInvoice {
    pub fn parse(request: &proto::CreateInvoiceRequest) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        let lines = take_all(&mut violations, SaleLines::parse(&request.items, "items"));
        if request.items.is_empty() {
            violations.push(FieldViolation::new(
                "items",
                "missing",
                "At least one item is required",
            ));
        }
        let customer_id = optional_id(
            &mut violations,
            "customer_id",
            request.customer_id.as_deref(),
        );
        let salesman_id = optional_id(
            &mut violations,
            "salesman_id",
            request.salesman_id.as_deref(),
        );
        let discount = discount(&mut violations, request.discount.as_ref());
        let payments = payments(&mut violations, &request.payments, "payments");
        let status = match request.status() {
            proto::InvoiceStatus::Unspecified => RequestedStatus::ByPayments,
            proto::InvoiceStatus::Draft => RequestedStatus::Draft,
            proto::InvoiceStatus::Issued => RequestedStatus::Issued,
            proto::InvoiceStatus::Paid => RequestedStatus::Paid,
            _ => {
                violations.push(FieldViolation::new(
                    "status",
                    "enum",
                    "Input should be 'draft', 'issued' or 'paid'",
                ));
                RequestedStatus::ByPayments
            }
        };
        let idempotency_key = violations.take(idempotency_key(&request.idempotency_key));
        violations.finish(Self {
            terms: SaleTerms {
                lines,
                customer_id,
                salesman_id,
                discount,
                payments,
            },
            status,
            idempotency_key,
        })
    }
}

pub(crate) fn take_all<T: Default>(
    violations: &mut Violations,
    parsed: Result<T, Vec<FieldViolation>>,
) -> T {
    match parsed {
        Ok(value) => value,
        Err(found) => {
            for violation in found {
                violations.push(violation);
            }
            T::default()
        }
    }
}

fn optional_id(violations: &mut Violations, field: &str, value: Option<&str>) -> Option<Uuid> {
    violations
        .take_present(value.map(|value| parse_optional_uuid(field, value)))
        .flatten()
}

pub(crate) fn discount(
    violations: &mut Violations,
    message: Option<&regal_proto::common::v1::Decimal>,
) -> Decimal {
    violations
        .take_present(
            money::parse_message("discount", message)
                .map(|parsed| parsed.and_then(|value| money::non_negative("discount", value))),
        )
        .unwrap_or(Decimal::ZERO)
}

pub(crate) fn payments(
    violations: &mut Violations,
    payments: &[proto::Payment],
    field: &str,
) -> Vec<PaymentIn> {
    let mut parsed = Vec::with_capacity(payments.len());
    for (index, payment) in payments.iter().enumerate() {
        let method = PaymentMethod::from_message(payment.method()).ok_or_else(|| {
            FieldViolation::new(
                format!("{field}.{index}.method"),
                "enum",
                "Input should be 'cash', 'card' or 'other'",
            )
        });
        let amount_field = format!("{field}.{index}.amount");
        let amount = money::parse_message(&amount_field, payment.amount.as_ref())
            .unwrap_or_else(|| {
                Err(FieldViolation::new(
                    &amount_field,
                    "missing",
                    "Field required",
                ))
            })
            .and_then(|value| money::positive(&amount_field, value));
        let method = violations.take_present(Some(method));
        let amount = violations.take_present(Some(amount));
        if let (Some(method), Some(amount)) = (method, amount) {
            parsed.push(PaymentIn { method, amount });
        }
    }
    parsed
}

/// A present key, trimmed; blank means none.
pub fn idempotency_key(value: &str) -> Result<Option<String>, FieldViolation> {
    let key = value.trim();
    if key.is_empty() {
        return Ok(None);
    }
    if key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS {
        return Err(FieldViolation::new(
            "header.Idempotency-Key",
            "string_too_long",
            format!("String should have at most {MAX_IDEMPOTENCY_KEY_CHARS} characters"),
        ));
    }
    Ok(Some(key.to_owned()))
}

/// A digest of what a request asked, so a different request under the same idempotency
/// key is told apart from a retry.
pub fn request_digest<T: Serialize>(operation: &str, request: &T) -> String {
    let body = serde_json::to_vec(request).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(operation.as_bytes());
    hasher.update([0]);
    hasher.update(&body);
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(product_id: &str, quantity: i64) -> proto::ItemQuantity {
        proto::ItemQuantity {
            product_id: product_id.to_owned(),
            quantity,
        }
    }

    #[test]
    fn repeated_product_ids_become_one_line_per_product() {
        let first = Uuid::now_v7();
        let second = Uuid::now_v7();
        let request = proto::QuickSellRequest {
            product_ids: vec![first.to_string(), second.to_string(), first.to_string()],
            ..Default::default()
        };
        let sale = QuickSale::parse(&request).unwrap();
        assert_eq!(sale.terms.lines.lines(), &[(first, 2), (second, 1)]);
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let request = proto::QuickSellRequest {
            items: vec![item("nope", 1), item(&Uuid::now_v7().to_string(), 0)],
            customer_id: Some("x".to_owned()),
            discount: Some(regal_proto::common::v1::Decimal {
                value: "-1".to_owned(),
            }),
            payments: vec![proto::Payment {
                method: 0,
                amount: None,
            }],
            ..Default::default()
        };
        let violations = QuickSale::parse(&request).unwrap_err();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "items.0.product_id",
                "items.1.quantity",
                "customer_id",
                "discount",
                "payments.0.method",
                "payments.0.amount"
            ]
        );
    }

    #[test]
    fn the_digest_tells_requests_apart() {
        let one = SaleTerms {
            discount: Decimal::ONE,
            ..Default::default()
        };
        let two = SaleTerms::default();
        assert_eq!(
            request_digest("quick_sell", &one),
            request_digest("quick_sell", &one)
        );
        assert_ne!(
            request_digest("quick_sell", &one),
            request_digest("quick_sell", &two)
        );
        assert_ne!(
            request_digest("quick_sell", &one),
            request_digest("invoice", &one)
        );
    }
}
