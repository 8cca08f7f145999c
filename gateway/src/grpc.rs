//! gRPC and gRPC-web on the gateway port.
//!
//! The gateway serves `grpc.health.v1` (its own status under `""`, and each service's
//! status as last probed under the service's name) and reflection over every `regal.*`
//! contract. Every other call under `regal.<svc>.v1.` is forwarded as-is to the owning
//! service over HTTP/2, after the caller's bearer token has been verified; a call without a
//! valid token is answered UNAUTHENTICATED here and never forwarded. gRPC-web requests are
//! translated to gRPC first, so the services see one protocol.

use std::{net::SocketAddr, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{HeaderValue, Request, Response, header},
};
use tokio_util::sync::CancellationToken;
use tonic::{Status, service::Routes};
use tonic_health::{
    ServingStatus,
    pb::{HealthCheckRequest, health_check_response, health_client::HealthClient},
    server::HealthReporter,
};
use tower::{Service, ServiceExt};

use crate::state::{AppState, PROBE_TIMEOUT, Upstream};

/// Metadata the gateway sets from the connection, never from the client.
pub const CLIENT_ADDRESS_HEADER: &str = "x-forwarded-for";

/// Headers that belong to one hop and are not forwarded.
const HOP_BY_HOP_HEADERS: [&str; 6] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
];

/// True for gRPC and gRPC-web requests (by content type).
pub fn is_grpc_request<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|content_type| content_type.starts_with("application/grpc"))
}

/// The gRPC side of the gateway: health, reflection, then the forwarding proxy; wrapped
/// in the gRPC-web translation layer.
pub fn router(
    state: AppState,
    health_service: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
) -> anyhow::Result<Router> {
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(regal_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let routes = Routes::new(health_service)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?);
    let proxy = tower::service_fn(move |request: Request<Body>| {
        let state = state.clone();
        async move { Ok::<_, std::convert::Infallible>(forward(state, request).await) }
    });
    let grpc_router = routes.into_axum_router().fallback_service(proxy);
    let grpc_web = tower::ServiceBuilder::new()
        .layer(tonic_web::GrpcWebLayer::new())
        .service(grpc_router);
    Ok(
        Router::new().fallback_service(tower::service_fn(move |request: Request<Body>| {
            let grpc_web = grpc_web.clone();
            async move {
                let response = grpc_web.oneshot(request).await?;
                Ok::<_, std::convert::Infallible>(response.map(Body::new))
            }
        })),
    )
}

/// Forwards one call to its owning service, or answers it with an error status.
async fn forward(state: AppState, mut request: Request<Body>) -> Response<Body> {
    let Some(upstream) = state.upstream_for_path(request.uri().path()).cloned() else {
        return status_response(Status::unimplemented(format!(
            "unknown method {}",
            request.uri().path()
        )));
    };

    if !regal_authz::is_public_method(request.uri().path())
        && let Err(status) = state.authenticate(request.headers()).await
    {
        return status_response(status);
    }

    let client_address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip().to_string());
    let headers = request.headers_mut();
    for name in HOP_BY_HOP_HEADERS {
        headers.remove(name);
    }
    headers.remove(CLIENT_ADDRESS_HEADER);
    // When spans are exported the service's span is a child of the gateway's.
    if let Some(traceparent) = regal_telemetry::current_traceparent()
        .and_then(|traceparent| HeaderValue::from_str(&traceparent).ok())
    {
        headers.insert(regal_telemetry::TRACEPARENT, traceparent);
    }
    if let Some(address) = client_address.and_then(|address| HeaderValue::from_str(&address).ok()) {
        headers.insert(CLIENT_ADDRESS_HEADER, address);
    }

    let upstream_timeout = state.settings().gateway.upstream_timeout;
    let mut channel = upstream.channel.clone();
    let call = async {
        channel.ready().await?;
        channel.call(request.map(tonic::body::Body::new)).await
    };
    match tokio::time::timeout(upstream_timeout, call).await {
        Ok(Ok(response)) => response.map(Body::new),
        Ok(Err(error)) => {
            tracing::warn!(upstream = upstream.name, error = %error, "upstream call failed");
            status_response(Status::unavailable(format!(
                "{} service unavailable",
                upstream.name
            )))
        }
        Err(_) => status_response(Status::deadline_exceeded(format!(
            "{} service did not answer in time",
            upstream.name
        ))),
    }
}

fn status_response(status: Status) -> Response<Body> {
    status.into_http::<Body>()
}

/// Probes one service's gRPC health.
pub async fn probe(upstream: &Upstream) -> ServingStatus {
    let mut client = HealthClient::new(upstream.channel.clone());
    let request = HealthCheckRequest {
        service: upstream.service_name.to_owned(),
    };
    match tokio::time::timeout(PROBE_TIMEOUT, client.check(request)).await {
        Ok(Ok(response)) => match response.into_inner().status() {
            health_check_response::ServingStatus::Serving => ServingStatus::Serving,
            _ => ServingStatus::NotServing,
        },
        _ => ServingStatus::NotServing,
    }
}

/// Keeps the gateway's health service in step with the services' own health.
pub async fn mirror_upstream_health(
    state: AppState,
    reporter: HealthReporter,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        for upstream in state.upstreams() {
            let status = probe(upstream).await;
            reporter
                .set_service_status(upstream.service_name, status)
                .await;
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = shutdown.cancelled() => {
                reporter.set_service_status("", ServingStatus::NotServing).await;
                return;
            }
        }
    }
}
