//! The server-side bound of every call: a handler still running after `REQUEST_TIMEOUT_MS`
//! is dropped (its database work with it: an open transaction is rolled back, a connection
//! caught mid-query is checked before it goes back to the pool) and the caller gets
//! DEADLINE_EXCEEDED (REST 503) instead of waiting on a stalled database or upstream.
//!
//! Only the time to the response headers is bounded, so streaming calls (health `Watch`,
//! reflection) stream on. A call that carries its own deadline (`grpc-timeout`, set by a
//! gRPC client) gets that one instead, shorter or longer: the caller decides how long it
//! waits (e.g. `VerifyChain` over a large audit log, called directly).

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tower::{Layer, Service};

/// Bounds every call of the service it wraps by `deadline`.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineLayer {
    deadline: Duration,
}

impl DeadlineLayer {
    pub fn new(deadline: Duration) -> Self {
        Self { deadline }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline {
            inner,
            deadline: self.deadline,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
    deadline: Duration,
}

impl<S, RequestBody, ResponseBody> Service<http::Request<RequestBody>> for Deadline<S>
where
    S: Service<http::Request<RequestBody>, Response = http::Response<ResponseBody>>,
    S::Future: Send + 'static,
    ResponseBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<RequestBody>) -> Self::Future {
        let deadline = request
            .headers()
            .get("grpc-timeout")
            .and_then(|value| value.to_str().ok())
            .and_then(parse_grpc_timeout)
            .unwrap_or(self.deadline);
        let call = self.inner.call(request);
        Box::pin(async move {
            match tokio::time::timeout(deadline, call).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!(
                        deadline_ms = deadline.as_millis() as u64,
                        "call exceeded its deadline; abandoned"
                    );
                    Ok(tonic::Status::deadline_exceeded(
                        "Service temporarily unavailable, try again",
                    )
                    .into_http())
                }
            }
        })
    }
}

/// A `grpc-timeout` value: at most 8 digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let digits = value.get(..value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match value.as_bytes().last()? {
        b'H' => Duration::from_secs(amount * 3600),
        b'M' => Duration::from_secs(amount * 60),
        b'S' => Duration::from_secs(amount),
        b'm' => Duration::from_millis(amount),
        b'u' => Duration::from_micros(amount),
        b'n' => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_are_read_in_every_unit_and_nonsense_is_ignored() {
        assert_eq!(parse_grpc_timeout("30S"), Some(Duration::from_secs(30)));
        assert_eq!(parse_grpc_timeout("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout("9n"), Some(Duration::from_nanos(9)));
        for bad in ["", "S", "123456789S", "10s", "-1S", "1.5S", "10"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }
}
