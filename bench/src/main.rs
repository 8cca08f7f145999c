//! `regal-bench`: measures the suite the way a shop would feel it.
//!
//! Scenarios so far:
//! - `login-burst`: the latency of ordinary authenticated requests (`GET /auth/me`)
//!   unloaded, then while bursts of 50 concurrent logins run (argon2id on every one).
//!
//! It starts the whole suite in-process against a fresh database (as the tests do), so
//! run it in release: `make bench` (or `cargo run --release -p regal-bench -- login-burst`).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use regal_testkit::{Session, TestSuite};

#[derive(Parser)]
#[command(name = "regal-bench", about = "Regal POS benchmarks")]
struct Cli {
    #[arg(value_enum, default_value_t = Scenario::LoginBurst)]
    scenario: Scenario,
    /// Seconds each measured phase lasts (`BENCH_QUICK=1` shortens the default).
    #[arg(long)]
    seconds: Option<u64>,
    /// Concurrency of the probing requests.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// The request that probes latency (any authenticated GET).
    #[arg(long, default_value = "/auth/me")]
    path: String,
    /// Where to write the figures as JSON.
    #[arg(long, default_value = "target/bench/results.json")]
    json: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum Scenario {
    LoginBurst,
}

/// Concurrent logins in one burst.
const BURST: usize = 50;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|value| value == "1");
    let seconds = cli.seconds.unwrap_or(if quick { 3 } else { 15 });
    let figures = match cli.scenario {
        Scenario::LoginBurst => {
            login_burst(Duration::from_secs(seconds), cli.concurrency, &cli.path).await?
        }
    };
    if let Some(parent) = std::path::Path::new(&cli.json).parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&cli.json, serde_json::to_string_pretty(&figures)?)?;
    println!("figures written to {}", cli.json);
    Ok(())
}

async fn login_burst(
    phase: Duration,
    concurrency: usize,
    path: &str,
) -> anyhow::Result<serde_json::Value> {
    let suite = Arc::new(TestSuite::start().await);
    let admin = suite.login_admin().await;
    // Warm-up: connections, prepared statements, the decoy hash.
    probe(
        &suite,
        &admin,
        path,
        Duration::from_secs(1),
        concurrency,
        None,
    )
    .await;

    let unloaded = probe(&suite, &admin, path, phase, concurrency, None).await;
    let logins = Arc::new(AtomicU64::new(0));
    let loaded = probe(
        &suite,
        &admin,
        path,
        phase,
        concurrency,
        Some(Arc::clone(&logins)),
    )
    .await;
    let logins_per_second = logins.load(Ordering::Relaxed) as f64 / phase.as_secs_f64();

    let row = |name: &str, histogram: &Histogram<u64>| {
        println!(
            "{name:<28} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            histogram.len(),
            histogram.value_at_quantile(0.50) as f64 / 1000.0,
            histogram.value_at_quantile(0.90) as f64 / 1000.0,
            histogram.value_at_quantile(0.99) as f64 / 1000.0,
            histogram.max() as f64 / 1000.0,
        );
    };
    println!(
        "\nlogin burst: GET {path} at c={concurrency}, bursts of {BURST} concurrent logins ({}s phases)",
        phase.as_secs()
    );
    println!(
        "{:<28} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "phase", "requests", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    row("unloaded", &unloaded);
    row("during login bursts", &loaded);
    let p50_ratio =
        loaded.value_at_quantile(0.5) as f64 / unloaded.value_at_quantile(0.5).max(1) as f64;
    let p99_ratio =
        loaded.value_at_quantile(0.99) as f64 / unloaded.value_at_quantile(0.99).max(1) as f64;
    println!("logins/s during the bursts: {logins_per_second:.1}");
    println!(
        "latency ratio loaded/unloaded: p50 {p50_ratio:.2}x, p99 {p99_ratio:.2}x (target <= 2x)"
    );

    let summary = |histogram: &Histogram<u64>| {
        serde_json::json!({
            "requests": histogram.len(),
            "p50_ms": histogram.value_at_quantile(0.50) as f64 / 1000.0,
            "p90_ms": histogram.value_at_quantile(0.90) as f64 / 1000.0,
            "p99_ms": histogram.value_at_quantile(0.99) as f64 / 1000.0,
            "max_ms": histogram.max() as f64 / 1000.0,
        })
    };
    Ok(serde_json::json!({
        "scenario": "login-burst",
        "probe_concurrency": concurrency,
        "probe_path": path,
        "burst": BURST,
        "phase_seconds": phase.as_secs(),
        "unloaded": summary(&unloaded),
        "during_login_bursts": summary(&loaded),
        "logins_per_second": logins_per_second,
        "p50_ratio": p50_ratio,
        "p99_ratio": p99_ratio,
    }))
}

/// Runs `GET /auth/me` at `concurrency` for `phase`; with `logins`, bursts of
/// [`BURST`] concurrent logins run meanwhile (counted there).
async fn probe(
    suite: &Arc<TestSuite>,
    session: &Session,
    path: &str,
    phase: Duration,
    concurrency: usize,
    logins: Option<Arc<AtomicU64>>,
) -> Histogram<u64> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut burst_task = None;
    if let Some(logins) = logins {
        let suite = Arc::clone(suite);
        let stop = Arc::clone(&stop);
        burst_task = Some(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let attempts: Vec<_> = (0..BURST)
                    .map(|_| {
                        let suite = Arc::clone(&suite);
                        tokio::spawn(async move { suite.login_admin().await })
                    })
                    .collect();
                for attempt in attempts {
                    if attempt.await.is_ok() {
                        logins.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }

    let deadline = Instant::now() + phase;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let suite = Arc::clone(suite);
            let token = session.access_token.clone();
            let path = path.to_owned();
            tokio::spawn(async move {
                let mut histogram = Histogram::<u64>::new(3).expect("histogram");
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let response = suite.http().get(&path).bearer(&token).send().await;
                    assert_eq!(response.status, 200, "probe failed: {}", response.text());
                    histogram
                        .record(started.elapsed().as_micros() as u64)
                        .expect("in range");
                }
                histogram
            })
        })
        .collect();
    let mut total = Histogram::<u64>::new(3).expect("histogram");
    for worker in workers {
        total
            .add(worker.await.expect("probe worker"))
            .expect("same bounds");
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(task) = burst_task {
        let _ = task.await;
    }
    total
}
