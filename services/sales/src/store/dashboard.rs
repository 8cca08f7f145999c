//! The counts and latest records of the admin dashboard that the sales schema holds.

use sqlx::PgConnection;

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
