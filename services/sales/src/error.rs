//! The sales service's errors and their one mapping into the shared code set.

use regal_db::{sql_states, violated_constraint};
use regal_errors::{FieldViolation, ServiceError};
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum SalesError {
    /// An unknown id; the text names the kind of record ("Customer not found").
    #[error("{0}")]
    NotFound(String),
    /// A conflict with the current state (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    #[error("invalid input")]
    Validation(Vec<FieldViolation>),
    /// The caller's role allows the call but not on this record (a cashier asking for
    /// another cashier's shift).
    #[error("{0}")]
    PermissionDenied(String),
    /// A call to another service (catalog, auth) failed; its status is passed on as it
    /// came when the caller can act on it (not found, short of stock, bad input), and as
    /// UNAVAILABLE when the other service could not answer.
    #[error("{service} answered {}: {}", .status.code(), .status.message())]
    Upstream {
        service: &'static str,
        status: Status,
    },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl SalesError {
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn upstream(service: &'static str) -> impl FnOnce(Status) -> Self {
        move |status| Self::Upstream { service, status }
    }
}

impl From<Vec<FieldViolation>> for SalesError {
    fn from(violations: Vec<FieldViolation>) -> Self {
        Self::Validation(violations)
    }
}

impl From<FieldViolation> for SalesError {
    fn from(violation: FieldViolation) -> Self {
        Self::Validation(vec![violation])
    }
}

impl From<anyhow::Error> for SalesError {
    fn from(error: anyhow::Error) -> Self {
        Self::Service(ServiceError::Internal(error))
    }
}

/// Constraint violations become domain errors here, by constraint name, and nowhere else.
impl From<sqlx::Error> for SalesError {
    fn from(error: sqlx::Error) -> Self {
        let state = regal_db::sql_state(&error);
        let conflict = |message: &str| Self::Conflict(message.to_owned());
        match (state.as_deref(), violated_constraint(&error)) {
            (Some(sql_states::UNIQUE_VIOLATION), Some("salesmen_code_key")) => {
                conflict("Salesman code already exists")
            }
            (
                Some(sql_states::UNIQUE_VIOLATION),
                Some("shifts_one_open_per_cashier" | "cash_drawers_one_open_per_cashier"),
            ) => conflict("Cash drawer is already open"),
            (Some(sql_states::UNIQUE_VIOLATION), Some("pending_sales_draft_id_key")) => {
                conflict("This draft is already being sold")
            }
            (Some(sql_states::UNIQUE_VIOLATION), Some("cash_drawers_shift_id_key")) => {
                conflict("This shift already had its cash drawer")
            }
            (
                Some(sql_states::FOREIGN_KEY_VIOLATION),
                Some("invoices_customer_id_fkey" | "custom_orders_customer_id_fkey"),
            ) => Self::not_found("Customer"),
            (Some(sql_states::FOREIGN_KEY_VIOLATION), Some("invoices_salesman_id_fkey")) => {
                Self::not_found("Salesman")
            }
            (
                Some(sql_states::FOREIGN_KEY_VIOLATION),
                Some("custom_orders_linked_invoice_fkey"),
            ) => Self::not_found("Invoice"),
            _ => Self::Service(ServiceError::from(error)),
        }
    }
}

impl From<SalesError> for Status {
    fn from(error: SalesError) -> Self {
        match error {
            SalesError::NotFound(message) => Status::from(ServiceError::NotFound(message)),
            SalesError::Conflict(message) => Status::from(ServiceError::Conflict(message)),
            SalesError::Validation(violations) => {
                Status::from(ServiceError::Validation(violations))
            }
            SalesError::PermissionDenied(message) => {
                Status::from(ServiceError::PermissionDenied(message))
            }
            SalesError::Upstream { service, status } => match status.code() {
                _ if regal_errors::call_broke_off(&status) => {
                    tracing::warn!(service, error = %status.message(), "call to another service broke off");
                    Status::from(ServiceError::Unavailable(format!(
                        "The {service} service is unavailable, try again"
                    )))
                }
                Code::NotFound
                | Code::FailedPrecondition
                | Code::InvalidArgument
                | Code::AlreadyExists
                | Code::PermissionDenied
                | Code::Unauthenticated
                | Code::ResourceExhausted => status,
                Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                    tracing::warn!(service, error = %status.message(), "call to another service failed");
                    Status::from(ServiceError::Unavailable(format!(
                        "The {service} service is unavailable, try again"
                    )))
                }
                _ => Status::from(ServiceError::Internal(anyhow::anyhow!(
                    "{service} answered {}: {}",
                    status.code(),
                    status.message()
                ))),
            },
            SalesError::Service(error) => Status::from(error),
        }
    }
}
