//! The REST routes of the gateway and the assembly of the whole front door.

mod audit;
mod auth;
mod docs;
mod extract;
mod fields;
mod health;
mod products;
mod stock;
mod users;
mod vendors;

use axum::{
    Router,
    body::Body,
    extract::Request,
    middleware::{from_fn, from_fn_with_state, map_response},
    routing::{get, post},
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
        auth::login,
        auth::refresh,
        auth::logout,
        auth::me,
        users::list,
        users::create,
        users::get,
        users::update,
        users::delete,
        products::list,
        products::create,
        products::get,
        products::update,
        products::delete,
        vendors::list,
        vendors::create,
        vendors::get,
        vendors::update,
        vendors::delete,
        stock::list,
        stock::create,
        stock::get,
        stock::update,
        stock::delete,
        audit::list,
        audit::verify,
    ),
    components(schemas(health::Message, health::GatewayHealth, health::DependencyReport)),
    modifiers(&BearerSecurity),
    tags(
        (name = "health", description = "Liveness, readiness and metrics"),
        (name = "auth", description = "Sign in, refresh, sign out"),
        (name = "users", description = "User management (admin)"),
        (name = "products", description = "Products of the catalog"),
        (name = "vendors", description = "Suppliers of products"),
        (name = "stock", description = "The stock ledger"),
        (name = "audit", description = "The audit log and its verification (admin)"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the authenticated paths refer to.
struct BearerSecurity;

impl utoipa::Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

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
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/users", get(users::list).post(users::create))
        .route(
            "/users/{id}",
            get(users::get).put(users::update).delete(users::delete),
        )
        .route("/products", get(products::list).post(products::create))
        .route(
            "/products/{id}",
            get(products::get)
                .put(products::update)
                .delete(products::delete),
        )
        .route("/vendors", get(vendors::list).post(vendors::create))
        .route(
            "/vendors/{id}",
            get(vendors::get)
                .put(vendors::update)
                .delete(vendors::delete),
        )
        .route("/stock", get(stock::list).post(stock::create))
        .route(
            "/stock/{id}",
            get(stock::get).put(stock::update).delete(stock::delete),
        )
        .route("/audit", get(audit::list))
        .route("/audit/verify", get(audit::verify))
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
