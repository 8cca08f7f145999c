//! The catalog use cases. Each owns its transaction and writes its audit events through
//! the outbox inside it.

mod ledger;
mod products;
mod reservations;
mod vendors;

pub use reservations::{ReservedLine, RestockedLine};

use regal_outbox::{EventContext, NewEvent, Outbox};
use sqlx::{PgConnection, PgPool, Postgres, pool::PoolConnection};
use uuid::Uuid;

use crate::error::CatalogError;

/// Who is calling, for the ledger's `created_by` and the audit log.
#[derive(Debug, Clone)]
pub struct Caller {
    pub context: EventContext,
    pub user_id: Option<Uuid>,
}

#[derive(Clone)]
pub struct Catalog {
    pool: PgPool,
    outbox: Outbox,
}

impl Catalog {
    pub fn new(pool: PgPool, outbox: Outbox) -> Self {
        Self { pool, outbox }
    }

    async fn connection(&self) -> Result<PoolConnection<Postgres>, CatalogError> {
        Ok(self.pool.acquire().await?)
    }

    async fn record(
        &self,
        transaction: &mut PgConnection,
        caller: &Caller,
        event: NewEvent<'_>,
    ) -> Result<(), CatalogError> {
        self.outbox
            .record(transaction, &caller.context, event)
            .await?;
        Ok(())
    }
}
