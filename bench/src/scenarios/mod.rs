//! The scenarios. Each is one async function taking the [`Bench`] (the running suite,
//! its seeded data, clients, settings and the report being filled); [`Scenario`] lists
//! them and [`run`] dispatches. A new scenario is a variant, a line in [`Scenario::ALL`]
//! and [`run`], and a function.

mod audit;
mod login;
mod memory;
mod operations;
mod reads;
mod sales;
mod stall;

use std::{collections::BTreeMap, path::PathBuf, sync::Arc, time::Duration};

use clap::ValueEnum;
use http::HeaderValue;

use crate::{
    clients::{Channels, Rest},
    load::{self, LoadResult, Operation, Phases},
    pgbench::{self, PgbenchRun},
    procstat::Monitor,
    report::{Report, Row},
    seed,
    suite::{self, BenchDatabase, Suite},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Every scenario below but `postgres-stall`, in this order.
    All,
    /// Baseline: pgbench running the catalog's primary-key product read.
    PgbenchProductRead,
    /// GET /products/{id} at c=32 over REST (HTTP/1.1, h2c), gRPC-web, gRPC via the
    /// gateway and gRPC direct to catalog; REST also open loop at half its max.
    ProductGet,
    /// GET /products?limit=50 over REST.
    ProductsList,
    /// GET /products/{id} at c=1: REST and gRPC-web through the gateway vs gRPC direct.
    GatewayOverhead,
    /// Logins back to back (argon2id each) with product reads meanwhile.
    #[value(alias = "login-burst")]
    LoginFlood,
    /// Quick-sell through the gateway, 1 and 3 lines, closed and open loop (needs sales).
    QuickSell,
    /// Time for the outboxes and the audit stream to drain after load (needs audit).
    AuditPipeline,
    /// RSS of each part idle and after minutes of mixed load (last: it runs longest).
    Memory,
    /// Not in `all` (it would take a quick run past two minutes): Postgres stalled for
    /// 3 s behind a proxy, on a suite of its own; 503s within the deadline, and the time
    /// back to 90 % of the throughput after it resumes.
    PostgresStall,
}

impl Scenario {
    /// What `all` runs, in order.
    pub const ALL: [Scenario; 8] = [
        Scenario::PgbenchProductRead,
        Scenario::ProductGet,
        Scenario::ProductsList,
        Scenario::GatewayOverhead,
        Scenario::LoginFlood,
        Scenario::QuickSell,
        Scenario::AuditPipeline,
        Scenario::Memory,
    ];

    pub fn name(self) -> String {
        self.to_possible_value()
            .map(|value| value.get_name().to_owned())
            .unwrap_or_default()
    }
}

pub async fn run(scenario: Scenario, bench: &mut Bench) -> anyhow::Result<()> {
    match scenario {
        Scenario::All => {
            for scenario in Scenario::ALL {
                Box::pin(run(scenario, bench)).await?;
            }
            Ok(())
        }
        Scenario::PgbenchProductRead => reads::pgbench_product_read(bench).await,
        Scenario::ProductGet => reads::product_get(bench).await,
        Scenario::ProductsList => reads::products_list(bench).await,
        Scenario::GatewayOverhead => reads::gateway_overhead(bench).await,
        Scenario::LoginFlood => login::login_flood(bench).await,
        Scenario::QuickSell => sales::quick_sell(bench).await,
        Scenario::AuditPipeline => audit::audit_pipeline(bench).await,
        Scenario::Memory => memory::memory(bench).await,
        Scenario::PostgresStall => stall::postgres_stall(bench).await,
    }
}

/// Settings of a run, from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    pub quick: bool,
    pub phases: Phases,
    /// Concurrency of the throughput scenarios and of their pgbench baselines.
    pub concurrency: usize,
    /// Concurrency of the latency scenarios (products-list).
    pub latency_concurrency: usize,
    /// How long the memory scenario's mixed load runs.
    pub memory_load: Duration,
    pub pgbench: Option<PathBuf>,
    pub log_dir: PathBuf,
    /// `RUST_LOG` of the parts (of a scenario's own suite too).
    pub rust_log: String,
    /// The `regal` binary (also migrates the baseline copy).
    pub regal_bin: PathBuf,
}

/// Where a pgbench script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineData {
    /// The bench database the suite serves: for read-only scripts.
    Live,
    /// A copy no service uses (`<bench database>_copy`, migrated by `regal migrate all`,
    /// the seeded catalog copied in): for scripts that write, such as a quick-sell's SQL,
    /// so the live data (and its oversell and duplicate checks) stays the suite's own.
    Copy,
}

/// Clients of the running suite, each cheap to clone into an operation.
#[derive(Clone)]
pub struct Clients {
    /// REST over HTTP/1.1 to the gateway (also carries gRPC-web).
    pub http1: Rest,
    /// REST over h2c to the gateway.
    pub http2: Rest,
    /// gRPC to the gateway (`--grpc-connections` HTTP/2 connections).
    pub grpc_gateway: Channels,
    /// gRPC straight to the catalog service (as many connections).
    pub grpc_catalog: Channels,
}

/// Data seeded before the scenarios run.
pub struct Fixtures {
    pub admin_username: String,
    pub admin_password: String,
    /// A real access token of the admin (signed in over REST).
    pub admin_token: String,
    pub bearer: HeaderValue,
    /// The seeded products' ids.
    pub product_ids: Arc<Vec<String>>,
}

/// Everything a scenario works with.
pub struct Bench {
    pub suite: Suite,
    pub monitor: Monitor,
    pub settings: Settings,
    pub clients: Clients,
    pub fixtures: Fixtures,
    pub report: Report,
    /// RSS of each part right after start (KiB).
    pub fresh_rss: BTreeMap<String, u64>,
    /// RSS of each part once seeded and settled, before any load (KiB).
    pub idle_rss: BTreeMap<String, u64>,
    /// Whether `POST /pos/quick-sell` works, once tried (see `sales::available`).
    pub quick_sell: Option<Result<(), String>>,
    /// pgbench runs already made, by script, so baselines run once per run.
    baselines: BTreeMap<String, PgbenchRun>,
    /// The database written-to baselines run against, made on first use.
    baseline_copy: Option<BenchDatabase>,
}

impl Bench {
    pub fn new(
        suite: Suite,
        monitor: Monitor,
        settings: Settings,
        clients: Clients,
        fixtures: Fixtures,
        report: Report,
        fresh_rss: BTreeMap<String, u64>,
    ) -> Self {
        let idle_rss = monitor.rss_kib();
        Self {
            fresh_rss,
            suite,
            monitor,
            settings,
            clients,
            fixtures,
            report,
            idle_rss,
            quick_sell: None,
            baselines: BTreeMap::new(),
            baseline_copy: None,
        }
    }

    /// Closed loop with this run's phases; fails if a part died meanwhile.
    pub async fn closed(
        &mut self,
        operation: &Operation,
        concurrency: usize,
    ) -> anyhow::Result<LoadResult> {
        audit::settle(self).await?;
        let result =
            load::closed_loop(operation, concurrency, self.settings.phases, &self.monitor).await;
        self.suite.check_running()?;
        Ok(result)
    }

    /// Open loop at `rate` with this run's phases.
    pub async fn open(&mut self, operation: &Operation, rate: f64) -> anyhow::Result<LoadResult> {
        audit::settle(self).await?;
        let result = load::open_loop(
            operation,
            rate,
            OPEN_LOOP_MAX_IN_FLIGHT,
            self.settings.phases,
            &self.monitor,
        )
        .await;
        self.suite.check_running()?;
        Ok(result)
    }

    /// Adds a row to the report and prints it at once (a long run shows progress).
    pub fn push(&mut self, row: Row) {
        println!(
            "  {:<18} {:<36} {:<14} {:>9.1} rps  p50 {:>7.2}  p99 {:>7.2} ms  errors {}",
            row.scenario, row.request, row.mode, row.rps, row.p50_ms, row.p99_ms, row.errors
        );
        self.report.rows.push(row);
    }

    /// The run of a pgbench script (under `bench/pgbench/`) at `clients`, made once and
    /// reused; `None` (with a note in the report) when pgbench is not installed.
    pub async fn baseline(
        &mut self,
        script: &str,
        clients: usize,
        data: BaselineData,
    ) -> anyhow::Result<Option<PgbenchRun>> {
        let key = format!("{script}@{clients}");
        if let Some(run) = self.baselines.get(&key) {
            return Ok(Some(run.clone()));
        }
        let Some(binary) = self.settings.pgbench.clone() else {
            self.not_measured(
                &format!("pgbench {script}"),
                "pgbench is not installed (apt-get install postgresql-client)",
            );
            return Ok(None);
        };
        let script_path = pgbench::scripts_dir().join(script);
        let database_url = match data {
            BaselineData::Live => self.suite.database.url().to_owned(),
            BaselineData::Copy => self.baseline_copy().await?.url().to_owned(),
        };
        // The baseline gets the same quiet machine as the suite's windows.
        audit::settle(self).await?;
        let outcome = pgbench::run(pgbench::PgbenchOptions {
            binary: &binary,
            script: &script_path,
            database_url: &database_url,
            clients,
            threads: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2),
            duration: self.settings.phases.measure,
            variables: vec![(
                "products".to_owned(),
                self.fixtures.product_ids.len().to_string(),
            )],
            log_dir: &self.settings.log_dir.join("pgbench"),
        })
        .await;
        // A script that no longer matches the schema must not stop the whole run.
        let run = match outcome {
            Ok(run) => run,
            Err(error) => {
                let reason = format!("{error:#}");
                let reason: String = reason.chars().take(600).collect();
                self.not_measured(&format!("pgbench {script}"), &reason);
                return Ok(None);
            }
        };
        self.baselines.insert(key, run.clone());
        Ok(Some(run))
    }

    /// The copy of the seeded database for baselines that write (see [`BaselineData`]).
    async fn baseline_copy(&mut self) -> anyhow::Result<&BenchDatabase> {
        if self.baseline_copy.is_none() {
            let live = &self.suite.database;
            let copy =
                BenchDatabase::create_named(live.admin_url(), &format!("{}_copy", live.name()))
                    .await?;
            suite::migrate(&self.settings.regal_bin, &copy).await?;
            for table in [
                "catalog.vendors",
                "catalog.products",
                "catalog.stock_entries",
            ] {
                suite::copy_table(live, &copy, table).await?;
            }
            seed::product_id_table(&copy, &self.fixtures.product_ids).await?;
            self.baseline_copy = Some(copy);
        }
        Ok(self.baseline_copy.as_ref().expect("made above"))
    }

    pub fn not_measured(&mut self, scenario: &str, reason: &str) {
        println!("  {scenario}: not measured: {reason}");
        self.report.not_measured.push(crate::report::NotMeasured {
            scenario: scenario.to_owned(),
            reason: reason.to_owned(),
        });
    }
}

/// Most requests an open loop keeps in flight (beyond it, latency still counts the wait).
const OPEN_LOOP_MAX_IN_FLIGHT: usize = 4096;
