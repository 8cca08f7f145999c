//! What every handler shares: settings, the token verifier, the upstream channels.

use std::{sync::Arc, time::Duration};

use redis::aio::ConnectionManager;
use regal_authz::{Principal, TokenCodec, bearer_token, revocation};
use regal_config::Settings;
use regal_proto::service_names;
use sqlx::PgPool;
use tonic::transport::Channel;

/// Bound of one health probe of a dependency.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    access_tokens: TokenCodec,
    /// In [`Service`] order.
    upstreams: [Upstream; 4],
    redis: ConnectionManager,
    database: PgPool,
}

/// The services the gateway forwards to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Auth,
    Catalog,
    Sales,
    Audit,
}

/// A service the gateway forwards to.
#[derive(Clone)]
pub struct Upstream {
    /// Short name: `auth`, `catalog`, `sales`, `audit`.
    pub name: &'static str,
    /// The `regal.<name>.v1.` package prefix of its gRPC methods.
    pub package: &'static str,
    /// The fully qualified service name, for health checks.
    pub service_name: &'static str,
    pub channel: Channel,
}

impl AppState {
    pub fn new(settings: Settings) -> anyhow::Result<Self> {
        let network = &settings.network;
        let upstream = |name, package, service_name, url: &str| -> anyhow::Result<Upstream> {
            Ok(Upstream {
                name,
                package,
                service_name,
                channel: regal_server::lazy_channel(
                    url,
                    settings.gateway.upstream_timeout,
                    network.upstream_refresh_interval,
                )?,
            })
        };
        // In [`Service`] order.
        let upstreams = [
            upstream(
                "auth",
                "regal.auth.v1.",
                service_names::AUTH,
                &network.auth_url,
            )?,
            upstream(
                "catalog",
                "regal.catalog.v1.",
                service_names::CATALOG,
                &network.catalog_url,
            )?,
            upstream(
                "sales",
                "regal.sales.v1.",
                service_names::SALES,
                &network.sales_url,
            )?,
            upstream(
                "audit",
                "regal.audit.v1.",
                service_names::AUDIT,
                &network.audit_url,
            )?,
        ];
        let redis = regal_db::redis_connection::connect_lazy(&settings.redis)?;
        // The gateway owns no schema; this small pool only answers the readiness probe.
        let mut database_settings = settings.database.clone();
        database_settings.max_connections = 2;
        database_settings.acquire_timeout = PROBE_TIMEOUT;
        let database = regal_db::connect_lazy(&database_settings, "regal-gateway")?;
        Ok(Self {
            inner: Arc::new(Inner {
                access_tokens: TokenCodec::access(&settings.tokens),
                settings,
                upstreams,
                redis,
                database,
            }),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn upstreams(&self) -> &[Upstream] {
        &self.inner.upstreams
    }

    /// The upstream that owns a gRPC path like `/regal.catalog.v1.CatalogService/GetProduct`.
    pub fn upstream_for_path(&self, path: &str) -> Option<&Upstream> {
        let method = path.strip_prefix('/')?;
        self.inner
            .upstreams
            .iter()
            .find(|upstream| method.starts_with(upstream.package))
    }

    /// The channel to one service.
    pub fn channel(&self, service: Service) -> Channel {
        self.inner.upstreams[service as usize].channel.clone()
    }

    /// Resolves the caller of a request from its bearer token: signature and claims, then
    /// the Redis denylist (logged-out tokens, ended sessions). If Redis cannot be reached
    /// the token is accepted on its signature alone (selling goes on; a revoked token then
    /// lives until it expires, at most `ACCESS_TOKEN_EXPIRE_MINUTES`).
    pub async fn authenticate(
        &self,
        headers: &http::HeaderMap,
    ) -> Result<Principal, tonic::Status> {
        let header = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        let token = bearer_token(header)
            .ok_or_else(|| tonic::Status::unauthenticated("Not authenticated"))?;
        let claims = self
            .inner
            .access_tokens
            .verify_access(token)
            .map_err(|error| tonic::Status::unauthenticated(error.client_message()))?;
        let principal = Principal::from_claims(&claims)
            .map_err(|error| tonic::Status::unauthenticated(error.client_message()))?;
        regal_telemetry::record_user_id(&principal.user_id);
        let mut redis = self.inner.redis.clone();
        match revocation::is_revoked(
            &mut redis,
            &self.inner.settings.redis.key_prefix,
            &principal,
        )
        .await
        {
            Ok(false) => Ok(principal),
            Ok(true) => Err(tonic::Status::unauthenticated("Token has been revoked")),
            Err(error) => {
                tracing::warn!(error = %error, "token denylist unavailable; token accepted on its signature");
                Ok(principal)
            }
        }
    }

    pub fn redis(&self) -> ConnectionManager {
        self.inner.redis.clone()
    }

    pub fn database(&self) -> &PgPool {
        &self.inner.database
    }
}
