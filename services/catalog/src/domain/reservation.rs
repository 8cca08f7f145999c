//! The lines of a reservation or a refund restock.

use regal_errors::FieldViolation;
use regal_proto::catalog::v1::StockLine;
use uuid::Uuid;

use super::{MAX_QUANTITY, Violations, parse_uuid};

/// The most distinct products one sale or refund may move.
pub const MAX_LINES: usize = 500;

/// The caller's sale or refund id, the idempotency key of the call.
pub fn parse_reference_id(field: &str, value: &str) -> Result<Uuid, FieldViolation> {
    parse_uuid(field, value)
}

/// One quantity per product, in the order each product first appears in the request
/// (lines of the same product are added together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLines(Vec<(Uuid, i64)>);

impl StockLines {
    pub fn parse(lines: &[StockLine]) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        if lines.is_empty() {
            violations.push(FieldViolation::new(
                "lines",
                "too_short",
                "At least one line is required",
            ));
        }
        let mut merged: Vec<(Uuid, i64)> = Vec::new();
        for (index, line) in lines.iter().enumerate() {
            let product_id = parse_uuid(&format!("lines.{index}.product_id"), &line.product_id);
            let quantity = if line.quantity <= 0 {
                Err(FieldViolation::new(
                    format!("lines.{index}.quantity"),
                    "greater_than",
                    "Input should be greater than 0",
                ))
            } else {
                Ok(line.quantity)
            };
            let (Some(product_id), Some(quantity)) = (
                violations.take_present(Some(product_id)),
                violations.take_present(Some(quantity)),
            ) else {
                continue;
            };
            match merged.iter_mut().find(|(id, _)| *id == product_id) {
                Some((_, total)) => *total = total.saturating_add(quantity),
                None => merged.push((product_id, quantity)),
            }
        }
        if let Some((product_id, _)) = merged.iter().find(|(_, total)| *total > MAX_QUANTITY) {
            violations.push(FieldViolation::new(
                "lines",
                "less_than_equal",
                format!("At most {MAX_QUANTITY} units of product {product_id} per call"),
            ));
        }
        if merged.len() > MAX_LINES {
            violations.push(FieldViolation::new(
                "lines",
                "too_long",
                format!("At most {MAX_LINES} distinct products per call"),
            ));
        }
        violations.finish(Self(merged))
    }

    pub fn lines(&self) -> &[(Uuid, i64)] {
        &self.0
    }

    /// The product ids in ascending order: the order rows are locked in, so concurrent
    /// calls over the same products never deadlock.
    pub fn ids_in_lock_order(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self.0.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product_id: Uuid, quantity: i64) -> StockLine {
        StockLine {
            product_id: product_id.to_string(),
            quantity,
        }
    }

    #[test]
    fn lines_of_one_product_are_added_in_first_appearance_order() {
        let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
        let lines = StockLines::parse(&[line(second, 1), line(first, 2), line(second, 3)]).unwrap();
        assert_eq!(lines.lines(), &[(second, 4), (first, 2)]);
        assert_eq!(lines.ids_in_lock_order(), vec![first, second]);
    }

    #[test]
    fn empty_calls_bad_ids_and_non_positive_quantities_are_refused() {
        assert!(StockLines::parse(&[]).is_err());
        let violations = StockLines::parse(&[
            StockLine {
                product_id: "x".to_owned(),
                quantity: 1,
            },
            line(Uuid::now_v7(), 0),
        ])
        .unwrap_err();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["lines.0.product_id", "lines.1.quantity"]);
    }
}
