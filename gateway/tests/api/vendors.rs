//! Vendors through the gateway.

use regal_testkit::TestSuite;
use serde_json::json;

#[tokio::test]
async fn an_employee_manages_vendors_with_clean_contacts_and_an_exact_balance() {
    let suite = TestSuite::start().await;
    let (employee, session) = suite.session_as("employee").await;
    let token = &session.access_token;
    let response = suite
        .http()
        .post("/vendors")
        .bearer(token)
        .json(&json!({
            "name": " <b>Acme</b> Supplies ",
            "contacts": {"phone": "+254 700 000 000", "email": "<script>x</script>sales@acme.example"},
            "terms": {"payment_days": 30},
            "balance": 1250.5,
        }))
        .send()
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    let vendor = response.json();
    let id = vendor["id"].as_str().unwrap();
    assert_eq!(
        response.header("location"),
        Some(format!("/vendors/{id}").as_str())
    );
    assert_eq!(vendor["name"], "Acme Supplies");
    assert_eq!(vendor["contacts"]["email"], "xsales@acme.example");
    assert_eq!(vendor["terms"], json!({"payment_days": 30}));
    assert_eq!(vendor["balance"], "1250.50");
    assert_eq!(vendor["is_active"], true);

    let updated = suite
        .http()
        .put(&format!("/vendors/{id}"))
        .bearer(token)
        .json(&json!({"balance": "-10", "terms": {"payment_days": 45}}))
        .send()
        .await;
    assert_eq!(updated.status, 200);
    let updated = updated.json();
    assert_eq!(updated["balance"], "-10.00");
    assert_eq!(updated["terms"], json!({"payment_days": 45}));
    assert_eq!(updated["name"], "Acme Supplies");
    assert_eq!(updated["contacts"], vendor["contacts"]);

    let fetched = suite
        .http()
        .get(&format!("/vendors/{id}"))
        .bearer(token)
        .send()
        .await
        .json();
    assert_eq!(fetched, updated);

    let events = suite.outbox_events("catalog", "update").await;
    let event = events
        .iter()
        .find(|event| event["entity"] == "vendor" && event["entity_id"] == id)
        .expect("vendor change audited");
    assert_eq!(event["actor_id"], employee.id.as_str());
    assert_eq!(event["changes"]["before"]["balance"], "1250.50");
    assert_eq!(event["changes"]["after"]["balance"], "-10.00");
}

#[tokio::test]
async fn vendors_are_hidden_from_cashiers_and_archived_only_by_admins() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let (_, employee) = suite.session_as("employee").await;
    let vendor = suite
        .http()
        .post("/vendors")
        .bearer(&employee.access_token)
        .json(&json!({"name": "Fresh Farms"}))
        .send()
        .await
        .json();
    let path = format!("/vendors/{}", vendor["id"].as_str().unwrap());

    let read = suite
        .http()
        .get("/vendors")
        .bearer(&cashier.access_token)
        .send()
        .await;
    assert_eq!(read.status, 403);
    let delete = suite
        .http()
        .delete(&path)
        .bearer(&employee.access_token)
        .send()
        .await;
    assert_eq!(delete.status, 403);

    let delete = suite
        .http()
        .delete(&path)
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(delete.status, 200);
    assert_eq!(
        delete.json(),
        json!({"message": "Vendor deleted successfully"})
    );
    let listed = suite
        .http()
        .get("/vendors")
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(listed.json(), json!([]));
    assert_eq!(listed.header("x-total-count"), Some("0"));
    let all = suite
        .http()
        .get("/vendors?include_inactive=true&search=fresh")
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(all.json()[0]["is_active"], false);

    let restored = suite
        .http()
        .put(&path)
        .bearer(&admin.access_token)
        .json(&json!({"is_active": true}))
        .send()
        .await;
    assert_eq!(restored.json()["is_active"], true);
}

#[tokio::test]
async fn invalid_vendors_are_422_and_unknown_ones_404() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let response = suite
        .http()
        .post("/vendors")
        .bearer(&admin.access_token)
        .json(&json!({"name": "<i></i>", "balance": "12.345", "contacts": {"note": "x".repeat(20_000)}}))
        .send()
        .await;
    assert_eq!(response.status, 422);
    let fields: Vec<String> = response.json()["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|violation| violation["loc"][1].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["name", "contacts", "balance"]);

    let unknown = suite
        .http()
        .get(&format!("/vendors/{}", uuid::Uuid::now_v7()))
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json(), json!({"detail": "Vendor not found"}));
}
