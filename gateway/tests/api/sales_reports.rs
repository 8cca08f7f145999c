//! The drawer and the reports over real sales: expected cash with change, and every report
//! agreeing with the others and with the invoices to the cent.

use std::collections::BTreeMap;

use regal_testkit::TestSuite;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    cash_support::{close_drawer, get, my_shift_report, open_drawer, post},
    catalog_support::create_product_with,
    sales_support::{quick_sell, refund},
};

/// A two-decimal money string as cents.
fn cents(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("money string: {value}"));
    let (units, fraction) = text.split_once('.').expect("two decimals");
    let negative = units.starts_with('-');
    let magnitude = units.trim_start_matches('-').parse::<i64>().unwrap() * 100
        + fraction.parse::<i64>().unwrap();
    if negative { -magnitude } else { magnitude }
}

fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

async fn sell_ok(suite: &TestSuite, token: &str, body: Value) -> Value {
    let response = quick_sell(suite, token, &body, None).await;
    assert_eq!(response.status, 201, "quick-sell: {}", response.text());
    response.json()
}

async fn create_salesman(suite: &TestSuite, rate: &str) -> String {
    let id = Uuid::now_v7();
    let mut connection = suite.database().connect().await;
    sqlx::query(
        "insert into sales.salesmen (id, name, code, commission_rate) \
         values ($1, 'Sam Seller', 'SAM', $2::numeric)",
    )
    .bind(id)
    .bind(rate)
    .execute(&mut connection)
    .await
    .expect("salesman");
    id.to_string()
}

/// The figures an invoice contributes to every report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sums {
    invoices: i64,
    gross: i64,
    discounts: i64,
    refunds: i64,
    taxes: i64,
    net: i64,
}

impl Sums {
    /// A refund of `net` (before tax) and `tax`.
    fn add_refund(&mut self, net: i64, tax: i64) {
        self.refunds += net;
        self.taxes -= tax;
        self.net -= net;
    }

    fn add_invoice(&mut self, invoice: &Value) {
        let totals = &invoice["totals"];
        self.invoices += 1;
        self.gross += cents(&totals["subtotal"]);
        self.discounts += cents(&totals["discount"]);
        self.taxes += cents(&totals["tax"]);
        self.net += cents(&totals["subtotal"]) - cents(&totals["discount"]);
    }

    fn of_report(report: &Value) -> Self {
        Self {
            invoices: report["invoices_count"].as_i64().unwrap(),
            gross: cents(&report["gross_sales"]),
            discounts: cents(&report["discounts"]),
            refunds: cents(&report["refunds"]),
            taxes: cents(&report["taxes"]),
            net: cents(&report["net_sales"]),
        }
    }

    fn of_rows(rows: &[Value]) -> Self {
        let mut sums = Self::default();
        for row in rows {
            let row_sums = Self::of_report(row);
            sums.invoices += row_sums.invoices;
            sums.gross += row_sums.gross;
            sums.discounts += row_sums.discounts;
            sums.refunds += row_sums.refunds;
            sums.taxes += row_sums.taxes;
            sums.net += row_sums.net;
        }
        sums
    }
}

#[tokio::test]
async fn a_sale_paid_with_more_cash_adds_exactly_its_total_to_the_drawer() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let token = &cashier.access_token;
    // 30.00 + 16 % tax = 34.80.
    let product = create_product_with(
        &suite,
        &admin.access_token,
        json!({"unit_price": "30.00", "tax_rate": "16", "stock_level": 5}),
    )
    .await;
    let opened = open_drawer(&suite, token, "100.00").await;

    let invoice = sell_ok(
        &suite,
        token,
        json!({"items": [{"product_id": product["id"], "quantity": 1}],
               "payments": [{"method": "cash", "amount": "40.00"}]}),
    )
    .await;
    assert_eq!(invoice["totals"]["total"], "34.80");
    assert_eq!(invoice["change_due"], "5.20");
    assert_eq!(invoice["shift_id"], opened["shift_id"]);

    let x_report = my_shift_report(&suite, token).await;
    assert_eq!(x_report["expected_cash"], "134.80");
    assert_eq!(x_report["payments_by_method"]["cash"], "34.80");
    assert_eq!(x_report["invoices_count"], 1);
    assert_eq!(x_report["net_sales"], "30.00");
    assert_eq!(x_report["taxes"], "4.80");

    let closed = close_drawer(&suite, token, "134.70").await;
    assert_eq!(closed["expected_amount"], "134.80");
    assert_eq!(closed["variance"], "-0.10");

    let z_report = post(&suite, token, "/pos/shift-close", json!({}))
        .await
        .json();
    assert_eq!(z_report["expected_cash"], "134.80");
    assert_eq!(z_report["counted_cash"], "134.70");
    assert_eq!(z_report["variance"], "-0.10");
    assert_eq!(z_report["net_sales"], "30.00");
}

#[tokio::test]
async fn shift_daily_and_sales_reports_agree_with_each_other_and_with_the_invoices() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let admin_token = &admin.access_token;
    let (first_user, first) = suite.session_as("cashier").await;
    let (second_user, second) = suite.session_as("cashier").await;
    let salesman_id = create_salesman(&suite, "2.50").await;
    let taxed = create_product_with(
        &suite,
        admin_token,
        json!({"unit_price": "12.99", "cost_price": "7.10", "tax_rate": "16", "stock_level": 100}),
    )
    .await;
    let discounted = create_product_with(
        &suite,
        admin_token,
        json!({"unit_price": "4.35", "cost_price": "2.00", "tax_rate": "8",
               "discount": "10", "stock_level": 100}),
    )
    .await;
    let untaxed = create_product_with(
        &suite,
        admin_token,
        json!({"unit_price": "0.99", "cost_price": "0.40", "tax_rate": "0", "stock_level": 100}),
    )
    .await;
    open_drawer(&suite, &first.access_token, "50").await;
    open_drawer(&suite, &second.access_token, "20").await;

    let line =
        |product: &Value, quantity: i64| json!({"product_id": product["id"], "quantity": quantity});
    let mut invoices = Vec::new();
    invoices.push(
        sell_ok(
            &suite,
            &first.access_token,
            json!({"items": [line(&taxed, 2), line(&discounted, 3), line(&untaxed, 7)],
                   "discount": "1.37", "salesman_id": salesman_id}),
        )
        .await,
    );
    invoices.push(
        sell_ok(
            &suite,
            &first.access_token,
            json!({"items": [line(&discounted, 1)],
                   "payments": [{"method": "cash", "amount": "50"}]}),
        )
        .await,
    );
    invoices.push(
        sell_ok(
            &suite,
            &second.access_token,
            json!({"items": [line(&taxed, 1), line(&untaxed, 2)], "salesman_id": salesman_id}),
        )
        .await,
    );
    // A sale split between card and cash with change, and one paid another way.
    invoices.push(
        sell_ok(
            &suite,
            &second.access_token,
            json!({"items": [line(&taxed, 3)],
                   "payments": [{"method": "card", "amount": "20.00"},
                                {"method": "cash", "amount": "50.00"}]}),
        )
        .await,
    );
    invoices.push(
        sell_ok(
            &suite,
            &second.access_token,
            json!({"items": [line(&untaxed, 1)],
                   "payments": [{"method": "other", "amount": "0.99"}]}),
        )
        .await,
    );

    // What the invoices say.
    let mut all = Sums::default();
    let mut by_cashier: BTreeMap<String, Sums> = BTreeMap::new();
    let mut by_method: BTreeMap<String, i64> = BTreeMap::new();
    for invoice in &invoices {
        all.add_invoice(invoice);
        by_cashier
            .entry(invoice["cashier_id"].as_str().unwrap().to_owned())
            .or_default()
            .add_invoice(invoice);
        for payment in invoice["payments"].as_array().unwrap() {
            let method = payment["method"].as_str().unwrap().to_owned();
            *by_method.entry(method).or_default() += cents(&payment["amount"]);
        }
        *by_method.entry("cash".to_owned()).or_default() -= cents(&invoice["change_due"]);
    }
    let mut kept: i64 = invoices
        .iter()
        .map(|invoice| cents(&invoice["totals"]["total"]))
        .sum();

    // Refunds: the first cashier gives back the whole one-line invoice in cash (its net and
    // tax exactly); the second gives back two untaxed units by card.
    let whole = refund(
        &suite,
        &first.access_token,
        &json!({"invoice_id": invoices[1]["id"], "items": [line(&discounted, 1)],
                "reason": "changed mind"}),
        None,
    )
    .await;
    assert_eq!(whole.status, 201, "{}", whole.text());
    let whole = whole.json();
    assert_eq!(whole["amount"], invoices[1]["totals"]["total"]);
    let whole_net =
        cents(&invoices[1]["totals"]["subtotal"]) - cents(&invoices[1]["totals"]["discount"]);
    let whole_tax = cents(&invoices[1]["totals"]["tax"]);
    let by_card = refund(
        &suite,
        &second.access_token,
        &json!({"invoice_id": invoices[2]["id"], "items": [line(&untaxed, 2)],
                "reason": "broken", "method": "card"}),
        None,
    )
    .await;
    assert_eq!(by_card.status, 201, "{}", by_card.text());
    let by_card_amount = cents(&by_card.json()["amount"]);
    assert_eq!(by_card_amount, 2 * 99);
    all.add_refund(whole_net, whole_tax);
    all.add_refund(by_card_amount, 0);
    by_cashier
        .get_mut(&first_user.id)
        .unwrap()
        .add_refund(whole_net, whole_tax);
    by_cashier
        .get_mut(&second_user.id)
        .unwrap()
        .add_refund(by_card_amount, 0);
    *by_method.get_mut("cash").unwrap() -= cents(&whole["amount"]);
    *by_method.get_mut("card").unwrap() -= by_card_amount;
    kept -= cents(&whole["amount"]) + by_card_amount;
    assert_eq!(by_method.values().sum::<i64>(), kept);
    assert_eq!(all.net + all.taxes, kept);

    // The shift reports: each cashier's invoices, and the drawer's cash.
    for (user, session, float) in [(&first_user, &first, 5000), (&second_user, &second, 2000)] {
        let report = my_shift_report(&suite, &session.access_token).await;
        assert_eq!(
            Sums::of_report(&report),
            by_cashier[&user.id],
            "{}",
            user.username
        );
        let cash_kept = cents(&report["payments_by_method"]["cash"]);
        assert_eq!(cents(&report["expected_cash"]), float + cash_kept);
    }
    // Both of the first cashier's sales were cash; one was given back in cash.
    let first_cash: i64 = cents(&invoices[0]["totals"]["total"]);
    let first_report = my_shift_report(&suite, &first.access_token).await;
    assert_eq!(cents(&first_report["expected_cash"]), 5000 + first_cash);

    // The daily report: the same totals, split by cashier and by method.
    let daily = get(&suite, admin_token, "/pos/daily-report").await;
    assert_eq!(daily.status, 200, "{}", daily.text());
    let daily = daily.json();
    assert_eq!(Sums::of_report(&daily), all);
    assert_eq!(daily["refunds"], money(whole_net + by_card_amount));
    let cashier_rows = daily["by_cashier"].as_array().unwrap();
    assert_eq!(cashier_rows.len(), 2);
    assert_eq!(Sums::of_rows(cashier_rows), all);
    for (method, amount) in &by_method {
        assert_eq!(
            daily["payments_by_method"][method.as_str()],
            money(*amount),
            "{method}"
        );
    }
    let top = daily["top_products"].as_array().unwrap();
    assert_eq!(top[0]["product_id"], untaxed["id"]);
    assert_eq!(top[0]["quantity"], 10 - 2);
    assert_eq!(top[1]["product_id"], taxed["id"]);
    assert_eq!(top[1]["quantity"], 6);
    assert_eq!(
        daily,
        get(&suite, &first.access_token, "/pos/daily-report")
            .await
            .json()
    );

    // The sales report: every grouping sums to the same totals.
    let mut salesman_net = -by_card_amount;
    for invoice in [&invoices[0], &invoices[2]] {
        salesman_net +=
            cents(&invoice["totals"]["subtotal"]) - cents(&invoice["totals"]["discount"]);
    }
    for group_by in ["day", "product", "cashier", "salesman"] {
        let report = get(
            &suite,
            admin_token,
            &format!("/pos/sales-report?group_by={group_by}"),
        )
        .await;
        assert_eq!(report.status, 200, "{group_by}: {}", report.text());
        let report = report.json();
        let totals = &report["totals"];
        assert_eq!(Sums::of_report(totals), all, "{group_by} totals");
        let rows = report["rows"].as_array().unwrap();
        let row_sums = Sums::of_rows(rows);
        assert_eq!(
            (
                row_sums.gross,
                row_sums.discounts,
                row_sums.refunds,
                row_sums.taxes,
                row_sums.net
            ),
            (all.gross, all.discounts, all.refunds, all.taxes, all.net),
            "{group_by} rows"
        );
        let cost: i64 = rows.iter().map(|row| cents(&row["cost"])).sum();
        assert_eq!(cents(&totals["cost"]), cost, "{group_by} cost");
        assert_eq!(
            cents(&totals["gross_margin"]),
            all.net - cost,
            "{group_by} margin"
        );
        let quantity: i64 = rows
            .iter()
            .map(|row| row["quantity"].as_i64().unwrap())
            .sum();
        assert_eq!(totals["quantity"], quantity);
        assert_eq!(quantity, 2 + 3 + 7 + 1 + 1 + 2 + 3 + 1 - 1 - 2);
        if group_by == "salesman" {
            let sam = rows
                .iter()
                .find(|row| row["key"] == salesman_id.as_str())
                .expect("salesman row");
            assert_eq!(sam["label"], "Sam Seller");
            assert_eq!(cents(&sam["net_sales"]), salesman_net);
            // 2.5 %, rounded half away from zero.
            let expected = (salesman_net * 25 + if salesman_net >= 0 { 500 } else { -500 }) / 1000;
            assert_eq!(cents(&sam["commission"]), expected);
            assert_eq!(totals["commission"], sam["commission"]);
            let walk_in = rows
                .iter()
                .find(|row| row["key"] == "")
                .expect("no-salesman row");
            assert_eq!(walk_in["commission"], "0.00");
        } else {
            assert!(totals.get("commission").is_none(), "{group_by}");
        }
        if group_by == "day" {
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0]["key"], report["from"]);
        }
    }

    // The dashboard's money of the day is the same figure.
    let dashboard = get(&suite, admin_token, "/admin").await.json();
    assert_eq!(dashboard["summary"]["sales_today"], money(kept));
    assert_eq!(dashboard["summary"]["total_invoices"], 5);
    let recent = dashboard["recent_activity"]["recent_invoices"]
        .as_array()
        .unwrap();
    assert_eq!(recent.len(), 5);
    assert_eq!(recent[0]["id"], invoices[4]["id"]);
}
