//! The sale saga under pressure: concurrent sales never oversell, idempotency keys sell
//! once even when duplicates race, and a sale abandoned by a crash is released by the
//! sweeper.

use std::time::Duration;

use regal_authz::Role;
use regal_proto::sales::v1::{QuickSellRequest, sales_service_client::SalesServiceClient};
use regal_testkit::{Part, TestSuite, WaitFor};
use serde_json::json;
use tonic::{Code, Request};

use crate::{
    catalog_support::{authorized, create_product_with, products_out_of_balance, stock_level},
    sales_support::{invoice_count, pending_count, quick_sell},
};

#[tokio::test]
async fn sixty_concurrent_quick_sells_of_one_unit_against_twenty_in_stock_sell_exactly_twenty() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let product =
        create_product_with(&suite, &admin.access_token, json!({"stock_level": 20})).await;
    let product_id = product["id"].as_str().unwrap().to_owned();

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..60 {
        let http = suite.http().clone();
        let token = cashier.access_token.clone();
        let body = json!({"items": [{"product_id": product_id, "quantity": 1}]});
        tasks.spawn(async move {
            http.post("/pos/quick-sell")
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

    assert_eq!((created, conflicts), (20, 40));
    assert_eq!(invoice_count(&suite).await, 20);
    assert_eq!(
        stock_level(&suite, &admin.access_token, &product_id).await,
        0
    );
    assert!(products_out_of_balance(&suite).await.is_empty());
    assert_eq!(pending_count(&suite).await, 0);
}

#[tokio::test]
async fn concurrent_requests_with_one_idempotency_key_sell_once_and_answer_the_same_invoice() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let product =
        create_product_with(&suite, &admin.access_token, json!({"stock_level": 10})).await;
    let product_id = product["id"].as_str().unwrap().to_owned();
    let body = json!({"items": [{"product_id": product_id, "quantity": 2}]});

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let http = suite.http().clone();
        let token = cashier.access_token.clone();
        let body = body.clone();
        tasks.spawn(async move {
            http.post("/pos/quick-sell")
                .bearer(&token)
                .header("Idempotency-Key", "till-1-sale-42")
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
    let retry = quick_sell(&suite, &cashier.access_token, &body, Some("till-1-sale-42")).await;
    let other_body = quick_sell(
        &suite,
        &cashier.access_token,
        &json!({"items": [{"product_id": product_id, "quantity": 3}]}),
        Some("till-1-sale-42"),
    )
    .await;

    assert!(answers.iter().all(|answer| answer == &answers[0]));
    assert_eq!(retry.status, 201);
    assert_eq!(retry.json(), answers[0]);
    assert_eq!(other_body.status, 409, "{}", other_body.text());
    assert_eq!(invoice_count(&suite).await, 1);
    assert_eq!(
        stock_level(&suite, &admin.access_token, &product_id).await,
        8
    );
}

#[tokio::test]
async fn a_failed_attempt_frees_its_idempotency_key_for_a_retry() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let product = create_product_with(&suite, &admin.access_token, json!({"stock_level": 1})).await;
    let product_id = product["id"].as_str().unwrap();
    let body = json!({"items": [{"product_id": product_id, "quantity": 2}]});

    let short = quick_sell(&suite, &admin.access_token, &body, Some("key-1")).await;
    crate::catalog_support::post_entry(&suite, &admin.access_token, product_id, "IN", 1).await;
    let retried = quick_sell(&suite, &admin.access_token, &body, Some("key-1")).await;

    assert_eq!(short.status, 409);
    assert_eq!(retried.status, 201, "{}", retried.text());
    assert_eq!(
        stock_level(&suite, &admin.access_token, product_id).await,
        0
    );
}

#[tokio::test]
async fn a_sale_that_dies_after_its_reservation_is_released_by_the_sweeper() {
    let suite = TestSuite::start_with(
        |part, settings| {
            if part == Part::Sales {
                settings.sales.pending_sale_timeout = Duration::from_millis(500);
                settings.sales.sweep_interval = Duration::from_millis(100);
            }
        },
        WaitFor::Ready,
    )
    .await;
    let admin = suite.login_admin().await;
    let product = create_product_with(&suite, &admin.access_token, json!({"stock_level": 5})).await;
    let product_id = product["id"].as_str().unwrap();

    let crashed = quick_sell(
        &suite,
        &admin.access_token,
        &json!({"items": [{"product_id": product_id, "quantity": 2}]}),
        Some(regal_sales::testing::CRASH_AFTER_RESERVE_KEY),
    )
    .await;
    assert_eq!(crashed.status, 503, "{}", crashed.text());

    let mut released = false;
    for _ in 0..100 {
        if stock_level(&suite, &admin.access_token, product_id).await == 5
            && pending_count(&suite).await == 0
        {
            released = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(released, "the sweeper gave the stock back");
    assert_eq!(invoice_count(&suite).await, 0);
    assert!(products_out_of_balance(&suite).await.is_empty());
    // The key was freed with the sale: the same request can be sent again.
    let again = quick_sell(
        &suite,
        &admin.access_token,
        &json!({"items": [{"product_id": product_id, "quantity": 2}]}),
        Some("after-the-crash"),
    )
    .await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(
        stock_level(&suite, &admin.access_token, product_id).await,
        3
    );
}

#[tokio::test]
async fn quick_sell_over_grpc_needs_a_token_and_the_point_of_sale_permission() {
    let suite = TestSuite::start().await;
    let mut sales = SalesServiceClient::new(suite.channel(Part::Sales));
    let request = || QuickSellRequest {
        product_ids: vec![uuid::Uuid::now_v7().to_string()],
        ..Default::default()
    };

    let anonymous = sales.quick_sell(Request::new(request())).await.unwrap_err();
    let employee = sales
        .quick_sell(authorized(&suite, Role::Employee, request()))
        .await
        .unwrap_err();
    let bad_input = sales
        .quick_sell(authorized(
            &suite,
            Role::Cashier,
            QuickSellRequest::default(),
        ))
        .await
        .unwrap_err();

    assert_eq!(anonymous.code(), Code::Unauthenticated);
    assert_eq!(employee.code(), Code::PermissionDenied);
    assert_eq!(bad_input.code(), Code::InvalidArgument);
}
