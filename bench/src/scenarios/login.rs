//! Login flood: logins back to back (each an argon2id verification) while product reads
//! go on, against the ceiling argon2 itself sets on this machine; then bursts of 50
//! concurrent logins with the same reads (issue 3).
//!
//! The reads are an open loop at a fixed rate ([`READ_RATE`]), the same alone and under
//! the logins, so the latency they show is what a shop's requests would see, not what is
//! left of a closed loop that takes every cycle it can: any CPU a closed loop of reads
//! leaves to the hashes is taken from its own throughput, so on two cores logins near the
//! argon2 ceiling and an unchanged read tail could not both hold by construction.

use std::time::{Duration, Instant};

use argon2::Argon2;

use super::{Bench, OPEN_LOOP_MAX_IN_FLIGHT, operations};
use crate::{
    load::{self, Operation, RequestContext, RequestError, operation},
    report::{Check, Row},
};

/// Concurrent logins of the flood.
const LOGIN_CONCURRENCY: usize = 8;

/// Concurrent logins of one burst (issue 3).
const BURST_SIZE: usize = 50;

/// Product reads per second, alone and under the logins. A large shop at its busiest
/// hour: 40 tills each scanning about an item a second (40 reads/s), plus price checkers,
/// shelf screens and the back office browsing, is well under 100 reads/s; 300/s keeps a
/// margin of three over that, and is still a small share of what the suite serves
/// (thousands of reads/s at c=32), so it measures the latency of ordinary traffic rather
/// than of a saturated server.
const READ_RATE: f64 = 300.0;

/// Hashes per second of one thread running argon2id with the parameters auth uses
/// (`Argon2::default()`: m = 19 MiB, t = 2, p = 1), measured for `duration`.
fn argon2_rate(duration: Duration) -> f64 {
    let argon2 = Argon2::default();
    let mut output = [0u8; 32];
    let started = Instant::now();
    let mut hashes = 0u64;
    while started.elapsed() < duration || hashes == 0 {
        argon2
            .hash_password_into(b"admin123-benchmark", b"regal-bench-salt", &mut output)
            .expect("argon2 parameters are valid");
        hashes += 1;
    }
    hashes as f64 / started.elapsed().as_secs_f64()
}

/// [`BURST_SIZE`] `logins` sent at once; one "request" is the whole burst, answered when
/// its last login is (the first failure fails it).
fn login_burst(logins: Operation) -> Operation {
    operation(move |context: &mut RequestContext| {
        let attempts: Vec<_> = (0..BURST_SIZE)
            .map(|_| tokio::spawn(logins(context)))
            .collect();
        async move {
            let mut outcome = Ok(());
            for attempt in attempts {
                let answer = attempt.await.unwrap_or_else(|error| {
                    Err(RequestError::new("bench task failed", error.to_string()))
                });
                if outcome.is_ok() {
                    outcome = answer;
                }
            }
            outcome
        }
    })
}

pub async fn login_flood(bench: &mut Bench) -> anyhow::Result<()> {
    let measure = if bench.settings.quick {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(5)
    };
    let rate = tokio::task::spawn_blocking(move || argon2_rate(measure)).await?;
    let ceiling = 2.0 * rate;
    bench
        .report
        .figures
        .insert("argon2id hashes/s (one thread)".to_owned(), rate);
    println!(
        "  argon2id: {rate:.1} hashes/s on one thread; ceiling 2 × that = {ceiling:.1} logins/s"
    );

    let reads = operations::get_product_rest(
        bench.clients.http1.clone(),
        bench.fixtures.bearer.clone(),
        bench.fixtures.product_ids.clone(),
    );
    let unloaded = bench.open(&reads, READ_RATE).await?;
    let unloaded_p99 = unloaded.quantile_ms(0.99).max(f64::MIN_POSITIVE);
    bench.push(Row::from_load(
        "login-flood",
        "reads alone: REST GET /products/{id}",
        &unloaded,
    ));

    let logins = operations::login_rest(
        bench.clients.http1.clone(),
        bench.fixtures.admin_username.clone(),
        bench.fixtures.admin_password.clone(),
    );
    let phases = bench.settings.phases;
    let (flood, loaded) = tokio::join!(
        load::closed_loop(&logins, LOGIN_CONCURRENCY, phases, &bench.monitor),
        load::open_loop(
            &reads,
            READ_RATE,
            OPEN_LOOP_MAX_IN_FLIGHT,
            phases,
            &bench.monitor
        ),
    );
    bench.suite.check_running()?;

    // The two loads share the window: CPU per request of either would charge it with the
    // other's work. Auth does next to nothing for the reads (the gateway checks tokens
    // itself), so its CPU per login is the figure that means something.
    if flood.successes() > 0
        && let Some(auth) = flood.cpu.get("auth")
    {
        bench.report.figures.insert(
            "login-flood auth CPU ms per login".to_owned(),
            auth.as_secs_f64() * 1000.0 / flood.successes() as f64,
        );
    }
    let mut flood_row = Row::from_load("login-flood", "POST /auth/login (admin)", &flood);
    flood_row.cpu_us_per_request.clear();
    let logins_per_second = flood_row.rps;
    bench.push(flood_row.check(Check::at_least(
        format!("≥ 80% of 2 × argon2 rate ({:.1}/s)", 0.8 * ceiling),
        logins_per_second,
        0.8 * ceiling,
        "/s",
    )));
    let mut loaded_row = Row::from_load("login-flood", "reads during the flood", &loaded);
    loaded_row.cpu_us_per_request.clear();
    let ratio = loaded_row.p99_ms / unloaded_p99;
    bench.push(loaded_row.check(Check::at_most("p99 ≤ 3 × unloaded p99", ratio, 3.0, "×")));

    // Issue 3: bursts of 50 concurrent logins, one after the other, and the same reads.
    let bursts = login_burst(logins);
    let (burst, during_bursts) = tokio::join!(
        load::closed_loop(&bursts, 1, phases, &bench.monitor),
        load::open_loop(
            &reads,
            READ_RATE,
            OPEN_LOOP_MAX_IN_FLIGHT,
            phases,
            &bench.monitor
        ),
    );
    bench.suite.check_running()?;
    let mut burst_row = Row::from_load(
        "login-flood",
        &format!("bursts of {BURST_SIZE} POST /auth/login"),
        &burst,
    );
    burst_row.cpu_us_per_request.clear();
    bench.report.figures.insert(
        "login-flood logins/s during bursts of 50".to_owned(),
        burst_row.rps * BURST_SIZE as f64,
    );
    bench.push(burst_row);
    let mut during_bursts_row = Row::from_load(
        "login-flood",
        "reads during bursts of 50 logins",
        &during_bursts,
    );
    during_bursts_row.cpu_us_per_request.clear();
    let burst_ratio = during_bursts_row.p99_ms / unloaded_p99;
    bench.push(during_bursts_row.check(Check::at_most(
        "p99 ≤ 2 × unloaded p99 (issue 3)",
        burst_ratio,
        2.0,
        "×",
    )));
    Ok(())
}
