//! The figures of a run: one [`Row`] per measured load (with the targets checked
//! against it), memory per part, and scenarios not measured; printed as tables and
//! written as JSON.

use std::{collections::BTreeMap, path::Path};

use serde::Serialize;

use crate::{load::LoadResult, pgbench::PgbenchRun};

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub started_at_unix: u64,
    pub quick: bool,
    /// The `regal` binary measured (a dev build's figures mean nothing).
    pub regal_bin: String,
    pub cores: usize,
    pub warmup_seconds: u64,
    pub window_seconds: u64,
    pub concurrency: usize,
    pub latency_concurrency: usize,
    pub products: usize,
    pub seed_seconds: f64,
    pub rows: Vec<Row>,
    pub memory: Vec<MemoryRow>,
    /// Other figures of a scenario (argon2 rate, drain times, …).
    pub figures: BTreeMap<String, f64>,
    /// Scenarios asked for but not measured, and why.
    pub not_measured: Vec<NotMeasured>,
}

/// One measured load.
#[derive(Debug, Serialize)]
pub struct Row {
    pub scenario: String,
    /// What was sent and how: `REST h1 GET /products/{id}`, …
    pub request: String,
    /// `closed c=32`, `open 500/s`, `pgbench c=32`
    pub mode: String,
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    pub error_samples: BTreeMap<String, String>,
    /// CPU µs per request of each part (`suite` is their sum, `bench` the load generator).
    pub cpu_us_per_request: BTreeMap<String, f64>,
    /// The baseline this row is compared with, and throughput / baseline throughput.
    pub baseline: Option<String>,
    pub baseline_ratio: Option<f64>,
    pub checks: Vec<Check>,
}

/// A target of issue 9 checked against a row.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub target: String,
    pub measured: String,
    pub pass: bool,
}

impl Check {
    /// `measured <= limit`.
    pub fn at_most(target: impl Into<String>, measured: f64, limit: f64, unit: &str) -> Self {
        Self {
            target: target.into(),
            measured: format!("{measured:.2}{unit}"),
            pass: measured <= limit,
        }
    }

    /// `measured >= limit`.
    pub fn at_least(target: impl Into<String>, measured: f64, limit: f64, unit: &str) -> Self {
        Self {
            target: target.into(),
            measured: format!("{measured:.2}{unit}"),
            pass: measured >= limit,
        }
    }
}

impl Row {
    pub fn from_load(scenario: &str, request: &str, result: &LoadResult) -> Self {
        Self {
            scenario: scenario.to_owned(),
            request: request.to_owned(),
            mode: result.mode.to_string(),
            requests: result.successes(),
            rps: result.throughput(),
            p50_ms: result.quantile_ms(0.50),
            p90_ms: result.quantile_ms(0.90),
            p99_ms: result.quantile_ms(0.99),
            max_ms: result.max_ms(),
            errors: result.error_count(),
            error_kinds: result.errors.clone(),
            error_samples: result.error_samples.clone(),
            cpu_us_per_request: result.cpu_micros_per_request(),
            baseline: None,
            baseline_ratio: None,
            checks: Vec::new(),
        }
    }

    pub fn from_pgbench(scenario: &str, run: &PgbenchRun) -> Self {
        let histogram = &run.histogram;
        let script = Path::new(&run.script)
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| run.script.clone());
        Self {
            scenario: scenario.to_owned(),
            request: format!("pgbench {script}"),
            mode: format!("pgbench c={}", run.clients),
            requests: run.transactions,
            rps: run.tps,
            p50_ms: histogram.value_at_quantile(0.50) as f64 / 1000.0,
            p90_ms: histogram.value_at_quantile(0.90) as f64 / 1000.0,
            p99_ms: histogram.value_at_quantile(0.99) as f64 / 1000.0,
            max_ms: histogram.max() as f64 / 1000.0,
            errors: run.failed,
            error_kinds: BTreeMap::new(),
            error_samples: BTreeMap::new(),
            cpu_us_per_request: run.cpu_us_per_transaction.clone(),
            baseline: None,
            baseline_ratio: None,
            checks: Vec::new(),
        }
    }

    /// A row that only carries checks (no load of its own).
    pub fn check_only(scenario: &str, what: &str) -> Self {
        Self {
            scenario: scenario.to_owned(),
            request: what.to_owned(),
            mode: "check".to_owned(),
            requests: 0,
            rps: 0.0,
            p50_ms: 0.0,
            p90_ms: 0.0,
            p99_ms: 0.0,
            max_ms: 0.0,
            errors: 0,
            error_kinds: BTreeMap::new(),
            error_samples: BTreeMap::new(),
            cpu_us_per_request: BTreeMap::new(),
            baseline: None,
            baseline_ratio: None,
            checks: Vec::new(),
        }
    }

    pub fn compared_with(mut self, baseline: &str, baseline_rps: f64) -> Self {
        self.baseline = Some(baseline.to_owned());
        self.baseline_ratio = Some(self.rps / baseline_rps.max(f64::MIN_POSITIVE));
        self
    }

    pub fn check(mut self, check: Check) -> Self {
        self.checks.push(check);
        self
    }
}

/// Resident memory of one part at one moment.
#[derive(Debug, Serialize)]
pub struct MemoryRow {
    pub part: String,
    /// Right after start, before seeding.
    pub fresh_mib: Option<f64>,
    /// Seeded and settled, before any load: what the idle target is checked against.
    pub idle_mib: Option<f64>,
    pub after_load_mib: Option<f64>,
    /// Growth between the sample at 2/5 of the load and the last one (minute 2 to 5 of a
    /// full run), in percent.
    pub growth_percent: Option<f64>,
    pub samples_mib: Vec<f64>,
    pub checks: Vec<Check>,
}

#[derive(Debug, Serialize)]
pub struct NotMeasured {
    pub scenario: String,
    pub reason: String,
}

fn cpu_cell(row: &Row) -> String {
    let part = |name: &str| {
        row.cpu_us_per_request
            .get(name)
            .map(|micros| format!("{micros:.0}"))
            .unwrap_or_else(|| "-".to_owned())
    };
    if row.cpu_us_per_request.is_empty() {
        return "-".to_owned();
    }
    format!(
        "{} ({}/{}/{}/{}/{})",
        part("suite"),
        part("gateway"),
        part("auth"),
        part("catalog"),
        part("postgres"),
        part("bench")
    )
}

impl Report {
    #[allow(clippy::print_literal)]
    pub fn print(&self) {
        println!();
        println!(
            "{:<18} {:<36} {:<14} {:>8} {:>9} {:>7} {:>7} {:>7} {:>8} {:>6} {:<32} {:>6}  {:<34} {}",
            "scenario",
            "request",
            "mode",
            "requests",
            "rps",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "errors",
            "cpu µs/req all (gw/au/ca/pg/bn)",
            "base",
            "target",
            "result"
        );
        for row in &self.rows {
            let ratio = row
                .baseline_ratio
                .map(|ratio| format!("{:.0}%", ratio * 100.0))
                .unwrap_or_else(|| "-".to_owned());
            let first = row.checks.first();
            if row.mode == "check" {
                // A row of checks only: no figures of its own.
                println!(
                    "{:<18} {:<36} {:<14} {:>115}  {:<34} {}",
                    row.scenario,
                    row.request,
                    row.mode,
                    "",
                    first.map(|check| check.target.as_str()).unwrap_or(""),
                    first.map(verdict).unwrap_or_default(),
                );
            } else {
                println!(
                    "{:<18} {:<36} {:<14} {:>8} {:>9.1} {:>7.2} {:>7.2} {:>7.2} {:>8.2} {:>6} {:<32} {:>6}  {:<34} {}",
                    row.scenario,
                    row.request,
                    row.mode,
                    row.requests,
                    row.rps,
                    row.p50_ms,
                    row.p90_ms,
                    row.p99_ms,
                    row.max_ms,
                    row.errors,
                    cpu_cell(row),
                    ratio,
                    first.map(|check| check.target.as_str()).unwrap_or(""),
                    first.map(verdict).unwrap_or_default(),
                );
            }
            for check in row.checks.iter().skip(1) {
                println!("{:>169}  {:<34} {}", "", check.target, verdict(check));
            }
            for (kind, count) in &row.error_kinds {
                let sample = row.error_samples.get(kind).cloned().unwrap_or_default();
                println!("    {count} × {kind}: {}", sample.replace('\n', " "));
            }
        }
        if !self.memory.is_empty() {
            println!();
            println!(
                "{:<10} {:>10} {:>10} {:>16} {:>10}  {}",
                "part", "fresh MiB", "idle MiB", "after load MiB", "growth", "targets"
            );
            for row in &self.memory {
                let mib = |value: Option<f64>| {
                    value
                        .map(|value| format!("{value:.1}"))
                        .unwrap_or_else(|| "-".to_owned())
                };
                let growth = row
                    .growth_percent
                    .map(|value| format!("{value:+.1}%"))
                    .unwrap_or_else(|| "-".to_owned());
                let checks: Vec<String> = row
                    .checks
                    .iter()
                    .map(|check| format!("{} {}", check.target, verdict(check)))
                    .collect();
                println!(
                    "{:<10} {:>10} {:>10} {:>16} {:>10}  {}",
                    row.part,
                    mib(row.fresh_mib),
                    mib(row.idle_mib),
                    mib(row.after_load_mib),
                    growth,
                    checks.join("; ")
                );
            }
        }
        if !self.figures.is_empty() {
            println!();
            for (name, value) in &self.figures {
                println!("{name}: {value:.2}");
            }
        }
        for skipped in &self.not_measured {
            println!("not measured: {}: {}", skipped.scenario, skipped.reason);
        }
        let checks: Vec<&Check> = self
            .rows
            .iter()
            .flat_map(|row| &row.checks)
            .chain(self.memory.iter().flat_map(|row| &row.checks))
            .collect();
        let missed = checks.iter().filter(|check| !check.pass).count();
        println!(
            "\ntargets: {} checked, {} met, {} missed",
            checks.len(),
            checks.len() - missed,
            missed
        );
    }

    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(self)?)?;
        Ok(())
    }
}

fn verdict(check: &Check) -> String {
    format!(
        "{} ({})",
        if check.pass { "pass" } else { "MISS" },
        check.measured
    )
}
