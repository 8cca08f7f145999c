//! Memory: the RSS of each part idle (seeded, before any load) and after minutes of
//! mixed load, sampled all along to see whether it keeps growing.

use std::{collections::BTreeMap, time::Duration};

use super::{Bench, operations};
use crate::{
    load::{self, Operation, Phases, RequestContext, operation},
    report::{Check, MemoryRow, Row},
};

const MIXED_CONCURRENCY: usize = 8;
const IDLE_LIMIT_MIB: f64 = 30.0;
const AFTER_LOAD_LIMIT_MIB: f64 = 64.0;
const GROWTH_LIMIT_PERCENT: f64 = 10.0;

/// A shop's mix: mostly product reads over every transport, the product list, token
/// checks, a few logins, and quick-sells of 1 to 3 lines when sales can take them.
fn mixed(bench: &Bench, with_quick_sells: bool) -> Operation {
    let clients = &bench.clients;
    let fixtures = &bench.fixtures;
    let ids = &fixtures.product_ids;
    let mut weighted: Vec<(usize, Operation)> = vec![
        (
            35,
            operations::get_product_rest(
                clients.http1.clone(),
                fixtures.bearer.clone(),
                ids.clone(),
            ),
        ),
        (
            15,
            operations::get_product_grpc(
                clients.grpc_gateway.clone(),
                &fixtures.admin_token,
                ids.clone(),
            ),
        ),
        (
            15,
            operations::get_product_grpc_web(
                clients.http1.clone(),
                fixtures.bearer.clone(),
                ids.clone(),
            ),
        ),
        (
            20,
            operations::list_products_rest(clients.http1.clone(), fixtures.bearer.clone()),
        ),
        (
            12,
            operations::me_rest(clients.http1.clone(), fixtures.bearer.clone()),
        ),
        (
            3,
            operations::login_rest(
                clients.http1.clone(),
                fixtures.admin_username.clone(),
                fixtures.admin_password.clone(),
            ),
        ),
    ];
    if with_quick_sells {
        for lines in [1, 3] {
            weighted.push((
                10,
                operations::quick_sell_rest(
                    clients.http1.clone(),
                    fixtures.bearer.clone(),
                    ids.clone(),
                    lines,
                ),
            ));
        }
    }
    let total: usize = weighted.iter().map(|(weight, _)| weight).sum();
    operation(move |context: &mut RequestContext| {
        let mut draw = context.rng.below(total);
        let chosen = weighted
            .iter()
            .find(|(weight, _)| {
                if draw < *weight {
                    true
                } else {
                    draw -= weight;
                    false
                }
            })
            .map(|(_, operation)| operation)
            .expect("weights cover the draw");
        chosen(context)
    })
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

pub async fn memory(bench: &mut Bench) -> anyhow::Result<()> {
    let duration = bench.settings.memory_load;
    let interval = sampling_interval(duration);
    println!(
        "  memory: {}s of mixed load at c={MIXED_CONCURRENCY}, RSS sampled every {} ms",
        duration.as_secs(),
        interval.as_millis()
    );
    let with_quick_sells = super::sales::available(bench).await.is_ok();
    let operation = mixed(bench, with_quick_sells);
    let phases = Phases {
        warmup: Duration::ZERO,
        measure: duration,
    };
    let monitor = bench.monitor.clone();
    let sampler = tokio::spawn(async move {
        let mut samples: Vec<BTreeMap<String, u64>> = Vec::new();
        let started = tokio::time::Instant::now();
        while started.elapsed() < duration {
            tokio::time::sleep(interval).await;
            samples.push(monitor.rss_kib());
        }
        samples
    });
    let result = load::closed_loop(&operation, MIXED_CONCURRENCY, phases, &bench.monitor).await;
    let samples = sampler.await?;
    bench.suite.check_running()?;
    let label = if with_quick_sells {
        "mixed load (reads, list, me, logins, sells)"
    } else {
        "mixed load (reads, list, me, logins)"
    };
    bench.push(Row::from_load("memory", label, &result));

    let after = bench.monitor.rss_kib();
    let names: Vec<String> = bench.monitor.names().map(str::to_owned).collect();
    for name in names {
        let series: Vec<f64> = samples
            .iter()
            .filter_map(|sample| sample.get(&name).copied().map(mib))
            .collect();
        let growth = floor_growth_percent(&series);
        let idle = bench.idle_rss.get(&name).copied().map(mib);
        let after_load = after.get(&name).copied().map(mib);
        let mut checks = Vec::new();
        if name != "bench" {
            if let Some(idle) = idle {
                checks.push(Check::at_most(
                    "idle ≤ 30 MiB",
                    idle,
                    IDLE_LIMIT_MIB,
                    " MiB",
                ));
            }
            if let Some(after_load) = after_load {
                checks.push(Check::at_most(
                    "after load ≤ 64 MiB",
                    after_load,
                    AFTER_LOAD_LIMIT_MIB,
                    " MiB",
                ));
            }
            if let Some(growth) = growth {
                checks.push(Check::at_most(
                    "growth ≤ 10%",
                    growth,
                    GROWTH_LIMIT_PERCENT,
                    "%",
                ));
            }
        }
        let fresh = bench.fresh_rss.get(&name).copied().map(mib);
        bench.report.memory.push(MemoryRow {
            part: name,
            fresh_mib: fresh,
            idle_mib: idle,
            after_load_mib: after_load,
            growth_percent: growth,
            samples_mib: series,
            checks,
        });
    }
    Ok(())
}

/// RSS samples per run: every second over 5 minutes, so each fifth of the run (the growth
/// check's windows) holds 60 samples, enough for one of them to fall between auth's logins
/// (with 10 s between samples a window held 6, and auth's floor swung by argon2's 19 MiB
/// from run to run: once "+95 %").
const SAMPLES_PER_RUN: u32 = 300;
/// Reading `/proc/<pid>/status` of six processes more often than this costs the load.
const MIN_SAMPLING_INTERVAL: Duration = Duration::from_millis(100);

fn sampling_interval(duration: Duration) -> Duration {
    (duration / SAMPLES_PER_RUN).max(MIN_SAMPLING_INTERVAL)
}

/// Growth from minute 2 to minute 5 of a 5-minute run, as the rise of the RSS *floor*: the
/// lowest sample of the fifth of the run that starts at minute 2 against the lowest of the
/// last fifth. A leak raises the floor; a part's transient working set does not (auth maps
/// argon2's 19 MiB for each hash and unmaps it after, so single samples taken mid-hash
/// or between hashes differ by 19 MiB without anything being kept).
fn floor_growth_percent(series: &[f64]) -> Option<f64> {
    let window = (series.len() / 5).max(1);
    let start = series.len() * 2 / 5;
    let floor = |samples: &[f64]| samples.iter().copied().reduce(f64::min);
    let from = floor(series.get(start..(start + window).min(series.len()))?)?;
    let to = floor(series.get(series.len().saturating_sub(window)..)?)?;
    (from > 0.0).then(|| (to - from) / from * 100.0)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{floor_growth_percent, sampling_interval};

    /// Auth's RSS over a run sampled as the scenario does: 19 MiB above its floor whenever a
    /// hash is in flight (`busy(index)`), plus `leak_per_sample` MiB kept for good per sample.
    fn auth_series(samples: usize, leak_per_sample: f64, busy: impl Fn(usize) -> bool) -> Vec<f64> {
        (0..samples)
            .map(|index| {
                let floor = 21.0 + leak_per_sample * index as f64;
                if busy(index) { floor + 19.0 } else { floor }
            })
            .collect()
    }

    #[test]
    fn five_minutes_are_sampled_every_second_and_a_quick_run_more_often() {
        assert_eq!(
            sampling_interval(Duration::from_secs(300)),
            Duration::from_secs(1)
        );
        assert_eq!(
            sampling_interval(Duration::from_secs(10)),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn hashes_in_flight_most_of_the_time_are_not_growth_when_sampled_densely() {
        // A hash in flight at 9 samples out of 10, idle at an irregular tenth: each 60-sample
        // window catches auth between logins a few times.
        let series = auth_series(300, 0.0, |index| (index * 7) % 10 != 3);
        assert_eq!(floor_growth_percent(&series), Some(0.0));
    }

    #[test]
    fn a_leak_under_the_hashes_still_shows_as_growth() {
        // 0.05 MiB kept per second (3 MiB a minute) under the same 19 MiB swings: the floor of
        // the last fifth is ~7.5 MiB above that of the fifth from minute 2.
        let series = auth_series(300, 0.05, |index| (index * 7) % 10 != 3);
        let growth = floor_growth_percent(&series).unwrap_or_default();
        assert!(growth > 10.0, "{growth}");
    }

    #[test]
    fn a_transient_working_set_is_not_growth_but_a_rising_floor_is() {
        let hashing = [20.0, 39.0, 20.0, 39.0, 20.0, 39.0, 20.0, 39.0, 20.0, 39.0];
        assert_eq!(floor_growth_percent(&hashing), Some(0.0));
        let leaking = [20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0];
        let growth = floor_growth_percent(&leaking).unwrap_or_default();
        assert!(
            (growth - 100.0 * (28.0 - 24.0) / 24.0).abs() < 1e-9,
            "{growth}"
        );
    }
}
