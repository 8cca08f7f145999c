//! `Idempotency-Key` on POST /pos/quick-sell, /invoices, /refunds and the drawer's
//! /pos/cash-drawer/pay-in and /pay-out: the same key from
//! the same user returns the first result. The key is claimed before the work starts; a
//! concurrent duplicate waits for the first to finish and returns its result; a failed
//! attempt frees the key; the same key with another request is a conflict (409).

use std::time::{Duration, Instant};

use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    error::SalesError,
    store::{idempotency as keys, pending::NewPending},
};

/// How long a duplicate waits for the first request to finish before answering 409.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(30);
const POLL_EVERY: Duration = Duration::from_millis(25);

/// An idempotency key of one user and one operation.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub user_id: Uuid,
    pub key: String,
    pub operation: &'static str,
    pub request_hash: String,
}

/// What claiming a key found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// This call does the work.
    Fresh,
    /// The work was done before: its result.
    Done(Uuid),
}

impl Key {
    /// Claims the key for this call, waiting while another call holds it. With `pending`,
    /// a sale's pending row is written together with the claim (and only then).
    pub async fn claim(
        &self,
        pool: &PgPool,
        pending: Option<&NewPending>,
    ) -> Result<Claim, SalesError> {
        let started = Instant::now();
        loop {
            let mut connection = pool.acquire().await?;
            let existing = keys::claim(
                &mut connection,
                self.user_id,
                &self.key,
                self.operation,
                &self.request_hash,
                pending,
            )
            .await?;
            drop(connection);
            let Some(row) = existing else {
                return Ok(Claim::Fresh);
            };
            if row.operation != self.operation || row.request_hash != self.request_hash {
                return Err(SalesError::Conflict(
                    "This Idempotency-Key was already used for a different request".to_owned(),
                ));
            }
            if let Some(resource_id) = row.resource_id {
                return Ok(Claim::Done(resource_id));
            }
            if started.elapsed() > WAIT_FOR_FIRST {
                return Err(SalesError::Conflict(
                    "A request with this Idempotency-Key is still in progress".to_owned(),
                ));
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Frees the key after a failed attempt (best effort: a key left behind is freed by
    /// the sweeper once stale).
    pub async fn release(&self, pool: &PgPool) {
        let result = async {
            let mut connection = pool.acquire().await?;
            keys::release(&mut connection, self.user_id, &self.key).await
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(error = %error, "idempotency key not released");
        }
    }
}
