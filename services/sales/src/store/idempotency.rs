//! `sales.idempotency_keys`: one row per (user, key), claimed before the work starts and
//! completed with the id of what the work made, in the work's own transaction.

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::{error::SalesError, store::pending::NewPending};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub operation: String,
    pub request_hash: String,
    pub resource_id: Option<Uuid>,
}

/// Claims the key; `None` when this call claimed it, else the row already there. With
/// `pending`, the sale's pending row is written by the same statement, only when the key
/// is claimed (one commit, one round trip, instead of two).
pub async fn claim(
    connection: &mut PgConnection,
    user_id: Uuid,
    key: &str,
    operation: &str,
    request_hash: &str,
    pending: Option<&NewPending>,
) -> Result<Option<KeyRow>, SalesError> {
    let statement = if pending.is_some() {
        "with claimed as ( \
           insert into sales.idempotency_keys (user_id, key, operation, request_hash) \
           values ($1, $2, $3, $4) on conflict do nothing returning user_id, key) \
         insert into sales.pending_sales (id, kind, cashier_id, idempotency_key, request) \
         select $5, $6, claimed.user_id, claimed.key, $7 from claimed"
    } else {
        "insert into sales.idempotency_keys (user_id, key, operation, request_hash) \
         values ($1, $2, $3, $4) on conflict do nothing"
    };
    let mut claim = sqlx::query(statement)
        .bind(user_id)
        .bind(key)
        .bind(operation)
        .bind(request_hash);
    if let Some(pending) = pending {
        debug_assert_eq!(pending.cashier_id, user_id);
        debug_assert_eq!(pending.idempotency_key.as_deref(), Some(key));
        claim = claim
            .bind(pending.id)
            .bind(pending.kind.as_str())
            .bind(&pending.request);
    }
    let claimed = claim.execute(&mut *connection).await?.rows_affected() == 1;
    if claimed {
        return Ok(None);
    }
    find(connection, user_id, key).await
}

pub async fn find(
    connection: &mut PgConnection,
    user_id: Uuid,
    key: &str,
) -> Result<Option<KeyRow>, SalesError> {
    Ok(sqlx::query_as(
        "select operation, request_hash, resource_id from sales.idempotency_keys \
         where user_id = $1 and key = $2",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(connection)
    .await?)
}

/// Records what the work made, in the work's transaction.
pub async fn complete(
    connection: &mut PgConnection,
    user_id: Uuid,
    key: &str,
    resource_id: Uuid,
) -> Result<(), SalesError> {
    complete_all(connection, &[(user_id, key, resource_id)]).await
}

/// [`complete`] for several keys in one statement: (user, key, what the work made).
pub async fn complete_all(
    connection: &mut PgConnection,
    completed: &[(Uuid, &str, Uuid)],
) -> Result<(), SalesError> {
    if completed.is_empty() {
        return Ok(());
    }
    let user_ids: Vec<Uuid> = completed.iter().map(|(user_id, _, _)| *user_id).collect();
    let keys: Vec<&str> = completed.iter().map(|(_, key, _)| *key).collect();
    let resource_ids: Vec<Uuid> = completed.iter().map(|(_, _, id)| *id).collect();
    sqlx::query(
        "update sales.idempotency_keys as stored set resource_id = done.resource_id \
         from unnest($1::uuid[], $2::text[], $3::uuid[]) as done (user_id, key, resource_id) \
         where stored.user_id = done.user_id and stored.key = done.key",
    )
    .bind(user_ids)
    .bind(keys)
    .bind(resource_ids)
    .execute(connection)
    .await?;
    Ok(())
}

/// Frees a key whose work failed, so the request may be sent again.
pub async fn release(
    connection: &mut PgConnection,
    user_id: Uuid,
    key: &str,
) -> Result<(), SalesError> {
    sqlx::query(
        "delete from sales.idempotency_keys \
         where user_id = $1 and key = $2 and resource_id is null",
    )
    .bind(user_id)
    .bind(key)
    .execute(connection)
    .await?;
    Ok(())
}

/// Frees keys whose work never finished (the process died mid-request) once they are
/// older than `older_than` and no pending sale still holds them.
pub async fn release_stale(
    connection: &mut PgConnection,
    older_than: Duration,
) -> Result<u64, SalesError> {
    Ok(sqlx::query(
        "delete from sales.idempotency_keys k \
         where resource_id is null and created_at < now() - make_interval(secs => $1) \
           and not exists (select 1 from sales.pending_sales p \
                           where p.cashier_id = k.user_id and p.idempotency_key = k.key)",
    )
    .bind(older_than.as_secs_f64())
    .execute(connection)
    .await?
    .rows_affected())
}
