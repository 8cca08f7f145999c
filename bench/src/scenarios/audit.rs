//! The audit pipeline: after a load that writes audit events, how long until every
//! service's outbox is published and every consumer group of the run's audit stream has
//! read and acknowledged everything (`XINFO GROUPS`: lag 0, nothing pending).
//!
//! The load is quick-sell (1 line) once it works, else `CreateProduct` (each writes an
//! audit event in catalog's outbox). Measured from the outside, read only: the outbox
//! tables (`<schema>.outbox`), the stream's consumer groups (none until audit consumes
//! it: that part is then reported as not measured), and the lag of each event of the
//! load, `recorded_at − occurred_at` in `audit.audit_log` (not measured while that
//! table does not exist).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use redis::streams::StreamInfoGroupsReply;

use super::{Bench, operations, sales};
use crate::report::{Check, Row};

/// How long to wait for the drain before giving up.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);
const DRAIN_TARGET: Duration = Duration::from_secs(5);

pub async fn audit_pipeline(bench: &mut Bench) -> anyhow::Result<()> {
    let concurrency = bench.settings.latency_concurrency;
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
    let mut redis = redis_connection(bench).await?;
    let stream = bench.suite.audit_stream.clone();
    let events_before = stream_length(&mut redis, &stream).await.unwrap_or(0);
    let mut connection = bench.suite.database.connect().await?;
    let load_start: DateTime<Utc> = sqlx::query_scalar("select now()")
        .fetch_one(&mut connection)
        .await?;
    let result = bench.closed(&operation, concurrency).await?;
    let load_end = Instant::now();
    let load_end_at: DateTime<Utc> = sqlx::query_scalar("select now()")
        .fetch_one(&mut connection)
        .await?;

    let schemas: Vec<String> = sqlx::query_scalar(
        "select table_schema::text from information_schema.tables \
          where table_name = 'outbox' order by 1",
    )
    .fetch_all(&mut connection)
    .await?;
    anyhow::ensure!(!schemas.is_empty(), "no outbox table in the bench database");
    let pending_statement = schemas
        .iter()
        .map(|schema| format!("(select count(*) from {schema}.outbox where published_at is null)"))
        .collect::<Vec<_>>()
        .join(" + ");
    let pending_statement = format!("select ({pending_statement})::bigint");

    let mut outbox_drained = None;
    let mut stream_drained = None;
    let mut groups = 0;
    while load_end.elapsed() < DRAIN_TIMEOUT {
        if outbox_drained.is_none() {
            let pending: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(pending_statement.clone()))
                .fetch_one(&mut connection)
                .await?;
            if pending == 0 {
                outbox_drained = Some(load_end.elapsed());
            }
        }
        if outbox_drained.is_some() {
            let reply = stream_groups(&mut redis, &stream).await;
            groups = reply.groups.len();
            let caught_up = reply
                .groups
                .iter()
                .all(|group| group.pending == 0 && group.lag == Some(0));
            if groups == 0 || caught_up {
                stream_drained = (groups > 0).then(|| load_end.elapsed());
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let events = stream_length(&mut redis, &stream)
        .await
        .unwrap_or(0)
        .saturating_sub(events_before);
    bench.report.figures.insert(
        "audit-pipeline events published during the load".to_owned(),
        events as f64,
    );

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
    lag(bench, &mut connection, load_start, load_end_at).await
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

async fn stream_length(
    connection: &mut redis::aio::MultiplexedConnection,
    stream: &str,
) -> anyhow::Result<u64> {
    Ok(redis::cmd("XLEN")
        .arg(stream)
        .query_async(connection)
        .await?)
}
