//! Login flood: logins back to back (each an argon2id verification) while product reads
//! go on, against the ceiling argon2 itself sets on this machine.

use std::time::{Duration, Instant};

use argon2::Argon2;

use super::{Bench, operations};
use crate::{
    load::{self, Phases},
    report::{Check, Row},
};

/// Concurrent logins of the flood.
const LOGIN_CONCURRENCY: usize = 8;

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
    let read_concurrency = bench.settings.latency_concurrency;
    let unloaded = bench.closed(&reads, read_concurrency).await?;
    let unloaded_p99 = unloaded.quantile_ms(0.99);
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
    let phases: Phases = bench.settings.phases;
    let (flood, loaded) = tokio::join!(
        load::closed_loop(&logins, LOGIN_CONCURRENCY, phases, &bench.monitor),
        load::closed_loop(&reads, read_concurrency, phases, &bench.monitor),
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
    let ratio = loaded_row.p99_ms / unloaded_p99.max(f64::MIN_POSITIVE);
    bench.push(loaded_row.check(Check::at_most("p99 ≤ 3 × unloaded p99", ratio, 3.0, "×")));
    Ok(())
}
