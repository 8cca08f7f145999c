//! The REST routes of the gateway and the assembly of the whole front door.

mod admin;
mod audit;
mod auth;
mod custom_orders;
mod customers;
mod dashboard;
mod docs;
mod drawer;
mod expenses;
mod extract;
mod fields;
mod health;
mod invoices;
mod pos_sales;
mod products;
mod refunds;
mod reports;
mod salesmen;
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
pub use dashboard::PREFIX as DASHBOARD_PREFIX;
use salesmen::PluralPaths as SalesmenPaths;

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
        customers::list,
        customers::create,
        customers::get,
        customers::update,
        customers::delete,
        salesmen::list,
        salesmen::create,
        salesmen::get,
        salesmen::update,
        salesmen::delete,
        expenses::list,
        expenses::create,
        expenses::get,
        expenses::update,
        expenses::delete,
        custom_orders::list,
        custom_orders::create,
        custom_orders::get,
        custom_orders::update,
        custom_orders::delete,
        invoices::list,
        invoices::create,
        invoices::get,
        invoices::update,
        invoices::delete,
        pos_sales::quick_sell,
        pos_sales::duplicate_bill,
        drawer::open,
        drawer::pay_in,
        drawer::pay_out,
        drawer::close,
        drawer::shift_close,
        reports::shift_report,
        reports::daily_report,
        reports::sales_report,
        admin::dashboard,
        admin::get_settings,
        admin::update_settings,
        refunds::list,
        refunds::create,
        refunds::get,
        refunds::update,
        refunds::delete,
        audit::list,
        audit::verify,
    ),
    components(schemas(health::Message, health::GatewayHealth, health::DependencyReport)),
    modifiers(&BearerSecurity, &SalesmenPaths),
    tags(
        (name = "health", description = "Liveness, readiness and metrics"),
        (name = "auth", description = "Sign in, refresh, sign out"),
        (name = "users", description = "User management (admin)"),
        (name = "products", description = "Products of the catalog"),
        (name = "vendors", description = "Suppliers of products"),
        (name = "stock", description = "The stock ledger"),
        (name = "customers", description = "Customers (archived, never erased)"),
        (name = "salesmen", description = "Salesmen, also at /salesmen"),
        (name = "expenses", description = "Shop expenses"),
        (name = "custom orders", description = "Orders made or sourced to measure"),
        (name = "invoices", description = "Invoices: drafts, sales, payments, cancellation"),
        (name = "pos", description = "The till: quick-sell, duplicate bills, the cash drawer and shifts"),
        (name = "reports", description = "Shift (X/Z), daily and sales reports"),
        (name = "admin", description = "Admin dashboard and store settings"),
        (name = "refunds", description = "Refunds of sold units"),
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
        .route("/customers", get(customers::list).post(customers::create))
        .route(
            "/customers/{id}",
            get(customers::get)
                .put(customers::update)
                .delete(customers::delete),
        )
        .route(salesmen::PATH, get(salesmen::list).post(salesmen::create))
        .route(
            salesmen::PLURAL_PATH,
            get(salesmen::list).post(salesmen::create),
        )
        .route(
            "/salesman/{id}",
            get(salesmen::get)
                .put(salesmen::update)
                .delete(salesmen::delete),
        )
        .route(
            "/salesmen/{id}",
            get(salesmen::get)
                .put(salesmen::update)
                .delete(salesmen::delete),
        )
        .route("/expenses", get(expenses::list).post(expenses::create))
        .route(
            "/expenses/{id}",
            get(expenses::get)
                .put(expenses::update)
                .delete(expenses::delete),
        )
        .route(
            "/custom-orders",
            get(custom_orders::list).post(custom_orders::create),
        )
        .route(
            "/custom-orders/{id}",
            get(custom_orders::get)
                .put(custom_orders::update)
                .delete(custom_orders::delete),
        )
        .route("/invoices", get(invoices::list).post(invoices::create))
        .route(
            "/invoices/{id}",
            get(invoices::get)
                .put(invoices::update)
                .delete(invoices::delete),
        )
        .route("/pos/quick-sell", post(pos_sales::quick_sell))
        .route(
            "/pos/duplicate-bill/{invoice_id}",
            get(pos_sales::duplicate_bill),
        )
        .route("/pos/cash-drawer/open", post(drawer::open))
        .route("/pos/cash-drawer/pay-in", post(drawer::pay_in))
        .route("/pos/cash-drawer/pay-out", post(drawer::pay_out))
        .route("/pos/cash-drawer/close", post(drawer::close))
        .route("/pos/shift-close", post(drawer::shift_close))
        .route("/pos/shift-report", get(reports::shift_report))
        .route("/pos/daily-report", get(reports::daily_report))
        .route("/pos/sales-report", get(reports::sales_report))
        .route("/admin", get(admin::dashboard))
        .route(
            "/admin/settings",
            get(admin::get_settings).put(admin::update_settings),
        )
        .route("/refunds", get(refunds::list).post(refunds::create))
        .route(
            "/refunds/{id}",
            get(refunds::get)
                .put(refunds::update)
                .delete(refunds::delete),
        )
        .route("/audit", get(audit::list))
        .route("/audit/verify", get(audit::verify))
        .merge(docs::router(ApiDoc::openapi()))
        .merge(dashboard::router())
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
