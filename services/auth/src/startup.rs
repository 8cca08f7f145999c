//! Builds and runs the auth service.

use std::sync::Arc;

use regal_authz::{AuthInterceptor, TokenCodec};
use regal_config::Settings;
use regal_outbox::Outbox;
use regal_proto::{auth::v1::auth_service_server::AuthServiceServer, service_names};
use regal_server::{Prepare, ServiceHost, Shutdown};
use sqlx::PgPool;
use tonic::service::Routes;

use crate::{SCHEMA, accounts::Accounts, admin, rpc::AuthRpc};

/// The auth service, bound to its port and ready to run.
pub struct Application {
    host: ServiceHost,
    settings: Settings,
}

impl Application {
    /// Binds `HOST:AUTH_PORT` (port 0 picks a free one) and prepares a lazy pool.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let host = ServiceHost::bind(
            &settings,
            SCHEMA,
            settings.network.auth_port,
            vec![service_names::AUTH],
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
        let redis = regal_db::redis_connection::connect_lazy(&self.settings.redis)?;
        let accounts = Accounts::new(&self.settings, pool.clone(), outbox.clone(), redis);
        let routes = Routes::new(AuthServiceServer::with_interceptor(
            AuthRpc::new(accounts, self.settings.pagination),
            interceptor,
        ));
        let prepare = prepare(&self.settings, pool);
        self.host
            .serve(routes, prepare, vec![relay], shutdown)
            .await
    }
}

/// What must be done before the service may serve: its migrations and outbox tables, then
/// the default admin; retried together until both succeed.
fn prepare(settings: &Settings, pool: PgPool) -> Prepare {
    let outbox = Outbox::new(SCHEMA);
    let migrate = regal_server::prepare_schema(
        pool.clone(),
        SCHEMA,
        || sqlx::migrate!("./migrations"),
        Some(outbox.clone()),
    );
    let settings = settings.clone();
    Box::new(move || {
        let migrated = migrate();
        let (pool, settings, outbox) = (pool.clone(), settings.clone(), outbox.clone());
        Box::pin(async move {
            migrated.await?;
            admin::ensure_default_admin(&pool, &settings, &outbox).await
        })
    })
}

/// Applies the migrations and creates the default admin once, then returns (`regal
/// migrate auth`, a deployment's migration job).
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let pool = regal_db::connect_lazy(&settings.database, "regal-auth-migrate")?;
    let result = prepare(settings, pool.clone())().await;
    pool.close().await;
    result
}
