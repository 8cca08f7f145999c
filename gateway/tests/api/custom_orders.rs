//! Custom orders through the gateway.

use regal_authz::Role;
use regal_proto::sales::v1::{
    CustomOrderStatus, DeleteCustomOrderRequest, UpdateCustomOrderRequest,
};
use regal_testkit::TestSuite;
use serde_json::{Value, json};
use tonic::Code;
use uuid::Uuid;

use crate::back_office_support::{
    ALL, ALL_BUT_DELETE, Expected, audit_events, authorized, check_role_matrix, invalid_fields,
    sales,
};

async fn create_customer(suite: &TestSuite, token: &str, name: &str) -> String {
    let response = suite
        .http()
        .post("/customers")
        .bearer(token)
        .json(&json!({"name": name}))
        .send()
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    response.json()["id"].as_str().unwrap().to_owned()
}

/// A draft invoice, written straight into the sales schema (invoices are not this area's).
async fn draft_invoice(suite: &TestSuite) -> String {
    let id = Uuid::now_v7();
    let mut connection = suite.database().connect().await;
    sqlx::query(
        "insert into sales.invoices (id, status, cashier_id, cashier) \
         values ($1, 'draft', $2, 'test-cashier')",
    )
    .bind(id)
    .bind(Uuid::now_v7())
    .execute(&mut connection)
    .await
    .expect("draft invoice inserted");
    id.to_string()
}

async fn post_order(suite: &TestSuite, token: &str, body: Value) -> regal_testkit::TestResponse {
    suite
        .http()
        .post("/custom-orders")
        .bearer(token)
        .json(&body)
        .send()
        .await
}

#[tokio::test]
async fn a_cashier_takes_a_custom_order_moves_it_along_and_links_its_invoice() {
    let suite = TestSuite::start().await;
    let (cashier, session) = suite.session_as("cashier").await;
    let token = &session.access_token;
    let customer_id = create_customer(&suite, token, "Mrs Wanjiru").await;

    let response = post_order(
        &suite,
        token,
        json!({
            "customer_id": customer_id,
            "fields": {"item": "<b>Suit</b>", "measurements": {"chest": 102}, "notes": "<script>x</script>navy"},
        }),
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text());
    let order = response.json();
    let id = order["id"].as_str().unwrap();
    let path = format!("/custom-orders/{id}");
    assert_eq!(response.header("location"), Some(path.as_str()));
    assert_eq!(order["status"], "pending");
    assert_eq!(order["customer_id"], customer_id.as_str());
    assert_eq!(order["linked_invoice"], Value::Null);
    assert_eq!(
        order["fields"],
        json!({"item": "Suit", "measurements": {"chest": 102}, "notes": "xnavy"})
    );

    let invoice_id = draft_invoice(&suite).await;
    let updated = suite
        .http()
        .put(&path)
        .bearer(token)
        .json(&json!({"status": "in_progress", "fields": {"item": "Suit", "fitting": "Friday"}, "linked_invoice": invoice_id}))
        .send()
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    let updated = updated.json();
    assert_eq!(updated["status"], "in_progress");
    assert_eq!(
        updated["fields"],
        json!({"item": "Suit", "fitting": "Friday"})
    );
    assert_eq!(updated["linked_invoice"], invoice_id.as_str());
    assert_eq!(updated["customer_id"], customer_id.as_str());

    let unlinked = suite
        .http()
        .put(&path)
        .bearer(token)
        .json(&json!({"linked_invoice": "", "customer_id": null, "status": "completed"}))
        .send()
        .await;
    assert_eq!(unlinked.status, 200, "{}", unlinked.text());
    let unlinked = unlinked.json();
    assert_eq!(unlinked["linked_invoice"], Value::Null);
    assert_eq!(unlinked["customer_id"], Value::Null);
    assert_eq!(unlinked["status"], "completed");
    assert_eq!(unlinked["fields"], updated["fields"]);

    let fetched = suite.http().get(&path).bearer(token).send().await;
    assert_eq!(fetched.json(), unlinked);
    let created = audit_events(&suite, "custom_order", "create", id).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["actor_id"], cashier.id.as_str());
    let changes = audit_events(&suite, "custom_order", "update", id).await;
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[1]["changes"]["before"]["status"], "in_progress");
    assert_eq!(changes[1]["changes"]["after"]["status"], "completed");
}

#[tokio::test]
async fn a_custom_order_needs_a_known_active_customer_a_known_invoice_and_a_real_status() {
    let suite = TestSuite::start().await;
    let token = suite.access_token(Role::Admin);
    let unknown_customer = post_order(
        &suite,
        &token,
        json!({"customer_id": Uuid::now_v7().to_string()}),
    )
    .await;
    assert_eq!(unknown_customer.status, 404);
    assert_eq!(
        unknown_customer.json(),
        json!({"detail": "Customer not found"})
    );

    let archived_id = create_customer(&suite, &token, "Gone Away").await;
    suite
        .http()
        .delete(&format!("/customers/{archived_id}"))
        .bearer(&token)
        .send()
        .await;
    let archived = post_order(&suite, &token, json!({"customer_id": archived_id})).await;
    assert_eq!(archived.status, 409);
    assert_eq!(archived.json(), json!({"detail": "Customer is archived"}));

    let unknown_invoice = post_order(
        &suite,
        &token,
        json!({"linked_invoice": Uuid::now_v7().to_string()}),
    )
    .await;
    assert_eq!(unknown_invoice.status, 404);
    assert_eq!(
        unknown_invoice.json(),
        json!({"detail": "Invoice not found"})
    );

    let bad_status = post_order(&suite, &token, json!({"status": "shipped"})).await;
    assert_eq!(invalid_fields(&bad_status), ["body.status"]);
    let bad_ids = post_order(
        &suite,
        &token,
        json!({"customer_id": "x", "linked_invoice": "y", "fields": {"big": "z".repeat(20_000)}}),
    )
    .await;
    assert_eq!(
        invalid_fields(&bad_ids),
        ["body.customer_id", "body.fields", "body.linked_invoice"]
    );
    let listed = suite
        .http()
        .get("/custom-orders")
        .bearer(&token)
        .send()
        .await;
    assert_eq!(listed.json(), json!([]), "nothing was stored");

    let order = post_order(&suite, &token, json!({})).await.json();
    let path = format!("/custom-orders/{}", order["id"].as_str().unwrap());
    let bad_update = suite
        .http()
        .put(&path)
        .bearer(&token)
        .json(&json!({"customer_id": Uuid::now_v7().to_string()}))
        .send()
        .await;
    assert_eq!(bad_update.status, 404);
    let unchanged = suite.http().get(&path).bearer(&token).send().await;
    assert_eq!(unchanged.json(), order);
}

#[tokio::test]
async fn custom_orders_are_filtered_by_status_and_customer_and_erased_by_delete() {
    let suite = TestSuite::start().await;
    let token = suite.access_token(Role::Admin);
    let amina = create_customer(&suite, &token, "Amina").await;
    let brian = create_customer(&suite, &token, "Brian").await;
    let mut ids = Vec::new();
    for (customer, status) in [
        (&amina, "pending"),
        (&brian, "pending"),
        (&amina, "completed"),
        (&amina, "cancelled"),
    ] {
        let response = post_order(
            &suite,
            &token,
            json!({"customer_id": customer, "status": status}),
        )
        .await;
        assert_eq!(response.status, 201, "{}", response.text());
        ids.push(response.json()["id"].as_str().unwrap().to_owned());
    }
    let listed = |query: String| {
        let token = token.clone();
        let suite = &suite;
        async move {
            let response = suite
                .http()
                .get(&format!("/custom-orders{query}"))
                .bearer(&token)
                .send()
                .await;
            assert_eq!(response.status, 200, "{}", response.text());
            let total = response.header("x-total-count").unwrap().to_owned();
            let ids: Vec<String> = response
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|order| order["id"].as_str().unwrap().to_owned())
                .collect();
            (ids, total)
        }
    };
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(listed(String::new()).await.0, newest_first);
    assert_eq!(
        listed("?status=pending".to_owned()).await.0,
        [ids[1].clone(), ids[0].clone()]
    );
    assert_eq!(
        listed(format!("?customer_id={amina}&status=completed"))
            .await
            .0,
        [ids[2].clone()]
    );
    let (page, total) = listed(format!("?customer_id={amina}&limit=1&skip=1")).await;
    assert_eq!(page, [ids[2].clone()]);
    assert_eq!(total, "3");
    for (query, field) in [
        ("?status=lost", "query.status"),
        ("?customer_id=nope", "query.customer_id"),
    ] {
        let response = suite
            .http()
            .get(&format!("/custom-orders{query}"))
            .bearer(&token)
            .send()
            .await;
        assert_eq!(invalid_fields(&response), [field]);
    }

    let path = format!("/custom-orders/{}", ids[0]);
    let deleted = suite.http().delete(&path).bearer(&token).send().await;
    assert_eq!(
        deleted.json(),
        json!({"message": "Custom order deleted successfully"})
    );
    let gone = suite.http().get(&path).bearer(&token).send().await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json(), json!({"detail": "Custom order not found"}));
    assert_eq!(listed(String::new()).await.1, "3");
    let erased = audit_events(&suite, "custom_order", "delete", &ids[0]).await;
    assert_eq!(erased.len(), 1);
    assert_eq!(erased[0]["changes"]["before"]["status"], "pending");
}

#[tokio::test]
async fn custom_orders_follow_the_role_table() {
    let suite = TestSuite::start().await;
    check_role_matrix(
        &suite,
        "/custom-orders",
        || json!({"fields": {"item": "Curtains"}}),
        json!({"status": "in_progress"}),
        &[
            Expected {
                role: Role::Cashier,
                statuses: ALL_BUT_DELETE,
            },
            Expected {
                role: Role::Employee,
                statuses: ALL_BUT_DELETE,
            },
            Expected {
                role: Role::Admin,
                statuses: ALL,
            },
        ],
    )
    .await;
}

#[tokio::test]
async fn the_sales_service_itself_refuses_an_employees_delete_and_an_unspecified_status() {
    let suite = TestSuite::start().await;
    let mut client = sales(&suite);
    let denied = client
        .delete_custom_order(authorized(
            &suite,
            Role::Employee,
            DeleteCustomOrderRequest {
                id: Uuid::now_v7().to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let invalid = client
        .update_custom_order(authorized(
            &suite,
            Role::Employee,
            UpdateCustomOrderRequest {
                id: Uuid::now_v7().to_string(),
                status: Some(CustomOrderStatus::Unspecified as i32),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
}
