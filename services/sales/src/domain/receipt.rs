//! The plain-text receipt of a duplicate bill, for an 80-column printer: no line is longer
//! than 80 characters (long names are cut, long store texts wrapped).

use regal_domain::money::to_text;
use rust_decimal::Decimal;

pub const WIDTH: usize = 80;

/// What the receipt prints.
#[derive(Debug, Clone)]
pub struct Receipt<'a> {
    pub store_name: &'a str,
    pub address: &'a str,
    pub footer: &'a str,
    pub currency: &'a str,
    pub invoice_no: &'a str,
    /// Already formatted, UTC.
    pub date: String,
    pub cashier: &'a str,
    pub status: &'a str,
    /// (name, quantity, unit_price, discount, line_total).
    pub lines: Vec<(&'a str, i64, Decimal, Decimal, Decimal)>,
    pub subtotal: Decimal,
    pub discount: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
    /// (method, amount).
    pub payments: Vec<(&'a str, Decimal)>,
    pub amount_paid: Decimal,
    pub change_due: Decimal,
    pub reprint_count: i64,
}

fn cut(text: &str, width: usize) -> String {
    text.chars().take(width).collect()
}

/// Words wrapped to `width`; a word longer than the width is split.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            while word.len() > width {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                lines.push(word.drain(..width).collect());
            }
            let word: String = word.into_iter().collect();
            let needed =
                line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
            if needed > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

fn centered(text: &str) -> Vec<String> {
    wrap(text, WIDTH)
        .into_iter()
        .map(|line| {
            let pad = (WIDTH - line.chars().count()) / 2;
            format!("{}{line}", " ".repeat(pad))
        })
        .collect()
}

/// A label on the left and an amount on the right, within the width.
fn pair(label: &str, value: &str) -> String {
    let value_width = value.chars().count().min(WIDTH);
    let label = cut(label, WIDTH.saturating_sub(value_width + 1));
    let pad = WIDTH - label.chars().count() - value_width;
    format!("{label}{}{}", " ".repeat(pad), cut(value, value_width))
}

impl Receipt<'_> {
    pub fn render(&self) -> String {
        let rule = "-".repeat(WIDTH);
        let mut out: Vec<String> = Vec::new();
        out.extend(centered(self.store_name));
        out.extend(centered(self.address));
        out.extend(centered("*** DUPLICATE ***"));
        out.push(rule.clone());
        out.push(pair("Invoice", self.invoice_no));
        out.push(pair("Date", &self.date));
        out.push(pair("Cashier", self.cashier));
        out.push(pair("Status", self.status));
        out.push(pair("Reprint", &self.reprint_count.to_string()));
        out.push(rule.clone());
        // Item (40) Qty (8) Price (14) Total (16) with spaces between.
        out.push(format!(
            "{:<40} {:>8} {:>14} {:>15}",
            "Item", "Qty", "Price", "Total"
        ));
        for (name, quantity, unit_price, discount, line_total) in &self.lines {
            out.push(format!(
                "{:<40} {:>8} {:>14} {:>15}",
                cut(name, 40),
                cut(&quantity.to_string(), 8),
                cut(&to_text(*unit_price), 14),
                cut(&to_text(*line_total), 15)
            ));
            if !discount.is_zero() {
                out.push(format!(
                    "{:<40} {:>8} {:>14} {:>15}",
                    "  discount",
                    "",
                    "",
                    cut(&format!("-{}", to_text(*discount)), 15)
                ));
            }
        }
        out.push(rule.clone());
        let money = |value: Decimal| format!("{} {}", to_text(value), cut(self.currency, 3));
        out.push(pair("Subtotal", &money(self.subtotal)));
        out.push(pair("Discount", &money(self.discount)));
        out.push(pair("Tax", &money(self.tax)));
        out.push(pair("TOTAL", &money(self.total)));
        out.push(rule.clone());
        for (method, amount) in &self.payments {
            out.push(pair(&format!("Paid ({method})"), &money(*amount)));
        }
        out.push(pair("Amount paid", &money(self.amount_paid)));
        out.push(pair("Change", &money(self.change_due)));
        out.push(rule);
        out.extend(centered(self.footer));
        out.extend(centered("*** DUPLICATE ***"));
        let mut text = out.join("\n");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_line_is_wider_than_the_printer_even_with_long_texts() {
        let long = "Supercalifragilistic".repeat(6);
        let receipt = Receipt {
            store_name: &long,
            address: "1 Very Long Street Name That Goes On And On, Some Town, Some Region, Some Country 12345",
            footer: &long,
            currency: "USD",
            invoice_no: "INV-000001",
            date: "2026-11-24 17:00:00 UTC".to_owned(),
            cashier: &long,
            status: "paid",
            lines: vec![(
                long.as_str(),
                1_000_000_000,
                Decimal::new(999_999_999_999, 2),
                Decimal::new(1, 2),
                Decimal::new(999_999_999_999, 2),
            )],
            subtotal: Decimal::new(999_999_999_999, 2),
            discount: Decimal::ZERO,
            tax: Decimal::ZERO,
            total: Decimal::ZERO,
            payments: vec![("cash", Decimal::ONE)],
            amount_paid: Decimal::ONE,
            change_due: Decimal::ZERO,
            reprint_count: 3,
        };
        let text = receipt.render();
        assert!(text.contains("DUPLICATE"));
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "{line}");
        }
    }
}
