//! The per-request log line: one JSON line per request with request id, trace id, user
//! id, route, status and latency, and never a password or a token.
//!
//! Its own test binary: it installs the process-wide subscriber writing JSON into a buffer
//! before the suite starts.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use regal_config::{LogFormat, TelemetrySettings};
use regal_testkit::TestSuite;
use serde_json::{Value, json};

/// Every log line written, in one buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

#[tokio::test]
async fn each_request_logs_one_line_with_its_ids_and_no_secret_ever_appears() {
    let captured = Captured::default();
    let writer = captured.clone();
    regal_telemetry::init_with_writer(
        &TelemetrySettings {
            log_format: LogFormat::Json,
            log_filter: "info,regal_gateway=debug,regal_auth=debug,regal_server=debug,\
                         regal_authz=debug,regal_telemetry=debug"
                .to_owned(),
            otlp_endpoint: None,
        },
        "regal",
        move || writer.clone(),
    );
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let user = suite.create_user(&admin, "cashier").await;

    let wrong_password = "Wr0ng-Pa55word-xyz";
    let refused = suite
        .http()
        .post("/auth/login")
        .header("x-request-id", "log-test-refused")
        .json(&json!({"username": user.username, "password": wrong_password}))
        .send()
        .await;
    assert_eq!(refused.status, 401, "{}", refused.text());
    let login = suite
        .http()
        .post("/auth/login")
        .header("x-request-id", "log-test-login")
        .json(&json!({"username": user.username, "password": user.password}))
        .send()
        .await;
    assert_eq!(login.status, 200, "{}", login.text());
    let tokens = login.json();
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let me = suite
        .http()
        .get("/auth/me")
        .bearer(&access_token)
        .header("x-request-id", "log-test-me")
        .header("traceparent", &format!("00-{TRACE_ID}-b7ad6b7169203331-01"))
        .send()
        .await;
    assert_eq!(me.status, 200, "{}", me.text());

    let text = captured.text();
    for secret in [
        user.password.as_str(),
        wrong_password,
        access_token.as_str(),
        refresh_token.as_str(),
        admin.access_token.as_str(),
    ] {
        assert!(!text.contains(secret), "a secret was logged:\n{text}");
    }
    // Not even the signature part of a token (a log that cut the token would still leak it).
    let signature = access_token.rsplit('.').next().unwrap();
    assert!(!text.contains(signature), "a token signature was logged");

    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let finished = |request_id: &str, service: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|line| {
                line["message"] == "request finished"
                    && line["span"]["request_id"] == request_id
                    && line["span"]["regal.service"] == service
            })
            .collect()
    };

    let gateway = finished("log-test-me", "regal-gateway");
    assert_eq!(gateway.len(), 1, "one line per request: {gateway:#?}");
    let line = gateway[0];
    assert_eq!(line["status"], 200);
    assert!(line["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(line["span"]["method"], "GET");
    assert_eq!(line["span"]["path"], "/auth/me");
    assert_eq!(line["span"]["route"], "/auth/me");
    assert_eq!(line["span"]["trace_id"], TRACE_ID);
    assert_eq!(line["span"]["user_id"], user.id.as_str());

    // The service the gateway called logs its own line, with the same ids.
    let auth = finished("log-test-me", "regal-auth");
    assert_eq!(auth.len(), 1, "{auth:#?}");
    assert_eq!(auth[0]["grpc_status"], "0");
    assert_eq!(auth[0]["span"]["trace_id"], TRACE_ID);
    assert_eq!(auth[0]["span"]["user_id"], user.id.as_str());

    // A refused login is logged as such, with neither password.
    let refused = finished("log-test-refused", "regal-gateway");
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!(refused[0]["status"], 401);
    let login = finished("log-test-login", "regal-gateway");
    assert_eq!(login[0]["status"], 200);
}
