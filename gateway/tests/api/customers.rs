//! Customers through the gateway.

use regal_authz::Role;
use regal_proto::sales::v1::{CreateCustomerRequest, DeleteCustomerRequest};
use regal_testkit::TestSuite;
use serde_json::json;
use tonic::Code;

use crate::back_office_support::{
    ALL, ALL_BUT_DELETE, Expected, audit_events, authorized, check_role_matrix, invalid_fields,
    sales,
};

#[tokio::test]
async fn a_cashier_creates_and_updates_a_customer_with_clean_text_and_exact_money() {
    let suite = TestSuite::start().await;
    let (cashier, session) = suite.session_as("cashier").await;
    let token = &session.access_token;

    let response = suite
        .http()
        .post("/customers")
        .bearer(token)
        .json(&json!({
            "name": "  Jane <script>alert(1)</script>Doe ",
            "contacts": {"phone": "+254 711 000 111", "email": "<b>jane</b>@mail.example"},
            "billing_addr": {"city": "Nairobi"},
            "credit_limit": 500,
            "balance": "12.5",
        }))
        .send()
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    let customer = response.json();
    let id = customer["id"].as_str().unwrap();
    assert_eq!(
        response.header("location"),
        Some(format!("/customers/{id}").as_str())
    );
    assert_eq!(customer["name"], "Jane alert(1)Doe");
    assert_eq!(customer["contacts"]["email"], "jane@mail.example");
    assert_eq!(customer["billing_addr"], json!({"city": "Nairobi"}));
    assert_eq!(customer["shipping_addr"], json!({}));
    assert_eq!(customer["credit_limit"], "500.00");
    assert_eq!(customer["balance"], "12.50");
    assert_eq!(customer["is_active"], true);

    let updated = suite
        .http()
        .put(&format!("/customers/{id}"))
        .bearer(token)
        .json(&json!({"contacts": {"phone": "0700 000 000"}, "balance": -3}))
        .send()
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    let updated = updated.json();
    assert_eq!(updated["contacts"], json!({"phone": "0700 000 000"}));
    assert_eq!(updated["balance"], "-3.00");
    assert_eq!(updated["name"], customer["name"]);
    assert_eq!(updated["credit_limit"], "500.00");
    assert_eq!(updated["billing_addr"], customer["billing_addr"]);

    let fetched = suite
        .http()
        .get(&format!("/customers/{id}"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(fetched.json(), updated);

    let created_events = audit_events(&suite, "customer", "create", id).await;
    assert_eq!(created_events.len(), 1);
    assert_eq!(created_events[0]["actor_id"], cashier.id.as_str());
    assert_eq!(created_events[0]["changes"]["after"]["balance"], "12.50");
    let updated_events = audit_events(&suite, "customer", "update", id).await;
    assert_eq!(updated_events.len(), 1);
    assert_eq!(updated_events[0]["changes"]["before"]["balance"], "12.50");
    assert_eq!(updated_events[0]["changes"]["after"]["balance"], "-3.00");
}

#[tokio::test]
async fn deleting_a_customer_archives_them_out_of_lists_but_keeps_them_readable() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let customer = suite
        .http()
        .post("/customers")
        .bearer(token)
        .json(&json!({"name": "Walk-in Regular"}))
        .send()
        .await
        .json();
    let id = customer["id"].as_str().unwrap();
    let path = format!("/customers/{id}");

    let deleted = suite.http().delete(&path).bearer(token).send().await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        deleted.json(),
        json!({"message": "Customer deleted successfully"})
    );

    let listed = suite.http().get("/customers").bearer(token).send().await;
    assert_eq!(listed.json(), json!([]));
    assert_eq!(listed.header("x-total-count"), Some("0"));
    let with_archived = suite
        .http()
        .get("/customers?include_inactive=true")
        .bearer(token)
        .send()
        .await;
    assert_eq!(with_archived.header("x-total-count"), Some("1"));
    assert_eq!(with_archived.json()[0]["is_active"], false);
    let fetched = suite.http().get(&path).bearer(token).send().await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json()["is_active"], false);

    let archived = audit_events(&suite, "customer", "delete", id).await;
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0]["changes"]["before"]["is_active"], true);
    assert_eq!(archived[0]["changes"]["after"]["is_active"], false);

    let restored = suite
        .http()
        .put(&path)
        .bearer(token)
        .json(&json!({"is_active": true}))
        .send()
        .await;
    assert_eq!(restored.json()["is_active"], true);
    let listed = suite.http().get("/customers").bearer(token).send().await;
    assert_eq!(listed.header("x-total-count"), Some("1"));
}

#[tokio::test]
async fn customers_are_searched_by_name_phone_or_email_and_paged_newest_first() {
    let suite = TestSuite::start().await;
    let token = suite.access_token(Role::Employee);
    for body in [
        json!({"name": "Amina Otieno", "contacts": {"phone": "0722 123 456"}}),
        json!({"name": "Brian Kim", "contacts": {"email": "brian@shop.example"}}),
        json!({"name": "Carol 100%_Real"}),
    ] {
        let response = suite
            .http()
            .post("/customers")
            .bearer(&token)
            .json(&body)
            .send()
            .await;
        assert_eq!(response.status, 201, "{}", response.text());
    }
    let names = |response: &regal_testkit::TestResponse| -> Vec<String> {
        response
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|customer| customer["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = |query: &str| {
        let path = format!("/customers{query}");
        let token = token.clone();
        let suite = &suite;
        async move { suite.http().get(&path).bearer(&token).send().await }
    };

    let all = list("").await;
    assert_eq!(
        names(&all),
        ["Carol 100%_Real", "Brian Kim", "Amina Otieno"]
    );
    assert_eq!(all.header("x-total-count"), Some("3"));
    assert_eq!(names(&list("?search=OTIENO").await), ["Amina Otieno"]);
    assert_eq!(names(&list("?search=123").await), ["Amina Otieno"]);
    assert_eq!(names(&list("?search=BRIAN@SHOP").await), ["Brian Kim"]);
    assert_eq!(names(&list("?search=%25_").await), ["Carol 100%_Real"]);
    assert_eq!(names(&list("?search=nobody").await), Vec::<String>::new());

    let page = list("?skip=1&limit=1").await;
    assert_eq!(names(&page), ["Brian Kim"]);
    assert_eq!(page.header("x-total-count"), Some("3"));
    let fields = invalid_fields(&list("?skip=-1&limit=-5").await);
    assert_eq!(fields, ["query.skip", "query.limit"]);
}

#[tokio::test]
async fn invalid_customers_are_422_with_every_bad_field_and_unknown_ones_404() {
    let suite = TestSuite::start().await;
    let token = suite.access_token(Role::Admin);
    let response = suite
        .http()
        .post("/customers")
        .bearer(&token)
        .json(&json!({
            "name": "<i></i>",
            "contacts": {"note": "x".repeat(20_000)},
            "credit_limit": -1,
            "balance": "1.005",
        }))
        .send()
        .await;
    assert_eq!(
        invalid_fields(&response),
        [
            "body.name",
            "body.contacts",
            "body.credit_limit",
            "body.balance"
        ]
    );
    let too_long = suite
        .http()
        .post("/customers")
        .bearer(&token)
        .json(&json!({"name": "n".repeat(101), "credit_limit": "1e3"}))
        .send()
        .await;
    assert_eq!(
        invalid_fields(&too_long),
        ["body.name", "body.credit_limit"]
    );
    let listed = suite
        .http()
        .get("/customers?include_inactive=true")
        .bearer(&token)
        .send()
        .await;
    assert_eq!(listed.json(), json!([]), "nothing was stored");

    let unknown = format!("/customers/{}", uuid::Uuid::now_v7());
    let fetched = suite.http().get(&unknown).bearer(&token).send().await;
    assert_eq!(fetched.status, 404);
    assert_eq!(fetched.json(), json!({"detail": "Customer not found"}));
    let updated = suite
        .http()
        .put(&unknown)
        .bearer(&token)
        .json(&json!({"name": "Ghost"}))
        .send()
        .await;
    assert_eq!(updated.status, 404);
    let deleted = suite.http().delete(&unknown).bearer(&token).send().await;
    assert_eq!(deleted.status, 404);
    let malformed = suite
        .http()
        .get("/customers/not-a-uuid")
        .bearer(&token)
        .send()
        .await;
    assert_eq!(invalid_fields(&malformed), ["path.id"]);
}

#[tokio::test]
async fn customers_follow_the_role_table() {
    let suite = TestSuite::start().await;
    check_role_matrix(
        &suite,
        "/customers",
        || json!({"name": "Matrix Customer"}),
        json!({"name": "Renamed"}),
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
async fn the_sales_service_itself_refuses_a_cashiers_delete_and_a_nameless_customer() {
    let suite = TestSuite::start().await;
    let mut client = sales(&suite);
    let denied = client
        .delete_customer(authorized(
            &suite,
            Role::Cashier,
            DeleteCustomerRequest {
                id: uuid::Uuid::now_v7().to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    let invalid = client
        .create_customer(authorized(
            &suite,
            Role::Cashier,
            CreateCustomerRequest::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);

    let anonymous = client
        .create_customer(tonic::Request::new(CreateCustomerRequest {
            name: "Nobody".to_owned(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn only_an_admin_may_archive_or_restore_a_customer_through_an_update() {
    let suite = TestSuite::start().await;
    let admin = suite.access_token(Role::Admin);
    let id = suite
        .http()
        .post("/customers")
        .bearer(&admin)
        .json(&json!({"name": "Kept Active"}))
        .send()
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/customers/{id}");
    for role in [Role::Cashier, Role::Employee] {
        let response = suite
            .http()
            .put(&path)
            .bearer(&suite.access_token(role))
            .json(&json!({"name": "Sneaky", "is_active": false}))
            .send()
            .await;
        assert_eq!(response.status, 403, "{role:?}: {}", response.text());
    }
    let unchanged = suite.http().get(&path).bearer(&admin).send().await.json();
    assert_eq!(unchanged["is_active"], true);
    assert_eq!(unchanged["name"], "Kept Active");
    let archived = suite
        .http()
        .put(&path)
        .bearer(&admin)
        .json(&json!({"is_active": false}))
        .send()
        .await;
    assert_eq!(archived.json()["is_active"], false);
}
