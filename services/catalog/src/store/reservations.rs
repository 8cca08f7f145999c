//! `catalog.reservations`: the stored answers of the reservation api, keyed by the
//! caller's sale or refund id.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::CatalogError;

/// Whose stock a reservation row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sale,
    Refund,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Sale => "sale",
            Kind::Refund => "refund",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReservationRow {
    pub id: Uuid,
    pub lines: Value,
    pub undone_at: Option<DateTime<Utc>>,
}

/// Claims `id` for a new reservation in the caller's transaction. `None` when claimed;
/// otherwise the row already there (a retry, or a tombstone left by an early undo),
/// locked. A concurrent claim of the same id waits for the first one's transaction.
pub async fn claim(
    connection: &mut PgConnection,
    kind: Kind,
    id: Uuid,
    created_by: Option<Uuid>,
) -> Result<Option<ReservationRow>, CatalogError> {
    let claimed = sqlx::query(
        "insert into catalog.reservations (kind, id, created_by) values ($1, $2, $3) \
         on conflict do nothing",
    )
    .bind(kind.as_str())
    .bind(id)
    .bind(created_by)
    .execute(&mut *connection)
    .await?
    .rows_affected()
        == 1;
    if claimed {
        return Ok(None);
    }
    lock(connection, kind, id).await
}

/// Records the answer of a reservation claimed in this transaction.
pub async fn store_answer(
    connection: &mut PgConnection,
    kind: Kind,
    id: Uuid,
    lines: Value,
) -> Result<(), CatalogError> {
    sqlx::query("update catalog.reservations set lines = $3 where kind = $1 and id = $2")
        .bind(kind.as_str())
        .bind(id)
        .bind(lines)
        .execute(connection)
        .await?;
    Ok(())
}

/// The reservation row, locked for the rest of the transaction.
pub async fn lock(
    connection: &mut PgConnection,
    kind: Kind,
    id: Uuid,
) -> Result<Option<ReservationRow>, CatalogError> {
    Ok(sqlx::query_as::<_, ReservationRow>(
        "select id, lines, undone_at from catalog.reservations \
         where kind = $1 and id = $2 for update",
    )
    .bind(kind.as_str())
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// Marks the reservation undone (released or reversed); for an id never reserved,
/// leaves a tombstone so that a late reservation with it moves nothing.
pub async fn mark_undone(
    connection: &mut PgConnection,
    kind: Kind,
    id: Uuid,
    actor: Option<Uuid>,
) -> Result<(), CatalogError> {
    sqlx::query(
        "insert into catalog.reservations (kind, id, created_by, undone_at) \
         values ($1, $2, $3, now()) \
         on conflict (kind, id) do update set undone_at = coalesce(catalog.reservations.undone_at, now())",
    )
    .bind(kind.as_str())
    .bind(id)
    .bind(actor)
    .execute(connection)
    .await?;
    Ok(())
}
