use regal_testkit::TestSuite;
use serde_json::json;

#[tokio::test]
async fn an_unknown_path_is_a_json_404() {
    let suite = TestSuite::start().await;
    let response = suite.http().get("/no/such/thing").send().await;
    assert_eq!(response.status, 404);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.json(), json!({"detail": "Not Found"}));
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405() {
    let suite = TestSuite::start().await;
    let response = suite.http().delete("/health").send().await;
    assert_eq!(response.status, 405);
    assert_eq!(response.json(), json!({"detail": "Method Not Allowed"}));
}

#[tokio::test]
async fn a_body_declared_over_one_mebibyte_is_a_json_413_before_it_is_read() {
    let suite = TestSuite::start().await;
    let response = suite
        .http()
        .raw_exchange(&format!(
            "POST /auth/login HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n\r\n",
            1024 * 1024 + 1
        ))
        .await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("application/json"), "{response}");
    assert!(
        response.ends_with(r#"{"detail":"Request body too large"}"#),
        "{response}"
    );
}

#[tokio::test]
async fn a_body_of_exactly_one_mebibyte_is_not_refused_for_its_size() {
    let suite = TestSuite::start().await;
    let body = vec![b' '; 1024 * 1024];
    let response = suite
        .http()
        .post("/health")
        .body("application/json", body)
        .send()
        .await;
    assert_eq!(response.status, 405);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_the_security_headers() {
    let suite = TestSuite::start().await;

    let generated = suite.http().get("/health").send().await;
    let request_id = generated.header("x-request-id").expect("a request id");
    assert!(!request_id.is_empty());
    assert_eq!(generated.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(generated.header("x-frame-options"), Some("DENY"));
    assert!(generated.header("referrer-policy").is_some());
    assert!(generated.header("content-security-policy").is_some());

    let echoed = suite
        .http()
        .get("/no/such/thing")
        .header("x-request-id", "till-3-req-42")
        .send()
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("till-3-req-42"));
    assert_eq!(echoed.header("x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let suite = TestSuite::start().await;
    let preflight = |origin: &'static str| {
        suite
            .http()
            .request(http::Method::OPTIONS, "/health")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
    };
    let allowed = preflight("http://localhost:3000").await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(
        allowed.header("access-control-allow-credentials"),
        Some("true")
    );

    let refused = preflight("https://evil.example").await;
    assert_eq!(refused.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn the_docs_and_openapi_are_served_from_the_binary() {
    let suite = TestSuite::start().await;

    let docs = suite.http().get("/docs").send().await;
    assert_eq!(docs.status, 200);
    assert!(
        docs.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(docs.text().contains("swagger"));
    assert!(docs.text().contains("<base href=\"/docs/\">"));
    let script = suite.http().get("/docs/swagger-ui-bundle.js").send().await;
    assert_eq!(script.status, 200);
    let initializer = suite
        .http()
        .get("/docs/swagger-initializer.js")
        .send()
        .await;
    assert!(initializer.text().contains("/openapi.json"));

    let openapi = suite.http().get("/openapi.json").send().await;
    assert_eq!(openapi.status, 200);
    let document = openapi.json();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    assert!(document["paths"]["/health/ready"].is_object());
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let suite = TestSuite::start().await;
    suite.http().get("/health").send().await;
    suite.http().get("/nothing-here").send().await;

    let metrics = suite.http().get("/metrics").send().await;
    assert_eq!(metrics.status, 200);
    let text = metrics.text();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains(r#"route="/health""#), "{text}");
    assert!(text.contains(r#"status="404""#), "{text}");
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
}
