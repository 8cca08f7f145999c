//! Builds and runs the sales service.

use std::sync::Arc;

use regal_authz::{AuthInterceptor, TokenCodec};
use regal_config::Settings;
use regal_outbox::Outbox;
use regal_proto::{sales::v1::sales_service_server::SalesServiceServer, service_names};
use regal_server::{BackgroundTask, Prepare, ServiceHost, Shutdown};
use sqlx::PgPool;
use tonic::service::Routes;

use crate::{SCHEMA, rpc::SalesRpc, selling::sweeper::Sweeper};

/// The sales service, bound to its port and ready to run.
pub struct Application {
    host: ServiceHost,
    settings: Settings,
}

impl Application {
    /// Binds `HOST:SALES_PORT` (port 0 picks a free one) and prepares a lazy pool.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let host = ServiceHost::bind(
            &settings,
            SCHEMA,
            settings.network.sales_port,
            vec![service_names::SALES],
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
        let network = &self.settings.network;
        let upstream = |url: &str| {
            regal_server::lazy_channel(
                url,
                self.settings.gateway.upstream_timeout,
                network.upstream_refresh_interval,
            )
        };
        let rpc = SalesRpc::new(
            pool.clone(),
            outbox,
            upstream(&network.catalog_url)?,
            upstream(&network.auth_url)?,
            self.settings.pagination,
        );
        let routes = Routes::new(SalesServiceServer::with_interceptor(rpc, interceptor));
        let sweeper = Sweeper::new(
            pool.clone(),
            upstream(&network.catalog_url)?,
            &self.settings.tokens,
            self.settings.sales,
        );
        let sweeper: BackgroundTask = Box::pin(sweeper.run(self.host.drained()));
        let prepare = prepare(pool);
        self.host
            .serve(routes, prepare, vec![relay, sweeper], shutdown)
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

/// Applies the migrations once and returns (`regal migrate sales`, a deployment's
/// migration job).
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let pool = regal_db::connect_lazy(&settings.database, "regal-sales-migrate")?;
    let result = prepare(pool.clone())().await;
    pool.close().await;
    result
}
