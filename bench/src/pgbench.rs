//! The Postgres baseline: a pgbench script (under `bench/pgbench/`) run against the
//! bench database, at the concurrency of the scenario it is compared with. It is the
//! ceiling a service built on the same SQL could approach: throughput from pgbench's
//! `tps`, latencies from its per-transaction log (`--log`).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use anyhow::Context;
use hdrhistogram::Histogram;

use crate::procstat;

/// Where the committed scripts live.
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pgbench")
}

/// `pgbench` on `PATH`, else the newest `/usr/lib/postgresql/*/bin/pgbench`.
pub fn find() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for directory in std::env::split_paths(&path) {
            let candidate = directory.join("pgbench");
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    let mut installed: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join("bin/pgbench")))
        .filter(|candidate| candidate.is_file())
        .collect();
    installed.sort();
    installed.pop()
}

/// One pgbench run.
#[derive(Debug, Clone)]
pub struct PgbenchRun {
    pub script: String,
    pub clients: usize,
    pub tps: f64,
    pub transactions: u64,
    pub failed: u64,
    /// Per-transaction latencies (µs) from the log.
    pub histogram: Histogram<u64>,
    /// CPU µs per transaction of the Postgres backends (`postgres`, also `suite`: the
    /// server side) and of pgbench itself (`bench`: the client), sampled from /proc.
    pub cpu_us_per_transaction: BTreeMap<String, f64>,
}

pub struct PgbenchOptions<'a> {
    pub binary: &'a Path,
    pub script: &'a Path,
    pub database_url: &'a str,
    pub clients: usize,
    pub threads: usize,
    pub duration: Duration,
    /// `-D name=value` variables of the script.
    pub variables: Vec<(String, String)>,
    /// Where the per-transaction logs go (a directory, emptied of older logs first).
    pub log_dir: &'a Path,
}

/// Runs pgbench (`-n -M prepared -c … -j … -T … -f script`) and reads its figures.
pub async fn run(options: PgbenchOptions<'_>) -> anyhow::Result<PgbenchRun> {
    std::fs::create_dir_all(options.log_dir)?;
    let stem = options
        .script
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("script")
        .to_owned();
    for entry in std::fs::read_dir(options.log_dir)?.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&stem) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let prefix = options.log_dir.join(&stem);
    let mut command = Command::new(options.binary);
    command
        .arg("-n")
        .args(["-M", "prepared"])
        .args(["-c", &options.clients.to_string()])
        .args(["-j", &options.threads.max(1).to_string()])
        .args(["-T", &options.duration.as_secs().max(1).to_string()])
        .arg("-l")
        .arg(format!("--log-prefix={}", prefix.display()))
        .arg("-f")
        .arg(options.script);
    for (name, value) in &options.variables {
        command.args(["-D", &format!("{name}={value}")]);
    }
    command
        .arg(options.database_url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let database = options
        .database_url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let (output, tracked) = tokio::task::spawn_blocking(move || {
        let child = command.spawn()?;
        let stop = AtomicBool::new(false);
        let (pid, database, stop) = (child.id(), &database, &stop);
        std::thread::scope(|scope| {
            let tracker = scope.spawn(move || procstat::track(pid, database, stop));
            let output = child.wait_with_output();
            stop.store(true, Ordering::Relaxed);
            let tracked = tracker.join().unwrap_or_default();
            output.map(|output| (output, tracked))
        })
    })
    .await?
    .context("running pgbench")?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    anyhow::ensure!(
        output.status.success(),
        "pgbench failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );

    let tps = parse_figure(&stdout, "tps = ").context("no tps in pgbench's output")?;
    let mut cpu_us_per_transaction = BTreeMap::new();
    if tps > 0.0 {
        cpu_us_per_transaction.insert("postgres".to_owned(), tracked.postgres_rate / tps * 1e6);
        cpu_us_per_transaction.insert("bench".to_owned(), tracked.process_rate / tps * 1e6);
        cpu_us_per_transaction.insert("suite".to_owned(), tracked.postgres_rate / tps * 1e6);
    }
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds");
    for entry in std::fs::read_dir(options.log_dir)?.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(&stem) {
            continue;
        }
        let log = std::fs::read_to_string(entry.path())?;
        for line in log.lines() {
            // client_id transaction_no time script_no time_epoch time_us: time is the
            // transaction's latency in µs.
            if let Some(latency) = line.split_whitespace().nth(2).and_then(|v| v.parse().ok()) {
                histogram.saturating_record(latency);
            }
        }
    }
    Ok(PgbenchRun {
        script: options.script.display().to_string(),
        clients: options.clients,
        tps,
        cpu_us_per_transaction,
        transactions: parse_figure(&stdout, "number of transactions actually processed: ")
            .unwrap_or_default() as u64,
        failed: parse_figure(&stdout, "number of failed transactions: ").unwrap_or_default() as u64,
        histogram,
    })
}

/// The number that follows `label` on a line of pgbench's summary.
fn parse_figure(output: &str, label: &str) -> Option<f64> {
    output.lines().find_map(|line| {
        let rest = line.trim().strip_prefix(label)?;
        rest.split(|c: char| c.is_whitespace() || c == '/')
            .next()?
            .parse()
            .ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_summary_of_pgbench_15() {
        let output = "transaction type: bench/pgbench/product_by_id.sql\n\
            scaling factor: 1\nquery mode: prepared\nnumber of clients: 32\n\
            number of threads: 2\nmaximum number of tries: 1\nduration: 5 s\n\
            number of transactions actually processed: 61234\n\
            number of failed transactions: 0 (0.000%)\n\
            latency average = 2.603 ms\ninitial connection time = 40.1 ms\n\
            tps = 12293.456789 (without initial connection time)\n";
        assert_eq!(parse_figure(output, "tps = "), Some(12293.456789));
        assert_eq!(
            parse_figure(output, "number of transactions actually processed: "),
            Some(61234.0)
        );
        assert_eq!(
            parse_figure(output, "number of failed transactions: "),
            Some(0.0)
        );
    }
}
