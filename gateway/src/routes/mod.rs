//! The REST routes of the gateway and the assembly of the whole front door.

mod docs;
mod health;

use axum::{
    Router,
    body::Body,
    extract::Request,
    middleware::{from_fn, from_fn_with_state, map_response},
    routing::get,
};
use tower::ServiceExt;
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
};
use utoipa::OpenApi;

use crate::{grpc, http_error, middleware, state::AppState};

/// The OpenAPI document of the REST contract, served at `/openapi.json` and `/docs`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Regal POS API",
        description = "REST contract of the Regal POS gateway. The same operations exist as \
                       gRPC methods (regal.*.v1) and through gRPC-web on the same port."
    ),
    paths(
        health::root,
        health::health,
        health::health_db,
        health::health_ready,
        health::metrics,
    ),
    components(schemas(health::Message, health::GatewayHealth, health::DependencyReport)),
    tags((name = "health", description = "Liveness, readiness and metrics"))
)]
pub struct ApiDoc;

/// The whole gateway: REST for everything that is not gRPC, gRPC and gRPC-web otherwise;
/// request ids, tracing, security headers, CORS and metrics around both.
pub fn app(state: AppState, grpc_router: Router) -> Router {
    let settings = state.settings().clone();
    let rest = Router::new()
        .route("/", get(health::root))
        .route("/health", get(health::health))
        .route("/health/db", get(health::health_db))
        .route("/health/ready", get(health::health_ready))
        .route("/metrics", get(health::metrics))
        .merge(docs::router(ApiDoc::openapi()))
        .fallback(http_error::not_found)
        .method_not_allowed_fallback(http_error::method_not_allowed)
        .layer(RequestBodyLimitLayer::new(settings.gateway.max_body_bytes))
        .layer(map_response(http_error::json_error_shapes))
        .layer(from_fn(middleware::record_metrics))
        .with_state(state.clone());
    let grpc_router = grpc_router.layer(from_fn(middleware::record_metrics));

    let dispatch = tower::service_fn(move |request: Request<Body>| {
        let rest = rest.clone();
        let grpc_router = grpc_router.clone();
        async move {
            if grpc::is_grpc_request(&request) {
                grpc_router.oneshot(request).await
            } else {
                rest.oneshot(request).await
            }
        }
    });

    Router::new()
        .fallback_service(dispatch)
        .layer(middleware::cors(&settings.gateway.cors_origins))
        .layer(from_fn_with_state(state, middleware::security_headers))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(regal_telemetry::http_trace_layer())
        .layer(SetRequestIdLayer::x_request_id(
            regal_telemetry::MakeRegalRequestId,
        ))
}
