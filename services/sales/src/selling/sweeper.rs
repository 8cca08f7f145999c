//! The sweeper: a background task that finishes what a crash left half done.
//!
//! - A sale pending for longer than `SALES_PENDING_SALE_TIMEOUT_MS` is abandoned: the
//!   sweeper deletes its pending row (claimed with `FOR UPDATE SKIP LOCKED`, so a commit in
//!   progress or another replica's sweep is skipped), releases its reservation in catalog
//!   (idempotent; an early release leaves a tombstone there so a late reservation takes
//!   nothing) and frees its idempotency key, all before its transaction commits: if the
//!   release fails, the row comes back and the next sweep tries again. Whoever deletes the
//!   pending row first decides: the sale's commit, or the sweeper.
//! - A refund whose restock never happened (the process died between writing the refund
//!   and restocking it) is restocked (idempotent by the refund id).
//! - Idempotency keys left in flight by a dead process are freed once stale.
//!
//! The sweeper has no user: it calls catalog with a short-lived access token it mints
//! with the shared access secret, as the admin "regal-sales-sweeper" (a fixed, reserved
//! user id that no real user has).

use std::time::Duration;

use regal_authz::{Role, TokenCodec};
use regal_config::{SalesSettings, TokenSettings};
use regal_proto::catalog::v1::{ReleaseStockRequest, catalog_service_client::CatalogServiceClient};
use regal_server::Shutdown;
use sqlx::PgPool;
use tonic::{Request, transport::Channel};
use uuid::Uuid;

use crate::{
    error::SalesError,
    store::{idempotency as keys, pending},
};

/// The sweeper's own user id on the tokens it mints and in the audit trail.
pub const SWEEPER_USER_ID: Uuid = Uuid::from_u128(0x5eed_5a1e_0000_4000_8000_0000_0000_0001);
pub const SWEEPER_USERNAME: &str = "regal-sales-sweeper";

/// How many abandoned sales one sweep takes at most.
const BATCH: i64 = 50;

pub(crate) struct Sweeper {
    pool: PgPool,
    catalog: CatalogServiceClient<Channel>,
    codec: TokenCodec,
    settings: SalesSettings,
}

impl Sweeper {
    pub fn new(
        pool: PgPool,
        catalog: Channel,
        tokens: &TokenSettings,
        settings: SalesSettings,
    ) -> Self {
        Self {
            pool,
            catalog: CatalogServiceClient::new(catalog),
            codec: TokenCodec::access(tokens),
            settings,
        }
    }

    /// Sweeps every `SALES_SWEEP_INTERVAL_MS` until `shutdown`.
    pub async fn run(self, shutdown: Shutdown) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(self.settings.sweep_interval) => {}
            }
            if let Err(error) = self.sweep().await {
                tracing::warn!(error = %error, "sweep failed; trying again later");
            }
        }
    }

    /// A catalog request carrying the sweeper's own token.
    pub(crate) fn request<T>(&self, message: T) -> Result<Request<T>, SalesError> {
        let (token, _) = self
            .codec
            .issue_access(SWEEPER_USER_ID, SWEEPER_USERNAME, Role::Admin)
            .map_err(|error| SalesError::from(anyhow::anyhow!("sweeper token: {error}")))?;
        let mut request = Request::new(message);
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| SalesError::from(anyhow::anyhow!("sweeper token is not ascii")))?;
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }

    pub(crate) fn catalog(&self) -> CatalogServiceClient<Channel> {
        self.catalog.clone()
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.settings.pending_sale_timeout
    }

    /// One pass.
    pub async fn sweep(&self) -> Result<(), SalesError> {
        self.release_abandoned_sales().await?;
        crate::refunding::finish_restocks(self).await?;
        let mut connection = self.pool.acquire().await?;
        let freed = keys::release_stale(&mut connection, self.timeout()).await?;
        if freed > 0 {
            tracing::info!(freed, "stale idempotency keys freed");
        }
        Ok(())
    }

    async fn release_abandoned_sales(&self) -> Result<(), SalesError> {
        let mut transaction = self.pool.begin().await?;
        let abandoned = pending::take_abandoned(&mut transaction, self.timeout(), BATCH).await?;
        if abandoned.is_empty() {
            return Ok(());
        }
        for sale in &abandoned {
            self.catalog()
                .release_stock(self.request(ReleaseStockRequest {
                    sale_id: sale.id.to_string(),
                })?)
                .await
                .map_err(SalesError::upstream("catalog"))?;
            if let Some(key) = &sale.idempotency_key {
                keys::release(&mut transaction, sale.cashier_id, key).await?;
            }
            tracing::warn!(sale_id = %sale.id, "abandoned sale released by the sweeper");
        }
        transaction.commit().await?;
        Ok(())
    }
}
