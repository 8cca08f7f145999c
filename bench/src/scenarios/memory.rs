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
    let interval = if bench.settings.quick {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(10)
    };
    println!(
        "  memory: {}s of mixed load at c={MIXED_CONCURRENCY}, RSS sampled every {}s",
        duration.as_secs(),
        interval.as_secs()
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
    use super::floor_growth_percent;

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
