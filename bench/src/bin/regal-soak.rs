//! `regal-soak`: N minutes of mixed load through the gateway while parts are killed and
//! restarted at random, then the invariants of the books (issue 10, item 6). `make soak`
//! builds and runs it (`SOAK_MINUTES`, `SOAK_SEED`); see README "Soak" and
//! bench/README.md. Exits non-zero when an invariant fails.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::Parser;
use regal_bench::{
    soak::{self, SoakOptions, chaos::ChaosPlan},
    suite::SuiteOptions,
};

#[derive(Parser)]
#[command(
    name = "regal-soak",
    about = "Regal POS soak: load, kills and restarts, then the books"
)]
struct Cli {
    /// Minutes of load (decimals allowed).
    #[arg(long, env = "SOAK_MINUTES", default_value_t = 10.0)]
    minutes: f64,
    /// The random seed (printed by every run; give it back to replay the same choices).
    #[arg(long, env = "SOAK_SEED")]
    seed: Option<u64>,
    /// Cashiers selling at once, each their own user and drawer.
    #[arg(long, default_value_t = 6)]
    cashiers: usize,
    /// Products to seed.
    #[arg(long, default_value_t = 40)]
    products: usize,
    /// Opening stock of each product (low, so products sell out and are restocked).
    #[arg(long, default_value_t = 100)]
    opening_stock: i64,
    /// Shortest and longest pause between two kills, in seconds.
    #[arg(long, default_value_t = 5)]
    kill_every_min: u64,
    #[arg(long, default_value_t = 20)]
    kill_every_max: u64,
    /// Longest time a killed part stays down before its restart, in seconds.
    #[arg(long, default_value_t = 3)]
    down_max: u64,
    /// `DB_MAX_CONNECTIONS` of each part (its default, 10, unless told: lower it on a
    /// Postgres shared with other runs).
    #[arg(long, env = "SOAK_DB_CONNECTIONS", default_value_t = 10)]
    db_connections: u32,
    /// The `regal` binary (default: the one next to this binary).
    #[arg(long, env = "REGAL_BIN")]
    regal_bin: Option<PathBuf>,
    /// Administrative Postgres URL: the soak database is created and dropped through it.
    #[arg(
        long,
        env = "TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    admin_database_url: String,
    #[arg(long, env = "TEST_REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// `RUST_LOG` of the parts (their logs go to `<log-dir>/<part>.log`).
    #[arg(long, env = "SOAK_RUST_LOG", default_value = "warn")]
    rust_log: String,
    #[arg(long, default_value = "target/soak/logs")]
    log_dir: PathBuf,
    #[arg(long, env = "ADMIN_USERNAME", default_value = "admin")]
    admin_username: String,
    #[arg(long, env = "ADMIN_PASSWORD", default_value = "admin123")]
    admin_password: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let regal_bin = match cli.regal_bin {
        Some(path) => path,
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|directory| directory.join("regal")))
            .unwrap_or_else(|| PathBuf::from("target/release/regal")),
    };
    let options = SoakOptions {
        suite: SuiteOptions {
            regal_bin,
            admin_database_url: cli.admin_database_url,
            redis_url: cli.redis_url,
            log_dir: cli.log_dir,
            rust_log: cli.rust_log,
        },
        load: Duration::from_secs_f64((cli.minutes * 60.0).max(1.0)),
        seed: cli.seed.unwrap_or_else(soak::fresh_seed),
        cashiers: cli.cashiers.max(1),
        products: cli.products.max(5),
        opening_stock: cli.opening_stock,
        chaos: ChaosPlan {
            gap_min: Duration::from_secs(cli.kill_every_min),
            gap_max: Duration::from_secs(cli.kill_every_max.max(cli.kill_every_min + 1)),
            down_max: Duration::from_secs(cli.down_max),
        },
        admin_username: cli.admin_username,
        admin_password: cli.admin_password,
        db_connections: cli.db_connections.max(1),
    };
    let seed = options.seed;
    // Ctrl-C drops the run: the parts are killed and the database dropped.
    let outcome = tokio::select! {
        outcome = soak::run(options) => outcome,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("interrupted: stopping the suite and dropping the soak database");
            return ExitCode::from(130);
        }
    };
    match outcome {
        Ok(outcome) if outcome.passed() => {
            println!("soak passed (seed {seed})");
            ExitCode::SUCCESS
        }
        Ok(_) => {
            println!("soak FAILED (seed {seed}; replay with --seed {seed})");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("soak could not run (seed {seed}): {error:#}");
            ExitCode::from(2)
        }
    }
}
