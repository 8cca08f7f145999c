//! `regal-bench`: measures the suite the way a shop would feel it (issue 9).
//!
//! It starts the release `regal` binary once per part (auth, catalog, sales, audit,
//! gateway: separate processes, so CPU and memory are measured per part) against a
//! database created for the run, seeds it through the catalog's API, runs the scenarios
//! asked for (all by default), prints a table and writes `target/bench/results.json`.
//! `make bench` builds and runs it; `BENCH_QUICK=1` shortens every phase. See
//! bench/README.md for the scenarios and their targets.
//!
//! Modules: the shared ones of the `regal_bench` library (suite, procstat, load,
//! clients, seed), and [`pgbench`] (the Postgres baseline), [`report`], [`scenarios`].

mod pgbench;
mod report;
mod scenarios;

use regal_bench::{clients, load, procstat, seed, suite};

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use clap::Parser;

use crate::{
    clients::{Channels, HttpVersion, Rest, bearer},
    load::Phases,
    procstat::Monitor,
    report::Report,
    scenarios::{Bench, Clients, Fixtures, Scenario},
    suite::{Suite, SuiteOptions},
};

#[derive(Parser)]
#[command(name = "regal-bench", about = "Regal POS benchmarks (issue 9)")]
struct Cli {
    /// Scenarios to run, in order.
    #[arg(value_enum, default_value = "all")]
    scenarios: Vec<Scenario>,
    /// Short phases (also `BENCH_QUICK=1`): the whole run in under two minutes.
    #[arg(long)]
    quick: bool,
    /// The `regal` binary to start (default: the one next to this binary, i.e. the
    /// release build `make bench` makes).
    #[arg(long, env = "REGAL_BIN")]
    regal_bin: Option<PathBuf>,
    /// Seconds of each measured window (default 20, quick 3).
    #[arg(long)]
    seconds: Option<u64>,
    /// Seconds of warm-up before each window (default 5, quick 1).
    #[arg(long)]
    warmup: Option<u64>,
    /// Concurrency of the throughput scenarios and their pgbench baselines.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Concurrency of the latency scenarios (products-list).
    #[arg(long, default_value_t = 8)]
    latency_concurrency: usize,
    /// HTTP/2 connections of the gRPC clients (to the gateway, and to catalog direct);
    /// REST over HTTP/1.1 opens one per concurrent request.
    #[arg(long, default_value_t = 8)]
    grpc_connections: usize,
    /// Seconds of mixed load of the memory scenario (default 300, quick 10).
    #[arg(long)]
    memory_seconds: Option<u64>,
    /// Products to seed.
    #[arg(long, env = "BENCH_PRODUCTS", default_value_t = 10_000)]
    products: usize,
    /// Administrative Postgres URL: the bench database is created and dropped through it.
    #[arg(
        long,
        env = "TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    admin_database_url: String,
    #[arg(long, env = "TEST_REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// `RUST_LOG` of the parts (their logs go to `<log-dir>/<part>.log`).
    #[arg(long, env = "BENCH_RUST_LOG", default_value = "warn")]
    rust_log: String,
    #[arg(long, default_value = "target/bench/logs")]
    log_dir: PathBuf,
    /// Where to write the figures as JSON.
    #[arg(long, default_value = "target/bench/results.json")]
    json: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Ctrl-C drops the run: the parts are killed and the database dropped.
    tokio::select! {
        result = run(cli) => result,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("interrupted: stopping the suite and dropping the bench database");
            Ok(())
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let quick = cli.quick || std::env::var("BENCH_QUICK").is_ok_and(|value| value == "1");
    let phases = Phases {
        warmup: Duration::from_secs(cli.warmup.unwrap_or(if quick { 1 } else { 5 })),
        measure: Duration::from_secs(cli.seconds.unwrap_or(if quick { 3 } else { 20 })),
    };
    let regal_bin = match cli.regal_bin {
        Some(path) => path,
        None => std::env::current_exe()?
            .parent()
            .map(|directory| directory.join("regal"))
            .unwrap_or_else(|| PathBuf::from("target/release/regal")),
    };
    let dev_build = regal_bin
        .components()
        .any(|part| part.as_os_str() == "debug");
    println!(
        "regal-bench: {} (warm-up {}s, windows {}s), regal at {}{}",
        if quick { "quick" } else { "full" },
        phases.warmup.as_secs(),
        phases.measure.as_secs(),
        regal_bin.display(),
        if dev_build {
            " — a DEV build: the figures mean nothing"
        } else {
            ""
        }
    );

    let started = Instant::now();
    let suite = Suite::start(&SuiteOptions {
        regal_bin: regal_bin.clone(),
        admin_database_url: cli.admin_database_url.clone(),
        redis_url: cli.redis_url.clone(),
        log_dir: cli.log_dir.clone(),
        rust_log: cli.rust_log.clone(),
    })
    .await?;
    println!(
        "suite ready in {:.1}s: database {}, parts {}",
        started.elapsed().as_secs_f64(),
        suite.database.name(),
        suite
            .parts
            .iter()
            .map(|part| format!("{}:{} (pid {})", part.name, part.port, part.pid()))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let mut processes = suite.processes();
    processes.push(("bench".to_owned(), std::process::id()));
    let monitor = Monitor::new(processes).with_postgres(suite.database.name());
    let fresh_rss = monitor.rss_kib();

    let gateway = suite.url("gateway");
    let clients = Clients {
        http1: Rest::new(gateway.clone(), HttpVersion::Http1),
        http2: Rest::new(gateway.clone(), HttpVersion::Http2),
        grpc_gateway: Channels::new(&gateway, cli.grpc_connections)?,
        grpc_catalog: Channels::new(&suite.url("catalog"), cli.grpc_connections)?,
    };
    let admin_username = std::env::var("ADMIN_USERNAME").unwrap_or_else(|_| "admin".to_owned());
    let admin_password = std::env::var("ADMIN_PASSWORD").unwrap_or_else(|_| "admin123".to_owned());
    let admin_token = clients
        .http1
        .login(&admin_username, &admin_password)
        .await
        .map_err(|error| anyhow::anyhow!("admin login failed: {}: {}", error.kind, error.detail))?;

    let seeding = Instant::now();
    let product_ids =
        seed::products(clients.grpc_catalog.first(), &admin_token, cli.products, 16).await?;
    seed::product_id_table(&suite.database, &product_ids).await?;
    let seed_seconds = seeding.elapsed().as_secs_f64();
    let drained =
        seed::wait_outboxes_drained(&suite.database, &["catalog"], Duration::from_secs(60)).await?;
    println!(
        "seeded {} products in {seed_seconds:.1}s ({:.0}/s); catalog outbox drained {:.1}s later",
        product_ids.len(),
        product_ids.len() as f64 / seed_seconds,
        drained.as_secs_f64()
    );

    let report = Report {
        started_at_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or_default(),
        quick,
        regal_bin: regal_bin.display().to_string(),
        cores: std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(0),
        warmup_seconds: phases.warmup.as_secs(),
        window_seconds: phases.measure.as_secs(),
        concurrency: cli.concurrency,
        latency_concurrency: cli.latency_concurrency,
        products: product_ids.len(),
        seed_seconds,
        ..Report::default()
    };
    let settings = scenarios::Settings {
        quick,
        phases,
        concurrency: cli.concurrency,
        latency_concurrency: cli.latency_concurrency,
        memory_load: Duration::from_secs(cli.memory_seconds.unwrap_or(if quick {
            10
        } else {
            300
        })),
        pgbench: pgbench::find(),
        log_dir: cli.log_dir.clone(),
        rust_log: cli.rust_log.clone(),
        regal_bin: regal_bin.clone(),
    };
    let fixtures = Fixtures {
        admin_username,
        admin_password,
        bearer: bearer(&admin_token),
        admin_token,
        product_ids: Arc::new(product_ids),
    };
    let mut bench = Bench::new(
        suite, monitor, settings, clients, fixtures, report, fresh_rss,
    );

    let mut outcome = Ok(());
    for scenario in &cli.scenarios {
        println!("scenario {}", scenario.name());
        if let Err(error) = scenarios::run(*scenario, &mut bench).await {
            outcome = Err(error.context(format!("scenario {}", scenario.name())));
            break;
        }
    }

    bench.report.print();
    bench.report.write_json(&cli.json)?;
    println!("figures written to {}", cli.json.display());
    println!("total {:.0}s", started.elapsed().as_secs_f64());
    bench.suite.stop().await?;
    outcome
}
