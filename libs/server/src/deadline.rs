//! The server-side bound of every call: a handler still running after `REQUEST_TIMEOUT_MS`
//! is dropped (its database work with it: an open transaction is rolled back, a connection
//! caught mid-query is checked before it goes back to the pool) and the caller gets
//! DEADLINE_EXCEEDED (REST 503) instead of waiting on a stalled database or upstream.
//!
//! Only the time to the response headers is bounded, so streaming calls (health `Watch`,
//! reflection) stream on. A shorter `grpc-timeout` sent by the client is honoured by tonic
//! itself.

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

impl<S, Request, ResponseBody> Service<Request> for Deadline<S>
where
    S: Service<Request, Response = http::Response<ResponseBody>>,
    S::Future: Send + 'static,
    ResponseBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let deadline = self.deadline;
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
