//! Logging and request correlation for every Regal POS part.
//!
//! One subscriber per process (the all-in-one binary shares it between its parts), JSON
//! lines in production and readable text in development, filtered by `RUST_LOG`. Every
//! request carries an `x-request-id`: the gateway accepts the client's (when well formed)
//! or makes one, forwards it to the services in gRPC metadata, and each part logs it.

use http::{HeaderMap, HeaderValue, Request};
use regal_config::{LogFormat, TelemetrySettings};
use tower_http::{
    classify::{GrpcErrorsAsFailures, ServerErrorsAsFailures, SharedClassifier},
    request_id::{MakeRequestId, RequestId},
    trace::TraceLayer,
};
use tracing::Span;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// The header (and gRPC metadata key) that carries the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Longest client-supplied request id that is kept; longer ones are replaced.
const MAX_REQUEST_ID_LENGTH: usize = 128;

/// Installs the process-wide subscriber. Calling it again (all-in-one mode, tests) is a no-op.
pub fn init(settings: &TelemetrySettings) {
    let filter =
        EnvFilter::try_new(&settings.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let result = match settings.log_format {
        LogFormat::Json => tracing_subscriber::registry()
            .with(filter)
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => tracing_subscriber::registry()
            .with(filter)
            .with(fmt::layer().compact())
            .try_init(),
    };
    // An error only means a subscriber is already installed (tests, all-in-one): keep it.
    drop(result);
}

/// Installs a subscriber that writes to the test harness's captured output.
pub fn init_for_tests() {
    let filter = EnvFilter::try_from_env("TEST_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    drop(
        tracing_subscriber::registry()
            .with(filter)
            .with(fmt::layer().compact().with_test_writer())
            .try_init(),
    );
}

/// Returns the request id to use: the caller's when it is a sane token, else a new one.
pub fn request_id_or_new(headers: &HeaderMap) -> HeaderValue {
    headers
        .get(REQUEST_ID_HEADER)
        .filter(|value| is_acceptable_request_id(value))
        .cloned()
        .unwrap_or_else(new_request_id)
}

fn is_acceptable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_LENGTH
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_.:".contains(byte))
}

fn new_request_id() -> HeaderValue {
    HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
        .expect("a uuid is always a valid header value")
}

/// `MakeRequestId` for tower-http's `SetRequestIdLayer`: keeps a well-formed client id,
/// replaces a malformed one.
#[derive(Clone, Copy, Default)]
pub struct MakeRegalRequestId;

impl MakeRequestId for MakeRegalRequestId {
    fn make_request_id<B>(&mut self, request: &Request<B>) -> Option<RequestId> {
        Some(RequestId::new(request_id_or_new(request.headers())))
    }
}

fn request_id_of<B>(request: &Request<B>) -> &str {
    request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
}

/// Span for one gRPC call served by a service: method and request id.
pub fn grpc_request_span<B>(request: &Request<B>) -> Span {
    tracing::info_span!(
        "grpc",
        method = %request.uri().path(),
        request_id = %request_id_of(request),
    )
}

/// Span for one HTTP request at the gateway: method, path and request id.
pub fn http_request_span<B>(request: &Request<B>) -> Span {
    tracing::info_span!(
        "http",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id_of(request),
    )
}

/// A trace layer whose spans come from a plain function of the request.
pub type SpanTraceLayer<Classifier, B> =
    TraceLayer<SharedClassifier<Classifier>, fn(&Request<B>) -> Span>;

/// The per-request trace layer of a gRPC service: one span per call, one line when it ends.
pub fn grpc_trace_layer<B>() -> SpanTraceLayer<GrpcErrorsAsFailures, B> {
    TraceLayer::new_for_grpc().make_span_with(grpc_request_span::<B> as fn(&Request<B>) -> Span)
}

/// The per-request trace layer of the gateway.
pub fn http_trace_layer<B>() -> SpanTraceLayer<ServerErrorsAsFailures, B> {
    TraceLayer::new_for_http().make_span_with(http_request_span::<B> as fn(&Request<B>) -> Span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_client_request_id_is_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(
            REQUEST_ID_HEADER,
            HeaderValue::from_static("till-7:abc-123"),
        );
        assert_eq!(request_id_or_new(&headers), "till-7:abc-123");
    }

    #[test]
    fn a_malformed_or_huge_request_id_is_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("<script>"));
        assert_ne!(request_id_or_new(&headers), "<script>");
        let huge = "a".repeat(500);
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_str(&huge).unwrap());
        assert_eq!(request_id_or_new(&headers).len(), 36);
    }

    #[test]
    fn a_missing_request_id_is_made_up() {
        let id = request_id_or_new(&HeaderMap::new());
        assert!(uuid::Uuid::parse_str(id.to_str().unwrap()).is_ok());
    }
}
