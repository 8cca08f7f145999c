//! Refunds under pressure: a restock a crash interrupted is finished by the sweeper once,
//! racing refunds never give back more than was sold, voiding takes the stock back out,
//! the list filters, and `Idempotency-Key` per user.

use std::time::Duration;

use regal_testkit::{Part, TestResponse, TestSuite, WaitFor};
use serde_json::{Value, json};

use crate::{
    catalog_support::{create_product_with, products_out_of_balance, stock_level},
    invoices::urlencode,
    sales_support::{get_json, quick_sell, refund},
};

/// A paid invoice of `quantity` units of a fresh product (with `stock` before the sale).
async fn paid_sale(suite: &TestSuite, token: &str, stock: i64, quantity: i64) -> (String, String) {
    let product = create_product_with(
        suite,
        token,
        json!({"unit_price": "2.50", "tax_rate": "0", "stock_level": stock}),
    )
    .await;
    let product_id = product["id"].as_str().unwrap().to_owned();
    let sold = quick_sell(
        suite,
        token,
        &json!({"items": [{"product_id": product_id, "quantity": quantity}]}),
        None,
    )
    .await;
    assert_eq!(sold.status, 201, "{}", sold.text());
    (sold.json()["id"].as_str().unwrap().to_owned(), product_id)
}

fn one_unit(invoice_id: &str, product_id: &str) -> Value {
    json!({"invoice_id": invoice_id, "items": [{"product_id": product_id, "quantity": 1}]})
}

async fn restocked_at(suite: &TestSuite, refund_id: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let mut connection = suite.database().connect().await;
    sqlx::query_scalar("select restocked_at from sales.refunds where id = $1::uuid")
        .bind(refund_id)
        .fetch_one(&mut connection)
        .await
        .expect("the refund is readable")
}

/// How many refund restock entries catalog's ledger holds for `product_id`.
async fn refund_entries(suite: &TestSuite, product_id: &str) -> i64 {
    let mut connection = suite.database().connect().await;
    sqlx::query_scalar(
        "select count(*) from catalog.stock_entries where product_id = $1::uuid \
         and type = 'REFUND'",
    )
    .bind(product_id)
    .fetch_one(&mut connection)
    .await
    .expect("stock entries are readable")
}

async fn delete(suite: &TestSuite, token: &str, path: &str) -> TestResponse {
    suite.http().delete(path).bearer(token).send().await
}

fn quick_sweeper() -> impl Fn(Part, &mut regal_config::Settings) {
    |part, settings| {
        if part == Part::Sales {
            settings.sales.pending_sale_timeout = Duration::from_millis(300);
            settings.sales.sweep_interval = Duration::from_millis(100);
        }
    }
}

#[tokio::test]
async fn the_sweeper_finishes_a_refund_restock_that_never_reached_catalog_exactly_once() {
    let suite = TestSuite::start_with(quick_sweeper(), WaitFor::Ready).await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let (invoice_id, product_id) = paid_sale(&suite, token, 10, 3).await;

    let interrupted = refund(
        &suite,
        token,
        &json!({"invoice_id": invoice_id, "items": [{"product_id": product_id, "quantity": 2}]}),
        Some(regal_sales::testing::SKIP_RESTOCK_KEY),
    )
    .await;
    assert_eq!(interrupted.status, 201, "{}", interrupted.text());
    let refund_id = interrupted.json()["id"].as_str().unwrap().to_owned();

    let mut restocked = false;
    for _ in 0..100 {
        if restocked_at(&suite, &refund_id).await.is_some() {
            restocked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(restocked, "the sweeper restocked the refund");
    // Several more sweeps change nothing.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(stock_level(&suite, token, &product_id).await, 9);
    assert_eq!(refund_entries(&suite, &product_id).await, 1);
    let invoice = get_json(&suite, token, &format!("/invoices/{invoice_id}")).await;
    assert_eq!(invoice["status"], "partially_refunded");
    assert!(products_out_of_balance(&suite).await.is_empty());
}

#[tokio::test]
async fn a_restock_done_but_not_recorded_before_a_crash_is_not_doubled_by_the_sweeper() {
    let suite = TestSuite::start_with(quick_sweeper(), WaitFor::Ready).await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let (invoice_id, product_id) = paid_sale(&suite, token, 10, 3).await;
    let refunded = refund(&suite, token, &one_unit(&invoice_id, &product_id), None).await;
    assert_eq!(refunded.status, 201, "{}", refunded.text());
    let refund_id = refunded.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(stock_level(&suite, token, &product_id).await, 8);

    // The process died after catalog restocked but before restocked_at was written.
    let mut connection = suite.database().connect().await;
    sqlx::query("update sales.refunds set restocked_at = null where id = $1::uuid")
        .bind(&refund_id)
        .execute(&mut connection)
        .await
        .unwrap();
    let mut recorded = false;
    for _ in 0..100 {
        if restocked_at(&suite, &refund_id).await.is_some() {
            recorded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recorded, "the sweeper finished the refund");
    assert_eq!(stock_level(&suite, token, &product_id).await, 8);
    assert_eq!(refund_entries(&suite, &product_id).await, 1);
    assert!(products_out_of_balance(&suite).await.is_empty());
}

#[tokio::test]
async fn ten_racing_refunds_of_one_unit_against_a_line_of_three_give_back_exactly_three() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let (invoice_id, product_id) = paid_sale(&suite, &admin.access_token, 10, 3).await;
    assert_eq!(
        stock_level(&suite, &admin.access_token, &product_id).await,
        7
    );

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let http = suite.http().clone();
        let token = cashier.access_token.clone();
        let body = one_unit(&invoice_id, &product_id);
        tasks.spawn(async move {
            http.post("/refunds")
                .bearer(&token)
                .json(&body)
                .send()
                .await
        });
    }
    let mut created = 0;
    let mut conflicts = 0;
    while let Some(response) = tasks.join_next().await {
        let response = response.unwrap();
        match response.status {
            201 => created += 1,
            409 => conflicts += 1,
            other => panic!("unexpected {other}: {}", response.text()),
        }
    }

    assert_eq!((created, conflicts), (3, 7));
    assert_eq!(
        stock_level(&suite, &admin.access_token, &product_id).await,
        10
    );
    let invoice = get_json(
        &suite,
        &admin.access_token,
        &format!("/invoices/{invoice_id}"),
    )
    .await;
    assert_eq!(invoice["status"], "refunded");
    let listed = suite
        .http()
        .get(&format!("/refunds?invoice_id={invoice_id}"))
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(listed.header("x-total-count"), Some("3"));
    let amounts: Vec<Value> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|refund| refund["amount"].clone())
        .collect();
    assert_eq!(amounts, vec![json!("2.50"); 3]);
    assert!(products_out_of_balance(&suite).await.is_empty());
}

#[tokio::test]
async fn voiding_a_refund_takes_its_stock_back_out_and_only_an_admin_may() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let token = &admin.access_token;
    let (invoice_id, product_id) = paid_sale(&suite, token, 10, 3).await;

    let all = refund(
        &suite,
        &cashier.access_token,
        &json!({"invoice_id": invoice_id, "items": [{"product_id": product_id, "quantity": 3}]}),
        None,
    )
    .await;
    assert_eq!(all.status, 201, "{}", all.text());
    let refund_id = all.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(stock_level(&suite, token, &product_id).await, 10);
    let invoice = get_json(&suite, token, &format!("/invoices/{invoice_id}")).await;
    assert_eq!(invoice["status"], "refunded");

    let by_cashier = delete(
        &suite,
        &cashier.access_token,
        &format!("/refunds/{refund_id}"),
    )
    .await;
    assert_eq!(by_cashier.status, 403, "{}", by_cashier.text());
    assert_eq!(stock_level(&suite, token, &product_id).await, 10);

    let voided = delete(&suite, token, &format!("/refunds/{refund_id}")).await;
    assert_eq!(voided.status, 200, "{}", voided.text());
    assert_eq!(stock_level(&suite, token, &product_id).await, 7);
    let invoice = get_json(&suite, token, &format!("/invoices/{invoice_id}")).await;
    assert_eq!(invoice["status"], "paid");
    let gone = suite
        .http()
        .get(&format!("/refunds/{refund_id}"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(gone.status, 404);

    // Voiding again never takes the stock out twice.
    let again = delete(&suite, token, &format!("/refunds/{refund_id}")).await;
    assert!(
        matches!(again.status, 404 | 409),
        "{}: {}",
        again.status,
        again.text()
    );
    assert_eq!(stock_level(&suite, token, &product_id).await, 7);

    // The units voided can be refunded again.
    let refunded_again = refund(&suite, token, &one_unit(&invoice_id, &product_id), None).await;
    assert_eq!(refunded_again.status, 201, "{}", refunded_again.text());
    assert_eq!(stock_level(&suite, token, &product_id).await, 8);
    let invoice = get_json(&suite, token, &format!("/invoices/{invoice_id}")).await;
    assert_eq!(invoice["status"], "partially_refunded");
    assert!(products_out_of_balance(&suite).await.is_empty());
}

#[tokio::test]
async fn refunds_list_by_invoice_and_time_with_a_total_count_and_pages() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let (first_invoice, first_product) = paid_sale(&suite, token, 10, 5).await;
    let (second_invoice, second_product) = paid_sale(&suite, token, 10, 5).await;

    let mut ids = Vec::new();
    for (invoice_id, product_id) in [
        (&first_invoice, &first_product),
        (&second_invoice, &second_product),
        (&first_invoice, &first_product),
        (&first_invoice, &first_product),
    ] {
        let response = refund(&suite, token, &one_unit(invoice_id, product_id), None).await;
        assert_eq!(response.status, 201, "{}", response.text());
        ids.push(response.json()["id"].as_str().unwrap().to_owned());
    }
    let second = get_json(&suite, token, &format!("/refunds/{}", ids[1])).await;
    let second_created = urlencode(second["created_at"].as_str().unwrap());

    let list = |query: String| {
        let suite = &suite;
        async move {
            let response = suite
                .http()
                .get(&format!("/refunds{query}"))
                .bearer(token)
                .send()
                .await;
            assert_eq!(response.status, 200, "{query}: {}", response.text());
            let ids: Vec<String> = response
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|refund| refund["id"].as_str().unwrap().to_owned())
                .collect();
            (ids, response.header("x-total-count").unwrap().to_owned())
        }
    };
    let today = chrono::Utc::now().date_naive();
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();

    assert_eq!(
        list(String::new()).await,
        (newest_first.clone(), "4".into())
    );
    assert_eq!(
        list(format!("?invoice_id={first_invoice}")).await,
        (
            vec![ids[3].clone(), ids[2].clone(), ids[0].clone()],
            "3".into()
        )
    );
    assert_eq!(
        list(format!("?invoice_id={second_invoice}")).await,
        (vec![ids[1].clone()], "1".into())
    );
    assert_eq!(list(format!("?from={today}&to={today}")).await.1, "4");
    assert_eq!(
        list(format!("?from={}", today.succ_opt().unwrap())).await.1,
        "0"
    );
    assert_eq!(
        list(format!("?to={}", today.pred_opt().unwrap())).await.1,
        "0"
    );
    assert_eq!(
        list(format!("?from={second_created}")).await,
        (newest_first[..3].to_vec(), "3".into())
    );
    assert_eq!(
        list(format!("?invoice_id={first_invoice}&from={second_created}")).await,
        (vec![ids[3].clone(), ids[2].clone()], "2".into())
    );
    let (first_page, total) = list("?limit=3".into()).await;
    let (second_page, _) = list("?skip=3&limit=3".into()).await;
    assert_eq!(total, "4");
    assert_eq!([first_page, second_page].concat(), newest_first);

    for query in [
        "?invoice_id=nope",
        "?from=2024-02-30",
        "?to=noon",
        "?skip=-1",
        "?limit=-5",
    ] {
        let response = suite
            .http()
            .get(&format!("/refunds{query}"))
            .bearer(token)
            .send()
            .await;
        assert_eq!(response.status, 422, "{query}: {}", response.text());
    }
}

#[tokio::test]
async fn a_refund_idempotency_key_refunds_once_per_user() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let (_, other_cashier) = suite.session_as("cashier").await;
    let (invoice_id, product_id) = paid_sale(&suite, &admin.access_token, 10, 5).await;
    let body = one_unit(&invoice_id, &product_id);

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let http = suite.http().clone();
        let token = cashier.access_token.clone();
        let body = body.clone();
        tasks.spawn(async move {
            http.post("/refunds")
                .bearer(&token)
                .header("Idempotency-Key", "return-1")
                .json(&body)
                .send()
                .await
        });
    }
    let mut answers = Vec::new();
    while let Some(response) = tasks.join_next().await {
        let response = response.unwrap();
        assert_eq!(response.status, 201, "{}", response.text());
        answers.push(response.json());
    }
    assert!(answers.iter().all(|answer| answer == &answers[0]));
    let retry = refund(&suite, &cashier.access_token, &body, Some("return-1")).await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.json(), answers[0]);
    assert_eq!(
        stock_level(&suite, &admin.access_token, &product_id).await,
        6
    );

    let other_body = refund(
        &suite,
        &cashier.access_token,
        &json!({"invoice_id": invoice_id, "items": [{"product_id": product_id, "quantity": 2}]}),
        Some("return-1"),
    )
    .await;
    assert_eq!(other_body.status, 409, "{}", other_body.text());

    let other_user = refund(&suite, &other_cashier.access_token, &body, Some("return-1")).await;
    assert_eq!(other_user.status, 201, "{}", other_user.text());
    assert_ne!(other_user.json()["id"], answers[0]["id"]);
    assert_eq!(
        stock_level(&suite, &admin.access_token, &product_id).await,
        7
    );
    let listed = suite
        .http()
        .get(&format!("/refunds?invoice_id={invoice_id}"))
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(listed.header("x-total-count"), Some("2"));
    assert!(products_out_of_balance(&suite).await.is_empty());
}

#[tokio::test]
async fn voiding_a_refund_whose_restock_never_happened_leaves_the_stock_alone() {
    // The sweeper waits long enough here not to restock before the void.
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let (invoice_id, product_id) = paid_sale(&suite, token, 10, 3).await;

    let interrupted = refund(
        &suite,
        token,
        &one_unit(&invoice_id, &product_id),
        Some(regal_sales::testing::SKIP_RESTOCK_KEY),
    )
    .await;
    assert_eq!(interrupted.status, 201, "{}", interrupted.text());
    let refund_id = interrupted.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(stock_level(&suite, token, &product_id).await, 7);

    let voided = delete(&suite, token, &format!("/refunds/{refund_id}")).await;
    assert_eq!(voided.status, 200, "{}", voided.text());
    assert_eq!(stock_level(&suite, token, &product_id).await, 7);
    let invoice = get_json(&suite, token, &format!("/invoices/{invoice_id}")).await;
    assert_eq!(invoice["status"], "paid");
    assert!(products_out_of_balance(&suite).await.is_empty());
}

#[tokio::test]
async fn a_refund_catalog_refuses_to_restock_does_not_hold_up_the_sweepers_other_restocks() {
    let suite = TestSuite::start_with(quick_sweeper(), WaitFor::Ready).await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let (first_invoice, first_product) = paid_sale(&suite, token, 10, 3).await;
    let (second_invoice, second_product) = paid_sale(&suite, token, 10, 3).await;

    // A void died between catalog's reversal (which leaves a tombstone) and its commit:
    // the refund is neither restocked nor voided, and catalog refuses its restock.
    let stuck = refund(
        &suite,
        token,
        &one_unit(&first_invoice, &first_product),
        Some(regal_sales::testing::SKIP_RESTOCK_KEY),
    )
    .await;
    assert_eq!(stuck.status, 201, "{}", stuck.text());
    let stuck_id = stuck.json()["id"].as_str().unwrap().to_owned();
    let mut connection = suite.database().connect().await;
    sqlx::query(
        "insert into catalog.reservations (kind, id, undone_at) values ('refund', $1::uuid, now())",
    )
    .bind(&stuck_id)
    .execute(&mut connection)
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;

    // (The fault's key is an Idempotency-Key too: another user sends the second one.)
    let (_, cashier) = suite.session_as("cashier").await;
    let waiting = refund(
        &suite,
        &cashier.access_token,
        &one_unit(&second_invoice, &second_product),
        Some(regal_sales::testing::SKIP_RESTOCK_KEY),
    )
    .await;
    assert_eq!(waiting.status, 201, "{}", waiting.text());
    let waiting_id = waiting.json()["id"].as_str().unwrap().to_owned();

    let mut restocked = false;
    for _ in 0..50 {
        if restocked_at(&suite, &waiting_id).await.is_some() {
            restocked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(restocked, "the second refund was restocked");
    assert_eq!(stock_level(&suite, token, &second_product).await, 8);
    assert_eq!(stock_level(&suite, token, &first_product).await, 7);
    assert!(restocked_at(&suite, &stuck_id).await.is_none());

    // Deleting the stuck refund again finishes the void.
    let voided = delete(&suite, token, &format!("/refunds/{stuck_id}")).await;
    assert_eq!(voided.status, 200, "{}", voided.text());
    assert_eq!(stock_level(&suite, token, &first_product).await, 7);
    let invoice = get_json(&suite, token, &format!("/invoices/{first_invoice}")).await;
    assert_eq!(invoice["status"], "paid");
    assert!(products_out_of_balance(&suite).await.is_empty());
}
