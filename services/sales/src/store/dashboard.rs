//! The counts and latest records of the admin dashboard that the sales schema holds.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::SalesError;

#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Counts {
    /// Active customers.
    pub customers: i64,
    /// Invoices of any status.
    pub invoices: i64,
    /// Expense records.
    pub expenses: i64,
}

pub async fn counts(connection: &mut PgConnection) -> Result<Counts, SalesError> {
    Ok(sqlx::query_as::<_, Counts>(
        "select (select count(*) from sales.customers where is_active) as customers, \
                (select count(*) from sales.invoices) as invoices, \
                (select count(*) from sales.expenses) as expenses",
    )
    .fetch_one(connection)
    .await?)
}

/// A customer as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RecentCustomerRow {
    pub id: Uuid,
    pub name: String,
    pub contacts: Value,
    pub billing_addr: Value,
    pub shipping_addr: Value,
    pub credit_limit: Decimal,
    pub balance: Decimal,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The latest customers created (archived ones too: the dashboard shows activity).
pub async fn recent_customers(
    connection: &mut PgConnection,
    limit: i64,
) -> Result<Vec<RecentCustomerRow>, SalesError> {
    Ok(sqlx::query_as::<_, RecentCustomerRow>(
        "select id, name, contacts, billing_addr, shipping_addr, credit_limit, balance, \
           is_active, created_at, updated_at \
         from sales.customers order by created_at desc, id desc limit $1",
    )
    .bind(limit)
    .fetch_all(connection)
    .await?)
}
