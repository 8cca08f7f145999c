//! The metrics of the services, scraped from the gateway's `/metrics` (all parts share
//! the process's recorder in the suite, as in the all-in-one binary).

use std::time::Duration;

use regal_testkit::{HttpClient, Part, TestSuite};
use serde_json::json;

/// The value of the sample of `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn services_count_calls_login_failures_rate_limits_pool_and_outbox() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let user = suite.create_user(&admin, "cashier").await;
    // Five failures, then the limiter refuses the sixth attempt outright.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = suite
            .http()
            .post("/auth/login")
            .json(&json!({"username": user.username, "password": "not-the-password"}))
            .send()
            .await;
        statuses.push(response.status);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");

    // The gauges are sampled at each health check, the audit stream's every few seconds:
    // wait for both.
    let mut text = String::new();
    for _ in 0..100 {
        text = suite.http().get("/metrics").send().await.text();
        if sample(&text, "outbox_backlog_events", &[r#"service="auth""#]).is_some()
            && sample(&text, "audit_stream_pending_entries", &[]).is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let login = r#"method="/regal.auth.v1.AuthService/Login""#;
    let service = r#"service="auth""#;
    assert!(
        sample(
            &text,
            "grpc_server_requests_total",
            &[service, login, r#"code="OK""#]
        )
        .unwrap()
            >= 1.0,
        "{text}"
    );
    assert!(
        sample(
            &text,
            "grpc_server_requests_total",
            &[service, login, r#"code="UNAUTHENTICATED""#]
        )
        .unwrap()
            >= 5.0,
        "{text}"
    );
    assert!(
        sample(
            &text,
            "grpc_server_request_duration_seconds_bucket",
            &[service, login, r#"code="UNAUTHENTICATED""#, r#"le="+Inf""#]
        )
        .unwrap()
            >= 5.0,
        "{text}"
    );
    assert!(
        sample(&text, "auth_login_failures_total", &[]).unwrap() >= 5.0,
        "{text}"
    );
    assert!(
        sample(&text, "auth_login_rate_limited_total", &[]).unwrap() >= 1.0,
        "{text}"
    );
    assert!(
        sample(
            &text,
            "http_requests_total",
            &[r#"route="/auth/login""#, r#"status="429""#]
        )
        .unwrap()
            >= 1.0,
        "{text}"
    );
    for part in ["auth", "catalog", "sales"] {
        let service = format!(r#"service="{part}""#);
        assert!(
            sample(&text, "db_pool_max_connections", &[&service]).unwrap() >= 1.0,
            "{text}"
        );
        assert!(
            sample(&text, "db_pool_connections", &[&service, r#"state="idle""#]).is_some(),
            "{text}"
        );
        assert!(
            sample(&text, "outbox_backlog_events", &[&service]).unwrap() >= 0.0,
            "{text}"
        );
        assert!(
            sample(&text, "outbox_relay_lag_seconds", &[&service]).unwrap() >= 0.0,
            "{text}"
        );
    }
    assert!(
        sample(&text, "audit_stream_pending_entries", &[]).unwrap() >= 0.0,
        "{text}"
    );
    assert!(
        sample(&text, "audit_stream_lag_entries", &[]).unwrap() >= 0.0,
        "{text}"
    );

    // Each service also answers `GET /metrics` on its own port (scraped when it runs alone),
    // and a gRPC call there still works (the suite's health checks go on).
    for part in Part::SERVICES {
        let service = HttpClient::new(format!("http://127.0.0.1:{}", suite.port(part)));
        let scraped = service.get("/metrics").send().await;
        assert_eq!(scraped.status, 200, "{part:?}");
        assert!(
            scraped
                .header("content-type")
                .unwrap()
                .starts_with("text/plain"),
            "{part:?}"
        );
        assert!(
            scraped.text().contains("grpc_server_requests_total"),
            "{part:?}"
        );
    }
}
