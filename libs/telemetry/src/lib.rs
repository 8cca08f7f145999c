//! Logging, tracing, metrics and request correlation for every Regal POS part.
//!
//! One subscriber per process (the all-in-one binary shares it between its parts), JSON
//! lines in production and readable text in development, filtered by `RUST_LOG`, one line
//! per answered request. Every request carries an `x-request-id`: the gateway accepts the
//! client's (when well formed) or makes one, forwards it to the services in gRPC metadata,
//! and each part logs it. With `OTEL_EXPORTER_OTLP_ENDPOINT` the spans are also exported
//! over OTLP, and each hop passes its own span on as the W3C `traceparent`.

use http::{HeaderMap, HeaderValue, Request};
use opentelemetry::{
    propagation::{Extractor, Injector, TextMapPropagator as _},
    trace::TraceContextExt as _,
};
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
use regal_config::{LogFormat, TelemetrySettings};
use std::{
    sync::{
        OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};
use tower_http::{
    classify::{GrpcErrorsAsFailures, ServerErrorsAsFailures, SharedClassifier},
    request_id::{MakeRequestId, RequestId},
    trace::TraceLayer,
};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, fmt, prelude::*};

pub mod metrics;

/// The header (and gRPC metadata key) that carries the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Longest client-supplied request id that is kept; longer ones are replaced.
const MAX_REQUEST_ID_LENGTH: usize = 128;

/// The span attribute that names the part (`regal-gateway`, `regal-sales`, ...) that made
/// a span. All parts of the all-in-one binary share one tracer provider, whose resource
/// can only name the process (`regal`), so each span names its part itself.
pub const SERVICE_ATTRIBUTE: &str = "regal.service";

/// Whether spans are exported (an OTLP endpoint was configured when the subscriber was
/// installed). When false, trace context is only passed on as it came, at no cost.
static EXPORTING: AtomicBool = AtomicBool::new(false);
/// The provider of the exported spans, kept to flush it on shutdown.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Installs the process-wide subscriber. Calling it again (all-in-one mode, tests) is a no-op.
///
/// With `settings.otlp_endpoint`, spans also go over OTLP/gRPC to that endpoint under the
/// resource `service.name` = `process_name` (`regal` for all parts in one process,
/// `regal-<part>` for one part alone). It must then be called inside a Tokio runtime (the
/// exporter's channel lives there). An exporter that cannot be built is logged, never fatal.
pub fn init(settings: &TelemetrySettings, process_name: &str) {
    init_with_writer(settings, process_name, std::io::stdout);
}

/// [`init`], writing the log lines to `writer` (tests capture them).
pub fn init_with_writer<W>(settings: &TelemetrySettings, process_name: &str, writer: W)
where
    W: for<'writer> fmt::MakeWriter<'writer> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_new(&settings.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let (otel, otel_error) = match settings.otlp_endpoint.as_deref() {
        Some(endpoint) => match otel_layer(endpoint, process_name) {
            Ok(layer) => (Some(layer), None),
            Err(error) => (None, Some(error)),
        },
        None => (None, None),
    };
    let exporting = otel.is_some();
    let result = match settings.log_format {
        LogFormat::Json => tracing_subscriber::registry()
            .with(otel)
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer)
                    .with_filter(filter),
            )
            .try_init(),
        LogFormat::Pretty => tracing_subscriber::registry()
            .with(otel)
            .with(
                fmt::layer()
                    .compact()
                    .with_writer(writer)
                    .with_filter(filter),
            )
            .try_init(),
    };
    // An error only means a subscriber is already installed (tests, all-in-one): keep it.
    if result.is_ok() && exporting {
        EXPORTING.store(true, Ordering::Release);
    }
    if let Some(error) = otel_error {
        tracing::warn!(error = %error, "OTLP exporter not started: spans are not exported");
    }
}

/// Installs a subscriber for tests that also exports spans to `otlp_endpoint` (a fake
/// collector), under the resource `service.name` = `regal`. Call it inside a Tokio runtime.
pub fn init_for_tests_with_otlp(
    otlp_endpoint: &str,
) -> Result<(), opentelemetry_otlp::ExporterBuildError> {
    let filter = EnvFilter::try_from_env("TEST_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let otel = otel_layer(otlp_endpoint, "regal")?;
    let result = tracing_subscriber::registry()
        .with(otel)
        .with(
            fmt::layer()
                .compact()
                .with_test_writer()
                .with_filter(filter),
        )
        .try_init();
    if result.is_ok() {
        EXPORTING.store(true, Ordering::Release);
    }
    Ok(())
}

/// The OpenTelemetry layer: every span (whatever the log filter) goes to a batch exporter.
/// Filtered per layer so `RUST_LOG` only shapes the log lines.
fn otel_layer<S>(
    endpoint: &str,
    process_name: &str,
) -> Result<
    tracing_subscriber::filter::Filtered<
        tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::SdkTracer>,
        tracing_subscriber::filter::LevelFilter,
        S,
    >,
    opentelemetry_otlp::ExporterBuildError,
>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder_empty()
                .with_service_name(process_name.to_owned())
                .build(),
        )
        .build();
    let tracer = provider.tracer("regal");
    drop(PROVIDER.set(provider));
    Ok(tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(tracing_subscriber::filter::LevelFilter::INFO))
}

/// Sends the spans still buffered (call before exit, or in a test before reading the
/// collector). Blocks: call it off the async threads (`spawn_blocking`).
pub fn flush() {
    if let Some(provider) = PROVIDER.get()
        && let Err(error) = provider.force_flush()
    {
        tracing::warn!(error = %error, "spans not flushed");
    }
}

/// Flushes and stops the exporter (on shutdown).
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(error) = provider.shutdown()
    {
        tracing::warn!(error = %error, "span exporter not shut down cleanly");
    }
}

/// Whether spans are being exported.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Acquire)
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct TraceparentInjector(Option<String>);

impl Injector for TraceparentInjector {
    fn set(&mut self, key: &str, value: String) {
        if key == TRACEPARENT {
            self.0 = Some(value);
        }
    }
}

/// The W3C trace context header (and gRPC metadata key).
pub const TRACEPARENT: &str = "traceparent";

/// Makes `span` a child of the remote span named by the `traceparent` in `headers` (the
/// caller's), when spans are exported and the header is well formed.
pub fn continue_trace(span: &Span, headers: &HeaderMap) {
    if !exporting() || !headers.contains_key(TRACEPARENT) {
        return;
    }
    let context = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    if context.span().span_context().is_valid() {
        // Fails only without an OpenTelemetry layer, which `exporting()` rules out.
        drop(span.set_parent(context));
    }
}

/// The `traceparent` naming the current span, to pass on to the next part (a call, an
/// outbox event); `None` when spans are not exported or no span is current.
pub fn current_traceparent() -> Option<String> {
    if !exporting() {
        return None;
    }
    let context = Span::current().context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut injector = TraceparentInjector(None);
    TraceContextPropagator::new().inject_context(&context, &mut injector);
    injector.0
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
    // A hyphenated UUID is plain ASCII, so the fallback is never taken; it only spares the
    // request path a panic.
    HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("unknown"))
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

/// Span for one gRPC call served by the part `part` (`sales`): method and request id, the
/// part's service name, and, when spans are exported, the caller's span as its parent.
pub fn grpc_request_span<B>(part: &str, request: &Request<B>) -> Span {
    let span = tracing::info_span!(
        "grpc",
        otel.name = %request.uri().path(),
        otel.kind = "server",
        regal.service = %format_args!("regal-{part}"),
        method = %request.uri().path(),
        request_id = %request_id_of(request),
        trace_id = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    continue_trace(&span, request.headers());
    record_trace_id(&span, request.headers());
    span
}

/// Span for one HTTP request at the gateway: method, path and request id (and the
/// client's `traceparent` as its parent, when spans are exported).
pub fn http_request_span<B>(request: &Request<B>) -> Span {
    let span = tracing::info_span!(
        "http",
        otel.name = %format_args!("{} {}", request.method(), request.uri().path()),
        otel.kind = "server",
        regal.service = "regal-gateway",
        method = %request.method(),
        path = %request.uri().path(),
        route = tracing::field::Empty,
        request_id = %request_id_of(request),
        trace_id = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    continue_trace(&span, request.headers());
    record_trace_id(&span, request.headers());
    span
}

/// Puts the trace id into a request span's `trace_id` field (for its log line): the
/// exported span's when spans are exported, else the caller's `traceparent`'s, if any.
fn record_trace_id(span: &Span, headers: &HeaderMap) {
    if exporting() {
        let context = span.context();
        let span_context = context.span().span_context().clone();
        if span_context.is_valid() {
            span.record("trace_id", tracing::field::display(span_context.trace_id()));
        }
    } else if let Some(trace_id) = headers
        .get(TRACEPARENT)
        .and_then(|value| value.to_str().ok())
        .and_then(trace_id_of_traceparent)
    {
        span.record("trace_id", trace_id);
    }
}

/// The trace id of a well-formed W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`).
fn trace_id_of_traceparent(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.split('-');
    let (_version, trace_id, span_id, _flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |text: &str, length: usize| {
        text.len() == length && text.bytes().all(|byte| byte.is_ascii_hexdigit())
    };
    (hex(trace_id, 32) && hex(span_id, 16) && trace_id.bytes().any(|byte| byte != b'0'))
        .then_some(trace_id)
}

/// Notes the matched route template (`/invoices/{id}`) of the current gateway request: its
/// log line's `route` and its span's name (`GET /invoices/{id}`, not one name per id).
pub fn record_route(method: &str, route: &str) {
    let span = Span::current();
    span.record("route", route);
    span.record(
        "otel.name",
        tracing::field::display(format_args!("{method} {route}")),
    );
}

/// Notes the authenticated caller in the current request span (its log line and span).
pub fn record_user_id(user_id: &dyn std::fmt::Display) {
    Span::current().record("user_id", tracing::field::display(user_id));
}

/// Writes the one line logged per request when it is answered: status and latency (the
/// request span adds method or route, request id, trace id and user id).
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessLog;

impl<B> tower_http::trace::OnResponse<B> for AccessLog {
    fn on_response(self, response: &http::Response<B>, latency: Duration, _span: &Span) {
        let latency_ms = latency.as_secs_f64() * 1000.0;
        let status = response.status().as_u16();
        // A gRPC error is answered trailers-only, so its code is in the headers; a call
        // that succeeds has its `grpc-status: 0` in the trailers.
        match response.headers().get("content-type") {
            Some(kind) if kind.as_bytes().starts_with(b"application/grpc") => {
                let grpc_status = response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("0");
                tracing::info!(
                    target: "regal::access",
                    status,
                    grpc_status,
                    latency_ms,
                    "request finished"
                );
            }
            _ => tracing::info!(target: "regal::access", status, latency_ms, "request finished"),
        }
    }
}

/// Makes the span of each gRPC call of one part.
#[derive(Clone, Copy, Debug)]
pub struct GrpcSpan {
    part: &'static str,
}

impl<B> tower_http::trace::MakeSpan<B> for GrpcSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        grpc_request_span(self.part, request)
    }
}

/// A trace layer whose spans come from a plain function of the request and that logs one
/// line per request.
pub type SpanTraceLayer<Classifier, B> = TraceLayer<
    SharedClassifier<Classifier>,
    fn(&Request<B>) -> Span,
    tower_http::trace::DefaultOnRequest,
    AccessLog,
>;

/// The per-request trace layer of a gRPC service (`part` names it, e.g. `sales`): one
/// span per call, one line when it ends.
pub fn grpc_trace_layer(
    part: &'static str,
) -> TraceLayer<
    SharedClassifier<GrpcErrorsAsFailures>,
    GrpcSpan,
    tower_http::trace::DefaultOnRequest,
    AccessLog,
> {
    TraceLayer::new_for_grpc()
        .make_span_with(GrpcSpan { part })
        .on_response(AccessLog)
}

/// The per-request trace layer of the gateway.
pub fn http_trace_layer<B>() -> SpanTraceLayer<ServerErrorsAsFailures, B> {
    TraceLayer::new_for_http()
        .make_span_with(http_request_span::<B> as fn(&Request<B>) -> Span)
        .on_response(AccessLog)
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
