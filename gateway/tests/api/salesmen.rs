//! Salesmen through the gateway, at `/salesman` and `/salesmen`.

use regal_authz::Role;
use regal_proto::sales::v1::{CreateSalesmanRequest, ListSalesmenRequest};
use regal_testkit::TestSuite;
use serde_json::json;
use tonic::Code;
use uuid::Uuid;

use crate::back_office_support::{
    ALL, ALL_BUT_DELETE, Expected, audit_events, authorized, check_role_matrix, invalid_fields,
    sales,
};

#[tokio::test]
async fn an_employee_manages_a_salesman_at_either_path_with_an_upper_case_code() {
    let suite = TestSuite::start().await;
    let (employee, session) = suite.session_as("employee").await;
    let token = &session.access_token;
    let response = suite
        .http()
        .post("/salesman")
        .bearer(token)
        .json(&json!({"name": " Ali <b>Hassan</b> ", "code": " ah-01 ", "commission_rate": 2.5}))
        .send()
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    let salesman = response.json();
    let id = salesman["id"].as_str().unwrap();
    assert_eq!(
        response.header("location"),
        Some(format!("/salesman/{id}").as_str())
    );
    assert_eq!(salesman["name"], "Ali Hassan");
    assert_eq!(salesman["code"], "AH-01");
    assert_eq!(salesman["commission_rate"], "2.50");
    assert_eq!(salesman["is_active"], true);

    let plural = suite
        .http()
        .get(&format!("/salesmen/{id}"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(plural.json(), salesman);
    let updated = suite
        .http()
        .put(&format!("/salesmen/{id}"))
        .bearer(token)
        .json(&json!({"commission_rate": "10"}))
        .send()
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_eq!(updated.json()["commission_rate"], "10.00");
    assert_eq!(updated.json()["code"], "AH-01");
    let created_by_plural = suite
        .http()
        .post("/salesmen")
        .bearer(token)
        .json(&json!({"name": "Beth", "code": "B2"}))
        .send()
        .await;
    assert_eq!(created_by_plural.status, 201);
    assert_eq!(created_by_plural.json()["commission_rate"], "0.00");
    let listed = suite.http().get("/salesmen").bearer(token).send().await;
    assert_eq!(listed.header("x-total-count"), Some("2"));
    assert_eq!(listed.json()[0]["name"], "Beth", "newest first");

    let created = audit_events(&suite, "salesman", "create", id).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["actor_id"], employee.id.as_str());
    let changed = audit_events(&suite, "salesman", "update", id).await;
    assert_eq!(changed[0]["changes"]["before"]["commission_rate"], "2.50");
    assert_eq!(changed[0]["changes"]["after"]["commission_rate"], "10.00");
}

#[tokio::test]
async fn a_salesman_code_is_unique_ignoring_case_even_once_archived() {
    let suite = TestSuite::start().await;
    let token = suite.access_token(Role::Admin);
    let create = |code: &'static str| {
        let token = token.clone();
        let suite = &suite;
        async move {
            suite
                .http()
                .post("/salesman")
                .bearer(&token)
                .json(&json!({"name": "Someone", "code": code}))
                .send()
                .await
        }
    };
    let first = create("S-01").await;
    assert_eq!(first.status, 201);
    let duplicate = create("s-01").await;
    assert_eq!(duplicate.status, 409);
    assert_eq!(
        duplicate.json(),
        json!({"detail": "Salesman code already exists"})
    );

    let second = create("S-02").await.json();
    let taken = suite
        .http()
        .put(&format!("/salesman/{}", second["id"].as_str().unwrap()))
        .bearer(&token)
        .json(&json!({"code": "s-01"}))
        .send()
        .await;
    assert_eq!(taken.status, 409);

    let first_path = format!("/salesman/{}", first.json()["id"].as_str().unwrap());
    let archived = suite.http().delete(&first_path).bearer(&token).send().await;
    assert_eq!(
        archived.json(),
        json!({"message": "Salesman deleted successfully"})
    );
    assert_eq!(create("S-01").await.status, 409);
    let still_readable = suite.http().get(&first_path).bearer(&token).send().await;
    assert_eq!(still_readable.json()["is_active"], false);
}

#[tokio::test]
async fn salesmen_are_searched_by_name_or_code_and_archived_ones_hidden() {
    let suite = TestSuite::start().await;
    let token = suite.access_token(Role::Admin);
    let mut ids = Vec::new();
    for (name, code) in [("Zawadi", "ZW1"), ("Otieno", "OT7"), ("Grace", "GR3")] {
        let response = suite
            .http()
            .post("/salesman")
            .bearer(&token)
            .json(&json!({"name": name, "code": code}))
            .send()
            .await;
        ids.push(response.json()["id"].as_str().unwrap().to_owned());
    }
    let names = |query: &str| {
        let path = format!("/salesman{query}");
        let token = token.clone();
        let suite = &suite;
        async move {
            let response = suite.http().get(&path).bearer(&token).send().await;
            assert_eq!(response.status, 200, "{}", response.text());
            response
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|salesman| salesman["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("?search=ot7").await, ["Otieno"]);
    assert_eq!(names("?search=GRA").await, ["Grace"]);
    suite
        .http()
        .delete(&format!("/salesman/{}", ids[0]))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(names("").await, ["Grace", "Otieno"]);
    assert_eq!(
        names("?include_inactive=true").await,
        ["Grace", "Otieno", "Zawadi"]
    );
    assert_eq!(
        names("?include_inactive=true&limit=1&skip=2").await,
        ["Zawadi"]
    );
}

#[tokio::test]
async fn invalid_salesmen_are_422_with_every_bad_field() {
    let suite = TestSuite::start().await;
    let token = suite.access_token(Role::Admin);
    for (body, fields) in [
        (
            json!({"name": "", "code": "a b", "commission_rate": 100.5}),
            vec!["body.name", "body.code", "body.commission_rate"],
        ),
        (
            json!({"name": "Ok", "code": "x".repeat(21), "commission_rate": "-1"}),
            vec!["body.code", "body.commission_rate"],
        ),
        (
            json!({"name": "Ok", "code": "<b>", "commission_rate": "2.555"}),
            vec!["body.code", "body.commission_rate"],
        ),
        (json!({"name": "No code"}), vec!["body.code"]),
    ] {
        let response = suite
            .http()
            .post("/salesman")
            .bearer(&token)
            .json(&body)
            .send()
            .await;
        assert_eq!(invalid_fields(&response), fields, "{body}");
    }
    let listed = suite
        .http()
        .get("/salesman?include_inactive=true")
        .bearer(&token)
        .send()
        .await;
    assert_eq!(listed.json(), json!([]));
    let unknown = suite
        .http()
        .get(&format!("/salesman/{}", Uuid::now_v7()))
        .bearer(&token)
        .send()
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json(), json!({"detail": "Salesman not found"}));
}

#[tokio::test]
async fn salesmen_follow_the_role_table() {
    let suite = TestSuite::start().await;
    let new_salesman = || {
        let code = Uuid::new_v4().simple().to_string()[..8].to_owned();
        json!({"name": "Matrix Salesman", "code": code})
    };
    check_role_matrix(
        &suite,
        "/salesman",
        new_salesman,
        json!({"commission_rate": "1.5"}),
        &[
            Expected {
                role: Role::Cashier,
                statuses: [403, 200, 200, 403, 403],
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
async fn the_sales_service_itself_lets_cashiers_read_salesmen_but_not_create_them() {
    let suite = TestSuite::start().await;
    let mut client = sales(&suite);
    let denied = client
        .create_salesman(authorized(
            &suite,
            Role::Cashier,
            CreateSalesmanRequest {
                name: "Sneaky".to_owned(),
                code: "SN1".to_owned(),
                commission_rate: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let listed = client
        .list_salesmen(authorized(
            &suite,
            Role::Cashier,
            ListSalesmenRequest::default(),
        ))
        .await
        .expect("cashiers read salesmen")
        .into_inner();
    assert_eq!(listed.salesmen.len(), 0);
    assert_eq!(listed.page.map(|page| page.total_count), Some(0));
}

#[tokio::test]
async fn an_employee_may_not_archive_a_salesman_through_an_update() {
    let suite = TestSuite::start().await;
    let admin = suite.access_token(Role::Admin);
    let salesman = suite
        .http()
        .post("/salesman")
        .bearer(&admin)
        .json(&json!({"name": "Kept", "code": "KP1"}))
        .send()
        .await
        .json();
    let path = format!("/salesman/{}", salesman["id"].as_str().unwrap());
    let response = suite
        .http()
        .put(&path)
        .bearer(&suite.access_token(Role::Employee))
        .json(&json!({"is_active": false}))
        .send()
        .await;
    assert_eq!(response.status, 403);
    let unchanged = suite.http().get(&path).bearer(&admin).send().await;
    assert_eq!(unchanged.json(), salesman);
}
