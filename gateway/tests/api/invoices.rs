//! `/invoices` end to end: customer balances within their credit limit, the life of a
//! draft, the list filters, cancelling exactly once and `Idempotency-Key` on create.

use regal_testkit::{TestResponse, TestSuite};
use serde_json::{Value, json};

use crate::{
    catalog_support::{create_product_with, products_out_of_balance, stock_level},
    sales_support::{get_json, invoice_count, open_shift_for, quick_sell},
};

/// A product at `price` with no tax, so totals are easy to read.
async fn plain_product(suite: &TestSuite, token: &str, price: &str, stock: i64) -> String {
    let product = create_product_with(
        suite,
        token,
        json!({"unit_price": price, "tax_rate": "0", "stock_level": stock}),
    )
    .await;
    product["id"].as_str().unwrap().to_owned()
}

async fn create_customer(suite: &TestSuite, token: &str, credit_limit: &str) -> String {
    let response = suite
        .http()
        .post("/customers")
        .bearer(token)
        .json(&json!({"name": "Wanjiru Traders", "credit_limit": credit_limit}))
        .send()
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    response.json()["id"].as_str().unwrap().to_owned()
}

async fn balance_of(suite: &TestSuite, token: &str, customer_id: &str) -> String {
    get_json(suite, token, &format!("/customers/{customer_id}")).await["balance"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn post_invoice(suite: &TestSuite, token: &str, body: &Value) -> TestResponse {
    suite
        .http()
        .post("/invoices")
        .bearer(token)
        .json(body)
        .send()
        .await
}

async fn put_invoice(suite: &TestSuite, token: &str, id: &str, body: &Value) -> TestResponse {
    suite
        .http()
        .put(&format!("/invoices/{id}"))
        .bearer(token)
        .json(body)
        .send()
        .await
}

fn id_of(response: &TestResponse) -> String {
    assert!(
        matches!(response.status, 200 | 201),
        "{}: {}",
        response.status,
        response.text()
    );
    response.json()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_issued_invoice_puts_its_unpaid_part_on_the_customers_account_only_within_the_credit_limit()
 {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let product_id = plain_product(&suite, token, "10.00", 10).await;
    let customer_id = create_customer(&suite, token, "25.00").await;

    let first = post_invoice(
        &suite,
        token,
        &json!({"customer_id": customer_id, "status": "issued",
                "items": [{"product_id": product_id, "quantity": 2}],
                "payments": [{"method": "cash", "amount": "5.00"}]}),
    )
    .await;
    let first_id = id_of(&first);
    assert_eq!(first.json()["status"], "issued");
    assert_eq!(first.json()["amount_paid"], "5.00");
    assert_eq!(balance_of(&suite, token, &customer_id).await, "15.00");
    assert_eq!(stock_level(&suite, token, &product_id).await, 8);

    // 15.00 owed + 20.00 more would pass the 25.00 limit: nothing is sold.
    let beyond = post_invoice(
        &suite,
        token,
        &json!({"customer_id": customer_id, "status": "issued",
                "items": [{"product_id": product_id, "quantity": 2}]}),
    )
    .await;
    assert_eq!(beyond.status, 409, "{}", beyond.text());
    assert!(beyond.json()["detail"].as_str().unwrap().contains("credit"));
    assert_eq!(invoice_count(&suite).await, 1);
    assert_eq!(stock_level(&suite, token, &product_id).await, 8);
    assert_eq!(balance_of(&suite, token, &customer_id).await, "15.00");

    // Exactly up to the limit is allowed.
    let up_to_the_limit = post_invoice(
        &suite,
        token,
        &json!({"customer_id": customer_id, "status": "issued",
                "items": [{"product_id": product_id, "quantity": 1}]}),
    )
    .await;
    let second_id = id_of(&up_to_the_limit);
    assert_eq!(balance_of(&suite, token, &customer_id).await, "25.00");

    // A part payment lowers the balance by what was paid.
    let part_paid = put_invoice(
        &suite,
        token,
        &second_id,
        &json!({"payments": [{"method": "card", "amount": "4.00"}]}),
    )
    .await;
    assert_eq!(part_paid.status, 200, "{}", part_paid.text());
    assert_eq!(part_paid.json()["status"], "issued");
    assert_eq!(balance_of(&suite, token, &customer_id).await, "21.00");

    // Paying the first in full takes its 15.00 off.
    let paid = put_invoice(
        &suite,
        token,
        &first_id,
        &json!({"status": "paid", "payments": [{"method": "cash", "amount": "5.00"},
                                               {"method": "card", "amount": "15.00"}]}),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.text());
    assert_eq!(paid.json()["status"], "paid");
    assert_eq!(balance_of(&suite, token, &customer_id).await, "6.00");

    // Cancelling the second takes off what is still owed on it and gives its stock back.
    let cancelled = put_invoice(&suite, token, &second_id, &json!({"status": "cancelled"})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    assert_eq!(balance_of(&suite, token, &customer_id).await, "0.00");
    assert_eq!(stock_level(&suite, token, &product_id).await, 8);

    // A customer with the default limit (0.00) cannot buy on account at all, but can pay.
    let cash_only = create_customer(&suite, token, "0").await;
    let on_account = post_invoice(
        &suite,
        token,
        &json!({"customer_id": cash_only, "status": "issued",
                "items": [{"product_id": product_id, "quantity": 1}]}),
    )
    .await;
    assert_eq!(on_account.status, 409, "{}", on_account.text());
    let paid_up_front = post_invoice(
        &suite,
        token,
        &json!({"customer_id": cash_only,
                "items": [{"product_id": product_id, "quantity": 1}],
                "payments": [{"method": "cash", "amount": "10.00"}]}),
    )
    .await;
    assert_eq!(paid_up_front.status, 201, "{}", paid_up_front.text());
    assert_eq!(paid_up_front.json()["status"], "paid");
    assert_eq!(balance_of(&suite, token, &cash_only).await, "0.00");
    assert_eq!(stock_level(&suite, token, &product_id).await, 7);
    assert!(products_out_of_balance(&suite).await.is_empty());
}

/// Sales that reach their commit together are written together (one transaction, one
/// lock of the invoice counter): one refused by its customer's credit must fail alone,
/// the others keep gap-free numbers, each its own, and each cashier's own shift.
#[tokio::test]
async fn sales_committed_together_fail_alone_and_keep_gap_free_numbers() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let (cashier_user, cashier) = suite.session_as("cashier").await;
    let shift_id = open_shift_for(&suite, &cashier_user.id).await;
    let product_id = plain_product(&suite, token, "10.00", 100).await;
    // Credit for exactly two of the six invoices on account below.
    let customer_id = create_customer(&suite, token, "20.00").await;

    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..16 {
        let http = suite.http().clone();
        let (token, expected_shift) = if index % 2 == 0 {
            (
                cashier.access_token.clone(),
                Value::from(shift_id.to_string()),
            )
        } else {
            (admin.access_token.clone(), Value::Null)
        };
        let body = json!({"product_ids": [product_id]});
        tasks.spawn(async move {
            let sold = http
                .post("/pos/quick-sell")
                .bearer(&token)
                .header("Idempotency-Key", &format!("batch-{index}"))
                .json(&body)
                .send()
                .await;
            (Some((index, expected_shift)), sold)
        });
    }
    for _ in 0..6 {
        let http = suite.http().clone();
        let token = token.clone();
        let body = json!({"customer_id": customer_id, "status": "issued",
                          "items": [{"product_id": product_id, "quantity": 1}]});
        tasks.spawn(async move {
            (
                None,
                http.post("/invoices")
                    .bearer(&token)
                    .json(&body)
                    .send()
                    .await,
            )
        });
    }
    let mut cash_sales = Vec::new();
    let mut on_account = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined.unwrap() {
            (Some((index, expected_shift)), sold) => cash_sales.push((index, sold, expected_shift)),
            (None, response) => on_account.push(response),
        }
    }
    cash_sales.sort_by_key(|(index, _, _)| *index);

    let mut numbers = Vec::new();
    for (_, sold, expected_shift) in &cash_sales {
        assert_eq!(sold.status, 201, "{}", sold.text());
        let invoice = sold.json();
        assert_eq!(invoice["status"], "paid");
        assert_eq!(invoice["totals"]["total"], "10.00");
        assert_eq!(invoice["shift_id"], *expected_shift, "{invoice}");
        numbers.push(invoice["invoice_no"].as_str().unwrap().to_owned());
    }
    let statuses: Vec<u16> = on_account.iter().map(|response| response.status).collect();
    assert_eq!(
        statuses.iter().filter(|status| **status == 201).count(),
        2,
        "{statuses:?}"
    );
    for refused in on_account.iter().filter(|response| response.status != 201) {
        assert_eq!(refused.status, 409, "{}", refused.text());
        assert!(
            refused.json()["detail"]
                .as_str()
                .unwrap()
                .contains("credit")
        );
    }
    for sold in on_account.iter().filter(|response| response.status == 201) {
        assert_eq!(sold.json()["status"], "issued");
        numbers.push(sold.json()["invoice_no"].as_str().unwrap().to_owned());
    }
    numbers.sort();
    let expected: Vec<String> = (1..=18).map(|number| format!("INV-{number:06}")).collect();
    assert_eq!(numbers, expected, "each sale its own number, none skipped");

    assert_eq!(invoice_count(&suite).await, 18);
    assert_eq!(balance_of(&suite, token, &customer_id).await, "20.00");
    assert_eq!(stock_level(&suite, token, &product_id).await, 100 - 18);
    assert!(products_out_of_balance(&suite).await.is_empty());
    assert_eq!(suite.outbox_events("sales", "sell").await.len(), 18);

    // Each key answers its own sale again.
    let (_, again, _) = &cash_sales[3];
    let replay = quick_sell(
        &suite,
        &admin.access_token,
        &json!({"product_ids": [product_id]}),
        Some("batch-3"),
    )
    .await;
    assert_eq!(replay.status, 201, "{}", replay.text());
    assert_eq!(replay.json()["id"], again.json()["id"]);
    assert_eq!(invoice_count(&suite).await, 18);
}

#[tokio::test]
async fn a_draft_is_edited_without_stock_then_sold_numbered_and_paid_only_in_full() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let first_product = plain_product(&suite, token, "5.00", 10).await;
    let second_product = plain_product(&suite, token, "3.00", 10).await;
    let customer_id = create_customer(&suite, token, "100.00").await;

    let draft = post_invoice(
        &suite,
        token,
        &json!({"status": "draft", "items": [{"product_id": first_product, "quantity": 2}]}),
    )
    .await;
    let draft_id = id_of(&draft);
    assert_eq!(draft.json()["status"], "draft");
    assert_eq!(draft.json()["invoice_no"], "");
    assert_eq!(draft.json()["totals"]["total"], "10.00");
    assert_eq!(stock_level(&suite, token, &first_product).await, 10);

    let edited = put_invoice(
        &suite,
        token,
        &draft_id,
        &json!({"items": [{"product_id": second_product, "quantity": 3}],
                "discount": "1.00", "customer_id": customer_id}),
    )
    .await;
    assert_eq!(edited.status, 200, "{}", edited.text());
    let edited = edited.json();
    assert_eq!(edited["status"], "draft");
    assert_eq!(edited["invoice_no"], "");
    assert_eq!(edited["customer_id"], customer_id.as_str());
    assert_eq!(edited["items"].as_array().unwrap().len(), 1);
    assert_eq!(edited["items"][0]["product_id"], second_product.as_str());
    assert_eq!(edited["totals"]["total"], "8.00");
    assert_eq!(stock_level(&suite, token, &first_product).await, 10);
    assert_eq!(stock_level(&suite, token, &second_product).await, 10);
    assert_eq!(balance_of(&suite, token, &customer_id).await, "0.00");

    let issued = put_invoice(&suite, token, &draft_id, &json!({"status": "issued"})).await;
    assert_eq!(issued.status, 200, "{}", issued.text());
    let issued = issued.json();
    assert_eq!(issued["id"], draft_id.as_str());
    assert_eq!(issued["status"], "issued");
    assert_eq!(issued["invoice_no"], "INV-000001");
    assert_eq!(issued["totals"]["total"], "8.00");
    assert_eq!(stock_level(&suite, token, &first_product).await, 10);
    assert_eq!(stock_level(&suite, token, &second_product).await, 7);
    assert_eq!(balance_of(&suite, token, &customer_id).await, "8.00");

    // A sold invoice's items are fixed.
    let edit_sold = put_invoice(
        &suite,
        token,
        &draft_id,
        &json!({"items": [{"product_id": first_product, "quantity": 1}]}),
    )
    .await;
    assert_eq!(edit_sold.status, 409, "{}", edit_sold.text());

    // Short payments cannot make it paid, and change nothing.
    let short = put_invoice(
        &suite,
        token,
        &draft_id,
        &json!({"status": "paid", "payments": [{"method": "card", "amount": "7.99"}]}),
    )
    .await;
    assert_eq!(short.status, 422, "{}", short.text());
    assert_eq!(
        short.json()["detail"][0]["loc"],
        json!(["body", "payments"])
    );
    let unchanged = get_json(&suite, token, &format!("/invoices/{draft_id}")).await;
    assert_eq!(unchanged, issued);
    assert_eq!(balance_of(&suite, token, &customer_id).await, "8.00");

    let paid = put_invoice(
        &suite,
        token,
        &draft_id,
        &json!({"status": "paid", "payments": [{"method": "card", "amount": "8.00"}]}),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.text());
    assert_eq!(paid.json()["status"], "paid");
    assert_eq!(paid.json()["amount_paid"], "8.00");
    assert_eq!(paid.json()["invoice_no"], "INV-000001");
    assert_eq!(balance_of(&suite, token, &customer_id).await, "0.00");
    assert_eq!(stock_level(&suite, token, &second_product).await, 7);

    let delete_sold = suite
        .http()
        .delete(&format!("/invoices/{draft_id}"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(delete_sold.status, 409, "{}", delete_sold.text());

    // A draft sold straight to paid is numbered next; a deleted draft leaves no gap.
    let throwaway = post_invoice(
        &suite,
        token,
        &json!({"status": "draft", "items": [{"product_id": first_product, "quantity": 1}]}),
    )
    .await;
    let throwaway_id = id_of(&throwaway);
    let deleted = suite
        .http()
        .delete(&format!("/invoices/{throwaway_id}"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let gone = suite
        .http()
        .get(&format!("/invoices/{throwaway_id}"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(gone.status, 404);
    let next = post_invoice(
        &suite,
        token,
        &json!({"status": "draft", "items": [{"product_id": first_product, "quantity": 1}]}),
    )
    .await;
    let next_id = id_of(&next);
    let sold_paid = put_invoice(
        &suite,
        token,
        &next_id,
        &json!({"status": "paid", "payments": [{"method": "cash", "amount": "20.00"}]}),
    )
    .await;
    assert_eq!(sold_paid.status, 200, "{}", sold_paid.text());
    assert_eq!(sold_paid.json()["invoice_no"], "INV-000002");
    assert_eq!(sold_paid.json()["change_due"], "15.00");
    assert_eq!(stock_level(&suite, token, &first_product).await, 9);
    assert!(products_out_of_balance(&suite).await.is_empty());
}

#[tokio::test]
async fn invoices_list_by_status_customer_and_time_with_a_total_count_and_pages() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let product_id = plain_product(&suite, token, "2.00", 50).await;
    let customer_id = create_customer(&suite, token, "100.00").await;
    let item = json!([{"product_id": product_id, "quantity": 1}]);
    let cash = json!([{"method": "cash", "amount": "2.00"}]);

    let mut ids = Vec::new();
    for body in [
        json!({"items": item, "payments": cash}),
        json!({"items": item, "customer_id": customer_id, "payments": cash}),
        json!({"items": item, "customer_id": customer_id, "status": "issued"}),
        json!({"items": item, "customer_id": customer_id, "status": "draft"}),
        json!({"items": item, "status": "draft"}),
    ] {
        ids.push(id_of(&post_invoice(&suite, token, &body).await));
    }
    let second = get_json(&suite, token, &format!("/invoices/{}", ids[1])).await;
    let second_created = second["created_at"].as_str().unwrap().to_owned();

    let list = |query: String| {
        let suite = &suite;
        async move {
            let response = suite
                .http()
                .get(&format!("/invoices{query}"))
                .bearer(token)
                .send()
                .await;
            assert_eq!(response.status, 200, "{query}: {}", response.text());
            let ids: Vec<String> = response
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|invoice| invoice["id"].as_str().unwrap().to_owned())
                .collect();
            let total = response.header("x-total-count").unwrap().to_owned();
            (ids, total)
        }
    };
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let yesterday = today.pred_opt().unwrap();

    let (all, total) = list(String::new()).await;
    assert_eq!(total, "5");
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(all, newest_first);
    assert_eq!(
        list("?status=paid".into()).await,
        (ids[..2].iter().rev().cloned().collect(), "2".into())
    );
    assert_eq!(
        list("?status=issued".into()).await,
        (vec![ids[2].clone()], "1".into())
    );
    assert_eq!(list("?status=draft".into()).await.1, "2");
    assert_eq!(list("?status=cancelled".into()).await.1, "0");
    assert_eq!(
        list(format!("?customer_id={customer_id}")).await,
        (ids[1..4].iter().rev().cloned().collect(), "3".into())
    );
    assert_eq!(
        list(format!("?customer_id={customer_id}&status=draft")).await,
        (vec![ids[3].clone()], "1".into())
    );
    assert_eq!(list(format!("?from={today}&to={today}")).await.1, "5");
    assert_eq!(list(format!("?to={today}")).await.1, "5");
    assert_eq!(list(format!("?from={tomorrow}")).await.1, "0");
    assert_eq!(list(format!("?to={yesterday}")).await.1, "0");
    let from_second = urlencode(&second_created);
    assert_eq!(
        list(format!("?from={from_second}")).await,
        (ids[1..].iter().rev().cloned().collect(), "4".into())
    );
    assert_eq!(
        list(format!("?to={from_second}")).await,
        (vec![ids[0].clone()], "1".into())
    );

    let (first_page, total) = list("?limit=2".into()).await;
    let (second_page, _) = list("?skip=2&limit=2".into()).await;
    let (last_page, _) = list("?skip=4&limit=2".into()).await;
    assert_eq!(total, "5");
    assert_eq!([first_page, second_page, last_page].concat(), newest_first);
    let (beyond, total) = list("?skip=10".into()).await;
    assert!(beyond.is_empty());
    assert_eq!(total, "5");

    for query in [
        "?status=lost",
        "?customer_id=not-a-uuid",
        "?from=2024-13-40",
        "?to=yesterday",
        "?skip=-1",
        "?limit=-1",
    ] {
        let response = suite
            .http()
            .get(&format!("/invoices{query}"))
            .bearer(token)
            .send()
            .await;
        assert_eq!(response.status, 422, "{query}: {}", response.text());
    }
}

/// Percent-encodes what an RFC 3339 time needs in a query (`+` and `:`).
pub fn urlencode(text: &str) -> String {
    text.replace(':', "%3A").replace('+', "%2B")
}

#[tokio::test]
async fn cancelling_a_sold_invoice_gives_its_stock_back_exactly_once() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let product_id = plain_product(&suite, token, "4.00", 10).await;
    let item = json!([{"product_id": product_id, "quantity": 3}]);

    let paid_id = id_of(
        &post_invoice(
            &suite,
            token,
            &json!({"items": item, "payments": [{"method": "card", "amount": "12.00"}]}),
        )
        .await,
    );
    let issued_id =
        id_of(&post_invoice(&suite, token, &json!({"items": item, "status": "issued"})).await);
    assert_eq!(stock_level(&suite, token, &product_id).await, 4);

    let cancelled = put_invoice(&suite, token, &paid_id, &json!({"status": "cancelled"})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    assert_eq!(cancelled.json()["status"], "cancelled");
    assert_eq!(stock_level(&suite, token, &product_id).await, 7);
    let again = put_invoice(&suite, token, &paid_id, &json!({"status": "cancelled"})).await;
    assert!(
        matches!(again.status, 200 | 409),
        "{}: {}",
        again.status,
        again.text()
    );
    assert_eq!(stock_level(&suite, token, &product_id).await, 7);

    // Racing cancels of the issued one: it comes back once.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let http = suite.http().clone();
        let token = token.clone();
        let path = format!("/invoices/{issued_id}");
        tasks.spawn(async move {
            http.put(&path)
                .bearer(&token)
                .json(&json!({"status": "cancelled"}))
                .send()
                .await
        });
    }
    let mut done = 0;
    while let Some(response) = tasks.join_next().await {
        let response = response.unwrap();
        match response.status {
            200 => done += 1,
            409 => {}
            other => panic!("unexpected {other}: {}", response.text()),
        }
    }
    assert!(done >= 1);
    assert_eq!(stock_level(&suite, token, &product_id).await, 10);
    let issued = get_json(&suite, token, &format!("/invoices/{issued_id}")).await;
    assert_eq!(issued["status"], "cancelled");

    // A cancelled invoice cannot be paid, refunded or deleted.
    let pay = put_invoice(
        &suite,
        token,
        &paid_id,
        &json!({"status": "paid", "payments": [{"method": "cash", "amount": "12.00"}]}),
    )
    .await;
    assert_eq!(pay.status, 409, "{}", pay.text());
    let refund = crate::sales_support::refund(
        &suite,
        token,
        &json!({"invoice_id": paid_id, "items": [{"product_id": product_id, "quantity": 1}]}),
        None,
    )
    .await;
    assert_eq!(refund.status, 409, "{}", refund.text());
    assert_eq!(stock_level(&suite, token, &product_id).await, 10);
    assert!(products_out_of_balance(&suite).await.is_empty());
}

#[tokio::test]
async fn an_invoice_idempotency_key_sells_once_per_user() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let (_, other_cashier) = suite.session_as("cashier").await;
    let product_id = plain_product(&suite, &admin.access_token, "6.00", 10).await;
    let body = json!({"items": [{"product_id": product_id, "quantity": 2}]});
    let send = |token: String, body: Value| {
        let http = suite.http().clone();
        async move {
            http.post("/invoices")
                .bearer(&token)
                .header("Idempotency-Key", "invoice-7")
                .json(&body)
                .send()
                .await
        }
    };

    let first = send(cashier.access_token.clone(), body.clone()).await;
    let retry = send(cashier.access_token.clone(), body.clone()).await;
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(retry.status, 201, "{}", retry.text());
    assert_eq!(retry.json(), first.json());
    assert_eq!(invoice_count(&suite).await, 1);
    assert_eq!(
        stock_level(&suite, &admin.access_token, &product_id).await,
        8
    );

    let other_body = send(
        cashier.access_token.clone(),
        json!({"items": [{"product_id": product_id, "quantity": 1}]}),
    )
    .await;
    assert_eq!(other_body.status, 409, "{}", other_body.text());

    let other_user = send(other_cashier.access_token.clone(), body.clone()).await;
    assert_eq!(other_user.status, 201, "{}", other_user.text());
    assert_ne!(other_user.json()["id"], first.json()["id"]);
    assert_eq!(other_user.json()["invoice_no"], "INV-000002");
    assert_eq!(invoice_count(&suite).await, 2);
    assert_eq!(
        stock_level(&suite, &admin.access_token, &product_id).await,
        6
    );

    // A draft under a key is saved once too.
    let draft_body =
        json!({"status": "draft", "items": [{"product_id": product_id, "quantity": 1}]});
    let draft = suite
        .http()
        .post("/invoices")
        .bearer(&cashier.access_token)
        .header("Idempotency-Key", "draft-1")
        .json(&draft_body)
        .send()
        .await;
    let draft_again = suite
        .http()
        .post("/invoices")
        .bearer(&cashier.access_token)
        .header("Idempotency-Key", "draft-1")
        .json(&draft_body)
        .send()
        .await;
    assert_eq!(draft.status, 201, "{}", draft.text());
    assert_eq!(draft_again.status, 201, "{}", draft_again.text());
    assert_eq!(draft_again.json()["id"], draft.json()["id"]);
    assert_eq!(invoice_count(&suite).await, 3);
    assert!(products_out_of_balance(&suite).await.is_empty());
}

#[tokio::test]
async fn a_draft_whose_sale_was_refused_can_be_sold_once_the_reason_is_gone() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let product_id = plain_product(&suite, token, "10.00", 3).await;
    let customer_id = create_customer(&suite, token, "5.00").await;

    // Not enough stock: refused, then sold once the stock came in.
    let short_id = id_of(
        &post_invoice(
            &suite,
            token,
            &json!({"status": "draft", "items": [{"product_id": product_id, "quantity": 5}]}),
        )
        .await,
    );
    let refused = put_invoice(
        &suite,
        token,
        &short_id,
        &json!({"status": "paid", "payments": [{"method": "cash", "amount": "50.00"}]}),
    )
    .await;
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert_eq!(stock_level(&suite, token, &product_id).await, 3);
    let still_draft = get_json(&suite, token, &format!("/invoices/{short_id}")).await;
    assert_eq!(still_draft["status"], "draft");
    crate::catalog_support::post_entry(&suite, token, &product_id, "IN", 7).await;
    let sold = put_invoice(
        &suite,
        token,
        &short_id,
        &json!({"status": "paid", "payments": [{"method": "cash", "amount": "50.00"}]}),
    )
    .await;
    assert_eq!(sold.status, 200, "{}", sold.text());
    assert_eq!(sold.json()["status"], "paid");
    assert_eq!(stock_level(&suite, token, &product_id).await, 5);

    // Beyond the credit limit: refused, then sold once the limit was raised.
    let on_account_id = id_of(
        &post_invoice(
            &suite,
            token,
            &json!({"status": "draft", "customer_id": customer_id,
                    "items": [{"product_id": product_id, "quantity": 1}]}),
        )
        .await,
    );
    let over_limit = put_invoice(&suite, token, &on_account_id, &json!({"status": "issued"})).await;
    assert_eq!(over_limit.status, 409, "{}", over_limit.text());
    assert_eq!(stock_level(&suite, token, &product_id).await, 5);
    assert_eq!(balance_of(&suite, token, &customer_id).await, "0.00");
    let raised = suite
        .http()
        .put(&format!("/customers/{customer_id}"))
        .bearer(token)
        .json(&json!({"credit_limit": "50.00"}))
        .send()
        .await;
    assert_eq!(raised.status, 200, "{}", raised.text());
    let issued = put_invoice(&suite, token, &on_account_id, &json!({"status": "issued"})).await;
    assert_eq!(issued.status, 200, "{}", issued.text());
    assert_eq!(issued.json()["status"], "issued");
    assert_eq!(stock_level(&suite, token, &product_id).await, 4);
    assert_eq!(balance_of(&suite, token, &customer_id).await, "10.00");

    // Cancelling it gives back exactly what it took.
    let cancelled = put_invoice(
        &suite,
        token,
        &on_account_id,
        &json!({"status": "cancelled"}),
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    assert_eq!(stock_level(&suite, token, &product_id).await, 5);
    assert_eq!(balance_of(&suite, token, &customer_id).await, "0.00");
    assert!(products_out_of_balance(&suite).await.is_empty());
}

#[tokio::test]
async fn racing_attempts_to_sell_one_draft_sell_it_once() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let product_id = plain_product(&suite, token, "3.00", 10).await;
    let draft_id = id_of(
        &post_invoice(
            &suite,
            token,
            &json!({"status": "draft", "items": [{"product_id": product_id, "quantity": 4}]}),
        )
        .await,
    );

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let http = suite.http().clone();
        let token = token.clone();
        let path = format!("/invoices/{draft_id}");
        tasks.spawn(async move {
            http.put(&path)
                .bearer(&token)
                .json(&json!({"status": "paid",
                              "payments": [{"method": "cash", "amount": "12.00"}]}))
                .send()
                .await
        });
    }
    let mut sold = 0;
    while let Some(response) = tasks.join_next().await {
        let response = response.unwrap();
        match response.status {
            200 => sold += 1,
            409 => {}
            other => panic!("unexpected {other}: {}", response.text()),
        }
    }

    assert_eq!(sold, 1);
    assert_eq!(stock_level(&suite, token, &product_id).await, 6);
    let invoice = get_json(&suite, token, &format!("/invoices/{draft_id}")).await;
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["invoice_no"], "INV-000001");
    assert_eq!(crate::sales_support::pending_count(&suite).await, 0);
    let cancelled = put_invoice(&suite, token, &draft_id, &json!({"status": "cancelled"})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    assert_eq!(stock_level(&suite, token, &product_id).await, 10);
    assert!(products_out_of_balance(&suite).await.is_empty());
}
