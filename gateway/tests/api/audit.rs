//! The audit log through the gateway: listing with filters and keyset pagination, who may
//! read it, the hash chain's verification, append-only storage, duplicates, dead letters,
//! and one event for each audited action.

use std::time::Duration;

use redis::AsyncCommands;
use regal_config::ExposeSecret;
use regal_testkit::{TestSuite, WaitFor};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    audit_support::{stored_copies, wait_for, wait_until_audited},
    catalog_support::create_product_with,
};

const AUDIT_TIMEOUT: Duration = Duration::from_secs(20);

/// Every audited action as (service, entity, action). README's "Audited actions" table
/// must list exactly these rows; `every_audited_action_reaches_the_audit_log` drives each
/// once. Sales appends its rows here (and its driving steps in that test).
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

    wait_until_audited(&suite, &["auth", "catalog"], AUDIT_TIMEOUT).await;
    for (service, entity, action) in AUDITED_ACTIONS {
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

#[tokio::test]
async fn an_event_delivered_twice_is_stored_once() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    create_product_with(&suite, &admin.access_token, json!({})).await;
    wait_until_audited(&suite, &["auth", "catalog"], AUDIT_TIMEOUT).await;
    let events = suite.outbox_events("catalog", "create").await;
    let event = events.last().unwrap().clone();
    let event_id: Uuid = event["event_id"].as_str().unwrap().parse().unwrap();

    let client = redis::Client::open(suite.settings.redis.url.expose_secret()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let stream = &suite.settings.redis.audit_stream;
    let payload = event.to_string();
    for _ in 0..2 {
        let _: String = redis
            .xadd(
                stream,
                "*",
                &[
                    ("event_id", event_id.to_string()),
                    ("service", "catalog".into()),
                    ("seq", event["seq"].to_string()),
                    ("event", payload.clone()),
                ],
            )
            .await
            .unwrap();
    }
    wait_for("the copies to be acknowledged", AUDIT_TIMEOUT, || {
        let mut redis = redis.clone();
        async move { group_is_idle(&mut redis, stream).await }
    })
    .await;
    assert_eq!(stored_copies(&suite, event_id).await, 1);
}

/// Every entry of the stream delivered to the group and acknowledged.
async fn group_is_idle(redis: &mut redis::aio::MultiplexedConnection, stream: &str) -> bool {
    let groups: redis::streams::StreamInfoGroupsReply = match redis.xinfo_groups(stream).await {
        Ok(groups) => groups,
        Err(_) => return false,
    };
    groups
        .groups
        .iter()
        .all(|group| group.pending == 0 && group.lag == Some(0))
}

#[tokio::test]
async fn a_malformed_entry_is_set_aside_without_holding_up_the_events_behind_it() {
    // Only the stream delivers here (no gap repair), so the valid event can only come
    // through the entries behind the malformed one.
    let suite = TestSuite::start_with(
        |_, settings| {
            settings.audit.gap_check_interval = Duration::from_secs(3600);
            settings.audit.claim_idle = Duration::from_millis(200);
        },
        WaitFor::Ready,
    )
    .await;
    let client = redis::Client::open(suite.settings.redis.url.expose_secret()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let stream = suite.settings.redis.audit_stream.clone();
    let bad_id: String = redis
        .xadd(
            &stream,
            "*",
            &[
                ("event_id", "x"),
                ("service", "catalog"),
                ("seq", "1"),
                ("event", "{not json"),
            ],
        )
        .await
        .unwrap();
    let admin = suite.login_admin().await;
    let product = create_product_with(&suite, &admin.access_token, json!({})).await;

    let mut connection = suite.database().connect().await;
    let product_id = product["id"].as_str().unwrap().to_owned();
    wait_for(
        "the product's event behind the bad entry",
        AUDIT_TIMEOUT,
        || {
            let product_id = product_id.clone();
            let url = suite.database().url().to_owned();
            async move {
                let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                    .await
                    .unwrap();
                sqlx::query_scalar::<_, i64>(
                    "select count(*) from audit.audit_log where entity_id = $1",
                )
                .bind(product_id)
                .fetch_one(&mut connection)
                .await
                .unwrap_or(0)
                    == 1
            }
        },
    )
    .await;
    wait_for("the bad entry to be set aside", AUDIT_TIMEOUT, || {
        let url = suite.database().url().to_owned();
        async move {
            let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            sqlx::query_scalar::<_, i64>("select count(*) from audit.dead_letters")
                .fetch_one(&mut connection)
                .await
                .unwrap_or(0)
                == 1
        }
    })
    .await;
    let (stream_id, deliveries, fields): (String, i64, Value) =
        sqlx::query_as("select stream_id, deliveries, fields from audit.dead_letters")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    assert_eq!(stream_id, bad_id);
    assert!(deliveries >= 3, "set aside after {deliveries} deliveries");
    assert_eq!(fields["event"], "{not json");
    wait_for("nothing pending", AUDIT_TIMEOUT, || {
        let mut redis = redis.clone();
        let stream = stream.clone();
        async move { group_is_idle(&mut redis, &stream).await }
    })
    .await;
}

fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

#[tokio::test]
async fn every_producer_serves_its_outbox_by_sequence_number_to_admins_only() {
    use regal_proto::outbox::v1::{
        ListOutboxEventsRequest, outbox_service_client::OutboxServiceClient,
    };
    use regal_testkit::Part;
    use tonic::Code;

    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    create_product_with(&suite, &admin.access_token, json!({})).await;
    wait_until_audited(&suite, &["auth", "catalog"], AUDIT_TIMEOUT).await;
    let list = |after_seq: i64, limit: i32| ListOutboxEventsRequest { after_seq, limit };

    for (part, service, at_least) in [
        (Part::Auth, "auth", 2),
        (Part::Catalog, "catalog", 1),
        (Part::Sales, "sales", 0),
    ] {
        let mut client = OutboxServiceClient::new(suite.channel(part));
        let response = client
            .list_outbox_events(with_token(list(0, 0), &admin.access_token))
            .await
            .unwrap_or_else(|status| panic!("{service}: {status}"))
            .into_inner();
        assert!(response.events.len() >= at_least, "{service}");
        let seqs: Vec<i64> = response.events.iter().map(|event| event.seq).collect();
        let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
        assert_eq!(seqs, expected, "{service}: dense and in order");
        assert!(response.events.iter().all(|event| event.service == service));
        assert_eq!(response.last_seq, seqs.last().copied().unwrap_or(0));
        let after_the_end = client
            .list_outbox_events(with_token(list(response.last_seq, 10), &admin.access_token))
            .await
            .unwrap()
            .into_inner();
        assert!(after_the_end.events.is_empty());
        assert_eq!(after_the_end.last_seq, response.last_seq);
    }

    let mut catalog = OutboxServiceClient::new(suite.channel(Part::Catalog));
    let one = catalog
        .list_outbox_events(with_token(list(0, 1), &admin.access_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.events.len(), 1);
    let (_, cashier) = suite.session_as("cashier").await;
    let denied = catalog
        .list_outbox_events(with_token(list(0, 0), &cashier.access_token))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let anonymous = catalog
        .list_outbox_events(tonic::Request::new(list(0, 0)))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let negative = catalog
        .list_outbox_events(with_token(list(-1, 0), &admin.access_token))
        .await
        .unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
    // The audit service produces no events of its own.
    let mut audit = OutboxServiceClient::new(suite.channel(Part::Audit));
    let none = audit
        .list_outbox_events(with_token(list(0, 0), &admin.access_token))
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::Unimplemented);
}

#[tokio::test]
async fn the_grpc_api_lists_and_verifies_for_admins() {
    use regal_proto::audit::v1::{
        ListAuditEventsRequest, VerifyChainRequest, audit_service_client::AuditServiceClient,
    };
    use regal_testkit::Part;

    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    wait_until_audited(&suite, &["auth"], AUDIT_TIMEOUT).await;
    let mut client = AuditServiceClient::new(suite.channel(Part::Audit));
    let page = client
        .list_audit_events(with_token(
            ListAuditEventsRequest {
                action: Some("login".to_owned()),
                limit: 1,
                ..Default::default()
            },
            &admin.access_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].service, "auth");
    let verified = client
        .verify_chain(with_token(VerifyChainRequest {}, &admin.access_token))
        .await
        .unwrap()
        .into_inner();
    assert!(verified.ok);
    assert!(verified.first_bad_id.is_none());
    let (_, employee) = suite.session_as("employee").await;
    let denied = client
        .verify_chain(with_token(VerifyChainRequest {}, &employee.access_token))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
}
