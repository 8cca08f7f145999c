//! The audit log through the gateway: one event for each audited action, listing with
//! filters and keyset pagination, who may read it, the hash chain's verification and
//! append-only storage.

use std::time::Duration;

use regal_testkit::TestSuite;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    audit_sales_actions::{SALES_AUDITED_ACTIONS, drive_every_sales_action},
    audit_support::wait_until_audited,
    catalog_support::create_product_with,
};

pub const AUDIT_TIMEOUT: Duration = Duration::from_secs(20);

/// Every audited action as (service, entity, action). README's "Audited actions" table
/// must list exactly these rows together with [`SALES_AUDITED_ACTIONS`];
/// `every_audited_action_reaches_the_audit_log` drives each once.
const AUDITED_ACTIONS: &[(&str, &str, &str)] = &[
    ("auth", "user", "login"),
    ("auth", "user", "login_failed"),
    ("auth", "user", "logout"),
    ("auth", "session", "refresh_reuse_detected"),
    ("auth", "user", "create"),
    ("auth", "user", "update"),
    ("auth", "user", "delete"),
    ("catalog", "product", "create"),
    ("catalog", "product", "update"),
    ("catalog", "product", "delete"),
    ("catalog", "vendor", "create"),
    ("catalog", "vendor", "update"),
    ("catalog", "vendor", "delete"),
    ("catalog", "stock_entry", "create"),
    ("catalog", "stock_entry", "update"),
];

async fn audit_page(suite: &TestSuite, token: &str, query: &str) -> regal_testkit::TestResponse {
    suite
        .http()
        .get(&format!("/audit{query}"))
        .bearer(token)
        .send()
        .await
}

async fn send(
    suite: &TestSuite,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Value {
    let http = suite.http();
    let mut request = match method {
        "POST" => http.post(path),
        "PUT" => http.put(path),
        "DELETE" => http.delete(path),
        _ => http.get(path),
    };
    if let Some(token) = token {
        request = request.bearer(token);
    }
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
    if response.text().is_empty() {
        Value::Null
    } else {
        response.json()
    }
}

/// README's rows between the audited-actions markers, as (service, entity, action).
fn readme_audited_actions() -> Vec<(String, String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md is readable");
    let table = readme
        .split("<!-- audited-actions:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- audited-actions:end -->").next())
        .expect("README has the audited-actions table");
    table
        .lines()
        .filter(|line| line.starts_with('|') && !line.contains("---"))
        .skip(1)
        .map(|line| {
            let cells: Vec<String> = line
                .split('|')
                .map(|cell| cell.trim().trim_matches('`').to_owned())
                .collect();
            (cells[1].clone(), cells[2].clone(), cells[3].clone())
        })
        .collect()
}

#[tokio::test]
async fn every_audited_action_reaches_the_audit_log_and_the_readme_lists_them_all() {
    let mut listed = readme_audited_actions();
    listed.sort();
    let mut expected: Vec<(String, String, String)> = AUDITED_ACTIONS
        .iter()
        .chain(SALES_AUDITED_ACTIONS)
        .map(|(service, entity, action)| {
            (service.to_string(), entity.to_string(), action.to_string())
        })
        .collect();
    expected.sort();
    assert_eq!(
        listed, expected,
        "README's audited actions differ from the tested ones"
    );

    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = admin.access_token.as_str();
    // auth
    assert_eq!(
        suite.login_response("admin", "wrong-password").await.status,
        401
    );
    let user = suite.create_user(&admin, "cashier").await;
    send(
        &suite,
        "PUT",
        &format!("/users/{}", user.id),
        Some(token),
        json!({"full_name": "Renamed"}),
    )
    .await;
    send(
        &suite,
        "DELETE",
        &format!("/users/{}", user.id),
        Some(token),
        Value::Null,
    )
    .await;
    let reused = suite.login_admin().await;
    send(
        &suite,
        "POST",
        "/auth/refresh",
        None,
        json!({"refresh_token": reused.refresh_token}),
    )
    .await;
    let replay = suite
        .http()
        .post("/auth/refresh")
        .json(&json!({"refresh_token": reused.refresh_token}))
        .send()
        .await;
    assert_eq!(replay.status, 401);
    let leaving = suite.login_admin().await;
    send(
        &suite,
        "POST",
        "/auth/logout",
        Some(&leaving.access_token),
        Value::Null,
    )
    .await;
    // catalog
    let product = create_product_with(&suite, token, json!({})).await;
    let product_id = product["id"].as_str().unwrap().to_owned();
    send(
        &suite,
        "PUT",
        &format!("/products/{product_id}"),
        Some(token),
        json!({"name": "Renamed product"}),
    )
    .await;
    let vendor = send(
        &suite,
        "POST",
        "/vendors",
        Some(token),
        json!({"name": "Audit Vendor"}),
    )
    .await;
    let vendor_id = vendor["id"].as_str().unwrap().to_owned();
    send(
        &suite,
        "PUT",
        &format!("/vendors/{vendor_id}"),
        Some(token),
        json!({"name": "Audit Vendor 2"}),
    )
    .await;
    send(
        &suite,
        "DELETE",
        &format!("/vendors/{vendor_id}"),
        Some(token),
        Value::Null,
    )
    .await;
    let entry = send(
        &suite,
        "POST",
        "/stock",
        Some(token),
        json!({"product_id": product_id, "qty": 5, "type": "IN"}),
    )
    .await;
    let entry_id = entry["id"].as_str().unwrap().to_owned();
    send(
        &suite,
        "PUT",
        &format!("/stock/{entry_id}"),
        Some(token),
        json!({"location": "back room"}),
    )
    .await;
    send(
        &suite,
        "DELETE",
        &format!("/products/{product_id}"),
        Some(token),
        Value::Null,
    )
    .await;

    drive_every_sales_action(&suite, token).await;

    wait_until_audited(&suite, &["auth", "catalog", "sales"], AUDIT_TIMEOUT).await;
    for (service, entity, action) in AUDITED_ACTIONS.iter().chain(SALES_AUDITED_ACTIONS) {
        let response = audit_page(
            &suite,
            token,
            &format!("?entity={entity}&action={action}&limit=200"),
        )
        .await;
        assert_eq!(response.status, 200, "{}", response.text());
        let events = response.json();
        let found = events
            .as_array()
            .unwrap()
            .iter()
            .any(|event| event["service"] == *service);
        assert!(
            found,
            "no {service} {entity} {action} event in the audit log: {events}"
        );
    }
}

#[tokio::test]
async fn the_log_lists_newest_first_with_filters_and_keyset_pages() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = admin.access_token.as_str();
    let mut ids = Vec::new();
    for index in 0..5 {
        let product =
            create_product_with(&suite, token, json!({"name": format!("Listed {index}")})).await;
        ids.push(product["id"].as_str().unwrap().to_owned());
    }
    send(
        &suite,
        "PUT",
        &format!("/products/{}", ids[0]),
        Some(token),
        json!({"unit_price": "9.99"}),
    )
    .await;
    wait_until_audited(&suite, &["auth", "catalog"], AUDIT_TIMEOUT).await;

    // One product's history, newest first, with before and after of the update.
    let history = audit_page(
        &suite,
        token,
        &format!("?entity=product&entity_id={}", ids[0]),
    )
    .await;
    assert_eq!(history.status, 200);
    assert_eq!(history.header("x-next-cursor"), None);
    let history = history.json();
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["action"], "update");
    assert_eq!(history[1]["action"], "create");
    assert_eq!(history[0]["changes"]["before"]["unit_price"], "4.20");
    assert_eq!(history[0]["changes"]["after"]["unit_price"], "9.99");
    let event = &history[0];
    for field in [
        "id",
        "occurred_at",
        "service",
        "entity",
        "entity_id",
        "action",
        "actor_id",
        "actor_role",
        "request_id",
        "changes",
    ] {
        assert!(event.get(field).is_some(), "{field} missing from {event}");
    }
    assert_eq!(event["service"], "catalog");
    assert_eq!(event["actor_role"], "admin");
    assert!(
        event["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert_eq!(event["client_addr"], "127.0.0.1");

    // Keyset pages of two product creations: every one seen once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("?entity=product&action=create&limit=2&cursor={cursor}"),
            None => "?entity=product&action=create&limit=2".to_owned(),
        };
        let page = audit_page(&suite, token, &query).await;
        assert_eq!(page.status, 200, "{}", page.text());
        let next = page.header("x-next-cursor").map(str::to_owned);
        let events = page.json();
        for event in events.as_array().unwrap() {
            seen.push(event["entity_id"].as_str().unwrap().to_owned());
        }
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);

    // skip, user_id and a time window.
    let skipped = audit_page(
        &suite,
        token,
        "?entity=product&action=create&skip=1&limit=1",
    )
    .await
    .json();
    assert_eq!(skipped[0]["entity_id"], ids[3].as_str());
    let me = send(&suite, "GET", "/auth/me", Some(token), Value::Null).await;
    let mine = audit_page(
        &suite,
        token,
        &format!(
            "?user_id={}&entity=product&limit=200",
            me["id"].as_str().unwrap()
        ),
    )
    .await
    .json();
    assert_eq!(mine.as_array().unwrap().len(), 6);
    let future = audit_page(&suite, token, "?from=2999-01-01").await.json();
    assert_eq!(future, json!([]));
    let past = audit_page(&suite, token, "?to=2000-01-01T00:00:00Z")
        .await
        .json();
    assert_eq!(past, json!([]));
}

#[tokio::test]
async fn only_admins_read_the_log_and_bad_parameters_are_422() {
    let suite = TestSuite::start().await;
    assert_eq!(suite.http().get("/audit").send().await.status, 401);
    assert_eq!(suite.http().get("/audit/verify").send().await.status, 401);
    for role in ["cashier", "employee"] {
        let (_, session) = suite.session_as(role).await;
        assert_eq!(
            audit_page(&suite, &session.access_token, "").await.status,
            403,
            "{role}"
        );
        let verify = suite
            .http()
            .get("/audit/verify")
            .bearer(&session.access_token)
            .send()
            .await;
        assert_eq!(verify.status, 403, "{role}");
    }
    let admin = suite.login_admin().await;
    for (query, field) in [
        ("?limit=-1", "limit"),
        ("?limit=abc", "limit"),
        ("?skip=-5", "skip"),
        ("?from=yesterday", "from"),
        ("?to=2026-13-45", "to"),
        ("?user_id=not-a-uuid", "user_id"),
        ("?cursor=garbage", "cursor"),
    ] {
        let response = audit_page(&suite, &admin.access_token, query).await;
        assert_eq!(response.status, 422, "{query}: {}", response.text());
        assert_eq!(
            response.json()["detail"][0]["loc"],
            json!(["query", field]),
            "{query}"
        );
    }
}

#[tokio::test]
async fn verify_passes_on_an_intact_log_and_names_the_first_row_edited_behind_its_back() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = admin.access_token.as_str();
    for index in 0..3 {
        create_product_with(&suite, token, json!({"name": format!("Chained {index}")})).await;
    }
    wait_until_audited(&suite, &["auth", "catalog"], AUDIT_TIMEOUT).await;
    let intact = send(&suite, "GET", "/audit/verify", Some(token), Value::Null).await;
    assert_eq!(intact["ok"], true, "{intact}");
    assert!(intact["checked"].as_i64().unwrap() >= 4);
    assert!(intact.get("first_bad_id").is_none());

    // The service's own role cannot change a row: the log is append-only.
    let mut connection = suite.database().connect().await;
    let (victim, position): (Uuid, i64) = sqlx::query_as(
        "select id, position from audit.audit_log where entity = 'product' order by position limit 1",
    )
    .fetch_one(&mut connection)
    .await
    .unwrap();
    for statement in [
        "update audit.audit_log set action = 'nothing' where position = $1",
        "delete from audit.audit_log where position = $1",
    ] {
        let refused = sqlx::query(statement)
            .bind(position)
            .execute(&mut connection)
            .await;
        assert!(refused.is_err(), "{statement} was allowed");
    }
    assert!(
        sqlx::query("truncate audit.audit_log")
            .execute(&mut connection)
            .await
            .is_err()
    );

    // A superuser who switches the triggers off can edit a row, and verify notices.
    sqlx::query("set session_replication_role = replica")
        .execute(&mut connection)
        .await
        .unwrap();
    sqlx::query("update audit.audit_log set changes = jsonb_set(changes, '{name}', '\"Forged\"') where position = $1")
        .bind(position)
        .execute(&mut connection)
        .await
        .unwrap();
    let tampered = send(&suite, "GET", "/audit/verify", Some(token), Value::Null).await;
    assert_eq!(tampered["ok"], false, "{tampered}");
    assert_eq!(tampered["first_bad_id"], victim.to_string());
}
