//! Builds and runs the catalog service.

use std::sync::Arc;

use regal_authz::{AuthInterceptor, TokenCodec};
use regal_config::Settings;
use regal_outbox::Outbox;
use regal_proto::{catalog::v1::catalog_service_server::CatalogServiceServer, service_names};
use regal_server::{Prepare, ServiceHost, Shutdown};
use sqlx::PgPool;
use tonic::service::Routes;

use crate::{SCHEMA, catalog::Catalog, rpc::CatalogRpc};

/// The catalog service, bound to its port and ready to run.
pub struct Application {
    host: ServiceHost,
    settings: Settings,
}

impl Application {
    /// Binds `HOST:CATALOG_PORT` (port 0 picks a free one) and prepares a lazy pool.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let host = ServiceHost::bind(
            &settings,
            SCHEMA,
            settings.network.catalog_port,
            vec![service_names::CATALOG],
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
        let outbox = Outbox::new(SCHEMA);
        let relay =
            regal_server::outbox_relay(&self.settings, pool.clone(), &outbox, self.host.drained())?;
        let interceptor = AuthInterceptor::new(Arc::new(TokenCodec::access(&self.settings.tokens)));
        let catalog = Catalog::new(pool.clone(), outbox);
        let routes = Routes::new(CatalogServiceServer::with_interceptor(
            CatalogRpc::new(catalog, self.settings.pagination),
            interceptor,
        ));
        let prepare = prepare(pool);
        self.host
            .serve(routes, prepare, vec![relay], shutdown)
            .await
    }
}

/// What must be done before the service may serve: its migrations and its outbox tables.
fn prepare(pool: PgPool) -> Prepare {
    regal_server::prepare_schema(
        pool,
        SCHEMA,
        || sqlx::migrate!("./migrations"),
        Some(Outbox::new(SCHEMA)),
    )
}

/// Applies the migrations once and returns (`regal migrate catalog`, a deployment's
/// migration job).
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let pool = regal_db::connect_lazy(&settings.database, "regal-catalog-migrate")?;
    let result = prepare(pool.clone())().await;
    pool.close().await;
    result
}
