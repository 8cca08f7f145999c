//! `POST /pos/quick-sell`: the sale saga end to end.

use regal_testkit::TestSuite;
use serde_json::json;

use crate::{
    catalog_support::{create_product_with, level_and_ledger_sum, stock_level},
    sales_support::{invoice_count, open_shift_for, pending_count, quick_sell},
};

#[tokio::test]
async fn quick_sell_returns_a_paid_numbered_invoice_with_exact_totals_and_takes_the_stock() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let product = create_product_with(
        &suite,
        &admin.access_token,
        json!({"unit_price": "4.20", "tax_rate": "16", "stock_level": 10}),
    )
    .await;
    let product_id = product["id"].as_str().unwrap();

    let response = quick_sell(
        &suite,
        &cashier.access_token,
        &json!({"items": [{"product_id": product_id, "quantity": 3}],
                "payments": [{"method": "cash", "amount": 20}]}),
        None,
    )
    .await;

    assert_eq!(response.status, 201, "{}", response.text());
    let invoice = response.json();
    assert_eq!(invoice["status"], "paid");
    assert!(invoice["invoice_no"].as_str().unwrap().starts_with("INV-"));
    assert_eq!(
        invoice["invoice_no"].as_str().unwrap().len(),
        "INV-000001".len()
    );
    assert_eq!(invoice["items"][0]["quantity"], 3);
    assert_eq!(invoice["items"][0]["unit_price"], "4.20");
    assert_eq!(invoice["totals"]["subtotal"], "12.60");
    // 12.60 × 16 % = 2.016 → 2.02
    assert_eq!(invoice["totals"]["tax"], "2.02");
    assert_eq!(invoice["totals"]["total"], "14.62");
    assert_eq!(invoice["amount_paid"], "20.00");
    assert_eq!(invoice["change_due"], "5.38");
    assert_eq!(
        stock_level(&suite, &admin.access_token, product_id).await,
        7
    );
    assert_eq!(pending_count(&suite).await, 0);
}

#[tokio::test]
async fn quick_sell_without_payments_is_one_cash_payment_of_exactly_the_total() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let product = create_product_with(
        &suite,
        &admin.access_token,
        json!({"unit_price": "2.50", "tax_rate": "0", "stock_level": 5}),
    )
    .await;
    let product_id = product["id"].as_str().unwrap();

    let response = quick_sell(
        &suite,
        &admin.access_token,
        &json!({"product_ids": [product_id, product_id]}),
        None,
    )
    .await;

    assert_eq!(response.status, 201, "{}", response.text());
    let invoice = response.json();
    assert_eq!(invoice["items"][0]["quantity"], 2);
    assert_eq!(invoice["totals"]["total"], "5.00");
    assert_eq!(
        invoice["payments"],
        json!([{"method": "cash", "amount": "5.00"}])
    );
    assert_eq!(invoice["change_due"], "0.00");
    assert_eq!(
        stock_level(&suite, &admin.access_token, product_id).await,
        3
    );
}

#[tokio::test]
async fn quick_sell_of_more_than_the_stock_is_409_naming_what_is_available_and_sells_nothing() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let product = create_product_with(&suite, &admin.access_token, json!({"stock_level": 2})).await;
    let product_id = product["id"].as_str().unwrap();

    let response = quick_sell(
        &suite,
        &admin.access_token,
        &json!({"items": [{"product_id": product_id, "quantity": 3}]}),
        None,
    )
    .await;

    assert_eq!(response.status, 409, "{}", response.text());
    let detail = response.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("2 available"), "{detail}");
    assert_eq!(
        stock_level(&suite, &admin.access_token, product_id).await,
        2
    );
    assert_eq!(invoice_count(&suite).await, 0);
    assert_eq!(pending_count(&suite).await, 0);
}

#[tokio::test]
async fn quick_sell_of_an_unknown_product_is_404_and_sells_nothing() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let response = quick_sell(
        &suite,
        &admin.access_token,
        &json!({"items": [{"product_id": uuid::Uuid::now_v7(), "quantity": 1}]}),
        None,
    )
    .await;
    assert_eq!(response.status, 404, "{}", response.text());
    assert_eq!(invoice_count(&suite).await, 0);
}

#[tokio::test]
async fn quick_sell_paid_short_of_the_total_is_422_and_the_stock_is_unchanged() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let product = create_product_with(
        &suite,
        &admin.access_token,
        json!({"unit_price": "10.00", "tax_rate": "0", "stock_level": 4}),
    )
    .await;
    let product_id = product["id"].as_str().unwrap();

    let response = quick_sell(
        &suite,
        &admin.access_token,
        &json!({"items": [{"product_id": product_id, "quantity": 1}],
                "payments": [{"method": "card", "amount": "9.99"}]}),
        None,
    )
    .await;

    assert_eq!(response.status, 422, "{}", response.text());
    assert_eq!(
        response.json()["detail"][0]["loc"],
        json!(["body", "payments"])
    );
    assert_eq!(
        stock_level(&suite, &admin.access_token, product_id).await,
        4
    );
    assert_eq!(level_and_ledger_sum(&suite, product_id).await, (4, 4));
    assert_eq!(invoice_count(&suite).await, 0);
    assert_eq!(pending_count(&suite).await, 0);
}

#[tokio::test]
async fn card_payments_cannot_exceed_the_total_and_unknown_customers_are_404() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let product = create_product_with(
        &suite,
        &admin.access_token,
        json!({"unit_price": "10.00", "tax_rate": "0", "stock_level": 4}),
    )
    .await;
    let product_id = product["id"].as_str().unwrap();

    let over = quick_sell(
        &suite,
        &admin.access_token,
        &json!({"items": [{"product_id": product_id, "quantity": 1}],
                "payments": [{"method": "card", "amount": "12.00"}]}),
        None,
    )
    .await;
    let stranger = quick_sell(
        &suite,
        &admin.access_token,
        &json!({"items": [{"product_id": product_id, "quantity": 1}],
                "customer_id": uuid::Uuid::now_v7()}),
        Some("stranger-1"),
    )
    .await;

    assert_eq!(over.status, 422, "{}", over.text());
    assert_eq!(stranger.status, 404, "{}", stranger.text());
    assert_eq!(
        stock_level(&suite, &admin.access_token, product_id).await,
        4
    );
    // The refused sale left nothing pending, and its key is free for a corrected sale.
    assert_eq!(pending_count(&suite).await, 0);
    let corrected = quick_sell(
        &suite,
        &admin.access_token,
        &json!({"items": [{"product_id": product_id, "quantity": 1}]}),
        Some("stranger-1"),
    )
    .await;
    assert_eq!(corrected.status, 201, "{}", corrected.text());
    assert_eq!(
        stock_level(&suite, &admin.access_token, product_id).await,
        3
    );
}

#[tokio::test]
async fn invoice_numbers_are_sequential_and_the_invoice_carries_the_open_shift() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (cashier_user, cashier) = suite.session_as("cashier").await;
    let product = create_product_with(&suite, &admin.access_token, json!({"stock_level": 9})).await;
    let product_id = product["id"].as_str().unwrap();
    let shift_id = open_shift_for(&suite, &cashier_user.id).await;

    let mut numbers = Vec::new();
    for _ in 0..3 {
        let response = quick_sell(
            &suite,
            &cashier.access_token,
            &json!({"product_ids": [product_id]}),
            None,
        )
        .await;
        assert_eq!(response.status, 201, "{}", response.text());
        let invoice = response.json();
        assert_eq!(invoice["shift_id"], shift_id.to_string());
        numbers.push(invoice["invoice_no"].as_str().unwrap().to_owned());
    }

    assert_eq!(numbers, ["INV-000001", "INV-000002", "INV-000003"]);
    let events = suite.outbox_events("sales", "sell").await;
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["entity"], "invoice");
}
