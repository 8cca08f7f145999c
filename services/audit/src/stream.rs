//! The consumer of the audit stream: reads it through a consumer group, stores each event
//! once (by event id), acknowledges it, claims entries a dead consumer left pending
//! (`XAUTOCLAIM`), sets aside entries that are not events after a few deliveries, and
//! trims the stream only below what every group has acknowledged.

use std::time::Duration;

use redis::{
    RedisError,
    aio::ConnectionManager,
    streams::{
        StreamAutoClaimReply, StreamId, StreamInfoConsumersReply, StreamInfoGroupsReply,
        StreamPendingCountReply, StreamPendingReply, StreamReadReply,
    },
};
use regal_config::Settings;
use tokio_util::sync::CancellationToken;

use crate::{
    domain::IncomingEvent,
    store::{log::AuditLog, progress},
};

/// Deliveries after which an entry that is not an event is set aside.
pub const MAX_DELIVERIES: usize = 3;
/// How often the stream is trimmed (and departed consumers are forgotten).
const TRIM_EVERY: Duration = Duration::from_secs(5);
/// A consumer with nothing pending that has been idle this long is removed from the group
/// (replicas of earlier deployments; their pending entries were claimed long before).
const FORGET_CONSUMER_AFTER: Duration = Duration::from_secs(3600);
/// The longest time between two looks for entries a dead consumer left pending.
const CLAIM_AT_LEAST_EVERY: Duration = Duration::from_secs(1);
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One replica's consumer of the audit stream.
pub struct StreamConsumer {
    redis: ConnectionManager,
    log: AuditLog,
    stream: String,
    group: String,
    consumer: String,
    batch_size: usize,
    claim_idle: Duration,
    /// Bound of one Redis command (`REDIS_TIMEOUT_MS`).
    command_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
enum ConsumeError {
    #[error("redis: {0}")]
    Redis(#[from] RedisError),
    #[error("redis command timed out")]
    Timeout,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl ConsumeError {
    fn is_missing_group(&self) -> bool {
        matches!(self, Self::Redis(error) if error.code() == Some("NOGROUP"))
    }
}

impl StreamConsumer {
    pub fn new(settings: &Settings, redis: ConnectionManager, log: AuditLog) -> Self {
        Self {
            redis,
            log,
            stream: settings.redis.audit_stream.clone(),
            group: settings.audit.consumer_group.clone(),
            consumer: settings.audit.consumer_name.clone(),
            batch_size: settings.audit.batch_size,
            claim_idle: settings.audit.claim_idle,
            command_timeout: settings.redis.command_timeout,
        }
    }

    /// Consumes until `shutdown`; while Redis or Postgres fails it backs off (up to 5 s).
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut group_ready = false;
        let mut claim_cursor = "0-0".to_owned();
        let mut backoff = MIN_BACKOFF;
        let mut last_trim = tokio::time::Instant::now();
        let mut last_claim: Option<tokio::time::Instant> = None;
        tracing::info!(stream = %self.stream, group = %self.group, consumer = %self.consumer, "audit stream consumer started");
        while !shutdown.is_cancelled() {
            let result = async {
                if !group_ready {
                    self.ensure_group().await?;
                    group_ready = true;
                }
                // Entries become claimable only after `claim_idle`: looking more often than
                // that (or once a second) finds nothing new, so it is not done per batch;
                // a scan that stopped mid-way goes on at once.
                let claim_every = self.claim_idle.min(CLAIM_AT_LEAST_EVERY);
                if claim_cursor != "0-0" || last_claim.is_none_or(|at| at.elapsed() >= claim_every)
                {
                    last_claim = Some(tokio::time::Instant::now());
                    self.claim_abandoned(&mut claim_cursor).await?;
                }
                self.read_new().await?;
                if last_trim.elapsed() >= TRIM_EVERY {
                    last_trim = tokio::time::Instant::now();
                    self.trim().await?;
                }
                Ok::<(), ConsumeError>(())
            }
            .await;
            match result {
                Ok(()) => backoff = MIN_BACKOFF,
                Err(error) => {
                    if error.is_missing_group() {
                        // Redis lost the stream (restarted empty): make the group again.
                        group_ready = false;
                    }
                    tracing::warn!(error = %error, retry_in_ms = backoff.as_millis() as u64, "audit stream consumer failed, will retry");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = shutdown.cancelled() => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        tracing::info!(consumer = %self.consumer, "audit stream consumer stopped");
    }

    async fn command<T: redis::FromRedisValue>(
        &mut self,
        command: &redis::Cmd,
        extra_time: Duration,
    ) -> Result<T, ConsumeError> {
        let bound = self.command_timeout + extra_time;
        match tokio::time::timeout(bound, command.query_async::<T>(&mut self.redis)).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(ConsumeError::Timeout),
        }
    }

    /// Creates the group at the stream's beginning (and the stream) unless it exists.
    async fn ensure_group(&mut self) -> Result<(), ConsumeError> {
        let mut command = redis::cmd("XGROUP");
        command
            .arg("CREATE")
            .arg(&self.stream)
            .arg(&self.group)
            .arg("0")
            .arg("MKSTREAM");
        match self.command::<()>(&command, Duration::ZERO).await {
            Err(ConsumeError::Redis(error)) if error.code() == Some("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    /// Takes over entries pending with any consumer for longer than the claim idle time
    /// (a dead replica's, or our own that failed) and handles them again.
    async fn claim_abandoned(&mut self, cursor: &mut String) -> Result<(), ConsumeError> {
        let mut command = redis::cmd("XAUTOCLAIM");
        command
            .arg(&self.stream)
            .arg(&self.group)
            .arg(&self.consumer)
            .arg(self.claim_idle.as_millis() as u64)
            .arg(cursor.as_str())
            .arg("COUNT")
            .arg(self.batch_size);
        let reply: StreamAutoClaimReply = self.command(&command, Duration::ZERO).await?;
        *cursor = reply.next_stream_id;
        if !reply.claimed.is_empty() {
            tracing::info!(
                count = reply.claimed.len(),
                "claimed audit entries left pending"
            );
            self.handle(reply.claimed).await?;
        }
        Ok(())
    }

    /// Reads entries never delivered to the group, waiting briefly when there are none.
    async fn read_new(&mut self) -> Result<(), ConsumeError> {
        let block = (self.command_timeout / 2).max(Duration::from_millis(10));
        let mut command = redis::cmd("XREADGROUP");
        command
            .arg("GROUP")
            .arg(&self.group)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(self.batch_size)
            .arg("BLOCK")
            .arg(block.as_millis() as u64)
            .arg("STREAMS")
            .arg(&self.stream)
            .arg(">");
        let reply: Option<StreamReadReply> = self.command(&command, block).await?;
        let entries: Vec<StreamId> = reply
            .map(|reply| reply.keys.into_iter().flat_map(|key| key.ids).collect())
            .unwrap_or_default();
        if !entries.is_empty() {
            self.handle(entries).await?;
        }
        Ok(())
    }

    /// Stores the events among `entries` (each once), acknowledges them, and deals with
    /// the entries that are not events.
    async fn handle(&mut self, entries: Vec<StreamId>) -> Result<(), ConsumeError> {
        let mut events = Vec::new();
        let mut event_entry_ids = Vec::new();
        let mut malformed = Vec::new();
        for entry in entries {
            let parsed = entry
                .get::<String>("event")
                .ok_or_else(|| "entry has no event field".to_owned())
                .and_then(|json| IncomingEvent::from_stream_json(&json));
            match parsed {
                Ok(event) => {
                    events.push(event);
                    event_entry_ids.push(entry.id);
                }
                Err(reason) => malformed.push((entry, reason)),
            }
        }
        if !events.is_empty() {
            let appended = self.log.append(&events).await?;
            self.acknowledge(&event_entry_ids).await?;
            tracing::debug!(
                received = events.len(),
                stored = appended.stored,
                "audit events stored"
            );
        }
        for (entry, reason) in malformed {
            self.set_aside_if_exhausted(entry, &reason).await?;
        }
        Ok(())
    }

    async fn acknowledge(&mut self, ids: &[String]) -> Result<(), ConsumeError> {
        let mut command = redis::cmd("XACK");
        command.arg(&self.stream).arg(&self.group).arg(ids);
        self.command::<i64>(&command, Duration::ZERO).await?;
        Ok(())
    }

    /// An entry that is not an event stays pending (and is delivered again after the
    /// claim idle time) until it has been delivered [`MAX_DELIVERIES`] times; then it is
    /// copied to `audit.dead_letters` and acknowledged, so it blocks nothing.
    async fn set_aside_if_exhausted(
        &mut self,
        entry: StreamId,
        reason: &str,
    ) -> Result<(), ConsumeError> {
        let mut command = redis::cmd("XPENDING");
        command
            .arg(&self.stream)
            .arg(&self.group)
            .arg(&entry.id)
            .arg(&entry.id)
            .arg(1);
        let pending: StreamPendingCountReply = self.command(&command, Duration::ZERO).await?;
        let deliveries = pending
            .ids
            .first()
            .map_or(MAX_DELIVERIES, |pending| pending.times_delivered);
        if deliveries < MAX_DELIVERIES {
            tracing::warn!(entry_id = %entry.id, deliveries, reason, "audit stream entry is not an event; will retry");
            return Ok(());
        }
        let fields: serde_json::Map<String, serde_json::Value> = entry
            .map
            .keys()
            .map(|key| {
                let value = entry.get::<String>(key).unwrap_or_default();
                (key.clone(), serde_json::Value::String(value))
            })
            .collect();
        progress::dead_letter(
            self.log.pool(),
            &self.stream,
            &entry.id,
            serde_json::Value::Object(fields),
            reason,
            deliveries as i64,
        )
        .await?;
        self.acknowledge(std::slice::from_ref(&entry.id)).await?;
        tracing::error!(entry_id = %entry.id, deliveries, reason, "audit stream entry set aside as a dead letter");
        Ok(())
    }

    /// Trims the stream below the oldest entry any group still needs, and forgets
    /// consumers long gone.
    async fn trim(&mut self) -> Result<(), ConsumeError> {
        trim_acknowledged(&mut self.redis, &self.stream, self.command_timeout).await?;
        self.record_lag().await?;
        let mut command = redis::cmd("XINFO");
        command.arg("CONSUMERS").arg(&self.stream).arg(&self.group);
        let consumers: StreamInfoConsumersReply = self.command(&command, Duration::ZERO).await?;
        for consumer in consumers.consumers {
            let departed = consumer.pending == 0
                && consumer.idle as u128 > FORGET_CONSUMER_AFTER.as_millis()
                && consumer.name != self.consumer;
            if departed {
                let mut command = redis::cmd("XGROUP");
                command
                    .arg("DELCONSUMER")
                    .arg(&self.stream)
                    .arg(&self.group)
                    .arg(&consumer.name);
                self.command::<i64>(&command, Duration::ZERO).await?;
                tracing::info!(consumer = %consumer.name, "idle audit consumer removed from the group");
            }
        }
        Ok(())
    }
}

impl StreamConsumer {
    /// Samples the group's gauges: `audit_stream_pending_entries` (delivered, not yet
    /// acknowledged) and `audit_stream_lag_entries` (in the stream, not yet delivered).
    async fn record_lag(&mut self) -> Result<(), ConsumeError> {
        let mut command = redis::cmd("XINFO");
        command.arg("GROUPS").arg(&self.stream);
        let groups: StreamInfoGroupsReply = self.command(&command, Duration::ZERO).await?;
        if let Some(group) = groups.groups.iter().find(|group| group.name == self.group) {
            metrics::gauge!("audit_stream_pending_entries", "group" => self.group.clone())
                .set(group.pending as f64);
            // Redis cannot always tell the lag (after entries were deleted): keep the last.
            if let Some(lag) = group.lag {
                metrics::gauge!("audit_stream_lag_entries", "group" => self.group.clone())
                    .set(lag as f64);
            }
        }
        Ok(())
    }
}

/// Removes the entries every consumer group of `stream` has acknowledged: those older than
/// the oldest pending entry of any group and than any group's last delivered entry.
/// Returns how many were removed.
pub async fn trim_acknowledged(
    redis: &mut ConnectionManager,
    stream: &str,
    timeout: Duration,
) -> Result<u64, RedisError> {
    let groups: StreamInfoGroupsReply = bounded(
        timeout,
        redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(stream)
            .query_async(redis),
    )
    .await?;
    let mut keep_from: Option<(u64, u64)> = None;
    for group in &groups.groups {
        let mut needed = parse_id(&group.last_delivered_id);
        if group.pending > 0 {
            let pending: StreamPendingReply = bounded(
                timeout,
                redis::cmd("XPENDING")
                    .arg(stream)
                    .arg(&group.name)
                    .query_async(redis),
            )
            .await?;
            if let StreamPendingReply::Data(data) = pending {
                needed = needed.min(parse_id(&data.start_id));
            }
        }
        keep_from = Some(keep_from.map_or(needed, |current| current.min(needed)));
    }
    let Some((milliseconds, sequence)) = keep_from else {
        return Ok(0);
    };
    if (milliseconds, sequence) == (0, 0) {
        return Ok(0);
    }
    bounded(
        timeout,
        redis::cmd("XTRIM")
            .arg(stream)
            .arg("MINID")
            .arg(format!("{milliseconds}-{sequence}"))
            .query_async(redis),
    )
    .await
}

async fn bounded<T>(
    timeout: Duration,
    future: impl Future<Output = Result<T, RedisError>>,
) -> Result<T, RedisError> {
    tokio::time::timeout(timeout, future)
        .await
        .unwrap_or_else(|_| {
            Err(RedisError::from((
                redis::ErrorKind::Io,
                "redis command timed out",
            )))
        })
}

/// A stream id `<ms>-<seq>` as a comparable pair (unparsable ids count as the oldest).
fn parse_id(id: &str) -> (u64, u64) {
    let (milliseconds, sequence) = id.split_once('-').unwrap_or((id, "0"));
    (
        milliseconds.parse().unwrap_or(0),
        sequence.parse().unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::parse_id;

    #[test]
    fn stream_ids_compare_by_time_then_sequence() {
        assert!(parse_id("1700000000000-5") < parse_id("1700000000001-0"));
        assert!(parse_id("1700000000000-5") > parse_id("1700000000000-4"));
        assert_eq!(parse_id("garbage"), (0, 0));
    }
}
