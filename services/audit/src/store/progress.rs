//! Per producing service, the highest sequence number up to which every event is stored,
//! and the ranges a producer could no longer supply.

use sqlx::{PgConnection, PgPool};

/// The highest contiguous sequence number stored for `service` (0 when none).
pub async fn contiguous(pool: &PgPool, service: &str) -> Result<i64, sqlx::Error> {
    let seq: Option<i64> =
        sqlx::query_scalar("select contiguous_seq from audit.producer_progress where service = $1")
            .bind(service)
            .fetch_optional(pool)
            .await?;
    Ok(seq.unwrap_or(0))
}

/// Moves `service`'s contiguous sequence number up over every event stored since, and
/// returns it: the largest n such that every seq in (old, n] has been received.
pub async fn advance(pool: &PgPool, service: &str) -> Result<i64, sqlx::Error> {
    let mut transaction = pool.begin().await?;
    let reached = advance_in(&mut transaction, service).await?;
    transaction.commit().await?;
    Ok(reached)
}

/// [`advance`] in the caller's transaction (the append that stored the events: one commit
/// for both).
pub async fn advance_in(connection: &mut PgConnection, service: &str) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "insert into audit.producer_progress (service) values ($1) on conflict (service) do nothing",
    )
    .bind(service)
    .execute(&mut *connection)
    .await?;
    let current: i64 = sqlx::query_scalar(
        "select contiguous_seq from audit.producer_progress where service = $1 for update",
    )
    .bind(service)
    .fetch_one(&mut *connection)
    .await?;
    // seq - row_number() stays equal to `current` exactly while the numbers run on
    // without a hole.
    let reached: Option<i64> = sqlx::query_scalar(
        "select max(seq) from ( \
             select seq, seq - row_number() over (order by seq) as offset_from_run \
             from (select distinct seq from audit.received where service = $1 and seq > $2) as s \
         ) as numbered where offset_from_run = $2",
    )
    .bind(service)
    .bind(current)
    .fetch_one(&mut *connection)
    .await?;
    let reached = reached.unwrap_or(current).max(current);
    if reached > current {
        sqlx::query(
            "update audit.producer_progress set contiguous_seq = $2, updated_at = now() \
             where service = $1",
        )
        .bind(service)
        .bind(reached)
        .execute(&mut *connection)
        .await?;
    }
    Ok(reached)
}

/// Records that `service` no longer holds seq `first..=last` (expired from its outbox
/// before the audit log received them) and moves the contiguous mark over them.
pub async fn record_lost(
    pool: &PgPool,
    service: &str,
    first: i64,
    last: i64,
) -> Result<(), sqlx::Error> {
    let mut transaction = pool.begin().await?;
    sqlx::query(
        "insert into audit.lost_ranges (service, first_seq, last_seq) values ($1, $2, $3) \
         on conflict (service, first_seq) do nothing",
    )
    .bind(service)
    .bind(first)
    .bind(last)
    .execute(&mut *transaction)
    .await?;
    sqlx::query(
        "insert into audit.producer_progress (service, contiguous_seq) values ($1, $2) \
         on conflict (service) do update set contiguous_seq = greatest(audit.producer_progress.contiguous_seq, $2), \
         updated_at = now()",
    )
    .bind(service)
    .bind(last)
    .execute(&mut *transaction)
    .await?;
    transaction.commit().await
}

/// Sets aside a stream entry that could not be read as an event.
pub async fn dead_letter(
    pool: &PgPool,
    stream: &str,
    stream_id: &str,
    fields: serde_json::Value,
    reason: &str,
    deliveries: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into audit.dead_letters (stream, stream_id, fields, reason, deliveries) \
         values ($1, $2, $3, $4, $5) on conflict (stream, stream_id) do nothing",
    )
    .bind(stream)
    .bind(stream_id)
    .bind(fields)
    .bind(reason)
    .bind(deliveries)
    .execute(pool)
    .await?;
    Ok(())
}
