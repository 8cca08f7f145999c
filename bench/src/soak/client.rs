//! The soak's REST client: a counter that keeps trying. A request that meets a transport
//! error, a timeout, a 502/503/504 or a 409 "still in progress" is sent again — with the
//! SAME `Idempotency-Key` — until it gets an answer or the retry budget is spent; every
//! key used is recorded with what its requests saw, for the invariants.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Mutex,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use serde_json::Value;

use crate::clients::Rest;

/// One attempt gets this long before it counts as lost (the gateway bounds an upstream
/// call to 10 s).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How a request ended, after its retries.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A final answer (2xx, or a 4xx the retry cannot change).
    Answered { status: StatusCode, body: Value },
    /// The budget ran out without a final answer: the request may or may not have
    /// taken effect.
    GaveUp { last: String },
}

impl Outcome {
    /// The body of a 2xx answer.
    pub fn success(&self) -> Option<&Value> {
        match self {
            Outcome::Answered { status, body } if status.is_success() => Some(body),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Outcome::Answered { status, .. } => Some(*status),
            Outcome::GaveUp { .. } => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Outcome::Answered { status, body } => format!("{status} {body}"),
            Outcome::GaveUp { last } => format!("gave up: {last}"),
        }
    }
}

/// What the requests of one `Idempotency-Key` saw.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    pub user_id: String,
    pub key: String,
    /// `sale`, `refund` or `stock`.
    pub operation: &'static str,
    /// The id of the created resource, when an attempt answered 2xx.
    pub answered_id: Option<String>,
    /// Every resource id any attempt was answered with (more than one is a double).
    pub ids_seen: BTreeSet<String>,
    /// The final status, or none when the client gave up.
    pub final_status: Option<u16>,
    pub attempts: u32,
    /// What to send again to replay the key after the load: path, body and token.
    pub replay: Option<(String, Value, String)>,
}

/// Counts by operation and outcome, plus the keys.
#[derive(Default)]
pub struct Ledger {
    counts: Mutex<BTreeMap<String, BTreeMap<String, u64>>>,
    keys: Mutex<Vec<KeyRecord>>,
    internal_errors: Mutex<Vec<String>>,
    started: std::sync::OnceLock<Instant>,
}

impl Ledger {
    /// Records a 500 (when, which call) for the report.
    pub fn note_internal_error(&self, operation: &str, path: &str) {
        let since = self.started.get_or_init(Instant::now).elapsed();
        if let Ok(mut errors) = self.internal_errors.lock() {
            errors.push(format!("{:.1}s {operation} {path}", since.as_secs_f64()));
        }
    }

    /// Starts the clock of [`Ledger::note_internal_error`].
    pub fn start_clock(&self, at: Instant) {
        let _ = self.started.set(at);
    }

    pub fn internal_errors(&self) -> Vec<String> {
        self.internal_errors
            .lock()
            .map(|errors| errors.clone())
            .unwrap_or_default()
    }

    pub fn count(&self, operation: &str, outcome: &str) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts
                .entry(operation.to_owned())
                .or_default()
                .entry(outcome.to_owned())
                .or_default() += 1;
        }
    }

    pub fn add(&self, operation: &str, outcome: &str, amount: u64) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts
                .entry(operation.to_owned())
                .or_default()
                .entry(outcome.to_owned())
                .or_default() += amount;
        }
    }

    pub fn counts(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        self.counts
            .lock()
            .map(|counts| counts.clone())
            .unwrap_or_default()
    }

    pub fn record_key(&self, record: KeyRecord) {
        if let Ok(mut keys) = self.keys.lock() {
            keys.push(record);
        }
    }

    pub fn keys_mut(&self) -> std::sync::MutexGuard<'_, Vec<KeyRecord>> {
        match self.keys.lock() {
            Ok(keys) => keys,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn keys(&self) -> Vec<KeyRecord> {
        self.keys
            .lock()
            .map(|keys| keys.clone())
            .unwrap_or_default()
    }
}

/// A REST call to the gateway, retried as a counter would.
pub struct Api {
    rest: Rest,
    /// How long a request keeps being retried.
    budget: Duration,
}

/// One request: what to send.
pub struct Call<'a> {
    pub operation: &'static str,
    pub method: Method,
    pub path: String,
    pub token: Option<&'a str>,
    pub body: Option<Value>,
    pub idempotency_key: Option<&'a str>,
}

impl Api {
    pub fn new(rest: Rest, budget: Duration) -> Self {
        Self { rest, budget }
    }

    /// Sends `call` until it is answered or the budget is spent; counts each attempt's
    /// outcome in `ledger` under the call's operation.
    pub async fn send(&self, ledger: &Ledger, call: Call<'_>) -> (Outcome, u32) {
        let started = Instant::now();
        let mut backoff = FIRST_BACKOFF;
        let mut attempts = 0u32;
        let authorization = call
            .token
            .and_then(|token| HeaderValue::from_str(&format!("Bearer {token}")).ok());
        let body = call.body.as_ref().map(|body| Bytes::from(body.to_string()));
        loop {
            attempts += 1;
            let mut request = self.rest.request(
                call.method.clone(),
                &call.path,
                authorization.as_ref(),
                body.clone().map(|bytes| ("application/json", bytes)),
            );
            if let Some(key) = call.idempotency_key
                && let Ok(value) = HeaderValue::from_str(key)
            {
                request.headers_mut().insert("idempotency-key", value);
            }
            let (kind, retry_reason) =
                match tokio::time::timeout(ATTEMPT_TIMEOUT, self.rest.exchange(request)).await {
                    Err(_) => ("timeout".to_owned(), "no answer in time".to_owned()),
                    Ok(Err(error)) => ("transport".to_owned(), error.detail),
                    Ok(Ok(answer)) => {
                        let parsed: Value =
                            serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
                        let in_progress = answer.status == StatusCode::CONFLICT
                            && parsed["detail"]
                                .as_str()
                                .is_some_and(|detail| detail.contains("still in progress"));
                        // A 500 is retried too, as a counter would (its outcome is
                        // unknown, like a lost answer); each fails the soak's "answers"
                        // check, with its time to compare with the kills.
                        if answer.status == StatusCode::INTERNAL_SERVER_ERROR {
                            ledger.note_internal_error(call.operation, &call.path);
                        }
                        let retryable = matches!(
                            answer.status,
                            StatusCode::INTERNAL_SERVER_ERROR
                                | StatusCode::BAD_GATEWAY
                                | StatusCode::SERVICE_UNAVAILABLE
                                | StatusCode::GATEWAY_TIMEOUT
                        ) || in_progress;
                        if !retryable {
                            ledger.count(call.operation, answer.status.as_str());
                            return (
                                Outcome::Answered {
                                    status: answer.status,
                                    body: parsed,
                                },
                                attempts,
                            );
                        }
                        (
                            format!("http {}", answer.status.as_u16()),
                            format!("http {} {parsed}", answer.status.as_u16()),
                        )
                    }
                };
            ledger.count(call.operation, &format!("retried ({kind})"));
            if started.elapsed() + backoff > self.budget {
                ledger.count(call.operation, "gave up");
                return (Outcome::GaveUp { last: retry_reason }, attempts);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}
