//! `/`, `/health`, `/health/db`, `/health/ready` and `/metrics`.

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use serde::Serialize;
use tokio::task::JoinSet;
use tonic_health::ServingStatus;
use utoipa::ToSchema;

use crate::{
    grpc, middleware,
    state::{AppState, PROBE_TIMEOUT},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GatewayHealth {
    status: &'static str,
    service: &'static str,
    version: &'static str,
}

/// The state of each dependency: `serving`/`not_serving` for the services, `ok`/`down`
/// for Postgres and Redis.
#[derive(Debug, Serialize, ToSchema)]
pub struct DependencyReport {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'static str>,
    checks: BTreeMap<String, &'static str>,
}

/// Greets the caller.
#[utoipa::path(get, path = "/", tag = "health", responses((status = 200, body = Message)))]
pub async fn root() -> Json<Message> {
    Json(Message {
        message: "Welcome to Regal POS Backend API".to_owned(),
    })
}

/// Liveness of the gateway itself.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = GatewayHealth)))]
pub async fn health() -> Json<GatewayHealth> {
    Json(GatewayHealth {
        status: "healthy",
        service: "regal-pos-gateway",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// The services' database checks (each service reports NOT_SERVING while its database is
/// unreachable) and Postgres itself.
#[utoipa::path(get, path = "/health/db", tag = "health", responses(
    (status = 200, body = DependencyReport), (status = 503, body = DependencyReport)))]
pub async fn health_db(State(state): State<AppState>) -> impl IntoResponse {
    let mut checks = probe_services(&state).await;
    let database_up = regal_db::ping(state.database(), PROBE_TIMEOUT).await;
    checks.insert(
        "postgres".to_owned(),
        if database_up { "ok" } else { "down" },
    );
    let healthy = checks
        .values()
        .all(|state| matches!(*state, "ok" | "serving"));
    report(
        healthy,
        "healthy",
        "unhealthy",
        Some(if healthy { "connected" } else { "disconnected" }),
        checks,
    )
}

/// Ready only when every service answers SERVING and Postgres and Redis respond.
#[utoipa::path(get, path = "/health/ready", tag = "health", responses(
    (status = 200, body = DependencyReport), (status = 503, body = DependencyReport)))]
pub async fn health_ready(State(state): State<AppState>) -> impl IntoResponse {
    let mut checks = probe_services(&state).await;
    let database_up = regal_db::ping(state.database(), PROBE_TIMEOUT).await;
    checks.insert(
        "postgres".to_owned(),
        if database_up { "ok" } else { "down" },
    );
    let redis_up = ping_redis(&state).await;
    checks.insert("redis".to_owned(), if redis_up { "ok" } else { "down" });
    let ready = checks
        .values()
        .all(|state| matches!(*state, "ok" | "serving"));
    report(ready, "ready", "not_ready", None, checks)
}

/// Prometheus metrics of the gateway.
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, content_type = "text/plain")))]
pub async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        middleware::render_metrics(),
    )
}

fn report(
    ok: bool,
    ok_status: &'static str,
    failed_status: &'static str,
    database: Option<&'static str>,
    checks: BTreeMap<String, &'static str>,
) -> (StatusCode, Json<DependencyReport>) {
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = DependencyReport {
        status: if ok { ok_status } else { failed_status },
        database,
        checks,
    };
    (status, Json(body))
}

async fn probe_services(state: &AppState) -> BTreeMap<String, &'static str> {
    let mut probes = JoinSet::new();
    for upstream in state.upstreams().iter().cloned() {
        probes.spawn(async move {
            let status = grpc::probe(&upstream).await;
            (upstream.name, status)
        });
    }
    let mut checks = BTreeMap::new();
    while let Some(Ok((name, status))) = probes.join_next().await {
        let label = if status == ServingStatus::Serving {
            "serving"
        } else {
            "not_serving"
        };
        checks.insert(name.to_owned(), label);
    }
    checks
}

async fn ping_redis(state: &AppState) -> bool {
    let mut redis = state.redis();
    let command = redis::cmd("PING");
    let ping = command.query_async::<String>(&mut redis);
    matches!(tokio::time::timeout(PROBE_TIMEOUT, ping).await, Ok(Ok(reply)) if reply == "PONG")
}
