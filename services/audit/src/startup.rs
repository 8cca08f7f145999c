//! Builds and runs the audit service: the gRPC API, the stream consumer, gap repair and
//! the retention job.

use std::sync::Arc;

use chrono::Utc;
use regal_authz::{AuthInterceptor, TokenCodec};
use regal_config::Settings;
use regal_proto::{audit::v1::audit_service_server::AuditServiceServer, service_names};
use regal_server::{BackgroundTask, Prepare, ServiceHost, Shutdown};
use sqlx::PgPool;
use tonic::service::Routes;

use crate::{
    SCHEMA, gaps::GapRepair, retention, rpc::AuditRpc, store::log::AuditLog, stream::StreamConsumer,
};

/// The audit service, bound to its port and ready to run.
pub struct Application {
    host: ServiceHost,
    settings: Settings,
}

impl Application {
    /// Binds `HOST:AUDIT_PORT` (port 0 picks a free one) and prepares a lazy pool.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let host = ServiceHost::bind(
            &settings,
            SCHEMA,
            settings.network.audit_port,
            vec![service_names::AUDIT],
        )
        .await?;
        Ok(Self { host, settings })
    }

    pub fn port(&self) -> u16 {
        self.host.port()
    }

    /// Serves until `shutdown` is cancelled, then drains in-flight calls and stops the
    /// consumer, gap repair and retention tasks.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let pool = self.host.pool().clone();
        let log = AuditLog::new(pool.clone());
        let interceptor = AuthInterceptor::new(Arc::new(TokenCodec::access(&self.settings.tokens)));
        let routes = Routes::new(AuditServiceServer::with_interceptor(
            AuditRpc::new(log.clone(), self.settings.pagination),
            interceptor,
        ));
        let redis = regal_db::redis_connection::connect_lazy(&self.settings.redis)?;
        let consumer = StreamConsumer::new(&self.settings, redis, log.clone());
        let gap_repair = GapRepair::new(&self.settings, log.clone())?;
        let drained = self.host.drained();
        let background: Vec<BackgroundTask> = vec![
            Box::pin(consumer.run(drained.clone())),
            Box::pin(gap_repair.run(drained.clone())),
            Box::pin(retention::maintain(
                log,
                self.settings.audit.retention_days,
                drained,
            )),
        ];
        let prepare = prepare(pool);
        self.host.serve(routes, prepare, background, shutdown).await
    }
}

/// What must be done before the service may serve: its migrations, and the partitions of
/// this month and the next ones.
fn prepare(pool: PgPool) -> Prepare {
    let migrate = regal_server::prepare_schema(
        pool.clone(),
        SCHEMA,
        || sqlx::migrate!("./migrations"),
        None,
    );
    Box::new(move || {
        let migrated = migrate();
        let log = AuditLog::new(pool.clone());
        Box::pin(async move {
            migrated.await?;
            log.ensure_partitions(Utc::now(), retention::MONTHS_AHEAD)
                .await?;
            Ok(())
        })
    })
}

/// Applies the migrations once and returns (`regal migrate audit`, a deployment's
/// migration job).
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let pool = regal_db::connect_lazy(&settings.database, "regal-audit-migrate")?;
    let result = prepare(pool.clone())().await;
    pool.close().await;
    result
}
