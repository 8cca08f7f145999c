//! The catalog service's errors and their one mapping into the shared code set.

use std::collections::HashMap;

use regal_db::{sql_states, violated_constraint};
use regal_errors::{FieldViolation, ServiceError};
use tonic::Status;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("product not found")]
    ProductNotFound,
    #[error("product {0} not found")]
    LineProductNotFound(Uuid),
    #[error("product {0} is archived")]
    ProductArchived(Uuid),
    #[error("vendor not found")]
    VendorNotFound,
    #[error("vendor is archived")]
    VendorArchived,
    #[error("stock entry not found")]
    StockEntryNotFound,
    #[error("sku already exists")]
    DuplicateSku,
    #[error("barcode already exists")]
    DuplicateBarcode,
    /// A movement that would take a product's stock below zero.
    #[error("not enough stock of {product_id}: {available} available, {requested} requested")]
    InsufficientStock {
        product_id: Uuid,
        sku: String,
        available: i64,
        requested: i64,
    },
    #[error("{0}")]
    Conflict(&'static str),
    #[error("invalid input")]
    Validation(Vec<FieldViolation>),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<Vec<FieldViolation>> for CatalogError {
    fn from(violations: Vec<FieldViolation>) -> Self {
        Self::Validation(violations)
    }
}

impl From<FieldViolation> for CatalogError {
    fn from(violation: FieldViolation) -> Self {
        Self::Validation(vec![violation])
    }
}

/// Constraint violations become domain errors here, by constraint name, and nowhere else.
impl From<sqlx::Error> for CatalogError {
    fn from(error: sqlx::Error) -> Self {
        let state = regal_db::sql_state(&error);
        match (state.as_deref(), violated_constraint(&error)) {
            (Some(sql_states::UNIQUE_VIOLATION), Some("products_sku_key")) => {
                return Self::DuplicateSku;
            }
            (Some(sql_states::UNIQUE_VIOLATION), Some("products_barcode_key")) => {
                return Self::DuplicateBarcode;
            }
            (Some(sql_states::UNIQUE_VIOLATION), Some("stock_entries_reverses_key")) => {
                return Self::Conflict("Stock entry is already reversed");
            }
            (Some(sql_states::FOREIGN_KEY_VIOLATION), Some("products_vendor_id_fkey")) => {
                return Self::VendorNotFound;
            }
            (Some(sql_states::CHECK_VIOLATION), Some("products_stock_level_non_negative")) => {
                return Self::Conflict("Not enough stock");
            }
            _ => {}
        }
        Self::Service(ServiceError::from(error))
    }
}

impl From<anyhow::Error> for CatalogError {
    fn from(error: anyhow::Error) -> Self {
        Self::Service(ServiceError::Internal(error))
    }
}

impl From<CatalogError> for ServiceError {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::ProductNotFound => ServiceError::NotFound("Product not found".to_owned()),
            CatalogError::LineProductNotFound(id) => {
                ServiceError::NotFound(format!("Product {id} not found"))
            }
            CatalogError::ProductArchived(id) => {
                ServiceError::NotFound(format!("Product {id} is archived and cannot be sold"))
            }
            CatalogError::VendorNotFound => ServiceError::NotFound("Vendor not found".to_owned()),
            CatalogError::VendorArchived => ServiceError::Conflict("Vendor is archived".to_owned()),
            CatalogError::StockEntryNotFound => {
                ServiceError::NotFound("Stock entry not found".to_owned())
            }
            CatalogError::DuplicateSku => ServiceError::Conflict("SKU already exists".to_owned()),
            CatalogError::DuplicateBarcode => {
                ServiceError::Conflict("Barcode already exists".to_owned())
            }
            CatalogError::InsufficientStock {
                product_id,
                sku,
                available,
                requested,
            } => ServiceError::Precondition {
                message: format!(
                    "Not enough stock for product {sku}: {available} available, {requested} requested"
                ),
                reason: "INSUFFICIENT_STOCK".to_owned(),
                metadata: HashMap::from([
                    ("product_id".to_owned(), product_id.to_string()),
                    ("sku".to_owned(), sku),
                    ("available".to_owned(), available.to_string()),
                    ("requested".to_owned(), requested.to_string()),
                ]),
            },
            CatalogError::Conflict(message) => ServiceError::Conflict(message.to_owned()),
            CatalogError::Validation(violations) => ServiceError::Validation(violations),
            CatalogError::Service(error) => error,
        }
    }
}

impl From<CatalogError> for Status {
    fn from(error: CatalogError) -> Self {
        Status::from(ServiceError::from(error))
    }
}
