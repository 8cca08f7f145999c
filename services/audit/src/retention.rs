//! Retention: partitions whose month ended more than `AUDIT_RETENTION_DAYS` ago are
//! dropped whole (no row trigger fires, no row is updated or deleted), after the hash of
//! the last dropped row is kept as the chain's checkpoint, so the rest still verifies.
//! One replica at a time (a transaction-level advisory lock); partitions for the coming
//! months are created by the same job.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use tokio_util::sync::CancellationToken;

use crate::store::{
    log::AuditLog,
    partitions::{self, Month},
};

/// Only one replica runs the retention job at a time.
const RETENTION_LOCK: i64 = 0x7265_6761_6c02; // "regal" 02
/// How often the maintenance job runs.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(3600);
/// Partitions kept ready beyond the current month.
pub const MONTHS_AHEAD: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetentionOutcome {
    /// Another replica holds the job's lock.
    Skipped,
    /// The partitions dropped (table names), possibly none.
    Done { dropped: Vec<String> },
}

/// Drops the partitions that hold only rows recorded before `now - retention_days`.
pub async fn run_once(
    log: &AuditLog,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<RetentionOutcome, sqlx::Error> {
    let cutoff = now - chrono::Duration::days(i64::from(retention_days));
    let mut transaction = log.pool().begin().await?;
    let locked: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
        .bind(RETENTION_LOCK)
        .fetch_one(&mut *transaction)
        .await?;
    if !locked {
        return Ok(RetentionOutcome::Skipped);
    }
    let expired: Vec<Month> = partitions::existing(&mut transaction)
        .await?
        .into_iter()
        .filter(|month| month.next().start().is_some_and(|end| end <= cutoff))
        .collect();
    if expired.is_empty() {
        transaction.commit().await?;
        return Ok(RetentionOutcome::Done {
            dropped: Vec::new(),
        });
    }
    // Appenders wait while the cut is made, so the checkpoint is the true end of the cut.
    sqlx::query("select 1 from audit.chain_head for update")
        .execute(&mut *transaction)
        .await?;
    let mut cut: Option<(i64, Vec<u8>)> = None;
    for month in &expired {
        let last: Option<(i64, Vec<u8>)> = sqlx::query_as(AssertSqlSafe(format!(
            "select position, hash from audit.{} order by position desc limit 1",
            month.table_name()
        )))
        .fetch_optional(&mut *transaction)
        .await?;
        if let Some(last) = last
            && cut.as_ref().is_none_or(|(position, _)| last.0 > *position)
        {
            cut = Some(last);
        }
    }
    if let Some((position, hash)) = &cut {
        sqlx::query(
            "insert into audit.chain_checkpoint (position, hash) values ($1, $2) \
             on conflict (singleton) do update set position = excluded.position, \
             hash = excluded.hash, cut_at = now() \
             where audit.chain_checkpoint.position < excluded.position",
        )
        .bind(position)
        .bind(hash)
        .execute(&mut *transaction)
        .await?;
        sqlx::query("delete from audit.received where position <= $1")
            .bind(position)
            .execute(&mut *transaction)
            .await?;
    }
    let mut dropped = Vec::new();
    for month in expired {
        let table = month.table_name();
        sqlx::query(AssertSqlSafe(format!("drop table audit.{table}")))
            .execute(&mut *transaction)
            .await?;
        dropped.push(table);
    }
    transaction.commit().await?;
    tracing::info!(dropped = ?dropped, cutoff = %cutoff, "audit log partitions past retention dropped");
    Ok(RetentionOutcome::Done { dropped })
}

/// Creates the coming months' partitions and applies retention, now and every hour.
pub async fn maintain(log: AuditLog, retention_days: u32, shutdown: CancellationToken) {
    loop {
        let now = Utc::now();
        if let Err(error) = log.ensure_partitions(now, MONTHS_AHEAD).await {
            tracing::warn!(error = %error, "creating audit log partitions failed");
        }
        match run_once(&log, retention_days, now).await {
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, "audit retention failed; will retry"),
        }
        tokio::select! {
            () = tokio::time::sleep(MAINTENANCE_EVERY) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
