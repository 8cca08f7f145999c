//! Builds and runs the auth service.

use std::sync::Arc;

use regal_authz::{AuthInterceptor, TokenCodec};
use regal_config::Settings;
use regal_outbox::Outbox;
use regal_proto::{auth::v1::auth_service_server::AuthServiceServer, service_names};
use regal_server::{ServiceHost, Shutdown};
use tonic::service::Routes;

use crate::{SCHEMA, admin, rpc::AuthRpc};

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
            regal_server::outbox_relay(&self.settings, pool.clone(), &outbox, shutdown.clone())?;
        let interceptor = AuthInterceptor::new(Arc::new(TokenCodec::access(&self.settings.tokens)));
        let routes = Routes::new(AuthServiceServer::with_interceptor(
            AuthRpc::new(pool.clone()),
            interceptor,
        ));
        let migrate = regal_server::prepare_schema(
            pool.clone(),
            SCHEMA,
            || sqlx::migrate!("./migrations"),
            Some(outbox.clone()),
        );
        let settings = self.settings.clone();
        // Migrations first, then the default admin (retried together until both succeed).
        let prepare: regal_server::Prepare = Box::new(move || {
            let migrated = migrate();
            let (pool, settings, outbox) = (pool.clone(), settings.clone(), outbox.clone());
            Box::pin(async move {
                migrated.await?;
                admin::ensure_default_admin(&pool, &settings, &outbox).await
            })
        });
        self.host
            .serve(routes, prepare, vec![relay], shutdown)
            .await
    }
}
