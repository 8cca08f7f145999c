//! Builds and runs the audit service.

use std::sync::Arc;

use regal_authz::{AuthInterceptor, TokenCodec};
use regal_config::Settings;
use regal_proto::{audit::v1::audit_service_server::AuditServiceServer, service_names};
use regal_server::{Prepare, ServiceHost, Shutdown};
use sqlx::PgPool;
use tonic::service::Routes;

use crate::{SCHEMA, rpc::AuditRpc};

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

    /// Serves until `shutdown` is cancelled, then drains in-flight calls.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let pool = self.host.pool().clone();
        let interceptor = AuthInterceptor::new(Arc::new(TokenCodec::access(&self.settings.tokens)));
        let routes = Routes::new(AuditServiceServer::with_interceptor(
            AuditRpc::new(pool.clone()),
            interceptor,
        ));
        let prepare = prepare(pool);
        self.host.serve(routes, prepare, Vec::new(), shutdown).await
    }
}

/// What must be done before the service may serve: its migrations.
fn prepare(pool: PgPool) -> Prepare {
    regal_server::prepare_schema(pool, SCHEMA, || sqlx::migrate!("./migrations"), None)
}

/// Applies the migrations once and returns (`regal migrate audit`, a deployment's
/// migration job).
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let pool = regal_db::connect_lazy(&settings.database, "regal-audit-migrate")?;
    let result = prepare(pool.clone())().await;
    pool.close().await;
    result
}
