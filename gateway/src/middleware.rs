//! Cross-cutting HTTP behaviour: security headers, CORS, request metrics.

use std::time::Instant;

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    http::{HeaderName, HeaderValue, Method, header},
    middleware::Next,
    response::Response,
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{grpc, state::AppState};

const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'self'";
const API_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";
/// The dashboard loads only its own bundle and talks only to this origin (gRPC-web).
const DASHBOARD_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'self'; form-action 'self'";

/// `X-Content-Type-Options`, `X-Frame-Options`, `Referrer-Policy`, a Content Security
/// Policy (relaxed for the docs page and the dashboard only) and, in production, HSTS.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let content_security_policy = if path.starts_with("/docs") {
        DOCS_CONTENT_SECURITY_POLICY
    } else if path == crate::routes::DASHBOARD_PREFIX
        || path.starts_with(&format!("{}/", crate::routes::DASHBOARD_PREFIX))
    {
        DASHBOARD_CONTENT_SECURITY_POLICY
    } else {
        API_CONTENT_SECURITY_POLICY
    };
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(content_security_policy),
    );
    if state.settings().is_production() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}

/// CORS for the configured origins only (never `*` with credentials), exposing what
/// browsers need for pagination, rate limits and gRPC-web.
pub fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    let header_names = |names: &[&'static str]| -> Vec<HeaderName> {
        names
            .iter()
            .map(|name| HeaderName::from_static(name))
            .collect()
    };
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(header_names(&[
            "authorization",
            "content-type",
            "idempotency-key",
            "x-request-id",
            "x-grpc-web",
            "x-user-agent",
            "grpc-timeout",
            "traceparent",
        ]))
        .expose_headers(header_names(&[
            "x-request-id",
            "x-total-count",
            "x-next-cursor",
            "retry-after",
            "location",
            "grpc-status",
            "grpc-message",
            "grpc-status-details-bin",
        ]))
}

/// The Prometheus text of this process (every part's metrics in the all-in-one binary).
pub fn render_metrics() -> String {
    regal_telemetry::metrics::render()
}

/// Counts each request and observes its latency, by method, route and status.
pub async fn record_metrics(request: Request<Body>, next: Next) -> Response {
    regal_telemetry::metrics::prometheus();
    let started = Instant::now();
    let method = request.method().to_string();
    let route = if grpc::is_grpc_request(&request) {
        "grpc".to_owned()
    } else {
        request
            .extensions()
            .get::<MatchedPath>()
            .map(|path| path.as_str().to_owned())
            .unwrap_or_else(|| "unmatched".to_owned())
    };
    if route != "grpc" && route != "unmatched" {
        regal_telemetry::record_route(&method, &route);
    }
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
