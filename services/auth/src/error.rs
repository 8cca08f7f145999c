//! The auth service's errors and their one mapping into the shared code set.

use std::time::Duration;

use regal_db::{sql_states, violated_constraint};
use regal_errors::{FieldViolation, ServiceError};
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("incorrect username or password")]
    InvalidCredentials,
    #[error("too many failed login attempts")]
    TooManyAttempts { retry_after: Duration },
    #[error("refresh token is invalid, expired or revoked")]
    InvalidRefreshToken,
    #[error("refresh token was already used; its session is revoked")]
    RefreshTokenReused,
    #[error("user not found")]
    UserNotFound,
    #[error("username already registered")]
    DuplicateUsername,
    #[error("email already registered")]
    DuplicateEmail,
    #[error("{0}")]
    Conflict(&'static str),
    #[error("invalid input")]
    Validation(Vec<FieldViolation>),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<Vec<FieldViolation>> for AuthError {
    fn from(violations: Vec<FieldViolation>) -> Self {
        Self::Validation(violations)
    }
}

/// Unique violations are named by their constraint (index) — the one place they become
/// domain errors.
impl From<sqlx::Error> for AuthError {
    fn from(error: sqlx::Error) -> Self {
        if regal_db::sql_state(&error).as_deref() == Some(sql_states::UNIQUE_VIOLATION) {
            match violated_constraint(&error) {
                Some("users_username_key") => return Self::DuplicateUsername,
                Some("users_email_key") => return Self::DuplicateEmail,
                _ => {}
            }
        }
        Self::Service(ServiceError::from(error))
    }
}

impl From<anyhow::Error> for AuthError {
    fn from(error: anyhow::Error) -> Self {
        Self::Service(ServiceError::Internal(error))
    }
}

impl From<AuthError> for ServiceError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::InvalidCredentials => {
                ServiceError::Unauthenticated("Incorrect username or password".to_owned())
            }
            AuthError::TooManyAttempts { retry_after } => ServiceError::RateLimited {
                message: "Too many failed login attempts, try again later".to_owned(),
                retry_after,
            },
            AuthError::InvalidRefreshToken => {
                ServiceError::Unauthenticated("Invalid or expired refresh token".to_owned())
            }
            AuthError::RefreshTokenReused => ServiceError::Unauthenticated(
                "Refresh token already used; the session has been revoked".to_owned(),
            ),
            AuthError::UserNotFound => ServiceError::NotFound("User not found".to_owned()),
            AuthError::DuplicateUsername => {
                ServiceError::Conflict("Username already registered".to_owned())
            }
            AuthError::DuplicateEmail => {
                ServiceError::Conflict("Email already registered".to_owned())
            }
            AuthError::Conflict(message) => ServiceError::Conflict(message.to_owned()),
            AuthError::Validation(violations) => ServiceError::Validation(violations),
            AuthError::Service(error) => error,
        }
    }
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        Status::from(ServiceError::from(error))
    }
}
