//! Drives every audited action of the sales service once, through the gateway, for
//! `every_audited_action_reaches_the_audit_log_and_the_readme_lists_them_all`.

use regal_testkit::TestSuite;
use serde_json::{Value, json};

use crate::catalog_support::create_product_with;

/// The sales service's audited actions as (service, entity, action).
pub const SALES_AUDITED_ACTIONS: &[(&str, &str, &str)] = &[
    ("sales", "customer", "create"),
    ("sales", "customer", "update"),
    ("sales", "customer", "delete"),
    ("sales", "salesman", "create"),
    ("sales", "salesman", "update"),
    ("sales", "salesman", "delete"),
    ("sales", "expense", "create"),
    ("sales", "expense", "update"),
    ("sales", "expense", "delete"),
    ("sales", "custom_order", "create"),
    ("sales", "custom_order", "update"),
    ("sales", "custom_order", "delete"),
    ("sales", "invoice", "create"),
    ("sales", "invoice", "sell"),
    ("sales", "invoice", "update"),
    ("sales", "invoice", "cancel"),
    ("sales", "invoice", "delete"),
    ("sales", "invoice", "reprint"),
    ("sales", "payment", "record"),
    ("sales", "refund", "create"),
    ("sales", "refund", "update"),
    ("sales", "refund", "void"),
    ("sales", "cash_drawer", "open"),
    ("sales", "cash_drawer", "pay_in"),
    ("sales", "cash_drawer", "pay_out"),
    ("sales", "cash_drawer", "close"),
    ("sales", "shift", "close"),
    ("sales", "settings", "update"),
];

async fn call(suite: &TestSuite, token: &str, method: &str, path: &str, body: Value) -> Value {
    let http = suite.http();
    let mut request = match method {
        "POST" => http.post(path),
        "PUT" => http.put(path),
        "DELETE" => http.delete(path),
        _ => http.get(path),
    }
    .bearer(token);
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request.send().await;
    assert!(
        response.status < 300,
        "{method} {path}: {} {}",
        response.status,
        response.text()
    );
    response.json()
}

fn id(record: &Value) -> String {
    record["id"]
        .as_str()
        .expect("the record has an id")
        .to_owned()
}

/// Creates, changes and removes one of each back-office record at `path`.
async fn create_update_delete(
    suite: &TestSuite,
    token: &str,
    path: &str,
    create: Value,
    update: Value,
) {
    let record = call(suite, token, "POST", path, create).await;
    let record_path = format!("{path}/{}", id(&record));
    call(suite, token, "PUT", &record_path, update).await;
    call(suite, token, "DELETE", &record_path, Value::Null).await;
}

/// Performs each action of [`SALES_AUDITED_ACTIONS`] once as `token` (an admin).
pub async fn drive_every_sales_action(suite: &TestSuite, token: &str) {
    create_update_delete(
        suite,
        token,
        "/customers",
        json!({"name": "Audited Customer"}),
        json!({"name": "Audited Customer 2"}),
    )
    .await;
    create_update_delete(
        suite,
        token,
        "/salesman",
        json!({"name": "Audited Salesman", "code": "AUD-1"}),
        json!({"commission_rate": "2.50"}),
    )
    .await;
    create_update_delete(
        suite,
        token,
        "/expenses",
        json!({"type": "rent", "amount": "120.00"}),
        json!({"note": "March"}),
    )
    .await;
    create_update_delete(
        suite,
        token,
        "/custom-orders",
        json!({"fields": {"size": "XL"}}),
        json!({"status": "in_progress"}),
    )
    .await;

    let product = create_product_with(suite, token, json!({"stock_level": 10})).await;
    let items = json!([{"product_id": id(&product), "quantity": 1}]);
    call(
        suite,
        token,
        "POST",
        "/pos/cash-drawer/open",
        json!({"amount": "100.00"}),
    )
    .await;
    call(
        suite,
        token,
        "POST",
        "/pos/cash-drawer/pay-in",
        json!({"amount": "5.00", "reason": "change float"}),
    )
    .await;
    call(
        suite,
        token,
        "POST",
        "/pos/cash-drawer/pay-out",
        json!({"amount": "2.00", "reason": "milk"}),
    )
    .await;

    // Sold and paid (invoice sell, payment record), reprinted, refunded, the refund voided.
    let sold = call(
        suite,
        token,
        "POST",
        "/pos/quick-sell",
        json!({"items": items}),
    )
    .await;
    call(
        suite,
        token,
        "GET",
        &format!("/pos/duplicate-bill/{}", id(&sold)),
        Value::Null,
    )
    .await;
    let refund = call(
        suite,
        token,
        "POST",
        "/refunds",
        json!({"invoice_id": id(&sold), "items": items, "reason": "faulty"}),
    )
    .await;
    let refund_path = format!("/refunds/{}", id(&refund));
    call(
        suite,
        token,
        "PUT",
        &refund_path,
        json!({"reason": "faulty seal"}),
    )
    .await;
    call(suite, token, "DELETE", &refund_path, Value::Null).await;

    // A draft created, edited and erased; another sale cancelled.
    let draft = call(
        suite,
        token,
        "POST",
        "/invoices",
        json!({"items": items, "status": "draft"}),
    )
    .await;
    let draft_path = format!("/invoices/{}", id(&draft));
    call(
        suite,
        token,
        "PUT",
        &draft_path,
        json!({"items": [{"product_id": id(&product), "quantity": 2}]}),
    )
    .await;
    call(suite, token, "DELETE", &draft_path, Value::Null).await;
    let cancelled = call(
        suite,
        token,
        "POST",
        "/pos/quick-sell",
        json!({"items": items}),
    )
    .await;
    call(
        suite,
        token,
        "PUT",
        &format!("/invoices/{}", id(&cancelled)),
        json!({"status": "cancelled"}),
    )
    .await;

    call(
        suite,
        token,
        "POST",
        "/pos/cash-drawer/close",
        json!({"actual_amount": "110.00"}),
    )
    .await;
    call(suite, token, "POST", "/pos/shift-close", json!({})).await;
    call(
        suite,
        token,
        "PUT",
        "/admin/settings",
        json!({"store_name": "Audited Shop"}),
    )
    .await;
}
