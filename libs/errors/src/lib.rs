//! The error code set of Regal POS and its two mappings, written once:
//! service error → gRPC [`Status`] (with `google.rpc` details), and gRPC [`Status`] → the
//! FastAPI-shaped REST error of the gateway.
//!
//! Each service keeps its own domain error enum and converts it into [`ServiceError`] in
//! one `From` impl; nothing else builds a `Status` by hand. Internal causes are logged
//! with their chain and never sent to a client.

use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// One invalid field: where (dot-separated path, `body` assumed unless it starts with
/// `query.` or `path.`), what kind of problem (FastAPI's `type`, e.g. `value_error`,
/// `missing`, `string_too_long`) and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub kind: String,
    pub message: String,
}

impl FieldViolation {
    pub fn new(
        field: impl Into<String>,
        kind: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            kind: kind.into(),
            message: message.into(),
        }
    }
}

/// The small code set every service maps its domain errors into.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input: {0:?}")]
    Validation(Vec<FieldViolation>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A conflict with the current state that the caller can act on, named in a
    /// `google.rpc.ErrorInfo` (`reason` and `metadata`, e.g. a product short of stock
    /// with the available quantity): FAILED_PRECONDITION, HTTP 409.
    #[error("{message}")]
    Precondition {
        message: String,
        reason: String,
        metadata: std::collections::HashMap<String, String>,
    },
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: Duration,
    },
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0:#}")]
    Internal(#[source] anyhow::Error),
}

impl ServiceError {
    pub fn invalid(
        field: impl Into<String>,
        kind: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Validation(vec![FieldViolation::new(field, kind, message)])
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }
}

/// Database failures: a timeout or an unreachable server is UNAVAILABLE (a client may
/// retry), anything else is internal.
impl From<sqlx::Error> for ServiceError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(error = %error, "database unavailable");
                Self::Unavailable("Database unavailable, try again".to_owned())
            }
            sqlx::Error::Database(database_error)
                if database_error.code().as_deref() == Some("57014") =>
            {
                tracing::warn!(error = %error, "database statement timed out");
                Self::Unavailable("Database busy, try again".to_owned())
            }
            _ => Self::Internal(error.into()),
        }
    }
}

impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Validation(violations) => {
                let field_violations: Vec<tonic_types::FieldViolation> = violations
                    .iter()
                    .map(|violation| tonic_types::FieldViolation {
                        reason: violation.kind.to_ascii_uppercase(),
                        ..tonic_types::FieldViolation::new(
                            violation.field.clone(),
                            violation.message.clone(),
                        )
                    })
                    .collect();
                let details = ErrorDetails::with_bad_request(field_violations);
                let summary = violations
                    .iter()
                    .map(|violation| format!("{}: {}", violation.field, violation.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                Status::with_error_details(Code::InvalidArgument, summary, details)
            }
            ServiceError::BadRequest(message) => Status::invalid_argument(message),
            ServiceError::Unauthenticated(message) => Status::unauthenticated(message),
            ServiceError::PermissionDenied(message) => Status::permission_denied(message),
            ServiceError::NotFound(message) => Status::not_found(message),
            ServiceError::Conflict(message) => Status::already_exists(message),
            ServiceError::Precondition {
                message,
                reason,
                metadata,
            } => Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_error_info(reason, "regal.pos", metadata),
            ),
            ServiceError::RateLimited {
                message,
                retry_after,
            } => Status::with_error_details(
                Code::ResourceExhausted,
                message,
                ErrorDetails::with_retry_info(Some(retry_after)),
            ),
            ServiceError::Unavailable(message) => Status::unavailable(message),
            ServiceError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                Status::internal("Internal server error")
            }
        }
    }
}

/// A REST error as the gateway sends it: status, FastAPI-shaped body, `Retry-After`.
#[derive(Debug, Clone, PartialEq)]
pub struct RestError {
    pub status: StatusCode,
    pub body: Value,
    pub retry_after_seconds: Option<u64>,
}

impl RestError {
    /// `{"detail": "<message>"}` with `status`.
    pub fn detail(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "detail": message.into() }),
            retry_after_seconds: None,
        }
    }

    /// `422 {"detail": [{"loc": [...], "msg", "type"}]}`.
    pub fn validation(violations: &[FieldViolation]) -> Self {
        let detail: Vec<Value> = violations
            .iter()
            .map(|violation| {
                json!({
                    "loc": location(&violation.field),
                    "msg": violation.message,
                    "type": violation.kind.to_ascii_lowercase(),
                })
            })
            .collect();
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({ "detail": detail }),
            retry_after_seconds: None,
        }
    }

    /// The one mapping from a gRPC status to a REST error.
    pub fn from_status(status: &Status) -> Self {
        let message = status.message();
        if call_broke_off(status) {
            return Self::detail(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable, try again",
            );
        }
        match status.code() {
            Code::InvalidArgument | Code::OutOfRange => match status.get_details_bad_request() {
                Some(bad_request) if !bad_request.field_violations.is_empty() => {
                    let violations: Vec<FieldViolation> = bad_request
                        .field_violations
                        .into_iter()
                        .map(|violation| {
                            let kind = if violation.reason.is_empty() {
                                "value_error".to_owned()
                            } else {
                                violation.reason
                            };
                            FieldViolation::new(violation.field, kind, violation.description)
                        })
                        .collect();
                    Self::validation(&violations)
                }
                _ => Self::detail(StatusCode::BAD_REQUEST, message),
            },
            Code::NotFound => Self::detail(StatusCode::NOT_FOUND, message),
            Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => {
                Self::detail(StatusCode::CONFLICT, message)
            }
            Code::Unauthenticated => Self::detail(StatusCode::UNAUTHORIZED, message),
            Code::PermissionDenied => Self::detail(StatusCode::FORBIDDEN, message),
            Code::ResourceExhausted => {
                let retry_after_seconds = status
                    .get_details_retry_info()
                    .and_then(|retry| retry.retry_delay)
                    .map(|delay| delay.as_secs_f64().ceil().max(1.0) as u64)
                    .or(Some(1));
                Self {
                    retry_after_seconds,
                    ..Self::detail(StatusCode::TOO_MANY_REQUESTS, message)
                }
            }
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => Self::detail(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable, try again",
            ),
            Code::Unimplemented => Self::detail(StatusCode::NOT_IMPLEMENTED, "Not implemented"),
            Code::Ok | Code::Unknown | Code::Internal | Code::DataLoss => {
                Self::detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
            }
        }
    }
}

/// FastAPI's `loc`: `["body", "items", 0, "quantity"]` from `items.0.quantity`.
fn location(field: &str) -> Vec<Value> {
    let mut parts: Vec<&str> = field.split('.').filter(|part| !part.is_empty()).collect();
    let prefix = match parts.first() {
        Some(&("query" | "path" | "header" | "body")) => parts.remove(0),
        _ => "body",
    };
    std::iter::once(Value::from(prefix))
        .chain(parts.into_iter().map(|part| match part.parse::<u64>() {
            Ok(index) => Value::from(index),
            Err(_) => Value::from(part),
        }))
        .collect()
}

/// Whether a call to another part broke off before its answer came (the part was killed
/// or restarted mid-call, its connection dropped, or it was shutting down and its HTTP/2
/// GOAWAY refused the stream): tonic reports it as UNKNOWN (a dropped connection) or
/// INTERNAL (an HTTP/2 reset or GOAWAY, which tonic maps from `NO_ERROR`) with the
/// transport error as the status's source, while a status the other part sent has no
/// source. The other part going away is a dependency being unavailable, not a bug: the
/// caller answers UNAVAILABLE / 503 (the outcome is unknown, so a retry with the same
/// `Idempotency-Key` is the way to learn it), never INTERNAL / 500.
pub fn call_broke_off(status: &Status) -> bool {
    matches!(status.code(), Code::Unknown | Code::Internal)
        && std::error::Error::source(status).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(error: ServiceError) -> RestError {
        RestError::from_status(&Status::from(error))
    }

    #[test]
    fn validation_errors_become_fastapi_422_lists() {
        let rest = round_trip(ServiceError::Validation(vec![
            FieldViolation::new("username", "string_too_short", "at least 3 characters"),
            FieldViolation::new("items.0.quantity", "greater_than", "must be positive"),
            FieldViolation::new("query.limit", "greater_than_equal", "must not be negative"),
        ]));
        assert_eq!(rest.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            rest.body,
            json!({"detail": [
                {"loc": ["body", "username"], "msg": "at least 3 characters", "type": "string_too_short"},
                {"loc": ["body", "items", 0, "quantity"], "msg": "must be positive", "type": "greater_than"},
                {"loc": ["query", "limit"], "msg": "must not be negative", "type": "greater_than_equal"},
            ]})
        );
    }

    #[test]
    fn each_code_maps_to_its_http_status() {
        let cases = [
            (
                ServiceError::NotFound("Product not found".into()),
                StatusCode::NOT_FOUND,
            ),
            (
                ServiceError::Conflict("SKU already exists".into()),
                StatusCode::CONFLICT,
            ),
            (
                ServiceError::Unauthenticated("nope".into()),
                StatusCode::UNAUTHORIZED,
            ),
            (
                ServiceError::PermissionDenied("no".into()),
                StatusCode::FORBIDDEN,
            ),
            (
                ServiceError::BadRequest("malformed".into()),
                StatusCode::BAD_REQUEST,
            ),
            (
                ServiceError::Unavailable("down".into()),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(round_trip(error).status, expected);
        }
    }

    #[test]
    fn a_call_that_broke_off_is_503_and_an_unknown_status_sent_by_a_part_is_500() {
        // What tonic makes of a connection reset mid-call (the other part was killed).
        let broken = Status::from_error(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        )));
        assert_eq!(broken.code(), Code::Unknown);
        assert!(call_broke_off(&broken));
        let rest = RestError::from_status(&broken);
        assert_eq!(rest.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            rest.body,
            json!({"detail": "Service temporarily unavailable, try again"})
        );

        // What tonic makes of a stream the other part refused with a GOAWAY while shutting
        // down (h2 `NO_ERROR`): INTERNAL, with the h2 error as its source.
        let refused = Status::from_error(Box::new(h2::Error::from(h2::Reason::NO_ERROR)));
        assert_eq!(refused.code(), Code::Internal);
        assert!(call_broke_off(&refused));
        assert_eq!(
            RestError::from_status(&refused).status,
            StatusCode::SERVICE_UNAVAILABLE
        );

        let sent = Status::unknown("a part answered UNKNOWN");
        assert!(!call_broke_off(&sent));
        assert_eq!(
            RestError::from_status(&sent).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let sent_internal = Status::internal("a part answered INTERNAL");
        assert!(!call_broke_off(&sent_internal));
    }

    #[test]
    fn a_precondition_names_what_conflicts_and_is_409() {
        let status = Status::from(ServiceError::Precondition {
            message: "Not enough stock".into(),
            reason: "INSUFFICIENT_STOCK".into(),
            metadata: [("available".to_owned(), "3".to_owned())].into(),
        });
        assert_eq!(status.code(), Code::FailedPrecondition);
        let info = status.get_details_error_info().expect("error info");
        assert_eq!(info.reason, "INSUFFICIENT_STOCK");
        assert_eq!(info.metadata["available"], "3");
        let rest = RestError::from_status(&status);
        assert_eq!(rest.status, StatusCode::CONFLICT);
        assert_eq!(rest.body, json!({"detail": "Not enough stock"}));
    }

    #[test]
    fn conflict_keeps_its_message() {
        let rest = round_trip(ServiceError::Conflict(
            "Not enough stock for SKU-1: 3 available".into(),
        ));
        assert_eq!(
            rest.body,
            json!({"detail": "Not enough stock for SKU-1: 3 available"})
        );
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let rest = round_trip(ServiceError::RateLimited {
            message: "Too many login attempts".into(),
            retry_after: Duration::from_millis(61_500),
        });
        assert_eq!(rest.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(rest.retry_after_seconds, Some(62));
    }

    #[test]
    fn internal_causes_never_reach_the_client() {
        let rest = round_trip(ServiceError::internal(anyhow::anyhow!(
            "password authentication failed for user postgres"
        )));
        assert_eq!(rest.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(rest.body, json!({"detail": "Internal server error"}));
    }

    #[test]
    fn a_pool_timeout_is_unavailable_not_internal() {
        let error = ServiceError::from(sqlx::Error::PoolTimedOut);
        assert!(matches!(error, ServiceError::Unavailable(_)));
    }
}
