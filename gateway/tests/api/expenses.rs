//! Expenses through the gateway.

use regal_authz::Role;
use regal_proto::sales::v1::{CreateExpenseRequest, ListExpensesRequest};
use regal_testkit::TestSuite;
use serde_json::json;
use tonic::Code;
use uuid::Uuid;

use crate::back_office_support::{
    ALL, Expected, NONE, audit_events, authorized, check_role_matrix, invalid_fields, sales,
};

#[tokio::test]
async fn an_employee_records_an_expense_as_themselves_dated_today_by_default() {
    let suite = TestSuite::start().await;
    let (employee, session) = suite.session_as("employee").await;
    let response = suite
        .http()
        .post("/expenses")
        .bearer(&session.access_token)
        .json(&json!({
            "type": " Supplies ",
            "amount": 12.5,
            "note": "<script>x</script>Paper rolls",
            "created_by": Uuid::now_v7().to_string(),
        }))
        .send()
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    let expense = response.json();
    let id = expense["id"].as_str().unwrap();
    assert_eq!(
        response.header("location"),
        Some(format!("/expenses/{id}").as_str())
    );
    assert_eq!(expense["type"], "Supplies");
    assert_eq!(expense["amount"], "12.50");
    assert_eq!(expense["note"], "xPaper rolls");
    assert_eq!(expense["created_by"], employee.id.as_str());
    assert_eq!(
        expense["date"],
        chrono::Utc::now().date_naive().to_string(),
        "today, the UTC day"
    );

    let fetched = suite
        .http()
        .get(&format!("/expenses/{id}"))
        .bearer(&session.access_token)
        .send()
        .await;
    assert_eq!(fetched.json(), expense);
    let events = audit_events(&suite, "expense", "create", id).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["actor_id"], employee.id.as_str());
    assert_eq!(events[0]["changes"]["after"]["amount"], "12.50");
}

#[tokio::test]
async fn an_admin_corrects_and_erases_an_expense_and_both_are_audited() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let expense = suite
        .http()
        .post("/expenses")
        .bearer(token)
        .json(&json!({"type": "Rent", "amount": "1200", "date": "2026-03-01"}))
        .send()
        .await
        .json();
    let id = expense["id"].as_str().unwrap();
    let path = format!("/expenses/{id}");

    let updated = suite
        .http()
        .put(&path)
        .bearer(token)
        .json(&json!({"amount": "1250.75", "note": "March, with service charge"}))
        .send()
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    let updated = updated.json();
    assert_eq!(updated["amount"], "1250.75");
    assert_eq!(updated["type"], "Rent");
    assert_eq!(updated["date"], "2026-03-01");
    assert_eq!(updated["note"], "March, with service charge");

    let deleted = suite.http().delete(&path).bearer(token).send().await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        deleted.json(),
        json!({"message": "Expense deleted successfully"})
    );
    let gone = suite.http().get(&path).bearer(token).send().await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json(), json!({"detail": "Expense not found"}));
    let again = suite.http().delete(&path).bearer(token).send().await;
    assert_eq!(again.status, 404);

    let changed = audit_events(&suite, "expense", "update", id).await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["changes"]["before"]["amount"], "1200.00");
    assert_eq!(changed[0]["changes"]["after"]["amount"], "1250.75");
    let erased = audit_events(&suite, "expense", "delete", id).await;
    assert_eq!(erased.len(), 1);
    assert_eq!(erased[0]["changes"]["before"]["amount"], "1250.75");
}

#[tokio::test]
async fn expenses_are_filtered_by_type_and_inclusive_dates_newest_first() {
    let suite = TestSuite::start().await;
    let token = suite.access_token(Role::Admin);
    for (kind, date, amount) in [
        ("Rent", "2026-01-31", "900"),
        ("Utilities", "2026-02-01", "80.40"),
        ("Rent", "2026-02-28", "900"),
        ("Supplies", "2026-03-01", "15"),
    ] {
        let response = suite
            .http()
            .post("/expenses")
            .bearer(&token)
            .json(&json!({"type": kind, "date": date, "amount": amount}))
            .send()
            .await;
        assert_eq!(response.status, 201, "{}", response.text());
    }
    let dates = |query: &str| {
        let path = format!("/expenses{query}");
        let token = token.clone();
        let suite = &suite;
        async move {
            let response = suite.http().get(&path).bearer(&token).send().await;
            assert_eq!(response.status, 200, "{}", response.text());
            let total = response.header("x-total-count").unwrap().to_owned();
            let dates: Vec<String> = response
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|expense| expense["date"].as_str().unwrap().to_owned())
                .collect();
            (dates, total)
        }
    };
    assert_eq!(
        dates("").await.0,
        ["2026-03-01", "2026-02-28", "2026-02-01", "2026-01-31"]
    );
    assert_eq!(
        dates("?type=rent").await,
        (
            vec!["2026-02-28".to_owned(), "2026-01-31".to_owned()],
            "2".to_owned()
        )
    );
    assert_eq!(
        dates("?from=2026-02-01&to=2026-02-28").await.0,
        ["2026-02-28", "2026-02-01"]
    );
    assert_eq!(dates("?to=2026-01-31").await.0, ["2026-01-31"]);
    assert_eq!(
        dates("?type=Rent&from=2026-02-01&limit=10").await.0,
        ["2026-02-28"]
    );
    assert_eq!(
        dates("?skip=3&limit=1").await,
        (vec!["2026-01-31".to_owned()], "4".to_owned())
    );

    for (query, fields) in [
        ("?from=2026-13-01", vec!["query.from"]),
        (
            "?from=yesterday&to=2026-02-30",
            vec!["query.from", "query.to"],
        ),
        ("?from=2026-03-02&to=2026-03-01", vec!["query.to"]),
        ("?limit=-1", vec!["query.limit"]),
    ] {
        let response = suite
            .http()
            .get(&format!("/expenses{query}"))
            .bearer(&token)
            .send()
            .await;
        assert_eq!(invalid_fields(&response), fields, "{query}");
    }
}

#[tokio::test]
async fn invalid_expenses_are_422_with_every_bad_field_and_store_nothing() {
    let suite = TestSuite::start().await;
    let token = suite.access_token(Role::Admin);
    for (body, fields) in [
        (
            json!({"type": "", "amount": 0, "date": "2026-02-30"}),
            vec!["body.type", "body.amount", "body.date"],
        ),
        (json!({"type": "Rent", "amount": "-5"}), vec!["body.amount"]),
        (
            json!({"type": "Rent", "amount": "abc"}),
            vec!["body.amount"],
        ),
        (
            json!({"type": "Rent", "amount": 1.005}),
            vec!["body.amount"],
        ),
        (json!({"type": "Rent"}), vec!["body.amount"]),
        (
            json!({"type": "t".repeat(51), "amount": 1, "date": "01/02/2026", "note": "n".repeat(1001)}),
            vec!["body.type", "body.date", "body.note"],
        ),
    ] {
        let response = suite
            .http()
            .post("/expenses")
            .bearer(&token)
            .json(&body)
            .send()
            .await;
        assert_eq!(invalid_fields(&response), fields, "{body}");
    }
    let listed = suite.http().get("/expenses").bearer(&token).send().await;
    assert_eq!(listed.json(), json!([]));

    let expense = suite
        .http()
        .post("/expenses")
        .bearer(&token)
        .json(&json!({"type": "Rent", "amount": 10}))
        .send()
        .await
        .json();
    let path = format!("/expenses/{}", expense["id"].as_str().unwrap());
    let bad_update = suite
        .http()
        .put(&path)
        .bearer(&token)
        .json(&json!({"amount": 0, "date": "soon"}))
        .send()
        .await;
    assert_eq!(invalid_fields(&bad_update), ["body.amount", "body.date"]);
    let unchanged = suite.http().get(&path).bearer(&token).send().await;
    assert_eq!(unchanged.json(), expense);
}

#[tokio::test]
async fn expenses_follow_the_role_table() {
    let suite = TestSuite::start().await;
    check_role_matrix(
        &suite,
        "/expenses",
        || json!({"type": "Supplies", "amount": "3.20"}),
        json!({"note": "corrected"}),
        &[
            Expected {
                role: Role::Cashier,
                statuses: NONE,
            },
            Expected {
                role: Role::Employee,
                statuses: [201, 200, 200, 403, 403],
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
async fn the_sales_service_itself_hides_expenses_from_cashiers() {
    let suite = TestSuite::start().await;
    let mut client = sales(&suite);
    let denied = client
        .list_expenses(authorized(
            &suite,
            Role::Cashier,
            ListExpensesRequest::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let invalid = client
        .create_expense(authorized(
            &suite,
            Role::Employee,
            CreateExpenseRequest {
                r#type: "Rent".to_owned(),
                amount: None,
                date: None,
                note: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
}
