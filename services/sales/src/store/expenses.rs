//! `sales.expenses`.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{ExpenseChanges, ExpenseFilter, NewExpense, money},
    error::SalesError,
};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ExpenseRow {
    pub id: Uuid,
    #[sqlx(rename = "type")]
    pub expense_type: String,
    pub amount: Decimal,
    pub date: NaiveDate,
    pub note: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ExpenseRow {
    /// The expense as audit events record it.
    pub fn audit_json(&self) -> Value {
        json!({
            "id": self.id, "type": self.expense_type, "amount": money::to_text(self.amount),
            "date": self.date.to_string(), "note": self.note, "created_by": self.created_by,
        })
    }
}

const COLUMNS: &str = "id, type, amount, date, note, created_by, created_at, updated_at";

pub async fn find(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ExpenseRow>, SalesError> {
    Ok(sqlx::query_as::<_, ExpenseRow>(
        "select id, type, amount, date, note, created_by, created_at, updated_at \
         from sales.expenses where id = $1",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// Locks the expense row for an update in the caller's transaction.
pub async fn lock(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ExpenseRow>, SalesError> {
    Ok(sqlx::query_as::<_, ExpenseRow>(
        "select id, type, amount, date, note, created_by, created_at, updated_at \
         from sales.expenses where id = $1 for update",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

pub async fn insert(
    connection: &mut PgConnection,
    id: Uuid,
    expense: &NewExpense,
    date: NaiveDate,
    created_by: Uuid,
) -> Result<ExpenseRow, SalesError> {
    Ok(sqlx::query_as::<_, ExpenseRow>(
        "insert into sales.expenses (id, type, amount, date, note, created_by) \
         values ($1, $2, $3, $4, $5, $6) \
         returning id, type, amount, date, note, created_by, created_at, updated_at",
    )
    .bind(id)
    .bind(&expense.expense_type)
    .bind(expense.amount)
    .bind(date)
    .bind(&expense.note)
    .bind(created_by)
    .fetch_one(connection)
    .await?)
}

pub async fn update(
    connection: &mut PgConnection,
    id: Uuid,
    changes: &ExpenseChanges,
) -> Result<ExpenseRow, SalesError> {
    Ok(sqlx::query_as::<_, ExpenseRow>(
        "update sales.expenses set \
           type = coalesce($2, type), \
           amount = coalesce($3, amount), \
           date = coalesce($4, date), \
           note = coalesce($5, note) \
         where id = $1 \
         returning id, type, amount, date, note, created_by, created_at, updated_at",
    )
    .bind(id)
    .bind(changes.expense_type.as_deref())
    .bind(changes.amount)
    .bind(changes.date)
    .bind(changes.note.as_deref())
    .fetch_one(connection)
    .await?)
}

/// Erases the expense; the erased row, or `None` when there was none.
pub async fn delete(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ExpenseRow>, SalesError> {
    Ok(sqlx::query_as::<_, ExpenseRow>(
        "delete from sales.expenses where id = $1 \
         returning id, type, amount, date, note, created_by, created_at, updated_at",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// A page of expenses, newest first, with the total matching count.
pub async fn list(
    connection: &mut PgConnection,
    filter: &ExpenseFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<ExpenseRow>, i64), SalesError> {
    super::newest_first(
        connection,
        COLUMNS,
        "sales.expenses",
        |builder| {
            if let Some(expense_type) = &filter.expense_type {
                builder
                    .push(" and lower(type) = lower(")
                    .push_bind(expense_type.clone())
                    .push(")");
            }
            if let Some(from) = filter.from {
                builder.push(" and date >= ").push_bind(from);
            }
            if let Some(to) = filter.to {
                builder.push(" and date <= ").push_bind(to);
            }
        },
        offset,
        limit,
    )
    .await
}
