//! The money of a sale, computed exactly (REST-API.md "POS"):
//!
//! - gross = quantity × unit_price;
//! - the product's own discount = gross × its discount rate / 100, rounded to the cent;
//! - the invoice-level discount (money) is spread over the lines in proportion to what is
//!   left of each line after its own discount: every line gets its share rounded down to
//!   the cent, and the cents that rounding leaves go one each to the largest lines;
//! - line discount = own discount + share; net = gross − discount;
//! - tax = net × tax_rate / 100, rounded to the cent half away from zero;
//! - line_total = net + tax; the invoice's sums are sums of the rounded lines.

use regal_domain::money::round_cents;
use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;

/// A line as priced by the catalog at reservation (or draft) time.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedLine {
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: Decimal,
    pub cost_price: Decimal,
    pub tax_rate: Decimal,
    /// The product's discount percentage.
    pub discount_rate: Decimal,
}

/// A line with its money worked out.
#[derive(Debug, Clone, PartialEq)]
pub struct LineAmounts {
    pub line: PricedLine,
    pub gross: Decimal,
    pub discount: Decimal,
    pub net: Decimal,
    pub tax: Decimal,
    pub line_total: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub subtotal: Decimal,
    pub discount: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Priced {
    pub lines: Vec<LineAmounts>,
    pub totals: Totals,
}

/// Why a sale cannot be priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PricingError {
    /// The invoice-level discount is more than what is left after the products' own
    /// discounts (the most it may be).
    DiscountTooLarge { most: Decimal },
}

fn cents(value: Decimal) -> Decimal {
    let mut value = value;
    value.rescale(2);
    value
}

/// Prices `lines` with an invoice-level discount of `invoice_discount` (money, >= 0).
pub fn price(lines: Vec<PricedLine>, invoice_discount: Decimal) -> Result<Priced, PricingError> {
    let mut gross = Vec::with_capacity(lines.len());
    let mut own_discount = Vec::with_capacity(lines.len());
    for line in &lines {
        let line_gross = cents(Decimal::from(line.quantity) * line.unit_price);
        own_discount.push(round_cents(
            line_gross * line.discount_rate / Decimal::ONE_HUNDRED,
        ));
        gross.push(line_gross);
    }
    let after_own: Vec<Decimal> = gross
        .iter()
        .zip(&own_discount)
        .map(|(gross, discount)| gross - discount)
        .collect();
    let left: Decimal = after_own.iter().sum();
    if invoice_discount > left {
        return Err(PricingError::DiscountTooLarge { most: cents(left) });
    }
    let shares = spread(invoice_discount, &after_own);

    let mut priced = Vec::with_capacity(lines.len());
    let mut totals = Totals::default();
    for (index, line) in lines.into_iter().enumerate() {
        let discount = cents(own_discount[index] + shares[index]);
        let net = cents(gross[index] - discount);
        let tax = round_cents(net * line.tax_rate / Decimal::ONE_HUNDRED);
        let line_total = cents(net + tax);
        totals.subtotal += gross[index];
        totals.discount += discount;
        totals.tax += tax;
        totals.total += line_total;
        priced.push(LineAmounts {
            line,
            gross: gross[index],
            discount,
            net,
            tax,
            line_total,
        });
    }
    totals.subtotal = cents(totals.subtotal);
    totals.discount = cents(totals.discount);
    totals.tax = cents(totals.tax);
    totals.total = cents(totals.total);
    Ok(Priced {
        lines: priced,
        totals,
    })
}

/// `amount` split over `weights` in proportion, each share rounded down to the cent, the
/// cents left over given one each to the largest weights (earlier lines first on a tie).
/// Needs `amount <= Σ weights`; then no share exceeds its weight.
fn spread(amount: Decimal, weights: &[Decimal]) -> Vec<Decimal> {
    let total: Decimal = weights.iter().sum();
    if amount.is_zero() || total.is_zero() {
        return vec![Decimal::ZERO; weights.len()];
    }
    let mut shares: Vec<Decimal> = weights
        .iter()
        .map(|weight| (amount * weight / total).round_dp_with_strategy(2, RoundingStrategy::ToZero))
        .collect();
    let given: Decimal = shares.iter().sum();
    let mut left_cents = ((amount - given) * Decimal::ONE_HUNDRED)
        .round()
        .try_into()
        .unwrap_or(0_i64);
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| weights[b].cmp(&weights[a]).then(a.cmp(&b)));
    for index in order.into_iter().cycle() {
        if left_cents <= 0 {
            break;
        }
        if shares[index] + Decimal::new(1, 2) <= weights[index] {
            shares[index] += Decimal::new(1, 2);
            left_cents -= 1;
        }
    }
    shares
}

/// What was paid and what is given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub amount_paid: Decimal,
    pub change_due: Decimal,
}

/// How payments can fail to settle an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettlementError {
    /// Cards and other tenders may not take the sum above the total (only cash gives
    /// change).
    NonCashOverTotal,
}

/// `payments` = (is_cash, amount). Change is what cash paid beyond the total.
pub fn settle(total: Decimal, payments: &[(bool, Decimal)]) -> Result<Settlement, SettlementError> {
    let amount_paid: Decimal = payments.iter().map(|(_, amount)| *amount).sum();
    let non_cash: Decimal = payments
        .iter()
        .filter(|(is_cash, _)| !is_cash)
        .map(|(_, amount)| *amount)
        .sum();
    if non_cash > total {
        return Err(SettlementError::NonCashOverTotal);
    }
    let change_due = if amount_paid > total {
        amount_paid - total
    } else {
        Decimal::ZERO
    };
    Ok(Settlement {
        amount_paid: cents(amount_paid),
        change_due: cents(change_due),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn line(quantity: i64, unit_price: &str, tax_rate: &str, discount_rate: &str) -> PricedLine {
        PricedLine {
            product_id: Uuid::nil(),
            sku: "SKU".to_owned(),
            name: "Thing".to_owned(),
            quantity,
            unit_price: money(unit_price),
            cost_price: Decimal::ZERO,
            tax_rate: money(tax_rate),
            discount_rate: money(discount_rate),
        }
    }

    struct Case {
        name: &'static str,
        lines: Vec<PricedLine>,
        invoice_discount: &'static str,
        /// Per line: (discount, net, tax, line_total).
        expected_lines: Vec<(&'static str, &'static str, &'static str, &'static str)>,
        /// (subtotal, discount, tax, total).
        expected_totals: (&'static str, &'static str, &'static str, &'static str),
    }

    #[test]
    fn totals_rounding_and_discount_spreading_follow_the_contract() {
        let cases = vec![
            Case {
                name: "plain line, tax rounded half away from zero",
                lines: vec![line(3, "4.20", "16", "0")],
                invoice_discount: "0",
                // 12.60 × 16 % = 2.016 → 2.02
                expected_lines: vec![("0.00", "12.60", "2.02", "14.62")],
                expected_totals: ("12.60", "0.00", "2.02", "14.62"),
            },
            Case {
                name: "exact half cent of tax rounds up",
                lines: vec![line(1, "0.25", "10", "0")],
                invoice_discount: "0",
                // 0.025 → 0.03
                expected_lines: vec![("0.00", "0.25", "0.03", "0.28")],
                expected_totals: ("0.25", "0.00", "0.03", "0.28"),
            },
            Case {
                name: "product discount rate rounded to the cent",
                lines: vec![line(3, "3.33", "0", "15")],
                invoice_discount: "0",
                // 9.99 × 15 % = 1.4985 → 1.50
                expected_lines: vec![("1.50", "8.49", "0.00", "8.49")],
                expected_totals: ("9.99", "1.50", "0.00", "8.49"),
            },
            Case {
                name: "invoice discount leftover cent goes to the largest line",
                lines: vec![
                    line(1, "10.00", "0", "0"),
                    line(1, "10.00", "0", "0"),
                    line(1, "10.00", "0", "0"),
                ],
                invoice_discount: "1.00",
                // 0.333.. each → 0.33 each, one cent left → first of the equal largest
                expected_lines: vec![
                    ("0.34", "9.66", "0.00", "9.66"),
                    ("0.33", "9.67", "0.00", "9.67"),
                    ("0.33", "9.67", "0.00", "9.67"),
                ],
                expected_totals: ("30.00", "1.00", "0.00", "29.00"),
            },
            Case {
                name: "invoice discount in proportion to net, leftovers to the largest lines",
                lines: vec![
                    line(1, "1.00", "16", "0"),
                    line(2, "3.50", "16", "0"),
                    line(1, "2.00", "8", "50"),
                ],
                invoice_discount: "0.05",
                // nets before: 1.00, 7.00, 1.00 (= 2.00 − 1.00) → Σ 9.00
                // shares: 0.0055 → 0.00, 0.0388 → 0.03, 0.0055 → 0.00; 2 cents left:
                // to 7.00 (→ 0.04), then to the first 1.00 line (→ 0.01)
                expected_lines: vec![
                    ("0.01", "0.99", "0.16", "1.15"),
                    ("0.04", "6.96", "1.11", "8.07"),
                    ("1.00", "1.00", "0.08", "1.08"),
                ],
                expected_totals: ("10.00", "1.05", "1.35", "10.30"),
            },
            Case {
                name: "the whole remaining amount can be discounted",
                lines: vec![line(2, "5.00", "16", "10"), line(1, "1.00", "16", "0")],
                invoice_discount: "10.00",
                expected_lines: vec![
                    ("10.00", "0.00", "0.00", "0.00"),
                    ("1.00", "0.00", "0.00", "0.00"),
                ],
                expected_totals: ("11.00", "11.00", "0.00", "0.00"),
            },
        ];
        for case in cases {
            let priced = price(case.lines, money(case.invoice_discount)).unwrap();
            for (index, (discount, net, tax, total)) in case.expected_lines.iter().enumerate() {
                let amounts = &priced.lines[index];
                assert_eq!(
                    (
                        amounts.discount.to_string(),
                        amounts.net.to_string(),
                        amounts.tax.to_string(),
                        amounts.line_total.to_string()
                    ),
                    (
                        discount.to_string(),
                        net.to_string(),
                        tax.to_string(),
                        total.to_string()
                    ),
                    "{}: line {index}",
                    case.name
                );
            }
            let totals = priced.totals;
            assert_eq!(
                (
                    totals.subtotal.to_string(),
                    totals.discount.to_string(),
                    totals.tax.to_string(),
                    totals.total.to_string()
                ),
                (
                    case.expected_totals.0.to_owned(),
                    case.expected_totals.1.to_owned(),
                    case.expected_totals.2.to_owned(),
                    case.expected_totals.3.to_owned()
                ),
                "{}",
                case.name
            );
            assert_eq!(
                totals.total,
                totals.subtotal - totals.discount + totals.tax,
                "{}",
                case.name
            );
        }
    }

    #[test]
    fn a_discount_above_what_is_left_is_refused() {
        let error = price(vec![line(1, "5.00", "0", "20")], money("4.01")).unwrap_err();
        assert_eq!(
            error,
            PricingError::DiscountTooLarge {
                most: money("4.00")
            }
        );
    }

    #[test]
    fn only_cash_gives_change() {
        let total = money("34.80");
        let settled = settle(total, &[(true, money("40.00"))]).unwrap();
        assert_eq!(settled.change_due, money("5.20"));
        assert_eq!(settled.amount_paid, money("40.00"));
        assert_eq!(
            settle(total, &[(false, money("40.00"))]),
            Err(SettlementError::NonCashOverTotal)
        );
        let mixed = settle(total, &[(false, money("30.00")), (true, money("5.00"))]).unwrap();
        assert_eq!(mixed.change_due, money("0.20"));
    }
}
