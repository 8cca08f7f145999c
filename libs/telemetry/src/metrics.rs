//! Prometheus metrics of the process: one recorder shared by every part (the gateway's
//! `/metrics` renders it), and the per-call metrics of the gRPC services.

use std::{
    future::Future,
    pin::Pin,
    sync::OnceLock,
    task::{Context, Poll},
    time::Instant,
};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Buckets of every `*_seconds` histogram: from half a millisecond to ten seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process's recorder (once; later calls return the same handle).
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
            // Fails only for empty buckets, which the constant is not: summaries then.
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // In tests several suites share a process; the first recorder wins and is shared.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::debug!("metrics recorder already installed");
        }
        handle
    })
}

/// The Prometheus text of this process.
pub fn render() -> String {
    prometheus().render()
}

/// Counts each gRPC call a service serves and observes its latency:
/// `grpc_server_requests_total` and `grpc_server_request_duration_seconds`, by service,
/// method and gRPC code.
#[derive(Clone, Copy, Debug)]
pub struct GrpcMetricsLayer {
    part: &'static str,
}

impl GrpcMetricsLayer {
    /// For the service `part` (`sales`).
    pub fn new(part: &'static str) -> Self {
        prometheus();
        Self { part }
    }
}

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics {
            inner,
            part: self.part,
        }
    }
}

/// The service of [`GrpcMetricsLayer`].
#[derive(Clone, Debug)]
pub struct GrpcMetrics<S> {
    inner: S,
    part: &'static str,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for GrpcMetrics<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        // The clone is ready only after poll_ready: call the ready one, keep the clone.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let part = self.part;
        let method = request.uri().path().to_owned();
        let started = Instant::now();
        Box::pin(async move {
            let result = inner.call(request).await;
            let code = match &result {
                // A failed call is answered trailers-only: its code is in the headers.
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok())
                    .map(grpc_code_name)
                    .unwrap_or("OK"),
                Err(_) => "UNAVAILABLE",
            };
            let labels = [
                ("service", part.to_owned()),
                ("method", method),
                ("code", code.to_owned()),
            ];
            metrics::counter!("grpc_server_requests_total", &labels).increment(1);
            metrics::histogram!("grpc_server_request_duration_seconds", &labels)
                .record(started.elapsed().as_secs_f64());
            result
        })
    }
}

/// The name of a numeric gRPC status code.
fn grpc_code_name(code: &str) -> &'static str {
    match code {
        "0" => "OK",
        "1" => "CANCELLED",
        "2" => "UNKNOWN",
        "3" => "INVALID_ARGUMENT",
        "4" => "DEADLINE_EXCEEDED",
        "5" => "NOT_FOUND",
        "6" => "ALREADY_EXISTS",
        "7" => "PERMISSION_DENIED",
        "8" => "RESOURCE_EXHAUSTED",
        "9" => "FAILED_PRECONDITION",
        "10" => "ABORTED",
        "11" => "OUT_OF_RANGE",
        "12" => "UNIMPLEMENTED",
        "13" => "INTERNAL",
        "14" => "UNAVAILABLE",
        "15" => "DATA_LOSS",
        "16" => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

/// Answers `GET /metrics` on a service's own port (plain HTTP/1.1 next to its gRPC) with
/// the Prometheus text of the process, so a service running alone can be scraped; every
/// other request goes on to the service.
#[derive(Clone, Copy, Debug, Default)]
pub struct MetricsEndpointLayer;

impl<S> tower::Layer<S> for MetricsEndpointLayer {
    type Service = MetricsEndpoint<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsEndpoint { inner }
    }
}

/// The service of [`MetricsEndpointLayer`].
#[derive(Clone, Debug)]
pub struct MetricsEndpoint<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for MetricsEndpoint<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    ResBody::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        if request.method() == http::Method::GET && request.uri().path() == "/metrics" {
            let mut response = http::Response::new(tonic::body::Body::new(render()));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            return Box::pin(std::future::ready(Ok(response)));
        }
        let future = self.inner.call(request);
        Box::pin(async move {
            future
                .await
                .map(|response| response.map(tonic::body::Body::new))
        })
    }
}
