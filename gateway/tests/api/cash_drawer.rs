//! The cash drawer and shifts through the gateway (no sales: see `sales_reports.rs`).

use regal_authz::Role;
use regal_proto::sales::v1::{
    GetSalesReportRequest, OpenCashDrawerRequest, sales_service_client::SalesServiceClient,
};
use regal_testkit::{Part, TestSuite};
use serde_json::{Value, json};
use tonic::Code;

use crate::{
    cash_support::{close_drawer, count_rows, get, my_shift_report, open_drawer, post},
    catalog_support::authorized,
};

#[tokio::test]
async fn a_cashier_opens_moves_petty_cash_and_closes_the_drawer_with_the_server_s_expected_cash() {
    let suite = TestSuite::start().await;
    let (cashier, session) = suite.session_as("cashier").await;
    let token = &session.access_token;

    let opened = open_drawer(&suite, token, "100").await;
    assert_eq!(opened["message"], "Cash drawer opened");
    assert_eq!(opened["amount"], "100.00");
    assert_eq!(opened["cashier"], cashier.username.as_str());
    assert!(opened["timestamp"].as_str().is_some());
    let shift_id = opened["shift_id"].as_str().unwrap().to_owned();
    let drawer_id = opened["id"].as_str().unwrap().to_owned();

    let pay_in = post(
        &suite,
        token,
        "/pos/cash-drawer/pay-in",
        json!({"amount": 20, "reason": "change from the bank"}),
    )
    .await;
    assert_eq!(pay_in.status, 201, "{}", pay_in.text());
    let pay_in = pay_in.json();
    assert_eq!(pay_in["message"], "Pay-in recorded");
    assert_eq!(pay_in["amount"], "20.00");
    assert_eq!(pay_in["shift_id"], shift_id.as_str());
    let pay_out = post(
        &suite,
        token,
        "/pos/cash-drawer/pay-out",
        json!({"amount": "5.50", "reason": " <b>milk</b> for the staff "}),
    )
    .await;
    assert_eq!(pay_out.status, 201, "{}", pay_out.text());
    assert_eq!(pay_out.json()["reason"], "milk for the staff");
    assert_eq!(pay_out.json()["message"], "Pay-out recorded");

    let x_report = my_shift_report(&suite, token).await;
    assert_eq!(x_report["shift_id"], shift_id.as_str());
    assert_eq!(x_report["closed_at"], Value::Null);
    assert_eq!(x_report["expected_cash"], "114.50");
    assert_eq!(x_report["counted_cash"], Value::Null);
    assert_eq!(x_report["pay_ins"], "20.00");
    assert_eq!(x_report["pay_outs"], "5.50");
    assert_eq!(x_report["invoices_count"], 0);
    assert_eq!(x_report["payments_by_method"]["cash"], "0.00");

    // The terminal's own figure is kept for the record only.
    let closed = post(
        &suite,
        token,
        "/pos/cash-drawer/close",
        json!({"actual_amount": "110", "expected_amount": "999", "note": "short?"}),
    )
    .await;
    assert_eq!(closed.status, 200, "{}", closed.text());
    let closed = closed.json();
    assert_eq!(closed["message"], "Cash drawer closed");
    assert_eq!(closed["expected_amount"], "114.50");
    assert_eq!(closed["actual_amount"], "110.00");
    assert_eq!(closed["variance"], "-4.50");
    assert_eq!(closed["note"], "short?");
    assert_eq!(closed["id"], drawer_id.as_str());
    assert_eq!(closed["shift_id"], shift_id.as_str());
    assert_eq!(closed["cashier"], cashier.username.as_str());

    // The shift is still open: the X-report shows the count.
    let x_report = my_shift_report(&suite, token).await;
    assert_eq!(x_report["counted_cash"], "110.00");
    assert_eq!(x_report["variance"], "-4.50");

    for action in ["open", "pay_in", "pay_out", "close"] {
        let events = suite.outbox_events("sales", action).await;
        let event = events
            .iter()
            .find(|event| event["entity"] == "cash_drawer" && event["entity_id"] == drawer_id)
            .unwrap_or_else(|| panic!("{action} audited"));
        assert_eq!(event["actor_id"], cashier.id.as_str());
    }
    let close_event = &suite.outbox_events("sales", "close").await[0];
    assert_eq!(close_event["changes"]["after"]["expected_amount"], "114.50");
    assert_eq!(close_event["changes"]["after"]["actual_amount"], "110.00");
    assert_eq!(close_event["changes"]["after"]["variance"], "-4.50");
}

#[tokio::test]
async fn a_cashier_has_one_open_drawer_even_when_opening_it_many_times_at_once() {
    let suite = TestSuite::start().await;
    let (_, session) = suite.session_as("cashier").await;
    let token = session.access_token.clone();

    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let http = suite.http().clone();
        let token = token.clone();
        attempts.spawn(async move {
            http.post("/pos/cash-drawer/open")
                .bearer(&token)
                .json(&json!({"amount": 10}))
                .send()
                .await
        });
    }
    let responses = attempts.join_all().await;
    let statuses: Vec<u16> = responses.iter().map(|response| response.status).collect();
    assert_eq!(
        statuses.iter().filter(|status| **status == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|status| **status == 409).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(count_rows(&suite, "shifts").await, 1);
    assert_eq!(count_rows(&suite, "cash_drawers").await, 1);

    let again = post(
        &suite,
        &token,
        "/pos/cash-drawer/open",
        json!({"amount": 10}),
    )
    .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["detail"], "Cash drawer is already open");
}

#[tokio::test]
async fn a_closed_drawer_needs_its_shift_closed_before_a_new_drawer_opens() {
    let suite = TestSuite::start().await;
    let (_, session) = suite.session_as("cashier").await;
    let token = &session.access_token;
    let first = open_drawer(&suite, token, "50").await;
    close_drawer(&suite, token, "50").await;

    let reopened = post(
        &suite,
        token,
        "/pos/cash-drawer/open",
        json!({"amount": 50}),
    )
    .await;
    assert_eq!(reopened.status, 409);
    assert!(
        reopened.json()["detail"]
            .as_str()
            .unwrap()
            .contains("shift is still open"),
        "{}",
        reopened.text()
    );

    let z_report = post(&suite, token, "/pos/shift-close", json!({})).await;
    assert_eq!(z_report.status, 200, "{}", z_report.text());
    let z_report = z_report.json();
    assert_eq!(z_report["shift_id"], first["shift_id"]);
    assert!(z_report["closed_at"].as_str().is_some());
    assert_eq!(z_report["expected_cash"], "50.00");
    assert_eq!(z_report["counted_cash"], "50.00");
    assert_eq!(z_report["variance"], "0.00");

    let second = open_drawer(&suite, token, "75").await;
    assert_ne!(second["shift_id"], first["shift_id"]);
    assert_eq!(
        my_shift_report(&suite, token).await["shift_id"],
        second["shift_id"]
    );
}

#[tokio::test]
async fn shift_close_closes_an_open_drawer_and_reports_no_variance_without_a_count() {
    let suite = TestSuite::start().await;
    let (cashier, session) = suite.session_as("cashier").await;
    let token = &session.access_token;
    let opened = open_drawer(&suite, token, "80").await;

    let z_report = suite
        .http()
        .post("/pos/shift-close")
        .bearer(token)
        .send()
        .await;
    assert_eq!(z_report.status, 200, "{}", z_report.text());
    let z_report = z_report.json();
    assert_eq!(z_report["shift_id"], opened["shift_id"]);
    assert_eq!(z_report["cashier"], cashier.username.as_str());
    assert_eq!(z_report["opening_float"], "80.00");
    assert_eq!(z_report["expected_cash"], "80.00");
    assert_eq!(z_report["counted_cash"], Value::Null);
    assert_eq!(z_report["variance"], Value::Null);
    assert!(z_report["closed_at"].as_str().is_some());

    // Closed means closed: no drawer, no shift to close.
    let closing_again = post(&suite, token, "/pos/shift-close", json!({})).await;
    assert_eq!(closing_again.status, 409);
    assert_eq!(closing_again.json()["detail"], "No open shift");
    let pay_in = post(
        &suite,
        token,
        "/pos/cash-drawer/pay-in",
        json!({"amount": 1, "reason": "x"}),
    )
    .await;
    assert_eq!(pay_in.status, 409);

    // With a count, the drawer closed by the shift close shows its variance.
    open_drawer(&suite, token, "80").await;
    let counted = post(
        &suite,
        token,
        "/pos/shift-close",
        json!({"actual_amount": 79.5}),
    )
    .await;
    assert_eq!(counted.status, 200, "{}", counted.text());
    assert_eq!(counted.json()["counted_cash"], "79.50");
    assert_eq!(counted.json()["variance"], "-0.50");

    let shift_events = suite.outbox_events("sales", "close").await;
    assert_eq!(
        shift_events
            .iter()
            .filter(|event| event["entity"] == "shift")
            .count(),
        2
    );
    assert_eq!(
        shift_events
            .iter()
            .filter(|event| event["entity"] == "cash_drawer")
            .count(),
        2
    );
}

#[tokio::test]
async fn drawer_calls_without_a_drawer_are_conflicts_and_bad_amounts_change_nothing() {
    let suite = TestSuite::start().await;
    let (_, session) = suite.session_as("cashier").await;
    let token = &session.access_token;

    for (path, body) in [
        (
            "/pos/cash-drawer/pay-in",
            json!({"amount": 5, "reason": "float"}),
        ),
        (
            "/pos/cash-drawer/pay-out",
            json!({"amount": 5, "reason": "float"}),
        ),
        ("/pos/cash-drawer/close", json!({"actual_amount": 5})),
        ("/pos/shift-close", json!({})),
    ] {
        let response = post(&suite, token, path, body).await;
        assert_eq!(response.status, 409, "{path}: {}", response.text());
    }
    assert_eq!(get(&suite, token, "/pos/shift-report").await.status, 404);

    for body in [
        json!({"amount": -1}),
        json!({"amount": "1.005"}),
        json!({"amount": "lots"}),
        json!({}),
        json!({"amount": 1, "note": "x".repeat(501)}),
    ] {
        let response = post(&suite, token, "/pos/cash-drawer/open", body.clone()).await;
        assert_eq!(response.status, 422, "{body}: {}", response.text());
    }
    assert_eq!(count_rows(&suite, "shifts").await, 0);

    open_drawer(&suite, token, "10").await;
    let response = post(
        &suite,
        token,
        "/pos/cash-drawer/pay-in",
        json!({"amount": 0, "reason": "  "}),
    )
    .await;
    assert_eq!(response.status, 422);
    let fields: Vec<Value> = response.json()["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|detail| detail["loc"][1].clone())
        .collect();
    assert_eq!(fields, [json!("amount"), json!("reason")]);
    let response = post(
        &suite,
        token,
        "/pos/cash-drawer/close",
        json!({"actual_amount": -3}),
    )
    .await;
    assert_eq!(response.status, 422);
    let response = post(
        &suite,
        token,
        "/pos/shift-close",
        json!({"actual_amount": "x"}),
    )
    .await;
    assert_eq!(response.status, 422);
    assert_eq!(count_rows(&suite, "cash_movements").await, 0);
    assert_eq!(
        my_shift_report(&suite, token).await["closed_at"],
        Value::Null
    );
}

/// A pay-in or pay-out sent with `Idempotency-Key`.
async fn move_cash(
    suite: &TestSuite,
    token: &str,
    kind: &str,
    key: &str,
    body: Value,
) -> regal_testkit::TestResponse {
    suite
        .http()
        .post(&format!("/pos/cash-drawer/{kind}"))
        .bearer(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
}

#[tokio::test]
async fn a_retried_pay_in_or_pay_out_with_its_idempotency_key_moves_the_cash_once() {
    let suite = TestSuite::start().await;
    let (_, session) = suite.session_as("cashier").await;
    let token = &session.access_token;
    open_drawer(&suite, token, "100").await;

    // The counter's answer was lost and it sends the pay-out again: one movement.
    let milk = json!({"amount": "12.34", "reason": "milk"});
    let first = move_cash(&suite, token, "pay-out", "petty-1", milk.clone()).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let again = move_cash(&suite, token, "pay-out", "petty-1", milk.clone()).await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.json(), first.json());

    // Retries racing each other still record one pay-in.
    let float = json!({"amount": 7, "reason": "coins from the bank"});
    let mut retries = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (http, token, float) = (suite.http().clone(), token.clone(), float.clone());
        retries.spawn(async move {
            http.post("/pos/cash-drawer/pay-in")
                .bearer(&token)
                .header("Idempotency-Key", "petty-2")
                .json(&float)
                .send()
                .await
        });
    }
    let mut ids = std::collections::BTreeSet::new();
    while let Some(answer) = retries.join_next().await {
        let answer = answer.expect("a pay-in task");
        assert_eq!(answer.status, 201, "{}", answer.text());
        ids.insert(answer.json()["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");

    // The key with another amount, or for the other direction, is a different request.
    for (kind, body) in [
        ("pay-out", json!({"amount": "12.35", "reason": "milk"})),
        ("pay-in", milk.clone()),
    ] {
        let response = move_cash(&suite, token, kind, "petty-1", body).await;
        assert_eq!(response.status, 409, "{kind}: {}", response.text());
        assert!(
            response.json()["detail"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{}",
            response.text()
        );
    }

    // Keys belong to their user: another cashier's "petty-1" is their own. Their first
    // attempt, with no drawer open, changes nothing and leaves the key free for the retry.
    let (_, other) = suite.session_as("cashier").await;
    let refused = move_cash(
        &suite,
        &other.access_token,
        "pay-out",
        "petty-1",
        milk.clone(),
    )
    .await;
    assert_eq!(refused.status, 409, "{}", refused.text());
    open_drawer(&suite, &other.access_token, "50").await;
    let theirs = move_cash(
        &suite,
        &other.access_token,
        "pay-out",
        "petty-1",
        milk.clone(),
    )
    .await;
    assert_eq!(theirs.status, 201, "{}", theirs.text());
    assert_ne!(theirs.json()["id"], first.json()["id"]);

    let x_report = my_shift_report(&suite, token).await;
    assert_eq!(x_report["pay_outs"], "12.34");
    assert_eq!(x_report["pay_ins"], "7.00");
    assert_eq!(x_report["expected_cash"], "94.66");
    assert_eq!(
        my_shift_report(&suite, &other.access_token).await["expected_cash"],
        "37.66"
    );
    assert_eq!(count_rows(&suite, "cash_movements").await, 3);

    let too_long = move_cash(&suite, token, "pay-in", &"k".repeat(201), float).await;
    assert_eq!(too_long.status, 422, "{}", too_long.text());
    assert_eq!(count_rows(&suite, "cash_movements").await, 3);
}

#[tokio::test]
async fn employees_have_no_drawer_and_cashiers_see_only_their_own_shifts() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, first) = suite.session_as("cashier").await;
    let (_, second) = suite.session_as("cashier").await;
    let (_, employee) = suite.session_as("employee").await;

    let open = post(
        &suite,
        &employee.access_token,
        "/pos/cash-drawer/open",
        json!({"amount": 1}),
    )
    .await;
    assert_eq!(open.status, 403);
    assert_eq!(
        get(&suite, &employee.access_token, "/pos/shift-report")
            .await
            .status,
        403
    );

    let shift_id = open_drawer(&suite, &first.access_token, "10").await["shift_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/pos/shift-report?shift_id={shift_id}");
    assert_eq!(get(&suite, &first.access_token, &path).await.status, 200);
    let other = get(&suite, &second.access_token, &path).await;
    assert_eq!(other.status, 403, "{}", other.text());
    let by_admin = get(&suite, &admin.access_token, &path).await;
    assert_eq!(by_admin.status, 200);
    assert_eq!(by_admin.json()["expected_cash"], "10.00");

    let unknown = "/pos/shift-report?shift_id=0193a0b4-0000-7000-8000-000000000001";
    assert_eq!(get(&suite, &admin.access_token, unknown).await.status, 404);
    let malformed = get(
        &suite,
        &admin.access_token,
        "/pos/shift-report?shift_id=nope",
    )
    .await;
    assert_eq!(malformed.status, 422);
    assert_eq!(
        malformed.json()["detail"][0]["loc"],
        json!(["query", "shift_id"])
    );
}

#[tokio::test]
async fn the_sales_service_checks_permissions_and_input_itself() {
    let suite = TestSuite::start().await;
    let mut sales = SalesServiceClient::new(suite.channel(Part::Sales));

    let denied = sales
        .get_sales_report(authorized(
            &suite,
            Role::Cashier,
            GetSalesReportRequest::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = sales
        .open_cash_drawer(authorized(
            &suite,
            Role::Employee,
            OpenCashDrawerRequest::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let invalid = sales
        .open_cash_drawer(authorized(
            &suite,
            Role::Cashier,
            OpenCashDrawerRequest {
                amount: Some(regal_proto::common::v1::Decimal {
                    value: "-1".to_owned(),
                }),
                note: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    let invalid = sales
        .get_sales_report(authorized(
            &suite,
            Role::Admin,
            GetSalesReportRequest {
                from: "2026-02-02".to_owned(),
                to: "2026-02-01".to_owned(),
                group_by: 0,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
}
