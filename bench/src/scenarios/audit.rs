//! The audit pipeline: the lag of each event at 1,000 events/s, and, after that load, how
//! long until every service's outbox is published and every consumer group of the run's
//! audit stream has read and acknowledged everything (`XINFO GROUPS`: lag 0, nothing
//! pending).
//!
//! The load is quick-sell (1 line) once it works, else `CreateProduct` (each writes audit
//! events in the producers' outboxes). It starts once what earlier scenarios left in the
//! pipeline is drained; a few operations run one by one first to count the events one
//! writes (all producers together), which sets the open loop's rate to 1,000 events/s.
//! Measured from the outside, read only: the outbox tables (`<schema>.outbox`), the
//! stream's consumer groups (none until audit consumes it: that part is then reported as
//! not measured), and the lag of each event of the load, `recorded_at − occurred_at` in
//! `audit.audit_log` (not measured while that table does not exist).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use redis::streams::StreamInfoGroupsReply;

use super::{Bench, operations, sales};
use crate::{
    load::{RequestContext, Rng},
    report::{Check, Row},
};

/// How long to wait for the drain before giving up.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);
const DRAIN_TARGET: Duration = Duration::from_secs(5);
/// How long to wait for what earlier scenarios left in the pipeline before this one starts.
const BACKLOG_TIMEOUT: Duration = Duration::from_secs(300);
/// How long any measured phase waits for the pipeline to drain before it starts.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(120);
/// The event rate at which the lag is measured (issue 9: lag p99 at 1,000 events/s).
const EVENTS_PER_SECOND: f64 = 1_000.0;
/// Operations run one by one to learn how many events one of them writes.
const CALIBRATION_OPERATIONS: u64 = 20;

pub async fn audit_pipeline(bench: &mut Bench) -> anyhow::Result<()> {
    let (label, operation) = if sales::available(bench).await.is_ok() {
        (
            "REST POST /pos/quick-sell 1 line",
            operations::quick_sell_rest(
                bench.clients.http1.clone(),
                bench.fixtures.bearer.clone(),
                bench.fixtures.product_ids.clone(),
                1,
            ),
        )
    } else {
        (
            "gRPC CreateProduct (catalog direct)",
            operations::create_product_grpc(
                bench.clients.grpc_catalog.clone(),
                &bench.fixtures.admin_token,
                1_000_000 + bench.fixtures.product_ids.len(),
            ),
        )
    };
    let mut pipeline = Pipeline::connect(bench).await?;
    let schemas = pipeline.schemas.clone();

    // Earlier scenarios (the closed-loop sales) may have left a backlog: the lag measured
    // here is that of a pipeline keeping up with 1,000 events/s, not of one catching up.
    let backlog = pipeline
        .wait_for_drain(Instant::now(), BACKLOG_TIMEOUT)
        .await?;
    if backlog.stream.is_none() && backlog.groups > 0 {
        println!(
            "  audit-pipeline: the backlog of earlier scenarios was not drained in {}s",
            BACKLOG_TIMEOUT.as_secs()
        );
    }
    // How many events one operation writes (all producers together), to set the rate.
    let before = pipeline.events_stored().await?;
    let mut context = RequestContext {
        sequence: 0,
        rng: Rng::new(0xA0D1_7000),
    };
    for sequence in 0..CALIBRATION_OPERATIONS {
        context.sequence = sequence;
        operation(&mut context)
            .await
            .map_err(|error| anyhow::anyhow!("audit-pipeline calibration: {error:?}"))?;
    }
    pipeline
        .wait_for_drain(Instant::now(), DRAIN_TIMEOUT)
        .await?;
    let after = pipeline.events_stored().await?;
    let events_per_operation =
        (after.saturating_sub(before) as f64 / CALIBRATION_OPERATIONS as f64).max(1.0);
    let rate = EVENTS_PER_SECOND / events_per_operation;
    bench.report.figures.insert(
        "audit-pipeline events per operation".to_owned(),
        events_per_operation,
    );

    let load_start: DateTime<Utc> = sqlx::query_scalar("select now()")
        .fetch_one(&mut pipeline.connection)
        .await?;
    let result = bench.open(&operation, rate).await?;
    let load_end = Instant::now();
    let load_end_at: DateTime<Utc> = sqlx::query_scalar("select now()")
        .fetch_one(&mut pipeline.connection)
        .await?;
    let Drained {
        outbox: outbox_drained,
        stream: stream_drained,
        groups,
    } = pipeline.wait_for_drain(load_end, DRAIN_TIMEOUT).await?;
    let mut row = Row::from_load("audit-pipeline", label, &result);
    let seconds = |elapsed: Option<Duration>| {
        elapsed.map_or(DRAIN_TIMEOUT.as_secs_f64(), |elapsed| elapsed.as_secs_f64())
    };
    row = row.check(Check::at_most(
        format!("outboxes ({}) published ≤ 5 s", schemas.join(", ")),
        seconds(outbox_drained),
        DRAIN_TARGET.as_secs_f64(),
        " s",
    ));
    if groups > 0 {
        row = row.check(Check::at_most(
            "stream read and acked ≤ 5 s",
            seconds(stream_drained),
            DRAIN_TARGET.as_secs_f64(),
            " s",
        ));
    }
    bench.push(row);
    if groups == 0 {
        bench.not_measured(
            "audit-pipeline stream",
            "no consumer group reads the audit stream yet",
        );
    }
    lag(bench, &mut pipeline.connection, load_start, load_end_at).await
}

/// Waits until what earlier load left in the audit pipeline is drained (every outbox
/// published, the stream read and acked), so that a measured window starts on a quiet
/// suite: a backlog drained meanwhile would be another phase's work counted in this one's
/// CPU and latency. Says so when it took more than a moment, or did not finish in
/// `SETTLE_TIMEOUT`.
pub async fn settle(bench: &Bench) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut pipeline = Pipeline::connect(bench).await?;
    let drained = pipeline.wait_for_drain(started, SETTLE_TIMEOUT).await?;
    if drained.outbox.is_none() || (drained.groups > 0 && drained.stream.is_none()) {
        println!(
            "  (the audit pipeline was still busy after {}s; measuring anyway)",
            SETTLE_TIMEOUT.as_secs()
        );
    } else if started.elapsed() > Duration::from_millis(500) {
        println!(
            "  (waited {:.1}s for the audit pipeline to drain what the previous phase left)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// What the drain waits on: every producer's outbox and the stream's consumer groups.
struct Pipeline {
    connection: sqlx::PgConnection,
    redis: redis::aio::MultiplexedConnection,
    stream: String,
    /// The schemas with an outbox (the producers).
    schemas: Vec<String>,
    /// How many events wait in the outboxes, all together.
    pending_statement: String,
}

/// When, after a given instant, the outboxes were published and the stream read and acked.
struct Drained {
    outbox: Option<Duration>,
    stream: Option<Duration>,
    groups: usize,
}

impl Pipeline {
    async fn connect(bench: &Bench) -> anyhow::Result<Self> {
        let redis = redis_connection(bench).await?;
        let mut connection = bench.suite.database.connect().await?;
        let schemas: Vec<String> = sqlx::query_scalar(
            "select table_schema::text from information_schema.tables \
              where table_name = 'outbox' order by 1",
        )
        .fetch_all(&mut connection)
        .await?;
        anyhow::ensure!(!schemas.is_empty(), "no outbox table in the bench database");
        let pending = schemas
            .iter()
            .map(|schema| {
                format!("(select count(*) from {schema}.outbox where published_at is null)")
            })
            .collect::<Vec<_>>()
            .join(" + ");
        Ok(Self {
            connection,
            redis,
            stream: bench.suite.audit_stream.clone(),
            schemas,
            pending_statement: format!("select ({pending})::bigint"),
        })
    }

    /// Events in the audit log so far (0 while it does not exist): the stream cannot be
    /// counted, audit trims what it has acked.
    async fn events_stored(&mut self) -> anyhow::Result<u64> {
        let has_log: bool = sqlx::query_scalar("select to_regclass('audit.audit_log') is not null")
            .fetch_one(&mut self.connection)
            .await?;
        if !has_log {
            return Ok(0);
        }
        let count: i64 = sqlx::query_scalar("select count(*) from audit.audit_log")
            .fetch_one(&mut self.connection)
            .await?;
        Ok(count.max(0) as u64)
    }

    /// Waits (at most `timeout` after `since`) until no outbox holds an unpublished event
    /// and every consumer group of the stream has read and acked everything.
    async fn wait_for_drain(
        &mut self,
        since: Instant,
        timeout: Duration,
    ) -> anyhow::Result<Drained> {
        let mut drained = Drained {
            outbox: None,
            stream: None,
            groups: 0,
        };
        while since.elapsed() < timeout {
            if drained.outbox.is_none() {
                let pending: i64 =
                    sqlx::query_scalar(sqlx::AssertSqlSafe(self.pending_statement.clone()))
                        .fetch_one(&mut self.connection)
                        .await?;
                if pending == 0 {
                    drained.outbox = Some(since.elapsed());
                }
            }
            if drained.outbox.is_some() {
                let reply = stream_groups(&mut self.redis, &self.stream).await;
                drained.groups = reply.groups.len();
                let caught_up = reply
                    .groups
                    .iter()
                    .all(|group| group.pending == 0 && group.lag == Some(0));
                if drained.groups == 0 || caught_up {
                    drained.stream = (drained.groups > 0).then(|| since.elapsed());
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(drained)
    }
}

/// The lag of each event of the load, `recorded_at − occurred_at` in `audit.audit_log`
/// (the audit service's log; read only), once it exists.
async fn lag(
    bench: &mut Bench,
    connection: &mut sqlx::PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<()> {
    let has_log: bool = sqlx::query_scalar(
        "select exists (select 1 from information_schema.tables \
                         where table_schema = 'audit' and table_name = 'audit_log')",
    )
    .fetch_one(&mut *connection)
    .await?;
    if !has_log {
        bench.not_measured("audit-pipeline lag p99", "no audit.audit_log yet");
        return Ok(());
    }
    type Lags = (i64, Option<f64>, Option<f64>, Option<f64>, Option<f64>);
    let (events, p50, p90, p99, max): Lags = sqlx::query_as(
        "select count(*), \
                percentile_cont(0.5) within group (order by lag), \
                percentile_cont(0.9) within group (order by lag), \
                percentile_cont(0.99) within group (order by lag), \
                max(lag) \
           from (select extract(epoch from recorded_at - occurred_at)::float8 as lag \
                   from audit.audit_log where occurred_at between $1 and $2) as events",
    )
    .bind(from)
    .bind(to)
    .fetch_one(&mut *connection)
    .await?;
    let p99 = p99.unwrap_or_default();
    bench.report.figures.insert(
        "audit-pipeline events stored from the load".to_owned(),
        events as f64,
    );
    let mut row = Row::check_only("audit-pipeline", "lag: recorded_at − occurred_at");
    row.requests = events as u64;
    row.p50_ms = p50.unwrap_or_default() * 1000.0;
    row.p90_ms = p90.unwrap_or_default() * 1000.0;
    row.p99_ms = p99 * 1000.0;
    row.max_ms = max.unwrap_or_default() * 1000.0;
    row.mode = "events".to_owned();
    bench.push(row.check(Check::at_most("lag p99 ≤ 1 s", p99, 1.0, " s")));
    Ok(())
}

async fn redis_connection(bench: &Bench) -> anyhow::Result<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(bench.suite.redis_url.as_str())?;
    Ok(client.get_multiplexed_async_connection().await?)
}

/// `XINFO GROUPS` of the stream (no groups when the stream does not exist yet).
async fn stream_groups(
    connection: &mut redis::aio::MultiplexedConnection,
    stream: &str,
) -> StreamInfoGroupsReply {
    let reply: redis::RedisResult<StreamInfoGroupsReply> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(stream)
        .query_async(connection)
        .await;
    reply.unwrap_or_default()
}
