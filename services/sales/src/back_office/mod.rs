//! The back-office use cases: customers, salesmen, expenses and custom orders. Each owns
//! its transaction and writes its audit event through the outbox inside it.
//!
//! Audit entities: `customer`, `salesman`, `expense`, `custom_order`; actions `create`
//! (changes: `{"after": ..}`), `update` (`{"before": .., "after": ..}`) and `delete`
//! (an archive for customers and salesmen: `{"before": .., "after": ..}`; an erasure for
//! expenses and custom orders: `{"before": ..}`).

mod custom_orders;
mod customers;
mod expenses;
mod salesmen;

use regal_outbox::{EventContext, NewEvent, Outbox};
use serde_json::Value;
use sqlx::{PgConnection, PgPool, Postgres, pool::PoolConnection};
use uuid::Uuid;

use crate::error::SalesError;

/// The use cases over the service's pool and outbox.
pub struct BackOffice<'a> {
    pool: &'a PgPool,
    outbox: &'a Outbox,
}

impl<'a> BackOffice<'a> {
    pub fn new(pool: &'a PgPool, outbox: &'a Outbox) -> Self {
        Self { pool, outbox }
    }

    async fn connection(&self) -> Result<PoolConnection<Postgres>, SalesError> {
        Ok(self.pool.acquire().await?)
    }

    /// Writes one audit event in the caller's transaction.
    async fn record(
        &self,
        transaction: &mut PgConnection,
        context: &EventContext,
        entity: &str,
        entity_id: Uuid,
        action: &str,
        changes: Value,
    ) -> Result<(), SalesError> {
        self.outbox
            .record(
                transaction,
                context,
                NewEvent {
                    entity,
                    entity_id: entity_id.to_string(),
                    action,
                    changes,
                },
            )
            .await?;
        Ok(())
    }
}
