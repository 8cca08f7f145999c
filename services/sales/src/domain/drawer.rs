//! The cash drawer and shifts: what a valid opening, petty-cash movement, count and shift
//! close look like.

use regal_domain::{Violations, money};
use regal_errors::FieldViolation;
use regal_proto::sales::v1 as proto;
use rust_decimal::Decimal;

use super::sale;

/// Longest note on an opening or a count, and longest pay-in/pay-out reason.
pub const NOTE_MAX: usize = 500;
pub const REASON_MAX: usize = 200;

fn note(field: &str, value: Option<&str>) -> Result<Option<String>, FieldViolation> {
    match value {
        Some(value) => regal_text::optional(field, value, NOTE_MAX),
        None => Ok(None),
    }
}

/// A required, non-negative amount of money.
fn required_amount(
    field: &str,
    message: Option<&regal_proto::common::v1::Decimal>,
) -> Result<Decimal, FieldViolation> {
    match money::parse_message(field, message) {
        Some(amount) => money::non_negative(field, amount?),
        None => Err(FieldViolation::new(field, "missing", "Field required")),
    }
}

/// Opening a drawer: the float it starts with.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenDrawer {
    pub opening_float: Decimal,
    pub note: Option<String>,
}

impl TryFrom<&proto::OpenCashDrawerRequest> for OpenDrawer {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::OpenCashDrawerRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let open = Self {
            opening_float: violations.take(required_amount("amount", request.amount.as_ref())),
            note: violations.take(note("note", request.note.as_deref())),
        };
        violations.finish(open)
    }
}

/// Which way petty cash moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovementKind {
    PayIn,
    PayOut,
}

impl MovementKind {
    /// As stored (`sales.cash_movements.kind`) and as the audit action.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PayIn => "pay_in",
            Self::PayOut => "pay_out",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::PayIn => "Pay-in recorded",
            Self::PayOut => "Pay-out recorded",
        }
    }
}

/// Petty cash put into or taken out of the open drawer.
#[derive(Debug, Clone, PartialEq)]
pub struct CashMovement {
    pub kind: MovementKind,
    pub amount: Decimal,
    pub reason: String,
    /// From the `Idempotency-Key` header: a retry returns the first movement.
    pub idempotency_key: Option<String>,
}

impl CashMovement {
    pub fn parse(
        kind: MovementKind,
        amount: Option<&regal_proto::common::v1::Decimal>,
        reason: &str,
        idempotency_key: &str,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        let amount = violations.take(match money::parse_message("amount", amount) {
            Some(amount) => amount.and_then(|amount| money::positive("amount", amount)),
            None => Err(FieldViolation::new("amount", "missing", "Field required")),
        });
        let movement = Self {
            kind,
            amount,
            reason: violations.take(regal_text::required("reason", reason, REASON_MAX)),
            idempotency_key: violations.take(sale::idempotency_key(idempotency_key)),
        };
        violations.finish(movement)
    }
}

/// Closing the drawer with the cash counted in it.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseDrawer {
    pub actual_amount: Decimal,
    /// The terminal's own figure, kept for the record only.
    pub terminal_expected: Option<Decimal>,
    pub note: Option<String>,
}

impl TryFrom<&proto::CloseCashDrawerRequest> for CloseDrawer {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::CloseCashDrawerRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let close = Self {
            actual_amount: violations.take(required_amount(
                "actual_amount",
                request.actual_amount.as_ref(),
            )),
            terminal_expected: violations.take_present(
                money::parse_message("expected_amount", request.expected_amount.as_ref()).map(
                    |amount| {
                        amount.and_then(|amount| money::non_negative("expected_amount", amount))
                    },
                ),
            ),
            note: violations.take(note("note", request.note.as_deref())),
        };
        violations.finish(close)
    }
}

/// Ending a shift, with the cash counted when the drawer is still open.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseShift {
    pub actual_amount: Option<Decimal>,
}

impl TryFrom<&proto::CloseShiftRequest> for CloseShift {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::CloseShiftRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let close = Self {
            actual_amount: violations.take_present(
                money::parse_message("actual_amount", request.actual_amount.as_ref()).map(
                    |amount| amount.and_then(|amount| money::non_negative("actual_amount", amount)),
                ),
            ),
        };
        violations.finish(close)
    }
}

#[cfg(test)]
mod tests {
    use regal_proto::common::v1::Decimal as DecimalMessage;

    use super::*;

    fn amount(text: &str) -> Option<DecimalMessage> {
        Some(DecimalMessage {
            value: text.to_owned(),
        })
    }

    fn fields(violations: &[FieldViolation]) -> Vec<&str> {
        violations.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn a_drawer_opens_with_a_non_negative_exact_float_and_a_clean_note() {
        let open = OpenDrawer::try_from(&proto::OpenCashDrawerRequest {
            amount: amount("100.5"),
            note: Some(" <b>morning</b> float ".to_owned()),
        })
        .unwrap();
        assert_eq!(money::to_text(open.opening_float), "100.50");
        assert_eq!(open.note.as_deref(), Some("morning float"));

        let zero = OpenDrawer::try_from(&proto::OpenCashDrawerRequest {
            amount: amount("0"),
            note: Some("   ".to_owned()),
        })
        .unwrap();
        assert!(zero.opening_float.is_zero());
        assert_eq!(zero.note, None);

        for bad in [None, amount("-1"), amount("1.005"), amount("abc")] {
            let violations = OpenDrawer::try_from(&proto::OpenCashDrawerRequest {
                amount: bad.clone(),
                note: None,
            })
            .unwrap_err();
            assert_eq!(fields(&violations), ["amount"], "{bad:?}");
        }
    }

    #[test]
    fn petty_cash_needs_a_positive_amount_and_a_reason() {
        let movement = CashMovement::parse(
            MovementKind::PayOut,
            amount("12.3").as_ref(),
            " milk ",
            " k-1 ",
        )
        .unwrap();
        assert_eq!(money::to_text(movement.amount), "12.30");
        assert_eq!(movement.reason, "milk");
        assert_eq!(movement.kind.as_str(), "pay_out");
        assert_eq!(movement.idempotency_key.as_deref(), Some("k-1"));

        let violations =
            CashMovement::parse(MovementKind::PayIn, amount("0").as_ref(), " <i></i> ", "")
                .unwrap_err();
        assert_eq!(fields(&violations), ["amount", "reason"]);
        let violations = CashMovement::parse(MovementKind::PayIn, None, "change", "").unwrap_err();
        assert_eq!(fields(&violations), ["amount"]);
    }

    #[test]
    fn a_count_is_required_to_close_the_drawer_but_optional_to_close_the_shift() {
        let violations =
            CloseDrawer::try_from(&proto::CloseCashDrawerRequest::default()).unwrap_err();
        assert_eq!(fields(&violations), ["actual_amount"]);
        let close = CloseDrawer::try_from(&proto::CloseCashDrawerRequest {
            actual_amount: amount("10"),
            expected_amount: amount("9.99"),
            note: Some("short".to_owned()),
        })
        .unwrap();
        assert_eq!(money::to_text(close.actual_amount), "10.00");
        assert_eq!(
            close.terminal_expected.map(money::to_text).as_deref(),
            Some("9.99")
        );

        let violations = CloseDrawer::try_from(&proto::CloseCashDrawerRequest {
            actual_amount: amount("-0.01"),
            expected_amount: amount("x"),
            note: None,
        })
        .unwrap_err();
        assert_eq!(fields(&violations), ["actual_amount", "expected_amount"]);

        assert_eq!(
            CloseShift::try_from(&proto::CloseShiftRequest::default())
                .unwrap()
                .actual_amount,
            None
        );
        assert!(
            CloseShift::try_from(&proto::CloseShiftRequest {
                actual_amount: amount("-5")
            })
            .is_err()
        );
    }
}
