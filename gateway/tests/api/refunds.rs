//! `/refunds`, `/invoices` and the duplicate bill through the gateway.

use regal_testkit::TestSuite;
use serde_json::{Value, json};

use crate::{
    catalog_support::{create_product_with, products_out_of_balance, stock_level},
    sales_support::{get_json, quick_sell, refund},
};

/// An invoice with awkward numbers: 7 × 1.43 at 16 % and 3 × 3.33 at 15 % product discount
/// and 8 % tax, with 0.10 of invoice discount to spread.
async fn awkward_sale(suite: &TestSuite, token: &str) -> (Value, String, String) {
    let first = create_product_with(
        suite,
        token,
        json!({"unit_price": "1.43", "tax_rate": "16", "stock_level": 20}),
    )
    .await;
    let second = create_product_with(
        suite,
        token,
        json!({"unit_price": "3.33", "tax_rate": "8", "discount": "15", "stock_level": 20}),
    )
    .await;
    let first_id = first["id"].as_str().unwrap().to_owned();
    let second_id = second["id"].as_str().unwrap().to_owned();
    let response = quick_sell(
        suite,
        token,
        &json!({"items": [{"product_id": first_id, "quantity": 7},
                          {"product_id": second_id, "quantity": 3}],
                "discount": "0.10"}),
        None,
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text());
    (response.json(), first_id, second_id)
}

fn money(value: &Value) -> rust_decimal_like::Cents {
    rust_decimal_like::Cents::parse(value.as_str().expect("money is a string"))
}

/// Exact cents from the two-decimal strings the API returns.
mod rust_decimal_like {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Cents(pub i64);

    impl Cents {
        pub fn parse(text: &str) -> Self {
            let (units, cents) = text.split_once('.').expect("two decimals");
            let negative = units.starts_with('-');
            let value = units.trim_start_matches('-').parse::<i64>().unwrap() * 100
                + cents.parse::<i64>().unwrap();
            Self(if negative { -value } else { value })
        }
    }
}

#[tokio::test]
async fn refunding_every_unit_in_awkward_parts_returns_exactly_the_invoice_total() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let (invoice, first_id, second_id) = awkward_sale(&suite, &admin.access_token).await;
    let invoice_id = invoice["id"].as_str().unwrap();

    let mut refunded = 0;
    for items in [
        json!([{"product_id": first_id, "quantity": 2}]),
        json!([{"product_id": first_id, "quantity": 1}, {"product_id": second_id, "quantity": 1}]),
        json!([{"product_id": second_id, "quantity": 2}]),
        json!([{"product_id": first_id, "quantity": 4}]),
    ] {
        let response = refund(
            &suite,
            &cashier.access_token,
            &json!({"invoice_id": invoice_id, "items": items, "reason": "returned"}),
            None,
        )
        .await;
        assert_eq!(response.status, 201, "{}", response.text());
        let body = response.json();
        assert_eq!(body["method"], "cash");
        refunded += money(&body["amount"]).0;
    }

    assert_eq!(refunded, money(&invoice["totals"]["total"]).0);
    let after = get_json(
        &suite,
        &admin.access_token,
        &format!("/invoices/{invoice_id}"),
    )
    .await;
    assert_eq!(after["status"], "refunded");
    assert_eq!(
        stock_level(&suite, &admin.access_token, &first_id).await,
        20
    );
    assert_eq!(
        stock_level(&suite, &admin.access_token, &second_id).await,
        20
    );
    assert!(products_out_of_balance(&suite).await.is_empty());
    assert_eq!(
        suite
            .outbox_events("sales", "create")
            .await
            .iter()
            .filter(|event| event["entity"] == "refund")
            .count(),
        4
    );
}

#[tokio::test]
async fn a_refund_beyond_what_is_left_is_409_and_voiding_takes_the_stock_back_out() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (invoice, first_id, _) = awkward_sale(&suite, &admin.access_token).await;
    let invoice_id = invoice["id"].as_str().unwrap();

    let partial = refund(
        &suite,
        &admin.access_token,
        &json!({"invoice_id": invoice_id, "items": [{"product_id": first_id, "quantity": 5}]}),
        Some("refund-key"),
    )
    .await;
    assert_eq!(partial.status, 201, "{}", partial.text());
    let replay = refund(
        &suite,
        &admin.access_token,
        &json!({"invoice_id": invoice_id, "items": [{"product_id": first_id, "quantity": 5}]}),
        Some("refund-key"),
    )
    .await;
    let too_many = refund(
        &suite,
        &admin.access_token,
        &json!({"invoice_id": invoice_id, "items": [{"product_id": first_id, "quantity": 3}]}),
        None,
    )
    .await;
    let refund_id = partial.json()["id"].as_str().unwrap().to_owned();

    assert_eq!(replay.status, 201);
    assert_eq!(replay.json(), partial.json());
    assert_eq!(too_many.status, 409, "{}", too_many.text());
    assert!(too_many.json()["detail"].as_str().unwrap().contains("2 of"));
    assert_eq!(
        stock_level(&suite, &admin.access_token, &first_id).await,
        18
    );
    let partially = get_json(
        &suite,
        &admin.access_token,
        &format!("/invoices/{invoice_id}"),
    )
    .await;
    assert_eq!(partially["status"], "partially_refunded");

    let renamed = suite
        .http()
        .put(&format!("/refunds/{refund_id}"))
        .bearer(&admin.access_token)
        .json(&json!({"reason": "<b>damaged</b>"}))
        .send()
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    assert_eq!(renamed.json()["reason"], "damaged");

    let voided = suite
        .http()
        .delete(&format!("/refunds/{refund_id}"))
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(voided.status, 200, "{}", voided.text());
    assert_eq!(
        stock_level(&suite, &admin.access_token, &first_id).await,
        13
    );
    let restored = get_json(
        &suite,
        &admin.access_token,
        &format!("/invoices/{invoice_id}"),
    )
    .await;
    assert_eq!(restored["status"], "paid");
    let listed = suite
        .http()
        .get("/refunds")
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(listed.json(), json!([]));
    assert_eq!(listed.header("x-total-count"), Some("0"));
    assert!(products_out_of_balance(&suite).await.is_empty());
}

#[tokio::test]
async fn the_duplicate_bill_counts_reprints_and_prints_an_80_column_receipt() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let (invoice, _, _) = awkward_sale(&suite, &admin.access_token).await;
    let invoice_id = invoice["id"].as_str().unwrap();

    let json_bill = get_json(
        &suite,
        &cashier.access_token,
        &format!("/pos/duplicate-bill/{invoice_id}"),
    )
    .await;
    let text_bill = suite
        .http()
        .get(&format!("/pos/duplicate-bill/{invoice_id}?format=text"))
        .bearer(&cashier.access_token)
        .send()
        .await;

    assert_eq!(json_bill["duplicate"], true);
    assert_eq!(json_bill["reprint_count"], 1);
    assert_eq!(text_bill.status, 200);
    assert!(
        text_bill
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = text_bill.text();
    assert!(text.contains("DUPLICATE"));
    assert!(text.contains(invoice["invoice_no"].as_str().unwrap()));
    assert!(text.contains("Regal POS"));
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line:?}");
    }
    assert_eq!(suite.outbox_events("sales", "reprint").await.len(), 2);
    let employee = suite.session_as("employee").await.1;
    let refused = suite
        .http()
        .get(&format!("/pos/duplicate-bill/{invoice_id}"))
        .bearer(&employee.access_token)
        .send()
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn a_draft_is_saved_without_stock_then_sold_and_only_drafts_can_be_deleted() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let product = create_product_with(
        &suite,
        &admin.access_token,
        json!({"unit_price": "5.00", "tax_rate": "0", "stock_level": 4}),
    )
    .await;
    let product_id = product["id"].as_str().unwrap();

    let draft = suite
        .http()
        .post("/invoices")
        .bearer(&admin.access_token)
        .json(&json!({"items": [{"product_id": product_id, "quantity": 2}], "status": "draft"}))
        .send()
        .await;
    assert_eq!(draft.status, 201, "{}", draft.text());
    let draft = draft.json();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["invoice_no"], "");
    assert_eq!(
        stock_level(&suite, &admin.access_token, product_id).await,
        4
    );
    let draft_id = draft["id"].as_str().unwrap();

    let sold = suite
        .http()
        .put(&format!("/invoices/{draft_id}"))
        .bearer(&admin.access_token)
        .json(&json!({"status": "paid", "payments": [{"method": "card", "amount": "10.00"}]}))
        .send()
        .await;
    assert_eq!(sold.status, 200, "{}", sold.text());
    assert_eq!(sold.json()["status"], "paid");
    assert_eq!(sold.json()["invoice_no"], "INV-000001");
    assert_eq!(
        stock_level(&suite, &admin.access_token, product_id).await,
        2
    );

    let delete_sold = suite
        .http()
        .delete(&format!("/invoices/{draft_id}"))
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(delete_sold.status, 409);

    let cancelled = suite
        .http()
        .put(&format!("/invoices/{draft_id}"))
        .bearer(&admin.access_token)
        .json(&json!({"status": "cancelled"}))
        .send()
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    assert_eq!(cancelled.json()["status"], "cancelled");
    assert_eq!(
        stock_level(&suite, &admin.access_token, product_id).await,
        4
    );

    let listed = suite
        .http()
        .get("/invoices?status=cancelled")
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(listed.header("x-total-count"), Some("1"));

    let other_draft = suite
        .http()
        .post("/invoices")
        .bearer(&admin.access_token)
        .json(&json!({"items": [{"product_id": product_id, "quantity": 1}], "status": "draft"}))
        .send()
        .await
        .json();
    let deleted = suite
        .http()
        .delete(&format!(
            "/invoices/{}",
            other_draft["id"].as_str().unwrap()
        ))
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert_eq!(deleted.json()["message"], "Invoice deleted successfully");
    assert!(products_out_of_balance(&suite).await.is_empty());
}
