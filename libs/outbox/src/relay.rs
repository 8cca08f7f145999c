//! Publishes committed outbox events to the Redis stream, in sequence order.

use std::{sync::Arc, time::Duration};

use redis::aio::ConnectionManager;
use regal_config::{OutboxSettings, RedisSettings};
use sqlx::{AssertSqlSafe, PgPool};
use tokio_util::sync::CancellationToken;

use crate::{Outbox, PublishedEvent};

/// Longest pause between attempts while Redis or Postgres is failing.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often published events older than the retention period are deleted.
const RETENTION_SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The relay task of one service's outbox.
pub struct Relay {
    pool: PgPool,
    redis: ConnectionManager,
    stream: String,
    stream_max_len: u64,
    /// Whether the last attempt found the stream full (to log the change, not every poll).
    stream_full: bool,
    settings: OutboxSettings,
    queries: Arc<Queries>,
}

struct Queries {
    take_turn: String,
    lock_sequence: String,
    number_pending: String,
    advance_sequence: String,
    select_unpublished: String,
    mark_published: String,
    delete_expired: String,
}

impl Queries {
    fn new(schema: &str) -> Self {
        Self {
            // One publisher per producer at a time (a transaction-level advisory lock keyed
            // by the schema): replicas' relays never interleave their batches, so the
            // stream carries each producer's events in sequence order.
            take_turn: format!(
                "select pg_try_advisory_xact_lock(hashtextextended('regal.outbox.relay.{schema}', 0))"
            ),
            lock_sequence: format!("select last_seq from {schema}.outbox_sequence for update"),
            number_pending: format!(
                "with pending as ( \
                   select event_id, row_number() over (order by occurred_at, event_id) as position \
                   from {schema}.outbox where seq is null \
                   order by occurred_at, event_id limit $2) \
                 update {schema}.outbox o set seq = $1 + pending.position \
                 from pending where o.event_id = pending.event_id and o.seq is null"
            ),
            advance_sequence: format!(
                "update {schema}.outbox_sequence set last_seq = \
                 (select coalesce(max(seq), 0) from {schema}.outbox where seq is not null) \
                 where last_seq < (select coalesce(max(seq), 0) from {schema}.outbox where seq is not null)"
            ),
            select_unpublished: format!(
                "select event_id, seq, service, occurred_at, entity, entity_id, action, actor_id, \
                 actor_role, request_id, client_addr, trace_context, changes \
                 from {schema}.outbox where published_at is null and seq is not null \
                 order by seq limit $1 for update skip locked"
            ),
            mark_published: format!(
                "update {schema}.outbox set published_at = now() where event_id = any($1)"
            ),
            delete_expired: format!(
                "delete from {schema}.outbox where published_at < now() - make_interval(secs => $1)"
            ),
        }
    }
}

impl Relay {
    pub fn new(
        outbox: &Outbox,
        pool: PgPool,
        redis: ConnectionManager,
        redis_settings: &RedisSettings,
        settings: OutboxSettings,
    ) -> Self {
        Self {
            pool,
            redis,
            stream: redis_settings.audit_stream.clone(),
            stream_max_len: redis_settings.audit_stream_max_len,
            stream_full: false,
            settings,
            queries: Arc::new(Queries::new(outbox.schema())),
        }
    }

    /// Runs until `shutdown` is cancelled, then makes a last attempt to publish (flush).
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut backoff = self.settings.poll_interval;
        let mut last_retention_sweep = tokio::time::Instant::now();
        loop {
            let stopping = shutdown.is_cancelled();
            let pause = match self.publish_once().await {
                Ok(published) => {
                    backoff = self.settings.poll_interval;
                    if published as i64 >= self.settings.batch_size && !stopping {
                        continue;
                    }
                    self.settings.poll_interval
                }
                Err(error) => {
                    tracing::warn!(error = %error, retry_in_ms = backoff.as_millis() as u64, "outbox relay failed, will retry");
                    let pause = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    pause
                }
            };
            if stopping {
                return;
            }
            if last_retention_sweep.elapsed() >= RETENTION_SWEEP_EVERY {
                last_retention_sweep = tokio::time::Instant::now();
                if let Err(error) = self.delete_expired().await {
                    tracing::warn!(error = %error, "outbox retention sweep failed");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.cancelled() => {}
            }
        }
    }

    /// Numbers newly committed events, then publishes one batch. Returns how many were
    /// published.
    pub async fn publish_once(&mut self) -> anyhow::Result<usize> {
        self.number_pending().await?;
        self.publish_batch().await
    }

    /// Gives every committed, unnumbered event the next sequence number. The sequence
    /// row lock makes concurrent relays take turns, so numbers are dense.
    async fn number_pending(&self) -> Result<(), sqlx::Error> {
        let mut transaction = self.pool.begin().await?;
        let last_seq: i64 = sqlx::query_scalar(AssertSqlSafe(self.queries.lock_sequence.clone()))
            .fetch_one(&mut *transaction)
            .await?;
        let numbered = sqlx::query(AssertSqlSafe(self.queries.number_pending.clone()))
            .bind(last_seq)
            .bind(self.settings.batch_size)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        if numbered > 0 {
            sqlx::query(AssertSqlSafe(self.queries.advance_sequence.clone()))
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await
    }

    /// Publishes numbered, unpublished events in order, holding their row locks until
    /// they are marked published (so replicas do not publish the same rows). Another
    /// replica's relay publishing at the same moment makes this pass publish nothing.
    ///
    /// The stream is bounded without ever trimming unread entries: when it already holds
    /// `AUDIT_STREAM_MAXLEN` entries the relay publishes nothing and its events wait here
    /// (the audit service trims what its group has acknowledged, and can fetch waiting
    /// events directly by sequence number).
    async fn publish_batch(&mut self) -> anyhow::Result<usize> {
        let stream_length: u64 = redis::cmd("XLEN")
            .arg(&self.stream)
            .query_async(&mut self.redis)
            .await?;
        let room = self.stream_max_len.saturating_sub(stream_length);
        if room == 0 {
            if !self.stream_full {
                tracing::warn!(stream = %self.stream, length = stream_length, "audit stream is full; events wait in the outbox");
            }
            self.stream_full = true;
            return Ok(0);
        }
        if self.stream_full {
            tracing::info!(stream = %self.stream, "audit stream has room again; publishing");
            self.stream_full = false;
        }
        let limit = (self.settings.batch_size as u64).min(room) as i64;
        let mut transaction = self.pool.begin().await?;
        let my_turn: bool = sqlx::query_scalar(AssertSqlSafe(self.queries.take_turn.clone()))
            .fetch_one(&mut *transaction)
            .await?;
        if !my_turn {
            return Ok(0);
        }
        let events: Vec<PublishedEvent> =
            sqlx::query_as(AssertSqlSafe(self.queries.select_unpublished.clone()))
                .bind(limit)
                .fetch_all(&mut *transaction)
                .await?;
        if events.is_empty() {
            return Ok(0);
        }
        let mut pipeline = redis::pipe();
        for event in &events {
            let payload = serde_json::to_string(event)?;
            pipeline
                .cmd("XADD")
                .arg(&self.stream)
                .arg("*")
                .arg("event_id")
                .arg(event.event_id.to_string())
                .arg("service")
                .arg(&event.service)
                .arg("seq")
                .arg(event.seq)
                .arg("event")
                .arg(payload)
                .ignore();
        }
        pipeline.query_async::<()>(&mut self.redis).await?;
        let event_ids: Vec<uuid::Uuid> = events.iter().map(|event| event.event_id).collect();
        sqlx::query(AssertSqlSafe(self.queries.mark_published.clone()))
            .bind(&event_ids)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        tracing::debug!(count = events.len(), "outbox events published");
        Ok(events.len())
    }

    async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let deleted = sqlx::query(AssertSqlSafe(self.queries.delete_expired.clone()))
            .bind(self.settings.retention.as_secs_f64())
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted)
    }
}
