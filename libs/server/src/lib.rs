//! What every Regal POS gRPC service does the same way: bind its port (0 in tests), keep a
//! lazy database pool, get ready (migrations and the like) with retries, report the truth
//! on `grpc.health.v1` (SERVING only once ready and while the database answers), serve
//! reflection and gRPC-web beside its own service, log each call, and stop gracefully.

mod deadline;
mod outbox_service;
mod upstream;

pub use deadline::DeadlineLayer;
pub use upstream::lazy_channel;

pub use outbox_service::{OutboxRpc, outbox_event};

use std::{future::Future, net::SocketAddr, pin::Pin, sync::Arc, time::Duration};

use regal_config::Settings;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic_health::{ServingStatus, server::HealthReporter};

pub use tokio_util::sync::CancellationToken as Shutdown;

/// How long in-flight calls may run on after a shutdown signal before the server exits.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// The shortest a health check waits for the database.
const MIN_PING_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest pause between attempts to get ready.
const MAX_READY_BACKOFF: Duration = Duration::from_secs(5);

/// A boxed background task started once the service is ready (e.g. the outbox relay).
pub type BackgroundTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Work a service does before it may report SERVING; retried until it succeeds.
pub type Prepare =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>> + Send + Sync>;

/// The bound listener, pool and health reporter of one service, before it serves.
pub struct ServiceHost {
    name: &'static str,
    grpc_service_names: Vec<&'static str>,
    listener: TcpListener,
    pool: PgPool,
    health_check_interval: Duration,
    database_timeout: Duration,
    request_timeout: Duration,
    access_tokens: Arc<regal_authz::TokenCodec>,
    drained: CancellationToken,
}

impl ServiceHost {
    /// Binds `settings.network.host:port` and builds the lazy pool of `name` (the
    /// service's schema). `grpc_service_names` are the services it serves (for health and
    /// reflection).
    pub async fn bind(
        settings: &Settings,
        name: &'static str,
        port: u16,
        grpc_service_names: Vec<&'static str>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::new(settings.network.host, port)).await?;
        let pool = regal_db::connect_lazy(&settings.database, &format!("regal-{name}"))?;
        Ok(Self {
            name,
            grpc_service_names,
            listener,
            pool,
            health_check_interval: settings.health_check_interval,
            database_timeout: settings.database.acquire_timeout,
            request_timeout: settings.request_timeout,
            access_tokens: Arc::new(regal_authz::TokenCodec::access(&settings.tokens)),
            drained: CancellationToken::new(),
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|address| address.port())
            .unwrap_or_default()
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The token the service's background tasks stop on: cancelled once the server has
    /// stopped accepting and its in-flight calls have finished (or [`DRAIN_TIMEOUT`]
    /// passed), so the outbox relay's last pass publishes what those calls committed.
    pub fn drained(&self) -> CancellationToken {
        self.drained.clone()
    }

    /// Serves `routes` (the service's own gRPC services, already wrapped in their auth
    /// interceptors) with health, reflection, gRPC-web and `regal.outbox.v1` (the
    /// service's outbox, read by the audit service), until `shutdown`.
    ///
    /// `prepare` runs first and is retried until it succeeds; only then does health turn
    /// SERVING and do the `background` tasks start. On shutdown health turns NOT_SERVING
    /// first, the listener stops accepting, in-flight calls get [`DRAIN_TIMEOUT`] to
    /// finish, then [`ServiceHost::drained`] is cancelled and the background tasks (which
    /// watch it) are awaited: the relay's last pass comes after the last commit.
    pub async fn serve(
        self,
        routes: Routes,
        prepare: Prepare,
        background: Vec<BackgroundTask>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        let monitored_names: Vec<&'static str> = std::iter::once("")
            .chain(self.grpc_service_names.iter().copied())
            .collect();
        for name in &monitored_names {
            health_reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }

        let reflection_builder = || {
            let mut builder = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(regal_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .with_service_name("grpc.health.v1.Health")
                .with_service_name(regal_proto::service_names::OUTBOX);
            for name in &self.grpc_service_names {
                builder = builder.with_service_name(*name);
            }
            builder
        };
        let reflection_v1 = reflection_builder().build_v1()?;
        let reflection_v1alpha = reflection_builder().build_v1alpha()?;

        let outbox_service =
            regal_proto::outbox::v1::outbox_service_server::OutboxServiceServer::with_interceptor(
                OutboxRpc::new(self.name, self.pool.clone()),
                regal_authz::AuthInterceptor::new(Arc::clone(&self.access_tokens)),
            );
        let routes = routes
            .add_service(outbox_service)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);

        let readiness = tokio::spawn(keep_health_true(
            self.name,
            self.pool.clone(),
            health_reporter.clone(),
            monitored_names.clone(),
            prepare,
            background,
            self.health_check_interval,
            self.database_timeout,
            shutdown.clone(),
        ));

        tracing::info!(
            service = self.name,
            port = self.port(),
            "grpc service listening"
        );
        // Our own listener (bound early for the port), so the builder's `tcp_nodelay` does
        // not apply: set it on the incoming stream, or small answers wait on Nagle.
        let incoming = TcpIncoming::from(self.listener).with_nodelay(Some(true));
        let drain_signal = shutdown.clone();
        let server = tonic::transport::Server::builder()
            .accept_http1(true)
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .layer(regal_telemetry::metrics::MetricsEndpointLayer)
            .layer(regal_telemetry::grpc_trace_layer(self.name))
            .layer(regal_telemetry::metrics::GrpcMetricsLayer::new(self.name))
            .layer(tower::util::MapRequestLayer::new(record_method_path))
            .layer(tonic_web::GrpcWebLayer::new())
            .layer(DeadlineLayer::new(self.request_timeout))
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, async move {
                drain_signal.cancelled().await;
                for name in &monitored_names {
                    health_reporter
                        .set_service_status(name, ServingStatus::NotServing)
                        .await;
                }
            });
        tokio::pin!(server);
        let result = tokio::select! {
            result = &mut server => result.map_err(anyhow::Error::from),
            () = async { shutdown.cancelled().await; tokio::time::sleep(DRAIN_TIMEOUT).await } => {
                tracing::warn!(service = self.name, "in-flight calls did not finish in time");
                Ok(())
            }
        };
        shutdown.cancel();
        self.drained.cancel();
        if let Err(error) = readiness.await {
            tracing::warn!(service = self.name, error = %error, "readiness task ended abnormally");
        }
        self.pool.close().await;
        tracing::info!(service = self.name, "grpc service stopped");
        result
    }
}

/// Puts the call's method path into the extensions, where the auth interceptor looks for
/// public methods.
fn record_method_path<B>(mut request: http::Request<B>) -> http::Request<B> {
    let path = regal_authz::MethodPath(request.uri().path().to_owned());
    request.extensions_mut().insert(path);
    request
}

#[allow(clippy::too_many_arguments)]
async fn keep_health_true(
    name: &'static str,
    pool: PgPool,
    reporter: HealthReporter,
    monitored_names: Vec<&'static str>,
    prepare: Prepare,
    background: Vec<BackgroundTask>,
    interval: Duration,
    database_timeout: Duration,
    shutdown: CancellationToken,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match prepare().await {
            Ok(()) => break,
            Err(error) => {
                tracing::warn!(service = name, error = %format!("{error:#}"), retry_in_ms = backoff.as_millis() as u64, "service not ready yet");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = shutdown.cancelled() => return,
        }
        backoff = (backoff * 2).min(MAX_READY_BACKOFF);
    }
    tracing::info!(service = name, "service ready");
    let tasks: Vec<_> = background.into_iter().map(tokio::spawn).collect();

    // A check slower than one probe period (at least a second, so a busy database does
    // not make health flap) counts as a failure: a stalled database turns the service
    // NOT_SERVING within about one period.
    let ping_timeout = database_timeout.min(interval.max(MIN_PING_TIMEOUT));
    let mut last_status = None;
    loop {
        let status = if regal_db::ping(&pool, ping_timeout).await {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        if status == ServingStatus::Serving {
            record_gauges(name, &pool, database_timeout).await;
        }
        if !shutdown.is_cancelled() && last_status != Some(status) {
            if status == ServingStatus::NotServing {
                tracing::warn!(service = name, "database unreachable: NOT_SERVING");
            } else if last_status.is_some() {
                tracing::info!(service = name, "database reachable again: SERVING");
            }
            for service_name in &monitored_names {
                reporter.set_service_status(service_name, status).await;
            }
            last_status = Some(status);
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = shutdown.cancelled() => break,
        }
    }
    for task in tasks {
        if let Err(error) = task.await {
            tracing::warn!(service = name, error = %error, "background task ended abnormally");
        }
    }
}

/// The usual preparation of a service: its own migrations, then (for producers of audit
/// events) the outbox tables, both in the service's schema.
pub fn prepare_schema(
    pool: PgPool,
    schema: &'static str,
    migrator: fn() -> sqlx::migrate::Migrator,
    outbox: Option<regal_outbox::Outbox>,
) -> Prepare {
    Box::new(move || {
        let pool = pool.clone();
        let outbox = outbox.clone();
        Box::pin(async move {
            regal_db::migrate(&pool, migrator(), schema).await?;
            if let Some(outbox) = outbox {
                outbox.migrate(&pool).await?;
            }
            Ok(())
        })
    })
}

/// The outbox relay of a service as a background task that stops (after a last flush)
/// when `shutdown` is cancelled.
pub fn outbox_relay(
    settings: &Settings,
    pool: PgPool,
    outbox: &regal_outbox::Outbox,
    shutdown: CancellationToken,
) -> anyhow::Result<BackgroundTask> {
    let redis = regal_db::redis_connection::connect_lazy(&settings.redis)?;
    let relay = regal_outbox::Relay::new(
        outbox,
        pool,
        redis,
        &settings.redis,
        settings.outbox.clone(),
    );
    Ok(Box::pin(relay.run(shutdown)))
}

/// The address of the client a call is made for: the gateway's `x-forwarded-for` (the peer
/// it saw), else the direct peer.
pub fn client_address<T>(request: &tonic::Request<T>) -> Option<String> {
    request
        .metadata()
        .get("x-forwarded-for")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .map(|address| address.trim().to_owned())
        .filter(|address| !address.is_empty())
        .or_else(|| {
            request
                .remote_addr()
                .map(|address| address.ip().to_string())
        })
}

/// Samples the gauges of a service at each health check: its database pool
/// (`db_pool_connections` by state, `db_pool_max_connections`) and its outbox
/// (`outbox_backlog_events`: events not yet published to the audit stream;
/// `outbox_relay_lag_seconds`: the age of the oldest of them, 0 when none wait).
async fn record_gauges(name: &'static str, pool: &PgPool, timeout: Duration) {
    let size = f64::from(pool.size());
    let idle = pool.num_idle() as f64;
    metrics::gauge!("db_pool_connections", "service" => name, "state" => "idle").set(idle);
    metrics::gauge!("db_pool_connections", "service" => name, "state" => "in_use")
        .set((size - idle).max(0.0));
    metrics::gauge!("db_pool_max_connections", "service" => name)
        .set(f64::from(pool.options().get_max_connections()));

    let statement = format!(
        "select count(*)::float8, coalesce(extract(epoch from now() - min(occurred_at)), 0)::float8 \
         from {name}.outbox where published_at is null"
    );
    let query = sqlx::query_as::<_, (f64, f64)>(sqlx::AssertSqlSafe(statement)).fetch_one(pool);
    match tokio::time::timeout(timeout, query).await {
        Ok(Ok((backlog, lag))) => {
            metrics::gauge!("outbox_backlog_events", "service" => name).set(backlog);
            metrics::gauge!("outbox_relay_lag_seconds", "service" => name).set(lag);
        }
        Ok(Err(error)) => {
            tracing::debug!(service = name, error = %error, "outbox backlog not sampled");
        }
        Err(_) => tracing::debug!(service = name, "outbox backlog sample timed out"),
    }
}

/// Metadata a call made on behalf of a caller carries on to the next service: the caller's
/// token (the next service authorises the same user), the request id, the client's address
/// and the trace context.
const FORWARDED_METADATA: [&str; 4] = [
    "authorization",
    "x-request-id",
    "x-forwarded-for",
    "traceparent",
];

/// `message` as a request to another service on behalf of the caller of `incoming`.
pub fn forwarded<T, U>(incoming: &tonic::Request<T>, message: U) -> tonic::Request<U> {
    let mut outgoing = tonic::Request::new(message);
    for name in FORWARDED_METADATA {
        if let Some(value) = incoming.metadata().get(name) {
            outgoing.metadata_mut().insert(name, value.clone());
        }
    }
    // When spans are exported the next service's span is a child of the current one (this
    // service's), not of the caller's.
    if let Some(traceparent) = regal_telemetry::current_traceparent()
        && let Ok(value) = traceparent.parse()
    {
        outgoing
            .metadata_mut()
            .insert(regal_telemetry::TRACEPARENT, value);
    }
    if !outgoing.metadata().contains_key("x-forwarded-for")
        && let Some(address) = client_address(incoming)
        && let Ok(value) = address.parse()
    {
        outgoing.metadata_mut().insert("x-forwarded-for", value);
    }
    outgoing
}

/// Who did it, in which request: the audit context of a call.
pub fn event_context<T>(
    request: &tonic::Request<T>,
    principal: Option<&regal_authz::Principal>,
) -> regal_outbox::EventContext {
    let metadata_text = |name: &str| {
        request
            .metadata()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    regal_outbox::EventContext {
        actor_id: principal.map(|principal| principal.user_id),
        actor_role: principal.map(|principal| principal.role.as_str().to_owned()),
        request_id: metadata_text("x-request-id"),
        client_addr: client_address(request),
        // The span that made the event when spans are exported, else the caller's context.
        trace_context: regal_telemetry::current_traceparent()
            .or_else(|| metadata_text(regal_telemetry::TRACEPARENT)),
    }
}

/// Offset and limit of a list call: negative values are invalid, a zero limit means
/// `DEFAULT_PAGE_SIZE`, and no limit exceeds `MAX_PAGE_SIZE`.
pub fn page_bounds(
    page: Option<&regal_proto::common::v1::PageRequest>,
    pagination: &regal_config::PaginationSettings,
) -> Result<(i64, i64), regal_errors::ServiceError> {
    let (skip, limit) = page.map(|page| (page.skip, page.limit)).unwrap_or((0, 0));
    let mut violations = Vec::new();
    if skip < 0 {
        violations.push(regal_errors::FieldViolation::new(
            "query.skip",
            "greater_than_equal",
            "Input should be greater than or equal to 0",
        ));
    }
    if limit < 0 {
        violations.push(regal_errors::FieldViolation::new(
            "query.limit",
            "greater_than_equal",
            "Input should be greater than or equal to 0",
        ));
    }
    if !violations.is_empty() {
        return Err(regal_errors::ServiceError::Validation(violations));
    }
    let limit = if limit == 0 {
        pagination.default_page_size
    } else {
        limit.min(pagination.max_page_size)
    };
    Ok((skip, limit))
}
