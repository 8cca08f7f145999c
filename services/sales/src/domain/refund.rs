//! A refund as asked, and the money of refunded units.
//!
//! The amount of a refund comes from the invoice's own lines: for q of a line's Q units,
//! with k units already refunded, each figure of the line (gross, discount, tax) is taken
//! as a cumulative share, `share(k) = round(figure × k / Q)` to the cent half away from
//! zero, and the refund gets `share(k + q) − share(k)`; net = gross − discount. Refunding
//! every unit, in any number of refunds, returns exactly the line's figures, so exactly
//! the invoice's total.

use regal_domain::{Violations, money::round_cents, parse_uuid};
use regal_errors::FieldViolation;
use regal_proto::sales::v1 as proto;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::sale::{PaymentMethod, SaleLines, idempotency_key, take_all};

/// The longest reason.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewRefund {
    pub invoice_id: Uuid,
    pub lines: SaleLines,
    pub reason: String,
    pub method: PaymentMethod,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

impl NewRefund {
    pub fn parse(request: &proto::CreateRefundRequest) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        let invoice_id = violations.take(parse_uuid("invoice_id", &request.invoice_id));
        if request.items.is_empty() {
            violations.push(FieldViolation::new(
                "items",
                "missing",
                "At least one item is required",
            ));
        }
        let lines = take_all(&mut violations, SaleLines::parse(&request.items, "items"));
        let reason = violations.take(regal_domain::text(
            "reason",
            &request.reason,
            MAX_REASON_CHARS,
        ));
        let method = match request.method() {
            proto::PaymentMethod::Unspecified => PaymentMethod::Cash,
            other => PaymentMethod::from_message(other).unwrap_or(PaymentMethod::Cash),
        };
        let idempotency_key = violations.take(idempotency_key(&request.idempotency_key));
        violations.finish(Self {
            invoice_id,
            lines,
            reason,
            method,
            idempotency_key,
        })
    }
}

/// A line of the invoice as sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoldLine {
    pub quantity: i64,
    pub gross: Decimal,
    pub discount: Decimal,
    pub tax: Decimal,
    pub cost_price: Decimal,
}

/// What refunding some units of a line gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RefundedAmounts {
    pub gross: Decimal,
    pub discount: Decimal,
    pub net: Decimal,
    pub tax: Decimal,
    pub cost: Decimal,
}

fn share(figure: Decimal, units: i64, of: i64) -> Decimal {
    if of == 0 {
        return Decimal::ZERO;
    }
    round_cents(figure * Decimal::from(units) / Decimal::from(of))
}

/// The money of `quantity` more units of `line` when `already` were refunded before.
/// Needs `already + quantity <= line.quantity`.
pub fn refund_share(line: SoldLine, already: i64, quantity: i64) -> RefundedAmounts {
    let after = already + quantity;
    let step = |figure: Decimal| {
        share(figure, after, line.quantity) - share(figure, already, line.quantity)
    };
    let gross = step(line.gross);
    let discount = step(line.discount);
    let mut cost = line.cost_price * Decimal::from(quantity);
    cost.rescale(2);
    RefundedAmounts {
        gross,
        discount,
        net: gross - discount,
        tax: step(line.tax),
        cost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn refunding_every_unit_one_by_one_returns_exactly_what_was_paid() {
        // 7 units at 1.43 with a 0.10 share of an invoice discount and 16 % tax.
        let line = SoldLine {
            quantity: 7,
            gross: money("10.01"),
            discount: money("0.10"),
            tax: money("1.59"),
            cost_price: money("0.50"),
        };
        let mut total = RefundedAmounts::default();
        for already in 0..7 {
            let part = refund_share(line, already, 1);
            total.gross += part.gross;
            total.discount += part.discount;
            total.net += part.net;
            total.tax += part.tax;
        }
        assert_eq!(total.gross, money("10.01"));
        assert_eq!(total.discount, money("0.10"));
        assert_eq!(total.net, money("9.91"));
        assert_eq!(total.tax, money("1.59"));
    }

    #[test]
    fn a_partial_refund_takes_its_rounded_cumulative_share() {
        let line = SoldLine {
            quantity: 3,
            gross: money("10.00"),
            discount: money("0.00"),
            tax: money("1.00"),
            cost_price: money("2.00"),
        };
        let first = refund_share(line, 0, 1);
        assert_eq!((first.net, first.tax), (money("3.33"), money("0.33")));
        let second = refund_share(line, 1, 1);
        // round(6.666..) − 3.33 = 6.67 − 3.33
        assert_eq!((second.net, second.tax), (money("3.34"), money("0.34")));
        let last = refund_share(line, 2, 1);
        assert_eq!((last.net, last.tax), (money("3.33"), money("0.33")));
        assert_eq!(last.cost, money("2.00"));
    }
}
