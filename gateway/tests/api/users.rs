//! User management and the role table, through the gateway and over gRPC.

use regal_proto::auth::v1::{ListUsersRequest, auth_service_client::AuthServiceClient};
use regal_testkit::{Part, TestSuite};
use serde_json::json;
use tonic::{Code, Request};

#[tokio::test]
async fn an_admin_creates_a_user_with_201_location_and_no_password_in_the_answer() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let response = suite
        .http()
        .post("/users")
        .bearer(&admin.access_token)
        .json(&json!({
            "full_name": "  <script>alert(1)</script>Till Operator ",
            "email": "Till@Shop.Example",
            "username": "till-01",
            "password": "long-enough",
            "role": "cashier",
        }))
        .send()
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    let user = response.json();
    assert_eq!(
        response.header("location"),
        Some(format!("/users/{}", user["id"].as_str().unwrap()).as_str())
    );
    assert_eq!(user["full_name"], "alert(1)Till Operator");
    assert_eq!(user["email"], "till@shop.example");
    assert_eq!(user["role"], "cashier");
    assert_eq!(user["is_active"], true);
    for field in [
        "id",
        "full_name",
        "email",
        "username",
        "role",
        "is_active",
        "created_at",
        "updated_at",
    ] {
        assert!(user.get(field).is_some(), "missing {field}");
    }
    assert!(!response.text().contains("password") && !response.text().contains("argon2"));

    let created = suite.outbox_events("auth", "create").await;
    assert!(created.iter().any(|event| event["entity_id"] == user["id"]));
}

#[tokio::test]
async fn invalid_users_are_422_with_every_bad_field() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let response = suite
        .http()
        .post("/users")
        .bearer(&admin.access_token)
        .json(&json!({
            "full_name": "", "email": "not-an-email", "username": "no spaces!",
            "password": "short", "role": "owner",
        }))
        .send()
        .await;
    assert_eq!(response.status, 422);
    let fields: Vec<String> = response.json()["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|violation| violation["loc"][1].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        fields,
        ["full_name", "email", "username", "password", "role"]
    );

    for (username, expected_type) in [
        ("ab", "string_too_short"),
        (&"a".repeat(31) as &str, "string_too_long"),
    ] {
        let response = suite
            .http()
            .post("/users")
            .bearer(&admin.access_token)
            .json(
                &json!({"full_name": "X", "email": "x@shop.example", "username": username,
                          "password": "long-enough", "role": "employee"}),
            )
            .send()
            .await;
        assert_eq!(response.status, 422);
        assert_eq!(response.json()["detail"][0]["type"], expected_type);
    }
}

#[tokio::test]
async fn duplicate_usernames_and_emails_are_409_whatever_their_case() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let existing = suite.create_user(&admin, "employee").await;
    let same_username = suite
        .http()
        .post("/users")
        .bearer(&admin.access_token)
        .json(&json!({"full_name": "Dup", "email": "new@shop.example",
                      "username": existing.username.to_uppercase(), "password": "long-enough", "role": "employee"}))
        .send()
        .await;
    assert_eq!(same_username.status, 409);
    assert_eq!(
        same_username.json(),
        json!({"detail": "Username already registered"})
    );

    let same_email = suite
        .http()
        .post("/users")
        .bearer(&admin.access_token)
        .json(
            &json!({"full_name": "Dup", "email": format!("{}@SHOP.example", existing.username),
                      "username": "someone-new", "password": "long-enough", "role": "employee"}),
        )
        .send()
        .await;
    assert_eq!(same_email.status, 409);
}

#[tokio::test]
async fn only_admins_see_the_users_screen() {
    let suite = TestSuite::start().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let (_, employee) = suite.session_as("employee").await;
    let admin = suite.login_admin().await;

    for (who, token) in [
        ("cashier", &cashier.access_token),
        ("employee", &employee.access_token),
    ] {
        for response in [
            suite.http().get("/users").bearer(token).send().await,
            suite
                .http()
                .post("/users")
                .bearer(token)
                .json(&json!({}))
                .send()
                .await,
        ] {
            assert_eq!(response.status, 403, "{who}");
            assert_eq!(response.json(), json!({"detail": "Not enough permissions"}));
        }
        // Everyone may see themselves.
        assert_eq!(
            suite
                .http()
                .get("/auth/me")
                .bearer(token)
                .send()
                .await
                .status,
            200
        );
    }
    assert_eq!(
        suite
            .http()
            .get("/users")
            .bearer(&admin.access_token)
            .send()
            .await
            .status,
        200
    );
    assert_eq!(suite.http().get("/users").send().await.status, 401);

    // The auth service enforces the same table for direct gRPC callers.
    let mut client = AuthServiceClient::new(suite.channel(Part::Auth));
    let mut request = Request::new(ListUsersRequest::default());
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", cashier.access_token).parse().unwrap(),
    );
    let status = client.list_users(request).await.expect_err("denied");
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn the_user_list_pages_newest_first_with_a_total_and_hides_the_inactive() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let first = suite.create_user(&admin, "cashier").await;
    let second = suite.create_user(&admin, "employee").await;
    let gone = suite.create_user(&admin, "cashier").await;
    suite
        .http()
        .delete(&format!("/users/{}", gone.id))
        .bearer(&admin.access_token)
        .send()
        .await;

    let page = suite
        .http()
        .get("/users?skip=0&limit=2")
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("x-total-count"), Some("3"));
    let ids: Vec<String> = page
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [second.id.clone(), first.id.clone()]);

    let everyone = suite
        .http()
        .get("/users?include_inactive=true")
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(everyone.header("x-total-count"), Some("4"));

    let search = suite
        .http()
        .get(&format!("/users?search={}", &second.username[..12]))
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(search.header("x-total-count"), Some("1"));

    for bad in ["/users?skip=-1", "/users?limit=-5", "/users?limit=ten"] {
        let response = suite
            .http()
            .get(bad)
            .bearer(&admin.access_token)
            .send()
            .await;
        assert_eq!(response.status, 422, "{bad}");
        assert_eq!(response.json()["detail"][0]["loc"][0], "query", "{bad}");
    }
}

#[tokio::test]
async fn unknown_and_malformed_user_ids() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let unknown = suite
        .http()
        .get(&format!("/users/{}", uuid::Uuid::now_v7()))
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json(), json!({"detail": "User not found"}));
    let malformed = suite
        .http()
        .get("/users/not-a-uuid")
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(malformed.status, 422);
    assert_eq!(malformed.json()["detail"][0]["loc"], json!(["path", "id"]));
}

#[tokio::test]
async fn an_update_changes_only_the_given_fields_and_is_audited_with_before_and_after() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let user = suite.create_user(&admin, "cashier").await;
    let response = suite
        .http()
        .put(&format!("/users/{}", user.id))
        .bearer(&admin.access_token)
        .json(&json!({"role": "employee"}))
        .send()
        .await;
    assert_eq!(response.status, 200);
    let updated = response.json();
    assert_eq!(updated["role"], "employee");
    assert_eq!(updated["username"], user.username.as_str());

    let events = suite.outbox_events("auth", "update").await;
    let event = events
        .iter()
        .find(|event| event["entity_id"] == user.id.as_str())
        .expect("audited");
    assert_eq!(event["changes"]["before"]["role"], "cashier");
    assert_eq!(event["changes"]["after"]["role"], "employee");
}

#[tokio::test]
async fn an_admin_cannot_deactivate_themselves_or_the_last_admin() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let me = suite
        .http()
        .get("/auth/me")
        .bearer(&admin.access_token)
        .send()
        .await
        .json();
    let id = me["id"].as_str().unwrap();

    let delete_self = suite
        .http()
        .delete(&format!("/users/{id}"))
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(delete_self.status, 409);
    let demote_last = suite
        .http()
        .put(&format!("/users/{id}"))
        .bearer(&admin.access_token)
        .json(&json!({"role": "cashier"}))
        .send()
        .await;
    assert_eq!(demote_last.status, 409);
    assert_eq!(
        suite
            .http()
            .get("/auth/me")
            .bearer(&admin.access_token)
            .send()
            .await
            .status,
        200
    );
}
