//! Helpers shared by the selling tests: quick-sells, invoices and refunds through REST.

use regal_testkit::{TestResponse, TestSuite};
use serde_json::Value;

/// `POST /pos/quick-sell` with `body`, and an `Idempotency-Key` when given.
pub async fn quick_sell(
    suite: &TestSuite,
    token: &str,
    body: &Value,
    key: Option<&str>,
) -> TestResponse {
    let mut request = suite
        .http()
        .post("/pos/quick-sell")
        .bearer(token)
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await
}

/// `POST /refunds`.
pub async fn refund(
    suite: &TestSuite,
    token: &str,
    body: &Value,
    key: Option<&str>,
) -> TestResponse {
    let mut request = suite.http().post("/refunds").bearer(token).json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await
}

pub async fn get_json(suite: &TestSuite, token: &str, path: &str) -> Value {
    let response = suite.http().get(path).bearer(token).send().await;
    assert_eq!(response.status, 200, "GET {path}: {}", response.text());
    response.json()
}

/// How many invoices the sales schema holds.
pub async fn invoice_count(suite: &TestSuite) -> i64 {
    let mut connection = suite.database().connect().await;
    sqlx::query_scalar("select count(*) from sales.invoices")
        .fetch_one(&mut connection)
        .await
        .expect("invoices are readable")
}

/// How many sales are still pending.
pub async fn pending_count(suite: &TestSuite) -> i64 {
    let mut connection = suite.database().connect().await;
    sqlx::query_scalar("select count(*) from sales.pending_sales")
        .fetch_one(&mut connection)
        .await
        .expect("pending sales are readable")
}

/// Opens a shift for user `user_id` straight in the database; returns its id.
pub async fn open_shift_for(suite: &TestSuite, user_id: &str) -> uuid::Uuid {
    let shift_id = uuid::Uuid::now_v7();
    let mut connection = suite.database().connect().await;
    sqlx::query("insert into sales.shifts (id, cashier_id, cashier) values ($1, $2, 'c')")
        .bind(shift_id)
        .bind(uuid::Uuid::parse_str(user_id).unwrap())
        .execute(&mut connection)
        .await
        .unwrap();
    shift_id
}
