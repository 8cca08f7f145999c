//! Exact amounts: money and percentage rates as `NUMERIC(12,2)` values, parsed from the
//! decimal strings of `regal.common.v1.Decimal` and written back with two decimals.

use regal_errors::FieldViolation;
use regal_proto::common::v1::Decimal as DecimalMessage;
use rust_decimal::Decimal;

/// The largest magnitude `NUMERIC(12,2)` holds: 9 999 999 999.99.
const MAX_INTEGER_DIGITS: usize = 10;

/// Parses a plain decimal number: an optional `-`, digits, and at most two fraction
/// digits after a `.`. Exponents, `NaN`, spaces inside, separators and a third fraction
/// digit are refused (they would be silently rounded or misread otherwise).
pub fn parse_amount(field: &str, text: &str) -> Result<Decimal, FieldViolation> {
    let invalid = || {
        FieldViolation::new(
            field,
            "decimal_parsing",
            "Input should be a decimal number with at most two decimal places",
        )
    };
    let text = text.trim();
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (unsigned, None),
    };
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if integer.is_empty() || !all_digits(integer) {
        return Err(invalid());
    }
    if let Some(fraction) = fraction
        && (fraction.is_empty() || fraction.len() > 2 || !all_digits(fraction))
    {
        return Err(invalid());
    }
    if integer.trim_start_matches('0').len() > MAX_INTEGER_DIGITS {
        return Err(FieldViolation::new(
            field,
            "decimal_max_digits",
            "Input should be less than 10000000000",
        ));
    }
    let mut value: Decimal = text.parse().map_err(|_| invalid())?;
    value.rescale(2);
    Ok(value)
}

/// A present `Decimal` message parsed; `None` when absent.
pub fn parse_message(
    field: &str,
    message: Option<&DecimalMessage>,
) -> Option<Result<Decimal, FieldViolation>> {
    message.map(|message| parse_amount(field, &message.value))
}

/// At least zero (prices).
pub fn non_negative(field: &str, value: Decimal) -> Result<Decimal, FieldViolation> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(FieldViolation::new(
            field,
            "greater_than_equal",
            "Input should be greater than or equal to 0",
        ));
    }
    Ok(value)
}

/// A percentage between 0 and 100 (tax rates, discounts).
pub fn percentage(field: &str, value: Decimal) -> Result<Decimal, FieldViolation> {
    let value = non_negative(field, value)?;
    if value > Decimal::ONE_HUNDRED {
        return Err(FieldViolation::new(
            field,
            "less_than_equal",
            "Input should be less than or equal to 100",
        ));
    }
    Ok(value)
}

/// At least one cent (amounts paid, expenses).
pub fn positive(field: &str, value: Decimal) -> Result<Decimal, FieldViolation> {
    if value <= Decimal::ZERO {
        return Err(FieldViolation::new(
            field,
            "greater_than",
            "Input should be greater than 0",
        ));
    }
    Ok(value)
}

/// Rounded to the cent, half away from zero: the rounding rule of every computed amount
/// (line tax, commission).
pub fn round_cents(value: Decimal) -> Decimal {
    let mut rounded =
        value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    rounded
}

/// Two-decimal text, as every response carries money and rates: `"12.50"`.
pub fn to_text(value: Decimal) -> String {
    let mut value = round_cents(value);
    if value.is_zero() {
        value.set_sign_positive(true);
    }
    value.to_string()
}

pub fn to_message(value: Decimal) -> DecimalMessage {
    DecimalMessage {
        value: to_text(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_are_accepted_and_written_with_two_places() {
        for (input, expected) in [
            ("12.5", "12.50"),
            ("12", "12.00"),
            ("0.05", "0.05"),
            (" 7.10 ", "7.10"),
            ("-3", "-3.00"),
            ("-0", "0.00"),
            ("9999999999.99", "9999999999.99"),
            ("0001.5", "1.50"),
        ] {
            assert_eq!(
                to_text(parse_amount("price", input).unwrap()),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn anything_else_is_refused_rather_than_rounded() {
        for input in [
            "", "-", ".", "1.", ".5", "1.005", "1e3", "NaN", "inf", "1,000", "1 000", "+1", "0x10",
            "12.5.1",
        ] {
            assert!(parse_amount("price", input).is_err(), "{input:?}");
        }
        assert_eq!(
            parse_amount("price", "10000000000").unwrap_err().kind,
            "decimal_max_digits"
        );
    }

    #[test]
    fn prices_and_rates_have_bounds() {
        let value = |text| parse_amount("x", text).unwrap();
        assert!(non_negative("x", value("0")).is_ok());
        assert!(non_negative("x", value("-0.01")).is_err());
        assert!(percentage("x", value("100")).is_ok());
        assert!(percentage("x", value("100.01")).is_err());
        assert!(positive("x", value("0.01")).is_ok());
        assert!(positive("x", value("0")).is_err());
    }

    #[test]
    fn computed_amounts_round_half_away_from_zero() {
        let exact = |text: &str| text.parse::<Decimal>().unwrap();
        assert_eq!(round_cents(exact("0.125")).to_string(), "0.13");
        assert_eq!(round_cents(exact("0.135")).to_string(), "0.14");
        assert_eq!(round_cents(exact("-0.125")).to_string(), "-0.13");
        assert_eq!(round_cents(exact("2.5")).to_string(), "2.50");
    }
}
