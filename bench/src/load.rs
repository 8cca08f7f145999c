//! The load engine: an [`Operation`] (one request, built afresh each time so body and
//! headers can vary) driven either closed loop (N workers, each sending its next request
//! when the previous one answered) or open loop (requests sent at a fixed rate whatever
//! the answers do, latency measured from each request's *intended* send time, so a stall
//! of the server counts for every request it delayed: coordinated omission corrected).
//!
//! Each run has a warm-up (requests sent, not recorded) then a measured window; latencies
//! go to an HDR histogram in microseconds, failures are counted by kind, and the CPU time
//! of every monitored process over the window is attached.

use std::{
    collections::BTreeMap,
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;

use crate::procstat::Monitor;

/// A request that takes longer than this counts as a `timeout` error.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Highest latency the histograms hold (µs); longer ones are clamped.
const HISTOGRAM_MAX_MICROS: u64 = 30_000_000;

/// Why a request failed; the engine counts failures by `kind` and keeps the first detail
/// of each kind for the report.
#[derive(Debug, Clone)]
pub struct RequestError {
    pub kind: String,
    pub detail: String,
}

impl RequestError {
    pub fn new(kind: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            detail: detail.into(),
        }
    }

    /// An HTTP status other than the expected one.
    pub fn http(status: u16, body: &[u8]) -> Self {
        let body = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        Self::new(format!("http {status}"), body)
    }

    /// A gRPC status other than OK.
    pub fn grpc(code: tonic::Code, message: &str) -> Self {
        Self::new(format!("grpc {code:?}"), message)
    }

    /// The connection failed (refused, reset, protocol error).
    pub fn transport(error: impl std::fmt::Display) -> Self {
        Self::new("transport", error.to_string())
    }

    /// An answer that does not hold what the request expected.
    pub fn unexpected(detail: impl Into<String>) -> Self {
        Self::new("unexpected answer", detail)
    }
}

pub type RequestFuture = Pin<Box<dyn Future<Output = Result<(), RequestError>> + Send>>;

/// One kind of request: called once per request with that request's context.
pub type Operation = Arc<dyn Fn(&mut RequestContext) -> RequestFuture + Send + Sync>;

/// Wraps an async closure as an [`Operation`].
pub fn operation<F, Fut>(build: F) -> Operation
where
    F: Fn(&mut RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), RequestError>> + Send + 'static,
{
    Arc::new(move |context| Box::pin(build(context)))
}

/// What a request may vary on: its number and a random generator.
pub struct RequestContext {
    /// Requests sent before this one by the same worker (or dispatcher).
    pub sequence: u64,
    pub rng: Rng,
}

/// A small, fast, seedable generator (SplitMix64): enough to pick products and quantities.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// An element of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Warm-up and measured window of one run.
#[derive(Debug, Clone, Copy)]
pub struct Phases {
    pub warmup: Duration,
    pub measure: Duration,
}

/// How the load was offered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Closed { concurrency: usize },
    Open { rate: f64 },
}

impl std::fmt::Display for Mode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mode::Closed { concurrency } => write!(formatter, "closed c={concurrency}"),
            Mode::Open { rate } => write!(formatter, "open {rate:.0}/s"),
        }
    }
}

/// The outcome of one run.
#[derive(Debug, Clone)]
pub struct LoadResult {
    pub mode: Mode,
    /// Latencies of the successful requests of the window, in µs.
    pub histogram: Histogram<u64>,
    pub errors: BTreeMap<String, u64>,
    pub error_samples: BTreeMap<String, String>,
    pub window: Duration,
    /// CPU time each monitored process used during the window.
    pub cpu: BTreeMap<String, Duration>,
}

impl LoadResult {
    pub fn successes(&self) -> u64 {
        self.histogram.len()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Successful requests per second of the window.
    pub fn throughput(&self) -> f64 {
        self.successes() as f64 / self.window.as_secs_f64()
    }

    pub fn quantile_ms(&self, quantile: f64) -> f64 {
        self.histogram.value_at_quantile(quantile) as f64 / 1000.0
    }

    pub fn max_ms(&self) -> f64 {
        self.histogram.max() as f64 / 1000.0
    }

    /// CPU µs per request (successful or not) of each process, and their sum as `suite`
    /// (the parts and Postgres: everything but the load generator, `bench`).
    pub fn cpu_micros_per_request(&self) -> BTreeMap<String, f64> {
        let requests = (self.successes() + self.error_count()).max(1) as f64;
        let mut per_request: BTreeMap<String, f64> = self
            .cpu
            .iter()
            .map(|(name, used)| (name.clone(), used.as_micros() as f64 / requests))
            .collect();
        let suite: f64 = per_request
            .iter()
            .filter(|(name, _)| name.as_str() != "bench")
            .map(|(_, micros)| micros)
            .sum();
        per_request.insert("suite".to_owned(), suite);
        per_request
    }
}

/// Latencies and failures as they are recorded.
struct Recorder {
    histogram: Histogram<u64>,
    errors: BTreeMap<String, u64>,
    error_samples: BTreeMap<String, String>,
}

impl Recorder {
    fn new() -> Self {
        Self {
            histogram: Histogram::new_with_bounds(1, HISTOGRAM_MAX_MICROS, 3)
                .expect("valid histogram bounds"),
            errors: BTreeMap::new(),
            error_samples: BTreeMap::new(),
        }
    }

    fn record(&mut self, outcome: Result<(), RequestError>, latency: Duration) {
        match outcome {
            Ok(()) => self
                .histogram
                .saturating_record((latency.as_micros() as u64).max(1)),
            Err(error) => {
                *self.errors.entry(error.kind.clone()).or_default() += 1;
                self.error_samples.entry(error.kind).or_insert(error.detail);
            }
        }
    }

    fn merge(&mut self, other: Recorder) {
        self.histogram
            .add(other.histogram)
            .expect("histograms share bounds");
        for (kind, count) in other.errors {
            *self.errors.entry(kind).or_default() += count;
        }
        for (kind, detail) in other.error_samples {
            self.error_samples.entry(kind).or_insert(detail);
        }
    }
}

async fn call(operation: &Operation, context: &mut RequestContext) -> Result<(), RequestError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, operation(context)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(RequestError::new(
            "timeout",
            format!("no answer in {REQUEST_TIMEOUT:?}"),
        )),
    }
}

/// `concurrency` workers each send one request after another: the throughput the suite
/// sustains at that concurrency, and the latency it costs.
pub async fn closed_loop(
    operation: &Operation,
    concurrency: usize,
    phases: Phases,
    monitor: &Monitor,
) -> LoadResult {
    let recording = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|worker| {
            let operation = Arc::clone(operation);
            let recording = Arc::clone(&recording);
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let mut recorder = Recorder::new();
                let mut context = RequestContext {
                    sequence: 0,
                    rng: Rng::new(0x5EED ^ (worker as u64).wrapping_mul(0x1000_0001)),
                };
                while !stop.load(Ordering::Relaxed) {
                    // Only requests sent inside the window count.
                    let counted = recording.load(Ordering::Relaxed);
                    let started = Instant::now();
                    let outcome = call(&operation, &mut context).await;
                    if counted {
                        recorder.record(outcome, started.elapsed());
                    }
                    context.sequence += 1;
                }
                recorder
            })
        })
        .collect();

    tokio::time::sleep(phases.warmup).await;
    let cpu_before = monitor.cpu();
    let window_start = Instant::now();
    recording.store(true, Ordering::Relaxed);
    tokio::time::sleep(phases.measure).await;
    recording.store(false, Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    let window = window_start.elapsed();
    let cpu_after = monitor.cpu();

    let mut total = Recorder::new();
    for worker in workers {
        match worker.await {
            Ok(recorder) => total.merge(recorder),
            Err(error) => total.record(
                Err(RequestError::new(
                    "bench worker panicked",
                    error.to_string(),
                )),
                Duration::ZERO,
            ),
        }
    }
    LoadResult {
        mode: Mode::Closed { concurrency },
        histogram: total.histogram,
        errors: total.errors,
        error_samples: total.error_samples,
        window,
        cpu: monitor.cpu_between(&cpu_before, &cpu_after),
    }
}

/// Requests sent at `rate` per second on a fixed schedule, whatever the answers do, at
/// most `max_in_flight` at once. Each latency runs from the request's intended send time,
/// so time spent waiting for a slot, or for a late timer, is counted.
pub async fn open_loop(
    operation: &Operation,
    rate: f64,
    max_in_flight: usize,
    phases: Phases,
    monitor: &Monitor,
) -> LoadResult {
    let rate = rate.max(0.1);
    let recorder = Arc::new(Mutex::new(Recorder::new()));
    let slots = Arc::new(Semaphore::new(max_in_flight.max(1)));
    let start = Instant::now();
    let window_start = start + phases.warmup;
    let end = window_start + phases.measure;

    let dispatcher = {
        let operation = Arc::clone(operation);
        let recorder = Arc::clone(&recorder);
        let slots = Arc::clone(&slots);
        tokio::spawn(async move {
            let mut context = RequestContext {
                sequence: 0,
                rng: Rng::new(0x0BE7_5EED),
            };
            let mut unsent = 0u64;
            loop {
                let intended = start + Duration::from_secs_f64(context.sequence as f64 / rate);
                if intended >= end {
                    break;
                }
                // The timer wakes up to a millisecond late: everything due is sent at once
                // and the delay is in each latency.
                tokio::time::sleep_until(intended.into()).await;
                let permit =
                    match tokio::time::timeout_at(end.into(), Arc::clone(&slots).acquire_owned())
                        .await
                    {
                        Ok(Ok(permit)) => permit,
                        _ => {
                            // Out of slots until the end: what is left was never sent.
                            unsent = ((end - intended).as_secs_f64() * rate) as u64;
                            break;
                        }
                    };
                let request = operation(&mut context);
                context.sequence += 1;
                let recorder = Arc::clone(&recorder);
                tokio::spawn(async move {
                    let outcome = match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
                        Ok(outcome) => outcome,
                        Err(_) => Err(RequestError::new("timeout", "no answer in time")),
                    };
                    let latency = intended.elapsed();
                    if intended >= window_start {
                        recorder
                            .lock()
                            .expect("recorder lock")
                            .record(outcome, latency);
                    }
                    drop(permit);
                });
            }
            unsent
        })
    };

    tokio::time::sleep_until(window_start.into()).await;
    let cpu_before = monitor.cpu();
    tokio::time::sleep_until(end.into()).await;
    let window = window_start.elapsed();
    let cpu_after = monitor.cpu();
    let unsent = dispatcher.await.unwrap_or_default();
    // Wait for the requests still in flight (every slot free again).
    let _all = slots
        .acquire_many(max_in_flight.max(1) as u32)
        .await
        .expect("semaphore open");

    let recorder = std::mem::replace(
        &mut *recorder.lock().expect("recorder lock"),
        Recorder::new(),
    );
    let mut errors = recorder.errors;
    if unsent > 0 {
        *errors
            .entry("unsent (no free slot)".to_owned())
            .or_default() += unsent;
    }
    LoadResult {
        mode: Mode::Open { rate },
        histogram: recorder.histogram,
        errors,
        error_samples: recorder.error_samples,
        window,
        cpu: monitor.cpu_between(&cpu_before, &cpu_after),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleeper(millis: u64) -> Operation {
        operation(move |_| async move {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            Ok(())
        })
    }

    fn monitor() -> Monitor {
        Monitor::new(vec![("bench".to_owned(), std::process::id())])
    }

    const PHASES: Phases = Phases {
        warmup: Duration::from_millis(100),
        measure: Duration::from_millis(500),
    };

    #[tokio::test]
    async fn closed_loop_throughput_is_concurrency_over_latency() {
        let result = closed_loop(&sleeper(10), 4, PHASES, &monitor()).await;
        // 4 workers × 500 ms / ~10 ms each ≈ 200 (timers are coarse: allow a wide margin).
        assert!(
            (100..=210).contains(&result.successes()),
            "{}",
            result.successes()
        );
        assert_eq!(result.error_count(), 0);
        assert!(result.quantile_ms(0.5) >= 10.0);
    }

    #[tokio::test]
    async fn open_loop_counts_the_wait_of_requests_a_slow_server_delays() {
        // 200/s offered, one slot, each request takes 20 ms: the server does 50/s, so the
        // queue (and the corrected latency) grows through the window.
        let result = open_loop(&sleeper(20), 200.0, 1, PHASES, &monitor()).await;
        assert!(
            result.quantile_ms(0.99) > 100.0,
            "{}",
            result.quantile_ms(0.99)
        );
    }

    #[tokio::test]
    async fn open_loop_keeps_its_rate_when_the_server_keeps_up() {
        let result = open_loop(&sleeper(1), 200.0, 100, PHASES, &monitor()).await;
        assert!(
            (90..=110).contains(&result.successes()),
            "{}",
            result.successes()
        );
        assert!(result.quantile_ms(0.5) < 10.0);
    }

    #[tokio::test]
    async fn failures_are_counted_by_kind() {
        let failing = operation(|context: &mut RequestContext| {
            let odd = context.sequence % 2 == 1;
            async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                if odd {
                    Err(RequestError::http(503, b"busy"))
                } else {
                    Ok(())
                }
            }
        });
        let result = closed_loop(&failing, 2, PHASES, &monitor()).await;
        assert!(result.errors["http 503"] > 0);
        assert_eq!(result.error_samples["http 503"], "busy");
    }
}
