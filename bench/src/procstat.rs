//! CPU time and resident memory of the suite's processes, read from `/proc`.
//!
//! CPU is `utime + stime` of `/proc/<pid>/stat` (all threads of the process), in clock
//! ticks converted with the tick rate `getconf CLK_TCK` reports; memory is `VmRSS` of
//! `/proc/<pid>/status`.
//!
//! Postgres is measured too, as `postgres`: the server processes serving the bench
//! database, found by their process title (`postgres: … <user> <database> <client> …`).
//! Only backends alive at both ends of a window are counted fully; one that started in
//! the window counts from zero, one that ended in it is lost (the pools keep theirs).

use std::{collections::BTreeMap, time::Duration};

/// The processes measured, by name (`auth`, …, `gateway`, and `bench`, this process).
#[derive(Debug, Clone)]
pub struct Monitor {
    processes: Vec<(String, u32)>,
    /// `" <database> "`, as it appears in the title of the backends serving it.
    postgres_database: Option<String>,
    ticks_per_second: u64,
}

/// CPU time consumed so far by each process, and by each Postgres backend.
#[derive(Debug, Clone, Default)]
pub struct CpuSnapshot {
    named: BTreeMap<String, u64>,
    postgres: BTreeMap<u32, u64>,
}

impl Monitor {
    pub fn new(processes: Vec<(String, u32)>) -> Self {
        Self {
            processes,
            postgres_database: None,
            ticks_per_second: clock_ticks_per_second(),
        }
    }

    /// Also measures the Postgres backends serving `database`.
    pub fn with_postgres(mut self, database: &str) -> Self {
        self.postgres_database = Some(format!(" {database} "));
        self
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.processes.iter().map(|(name, _)| name.as_str())
    }

    pub fn cpu(&self) -> CpuSnapshot {
        CpuSnapshot {
            named: self
                .processes
                .iter()
                .filter_map(|(name, pid)| Some((name.clone(), cpu_ticks(*pid)?)))
                .collect(),
            postgres: self
                .postgres_database
                .as_deref()
                .map(postgres_backends)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|pid| Some((pid, cpu_ticks(pid)?)))
                .collect(),
        }
    }

    /// CPU time each process used between two snapshots.
    pub fn cpu_between(
        &self,
        before: &CpuSnapshot,
        after: &CpuSnapshot,
    ) -> BTreeMap<String, Duration> {
        let to_duration =
            |ticks: u64| Duration::from_micros(ticks * 1_000_000 / self.ticks_per_second);
        let mut used: BTreeMap<String, Duration> = after
            .named
            .iter()
            .filter_map(|(name, ticks)| {
                let earlier = before.named.get(name)?;
                Some((name.clone(), to_duration(ticks.saturating_sub(*earlier))))
            })
            .collect();
        if self.postgres_database.is_some() {
            let ticks = after
                .postgres
                .iter()
                .map(|(pid, ticks)| {
                    ticks.saturating_sub(before.postgres.get(pid).copied().unwrap_or(0))
                })
                .sum();
            used.insert("postgres".to_owned(), to_duration(ticks));
        }
        used
    }

    /// Resident set size of each process, in KiB.
    pub fn rss_kib(&self) -> BTreeMap<String, u64> {
        self.processes
            .iter()
            .filter_map(|(name, pid)| Some((name.clone(), rss_kib(*pid)?)))
            .collect()
    }
}

/// CPU rates of a process run by the bench (pgbench) and of the Postgres backends it
/// talks to, sampled while it runs: each process counts from the first to the last
/// sample it was seen in, so backends that come and go with the run are measured too.
#[derive(Debug, Default)]
pub struct Tracked {
    /// CPU seconds per second of the tracked process.
    pub process_rate: f64,
    /// CPU seconds per second of the backends serving the database.
    pub postgres_rate: f64,
}

/// Samples `pid` and the backends serving `database` every 100 ms until `stop` is set.
pub fn track(pid: u32, database: &str, stop: &std::sync::atomic::AtomicBool) -> Tracked {
    use std::sync::atomic::Ordering;
    let needle = format!(" {database} ");
    let ticks_per_second = clock_ticks_per_second() as f64;
    let mut process: Option<(u64, u64)> = None;
    let mut backends: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    let started = std::time::Instant::now();
    let mut first_sample = None;
    let mut last_sample = None;
    while !stop.load(Ordering::Relaxed) {
        let now = started.elapsed();
        if let Some(ticks) = cpu_ticks(pid) {
            let entry = process.get_or_insert((ticks, ticks));
            entry.1 = ticks;
            first_sample.get_or_insert(now);
            last_sample = Some(now);
        }
        for backend in postgres_backends(&needle) {
            if let Some(ticks) = cpu_ticks(backend) {
                backends.entry(backend).or_insert((ticks, ticks)).1 = ticks;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let span = match (first_sample, last_sample) {
        (Some(first), Some(last)) if last > first => (last - first).as_secs_f64(),
        _ => return Tracked::default(),
    };
    let used = |(first, last): (u64, u64)| last.saturating_sub(first) as f64 / ticks_per_second;
    Tracked {
        process_rate: process.map(used).unwrap_or_default() / span,
        postgres_rate: backends.into_values().map(used).sum::<f64>() / span,
    }
}

/// The Postgres backends whose process title holds `needle` (` <database> `).
fn postgres_backends(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|title| {
                let title = String::from_utf8_lossy(&title);
                title.starts_with("postgres: ") && title.contains(needle)
            })
        })
        .collect()
}

/// `utime + stime` of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

/// `sysconf(_SC_CLK_TCK)` without `unsafe`: asks `getconf`, else assumes Linux's 100.
fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|ticks| *ticks > 0)
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let monitor = Monitor::new(vec![("bench".to_owned(), std::process::id())]);
        assert!(monitor.rss_kib()["bench"] > 0);
        let before = monitor.cpu();
        let started = std::time::Instant::now();
        let mut spin = 0u64;
        while started.elapsed() < Duration::from_millis(50) {
            spin = spin.wrapping_add(1);
        }
        assert!(spin > 0);
        let used = monitor.cpu_between(&before, &monitor.cpu());
        assert!(used["bench"] <= Duration::from_secs(1));
    }
}
