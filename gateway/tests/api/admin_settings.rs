//! The admin dashboard, the store settings and the role matrix of the reports.

use regal_testkit::TestSuite;
use serde_json::{Value, json};

use crate::{
    cash_support::get,
    catalog_support::{create_product, create_product_with},
};

async fn put_settings(suite: &TestSuite, token: &str, body: Value) -> regal_testkit::TestResponse {
    suite
        .http()
        .put("/admin/settings")
        .bearer(token)
        .json(&body)
        .send()
        .await
}

#[tokio::test]
async fn an_admin_changes_the_settings_partially_with_clean_text_and_an_audit_event() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;

    let defaults = get(&suite, token, "/admin/settings").await;
    assert_eq!(defaults.status, 200);
    assert_eq!(
        defaults.json(),
        json!({"store_name": "Regal POS", "address": "", "currency": "USD",
               "receipt_footer": "Thank you for shopping with us!", "low_stock_threshold": 10})
    );

    let updated = put_settings(
        &suite,
        token,
        json!({"store_name": " <b>Corner</b> Shop ", "currency": "kes", "low_stock_threshold": 3}),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    let updated = updated.json();
    assert_eq!(updated["store_name"], "Corner Shop");
    assert_eq!(updated["currency"], "KES");
    assert_eq!(updated["low_stock_threshold"], 3);
    assert_eq!(updated["receipt_footer"], "Thank you for shopping with us!");
    assert_eq!(get(&suite, token, "/admin/settings").await.json(), updated);

    let events = suite.outbox_events("sales", "update").await;
    let event = events
        .iter()
        .find(|event| event["entity"] == "settings")
        .expect("settings change audited");
    assert_eq!(event["changes"]["before"]["currency"], "USD");
    assert_eq!(event["changes"]["after"]["currency"], "KES");

    // Nothing changes, nothing is audited; bad values are all reported and change nothing.
    let same = put_settings(&suite, token, json!({"currency": "KES"})).await;
    assert_eq!(same.status, 200);
    let bad = put_settings(
        &suite,
        token,
        json!({"store_name": "  ", "currency": "K$S", "low_stock_threshold": -1}),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.text());
    let locations: Vec<Value> = bad.json()["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|detail| detail["loc"].clone())
        .collect();
    assert_eq!(
        locations,
        [
            json!(["body", "store_name"]),
            json!(["body", "currency"]),
            json!(["body", "low_stock_threshold"])
        ]
    );
    let wrong_type = put_settings(&suite, token, json!({"low_stock_threshold": "many"})).await;
    assert_eq!(wrong_type.status, 422);
    assert_eq!(get(&suite, token, "/admin/settings").await.json(), updated);
    let settings_events = suite
        .outbox_events("sales", "update")
        .await
        .into_iter()
        .filter(|event| event["entity"] == "settings")
        .count();
    assert_eq!(settings_events, 1);
}

#[tokio::test]
async fn the_dashboard_counts_users_products_and_low_stock_from_their_own_services() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    suite.create_user(&admin, "cashier").await;
    suite.create_user(&admin, "employee").await;
    create_product(&suite, token, 0).await;
    create_product(&suite, token, 5).await;
    create_product(&suite, token, 20).await;
    let archived = create_product_with(&suite, token, json!({"stock_level": 1})).await;
    let deleted = suite
        .http()
        .delete(&format!("/products/{}", archived["id"].as_str().unwrap()))
        .bearer(token)
        .send()
        .await;
    assert_eq!(deleted.status, 200);
    let mut connection = suite.database().connect().await;
    for name in ["Old Customer", "New Customer"] {
        sqlx::query("insert into sales.customers (id, name) values ($1, $2)")
            .bind(uuid::Uuid::now_v7())
            .bind(name)
            .execute(&mut connection)
            .await
            .unwrap();
    }

    let dashboard = get(&suite, token, "/admin").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.text());
    let dashboard = dashboard.json();
    let summary = &dashboard["summary"];
    assert_eq!(summary["total_users"], 3);
    assert_eq!(summary["total_products"], 3);
    assert_eq!(summary["low_stock_products"], 2);
    assert_eq!(summary["total_customers"], 2);
    assert_eq!(summary["total_invoices"], 0);
    assert_eq!(summary["total_expenses"], 0);
    assert_eq!(summary["sales_today"], "0.00");
    let customers = dashboard["recent_activity"]["recent_customers"]
        .as_array()
        .unwrap();
    assert_eq!(customers[0]["name"], "New Customer");
    assert_eq!(customers[0]["credit_limit"], "0.00");
    assert_eq!(dashboard["recent_activity"]["recent_invoices"], json!([]));
    assert!(dashboard["last_updated"].as_str().is_some());

    // The low-stock count follows the setting.
    let changed = put_settings(&suite, token, json!({"low_stock_threshold": 0})).await;
    assert_eq!(changed.status, 200);
    let summary = get(&suite, token, "/admin").await.json()["summary"].clone();
    assert_eq!(summary["low_stock_products"], 1);
}

#[tokio::test]
async fn reports_and_admin_pages_follow_the_role_table() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let (_, employee) = suite.session_as("employee").await;

    // (path, admin, cashier, employee)
    let table = [
        ("/pos/daily-report", 200, 200, 403),
        ("/pos/sales-report", 200, 403, 403),
        ("/pos/sales-report?group_by=salesman", 200, 403, 403),
        ("/admin", 200, 403, 403),
        ("/admin/settings", 200, 403, 403),
    ];
    for (path, for_admin, for_cashier, for_employee) in table {
        for (who, token, expected) in [
            ("admin", &admin.access_token, for_admin),
            ("cashier", &cashier.access_token, for_cashier),
            ("employee", &employee.access_token, for_employee),
        ] {
            let response = get(&suite, token, path).await;
            assert_eq!(
                response.status,
                expected,
                "{who} {path}: {}",
                response.text()
            );
        }
    }
    for token in [&cashier.access_token, &employee.access_token] {
        let response = put_settings(&suite, token, json!({"store_name": "Mine"})).await;
        assert_eq!(response.status, 403);
    }
    assert_eq!(suite.http().get("/admin").send().await.status, 401);
}

#[tokio::test]
async fn reports_refuse_bad_dates_backward_ranges_and_unknown_groupings() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    for (path, field) in [
        ("/pos/sales-report?group_by=week", "group_by"),
        ("/pos/sales-report?from=2026-13-01", "from"),
        ("/pos/sales-report?from=2026-03-02&to=2026-03-01", "to"),
        ("/pos/daily-report?date=yesterday", "date"),
    ] {
        let response = get(&suite, token, path).await;
        assert_eq!(response.status, 422, "{path}: {}", response.text());
        assert_eq!(
            response.json()["detail"][0]["loc"],
            json!(["query", field]),
            "{path}"
        );
    }

    let empty = get(
        &suite,
        token,
        "/pos/sales-report?from=2026-03-01&to=2026-03-31&group_by=product",
    )
    .await;
    assert_eq!(empty.status, 200);
    let empty = empty.json();
    assert_eq!(empty["from"], "2026-03-01");
    assert_eq!(empty["to"], "2026-03-31");
    assert_eq!(empty["group_by"], "product");
    assert_eq!(empty["rows"], json!([]));
    assert_eq!(empty["totals"]["net_sales"], "0.00");
    assert_eq!(empty["totals"]["invoices_count"], 0);

    let daily = get(&suite, token, "/pos/daily-report?date=2026-03-01")
        .await
        .json();
    assert_eq!(daily["date"], "2026-03-01");
    assert_eq!(
        daily["payments_by_method"],
        json!({"cash": "0.00", "card": "0.00", "other": "0.00"})
    );
    assert_eq!(daily["expenses"], "0.00");
    assert_eq!(daily["by_cashier"], json!([]));
}
