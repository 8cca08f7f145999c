//! Kills parts at random intervals and starts them again: SIGKILL (a crash) or SIGTERM
//! (a rolling restart), chosen at random, any part including the gateway and audit.

use std::{
    fmt,
    time::{Duration, Instant},
};

use crate::{
    load::Rng,
    suite::{PARTS, Suite},
};

/// How long a part may take to exit after SIGTERM before it is killed (and noted).
const TERM_GRACE: Duration = Duration::from_secs(20);
/// How long the suite may take to be ready again after a restart.
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(90);

/// Bounds of the pause between two kills, and of how long a killed part stays down.
#[derive(Debug, Clone, Copy)]
pub struct ChaosPlan {
    pub gap_min: Duration,
    pub gap_max: Duration,
    pub down_max: Duration,
}

/// One kill and restart.
#[derive(Debug, Clone)]
pub struct ChaosEvent {
    /// Since the load started.
    pub at: Duration,
    pub part: &'static str,
    pub signal: &'static str,
    /// How the process ended, and how long after the signal.
    pub exit: String,
    pub exit_after: Duration,
    /// SIGTERM: exited 0 within the grace period.
    pub graceful: Option<bool>,
    pub down_for: Duration,
    /// From the restart to the gateway's /health/ready; None if it never came.
    pub ready_after: Option<Duration>,
}

impl fmt::Display for ChaosEvent {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{:>6.1}s  {:<7} SIG{:<4} {} after {:.2}s, down {:.1}s, ready {}",
            self.at.as_secs_f64(),
            self.part,
            self.signal,
            self.exit,
            self.exit_after.as_secs_f64(),
            self.down_for.as_secs_f64(),
            self.ready_after
                .map(|ready| format!("{:.1}s later", ready.as_secs_f64()))
                .unwrap_or_else(|| "NEVER".to_owned())
        )
    }
}

fn between(rng: &mut Rng, low: Duration, high: Duration) -> Duration {
    let span = high.saturating_sub(low).as_millis() as usize;
    low + Duration::from_millis(rng.below(span.max(1)) as u64)
}

/// Kills and restarts parts until `until`; returns what happened. A part that does not
/// come back is an error (the soak cannot go on without it).
pub async fn run(
    suite: &mut Suite,
    plan: ChaosPlan,
    mut rng: Rng,
    started: Instant,
    until: Instant,
) -> anyhow::Result<Vec<ChaosEvent>> {
    let mut events = Vec::new();
    loop {
        let gap = between(&mut rng, plan.gap_min, plan.gap_max);
        if Instant::now() + gap >= until {
            break;
        }
        tokio::time::sleep(gap).await;
        let part = *rng.pick(&PARTS);
        let signal = if rng.below(2) == 0 { "KILL" } else { "TERM" };
        let down_for = between(&mut rng, Duration::ZERO, plan.down_max);
        let at = started.elapsed();

        let signalled = Instant::now();
        suite.signal(part, signal)?;
        let grace = if signal == "TERM" {
            TERM_GRACE
        } else {
            Duration::from_secs(5)
        };
        let (exit, graceful) = match suite.wait_exit(part, grace).await? {
            Some(status) => (
                status.to_string(),
                (signal == "TERM").then_some(status.success()),
            ),
            None => {
                suite.signal(part, "KILL")?;
                let status = suite.wait_exit(part, Duration::from_secs(5)).await?;
                (
                    format!(
                        "still running {}s after SIGTERM, killed ({})",
                        grace.as_secs(),
                        status.map(|status| status.to_string()).unwrap_or_default()
                    ),
                    Some(false),
                )
            }
        };
        let exit_after = signalled.elapsed();
        tokio::time::sleep(down_for).await;
        suite.restart(part)?;
        let restarted = Instant::now();
        let ready = suite.wait_until_ready(RECOVERY_TIMEOUT).await;
        let event = ChaosEvent {
            at,
            part,
            signal,
            exit,
            exit_after,
            graceful,
            down_for,
            ready_after: ready.is_ok().then(|| restarted.elapsed()),
        };
        println!("  chaos {event}");
        events.push(event);
        ready?;
    }
    Ok(events)
}
