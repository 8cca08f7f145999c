//! `sales.pending_sales`: sales between their stock reservation and their commit. Whoever
//! deletes a row first decides the sale's fate: the commit (sold) or the sweeper
//! (released).

use std::{collections::HashSet, time::Duration};

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::SalesError;

/// 'quick_sell' | 'invoice' | 'draft'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingKind {
    QuickSell,
    Invoice,
    Draft,
}

impl PendingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QuickSell => "quick_sell",
            Self::Invoice => "invoice",
            Self::Draft => "draft",
        }
    }
}

/// A sale's pending row: written before catalog is asked for stock, so the sweeper can
/// give the stock back if the sale never reaches its commit.
#[derive(Debug, Clone)]
pub struct NewPending {
    pub id: Uuid,
    pub kind: PendingKind,
    pub cashier_id: Uuid,
    pub idempotency_key: Option<String>,
    pub request: Value,
}

pub async fn insert(connection: &mut PgConnection, pending: &NewPending) -> Result<(), SalesError> {
    sqlx::query(
        "insert into sales.pending_sales (id, kind, cashier_id, idempotency_key, request) \
         values ($1, $2, $3, $4, $5)",
    )
    .bind(pending.id)
    .bind(pending.kind.as_str())
    .bind(pending.cashier_id)
    .bind(pending.idempotency_key.as_deref())
    .bind(&pending.request)
    .execute(connection)
    .await?;
    Ok(())
}

/// The pending row of an attempt to sell draft `draft_id` under the fresh sale id
/// `sale_id`; a second attempt while one is running breaks the unique `draft_id`.
pub async fn insert_draft_sale(
    connection: &mut PgConnection,
    sale_id: Uuid,
    draft_id: Uuid,
    cashier_id: Uuid,
    request: Value,
) -> Result<(), SalesError> {
    sqlx::query(
        "insert into sales.pending_sales (id, kind, cashier_id, request, draft_id) \
         values ($1, $2, $3, $4, $5)",
    )
    .bind(sale_id)
    .bind(PendingKind::Draft.as_str())
    .bind(cashier_id)
    .bind(request)
    .bind(draft_id)
    .execute(connection)
    .await?;
    Ok(())
}

/// Takes the pending row of a sale in the caller's transaction. `false` when it is gone:
/// the sweeper already released the sale, which must then not be completed.
pub async fn take(connection: &mut PgConnection, sale_id: Uuid) -> Result<bool, SalesError> {
    Ok(take_all(connection, &[sale_id]).await?.contains(&sale_id))
}

/// Takes the pending rows of sales in the caller's transaction; returns the ids that were
/// still there (see [`take`]).
pub async fn take_all(
    connection: &mut PgConnection,
    sale_ids: &[Uuid],
) -> Result<HashSet<Uuid>, SalesError> {
    let taken: Vec<Uuid> =
        sqlx::query_scalar("delete from sales.pending_sales where id = any($1) returning id")
            .bind(sale_ids)
            .fetch_all(connection)
            .await?;
    Ok(taken.into_iter().collect())
}

/// Locks the pending rows of sales until the caller's transaction ends, without taking
/// them yet; returns the ids that are there. The sweeper skips locked rows.
pub async fn lock_all(
    connection: &mut PgConnection,
    sale_ids: &[Uuid],
) -> Result<HashSet<Uuid>, SalesError> {
    let locked: Vec<Uuid> = sqlx::query_scalar(
        "select id from sales.pending_sales where id = any($1) order by id for update",
    )
    .bind(sale_ids)
    .fetch_all(connection)
    .await?;
    Ok(locked.into_iter().collect())
}

/// A pending sale the sweeper took.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Abandoned {
    pub id: Uuid,
    pub cashier_id: Uuid,
    pub idempotency_key: Option<String>,
}

/// Takes up to `limit` sales pending for longer than `older_than`, skipping rows another
/// transaction holds (a commit in progress, or another replica's sweep). The rows stay
/// locked (deleted, uncommitted) until the caller's transaction ends.
pub async fn take_abandoned(
    connection: &mut PgConnection,
    older_than: Duration,
    limit: i64,
) -> Result<Vec<Abandoned>, SalesError> {
    Ok(sqlx::query_as(
        "delete from sales.pending_sales where id in ( \
             select id from sales.pending_sales \
             where created_at < now() - make_interval(secs => $1) \
             order by created_at limit $2 for update skip locked) \
         returning id, cashier_id, idempotency_key",
    )
    .bind(older_than.as_secs_f64())
    .bind(limit)
    .fetch_all(connection)
    .await?)
}
