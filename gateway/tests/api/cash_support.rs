//! Helpers of the drawer, report and admin tests: one typed call per route.

use regal_testkit::{TestResponse, TestSuite};
use serde_json::{Value, json};

pub async fn post(suite: &TestSuite, token: &str, path: &str, body: Value) -> TestResponse {
    suite
        .http()
        .post(path)
        .bearer(token)
        .json(&body)
        .send()
        .await
}

pub async fn get(suite: &TestSuite, token: &str, path: &str) -> TestResponse {
    suite.http().get(path).bearer(token).send().await
}

/// Opens the caller's drawer with `float` and returns the answer (201 asserted).
pub async fn open_drawer(suite: &TestSuite, token: &str, float: &str) -> Value {
    let response = post(
        suite,
        token,
        "/pos/cash-drawer/open",
        json!({"amount": float}),
    )
    .await;
    assert_eq!(
        response.status,
        201,
        "opening a drawer: {}",
        response.text()
    );
    response.json()
}

/// Closes the caller's drawer with the counted cash and returns the answer (200 asserted).
pub async fn close_drawer(suite: &TestSuite, token: &str, counted: &str) -> Value {
    let response = post(
        suite,
        token,
        "/pos/cash-drawer/close",
        json!({"actual_amount": counted}),
    )
    .await;
    assert_eq!(
        response.status,
        200,
        "closing a drawer: {}",
        response.text()
    );
    response.json()
}

/// The caller's current (or last) shift report (200 asserted).
pub async fn my_shift_report(suite: &TestSuite, token: &str) -> Value {
    let response = get(suite, token, "/pos/shift-report").await;
    assert_eq!(response.status, 200, "shift report: {}", response.text());
    response.json()
}

/// How many rows a table of the sales schema holds.
pub async fn count_rows(suite: &TestSuite, table: &str) -> i64 {
    let mut connection = suite.database().connect().await;
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from sales.{table}"
    )))
    .fetch_one(&mut connection)
    .await
    .expect("count")
}
