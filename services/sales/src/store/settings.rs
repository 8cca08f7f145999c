//! `sales.settings`: the one row of store settings.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::{domain::settings::SettingsChanges, error::SalesError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SettingsRow {
    pub store_name: String,
    pub address: String,
    pub currency: String,
    pub receipt_footer: String,
    pub low_stock_threshold: i64,
    pub updated_at: DateTime<Utc>,
}

impl SettingsRow {
    pub fn audit_json(&self) -> Value {
        json!({
            "store_name": self.store_name, "address": self.address, "currency": self.currency,
            "receipt_footer": self.receipt_footer,
            "low_stock_threshold": self.low_stock_threshold,
        })
    }
}

const COLUMNS: &str =
    "store_name, address, currency, receipt_footer, low_stock_threshold, updated_at";

pub async fn get(connection: &mut PgConnection) -> Result<SettingsRow, SalesError> {
    let statement = format!("select {COLUMNS} from sales.settings");
    Ok(
        sqlx::query_as::<_, SettingsRow>(sqlx::AssertSqlSafe(statement))
            .fetch_one(connection)
            .await?,
    )
}

/// The settings row, locked for an update in the caller's transaction.
pub async fn lock(connection: &mut PgConnection) -> Result<SettingsRow, SalesError> {
    let statement = format!("select {COLUMNS} from sales.settings for update");
    Ok(
        sqlx::query_as::<_, SettingsRow>(sqlx::AssertSqlSafe(statement))
            .fetch_one(connection)
            .await?,
    )
}

pub async fn update(
    connection: &mut PgConnection,
    changes: &SettingsChanges,
) -> Result<SettingsRow, SalesError> {
    let statement = format!(
        "update sales.settings set \
           store_name = coalesce($1, store_name), \
           address = coalesce($2, address), \
           currency = coalesce($3, currency), \
           receipt_footer = coalesce($4, receipt_footer), \
           low_stock_threshold = coalesce($5, low_stock_threshold) \
         returning {COLUMNS}"
    );
    Ok(
        sqlx::query_as::<_, SettingsRow>(sqlx::AssertSqlSafe(statement))
            .bind(changes.store_name.as_deref())
            .bind(changes.address.as_deref())
            .bind(changes.currency.as_deref())
            .bind(changes.receipt_footer.as_deref())
            .bind(changes.low_stock_threshold)
            .fetch_one(connection)
            .await?,
    )
}
