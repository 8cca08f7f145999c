//! Postgres stalled, then resumed (issue 10): a suite of its own whose every part reaches
//! Postgres through the test kit's TCP proxy, a steady closed loop of `GET /products/{id}`
//! through the gateway, the link stalled for a few seconds and restored. Figures: the
//! answers during the stall by status (503 within the deadline, never 500), and the time
//! from the restore until a 250 ms bucket is back to ≥ 90 % of the baseline throughput.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use regal_testkit::TcpProxy;

use super::{Bench, operations};
use crate::{
    clients::{HttpVersion, Rest, bearer, grpc_channel},
    load::{self, LoadResult, Mode, RequestContext, Rng},
    report::{Check, Row},
    seed,
    suite::{Suite, SuiteOptions},
};

const SCENARIO: &str = "postgres-stall";
const REQUEST: &str = "GET /products/{id}";
const CONCURRENCY: usize = 8;
const PRODUCTS: usize = 200;
const BUCKET: Duration = Duration::from_millis(250);
const WARMUP: Duration = Duration::from_secs(1);
/// The baseline window (quick: 2 s).
const BASELINE: Duration = Duration::from_secs(5);
const STALL: Duration = Duration::from_secs(3);
/// How long the load goes on after the restore (the recovery target is 5 s; quick: 6 s).
const AFTER_RESTORE: Duration = Duration::from_secs(8);
/// The parts' deadline of one call (`REQUEST_TIMEOUT_MS`) and pool wait
/// (`DB_ACQUIRE_TIMEOUT_MS`), as the resilience tests set them; the gateway's
/// `UPSTREAM_TIMEOUT_MS` (10 s) stays longer, so the gateway hears the service's answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
/// A stalled request must be answered within the deadline plus this margin (as the
/// resilience test allows).
const ANSWER_MARGIN: Duration = Duration::from_millis(1500);

/// One request of the timeline: when it was sent and answered (from the start), and how.
struct Sample {
    sent: Duration,
    answered: Duration,
    outcome: Result<(), load::RequestError>,
}

pub async fn postgres_stall(bench: &mut Bench) -> anyhow::Result<()> {
    // The proxy sits in front of the Postgres server: the suite's database is created
    // through it, so every part's DATABASE_URL goes through it too.
    let (proxy, proxied_admin_url) = TcpProxy::in_front_of(bench.suite.database.admin_url()).await;
    let options = SuiteOptions {
        regal_bin: bench.settings.regal_bin.clone(),
        admin_database_url: proxied_admin_url,
        redis_url: bench.suite.redis_url.clone(),
        log_dir: bench.settings.log_dir.join(SCENARIO),
        rust_log: bench.settings.rust_log.clone(),
    };
    let environment = [
        ("REQUEST_TIMEOUT_MS", REQUEST_TIMEOUT),
        ("DB_ACQUIRE_TIMEOUT_MS", ACQUIRE_TIMEOUT),
    ]
    .map(|(name, value)| (name.to_owned(), value.as_millis().to_string()));
    let mut suite = Suite::start_with(&options, &environment).await?;
    let outcome = measure(bench, &mut suite, &proxy).await;
    proxy.restore();
    suite.stop().await?;
    outcome
}

async fn measure(bench: &mut Bench, suite: &mut Suite, proxy: &TcpProxy) -> anyhow::Result<()> {
    let rest = Rest::new(suite.url("gateway"), HttpVersion::Http1);
    let token = rest
        .login(
            &bench.fixtures.admin_username,
            &bench.fixtures.admin_password,
        )
        .await
        .map_err(|error| anyhow::anyhow!("admin login failed: {}: {}", error.kind, error.detail))?;
    let ids = seed::products(grpc_channel(&suite.url("catalog"))?, &token, PRODUCTS, 8).await?;
    let operation = operations::get_product_rest(rest, bearer(&token), Arc::new(ids));
    let (baseline_window, after_restore) = if bench.settings.quick {
        (Duration::from_secs(2), Duration::from_secs(6))
    } else {
        (BASELINE, AFTER_RESTORE)
    };

    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|worker| {
            let operation = Arc::clone(&operation);
            let stop = Arc::clone(&stop);
            let samples = Arc::clone(&samples);
            tokio::spawn(async move {
                let mut context = RequestContext {
                    sequence: 0,
                    rng: Rng::new(0x57A1 ^ (worker as u64).wrapping_mul(0x1000_0001)),
                };
                let mut own = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let sent = started.elapsed();
                    let outcome =
                        match tokio::time::timeout(load::REQUEST_TIMEOUT, operation(&mut context))
                            .await
                        {
                            Ok(outcome) => outcome,
                            Err(_) => Err(load::RequestError::new("timeout", "no answer")),
                        };
                    own.push(Sample {
                        sent,
                        answered: started.elapsed(),
                        outcome,
                    });
                    context.sequence += 1;
                }
                if let Ok(mut samples) = samples.lock() {
                    samples.extend(own);
                }
            })
        })
        .collect();

    tokio::time::sleep(WARMUP + baseline_window).await;
    let stalled_at = started.elapsed();
    proxy.stall();
    tokio::time::sleep(STALL).await;
    let restored_at = started.elapsed();
    proxy.restore();
    tokio::time::sleep(after_restore).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await?;
    }
    suite.check_running()?;
    let samples = std::mem::take(
        &mut *samples
            .lock()
            .map_err(|_| anyhow::anyhow!("a worker panicked"))?,
    );

    // Baseline: successes answered in the window before the stall, per bucket.
    let baseline = phase(&samples, WARMUP..stalled_at, |sample| {
        (WARMUP..stalled_at).contains(&sample.answered)
    });
    let per_bucket = baseline.throughput() * BUCKET.as_secs_f64();
    // Recovery: the first bucket from the restore on with ≥ 90 % of that.
    let buckets = (after_restore.as_nanos() / BUCKET.as_nanos()) as u32;
    let recovered_after = (0..buckets)
        .map(|index| restored_at + BUCKET * index)
        .find(|from| {
            let to = *from + BUCKET;
            let successes = samples
                .iter()
                .filter(|sample| sample.outcome.is_ok())
                .filter(|sample| sample.answered >= *from && sample.answered < to)
                .count();
            successes as f64 >= 0.9 * per_bucket
        })
        .map(|from| from + BUCKET - restored_at);
    // The stall: every request it caught (in flight or sent while the link was stalled),
    // by how it was answered.
    let caught = |sample: &Sample| sample.sent < restored_at && sample.answered >= stalled_at;
    let stall = phase(&samples, stalled_at..restored_at, caught);
    let slowest_answer = samples
        .iter()
        .filter(|sample| caught(sample))
        .map(|sample| sample.answered - sample.sent)
        .max()
        .unwrap_or_default();
    let stall_errors = stall.error_count();
    let stall_503 = stall.errors.get("http 503").copied().unwrap_or(0);
    // After the recovery: requests sent from the recovered bucket to the end.
    let recovered_from = restored_at + recovered_after.unwrap_or(after_restore);
    let end = restored_at + after_restore;
    let after = phase(&samples, recovered_from..end, |sample| {
        (recovered_from..end).contains(&sample.sent)
    });

    bench.push(row(&format!("{REQUEST} baseline"), &baseline));
    let recovery_seconds = recovered_after.map_or(f64::INFINITY, |after| after.as_secs_f64());
    let deadline = REQUEST_TIMEOUT + ANSWER_MARGIN;
    bench.push(
        row(&format!("{REQUEST} stall-caught"), &stall)
            .check(Check::at_least(
                "stalled: errors that are 503 = 100 %",
                100.0 * stall_503 as f64 / stall_errors.max(1) as f64,
                100.0,
                " %",
            ))
            .check(Check::at_most(
                "stalled: http 500s = 0",
                stall.errors.get("http 500").copied().unwrap_or(0) as f64,
                0.0,
                "",
            ))
            .check(Check::at_most(
                format!("stalled: answered ≤ {:.1} s", deadline.as_secs_f64()),
                slowest_answer.as_secs_f64(),
                deadline.as_secs_f64(),
                " s",
            )),
    );
    bench.push(
        row(&format!("{REQUEST} recovered"), &after)
            .compared_with(&format!("{SCENARIO} baseline"), baseline.throughput())
            .check(Check::at_most(
                "≥ 90 % of baseline ≤ 5 s after restore",
                recovery_seconds,
                5.0,
                " s",
            ))
            .check(Check::at_most(
                "after recovery: errors = 0",
                after.error_count() as f64,
                0.0,
                "",
            )),
    );
    bench.report.figures.insert(
        format!("{SCENARIO}: seconds to 90 % after restore"),
        recovery_seconds,
    );
    Ok(())
}

/// A row of this scenario, without CPU figures (see [`phase`]).
fn row(request: &str, result: &LoadResult) -> Row {
    let mut row = Row::from_load(SCENARIO, request, result);
    row.cpu_us_per_request.clear();
    row
}

/// The samples `in_phase` picks, as a load result over `window` (no CPU figures: the
/// bench's monitor watches the main suite, not this one).
fn phase(
    samples: &[Sample],
    window: std::ops::Range<Duration>,
    in_phase: impl Fn(&Sample) -> bool,
) -> LoadResult {
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, 30_000_000, 3).expect("valid histogram bounds");
    let mut errors = BTreeMap::new();
    let mut error_samples = BTreeMap::new();
    for sample in samples.iter().filter(|sample| in_phase(sample)) {
        match &sample.outcome {
            Ok(()) => histogram
                .saturating_record(((sample.answered - sample.sent).as_micros() as u64).max(1)),
            Err(error) => {
                *errors.entry(error.kind.clone()).or_default() += 1;
                error_samples
                    .entry(error.kind.clone())
                    .or_insert_with(|| error.detail.clone());
            }
        }
    }
    LoadResult {
        mode: Mode::Closed {
            concurrency: CONCURRENCY,
        },
        histogram,
        errors,
        error_samples,
        window: window.end.saturating_sub(window.start),
        cpu: BTreeMap::new(),
    }
}
