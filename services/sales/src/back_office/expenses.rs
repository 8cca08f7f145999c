//! Expenses: list, read, record, change, erase.

use regal_outbox::EventContext;
use serde_json::json;
use uuid::Uuid;

use super::BackOffice;
use crate::{
    domain::{ExpenseChanges, ExpenseFilter, NewExpense},
    error::SalesError,
    store::expenses::{self, ExpenseRow},
};

const ENTITY: &str = "expense";

impl BackOffice<'_> {
    pub async fn list_expenses(
        &self,
        filter: &ExpenseFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<ExpenseRow>, i64), SalesError> {
        let mut connection = self.connection().await?;
        expenses::list(&mut connection, filter, offset, limit).await
    }

    pub async fn get_expense(&self, id: Uuid) -> Result<ExpenseRow, SalesError> {
        let mut connection = self.connection().await?;
        expenses::find(&mut connection, id)
            .await?
            .ok_or_else(|| SalesError::not_found("Expense"))
    }

    /// Records an expense by `created_by` (the caller); without a date it belongs to
    /// today, the UTC day (the day reports use).
    pub async fn create_expense(
        &self,
        context: &EventContext,
        created_by: Uuid,
        expense: NewExpense,
    ) -> Result<ExpenseRow, SalesError> {
        let date = expense
            .date
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        let mut transaction = self.pool.begin().await?;
        let created =
            expenses::insert(&mut transaction, Uuid::now_v7(), &expense, date, created_by).await?;
        let changes = json!({"after": created.audit_json()});
        self.record(
            &mut transaction,
            context,
            ENTITY,
            created.id,
            "create",
            changes,
        )
        .await?;
        transaction.commit().await?;
        Ok(created)
    }

    pub async fn update_expense(
        &self,
        context: &EventContext,
        id: Uuid,
        changes: ExpenseChanges,
    ) -> Result<ExpenseRow, SalesError> {
        let mut transaction = self.pool.begin().await?;
        let before = expenses::lock(&mut transaction, id)
            .await?
            .ok_or_else(|| SalesError::not_found("Expense"))?;
        let after = expenses::update(&mut transaction, id, &changes).await?;
        let changes = json!({"before": before.audit_json(), "after": after.audit_json()});
        self.record(&mut transaction, context, ENTITY, id, "update", changes)
            .await?;
        transaction.commit().await?;
        Ok(after)
    }

    /// Erases an expense; the audit event keeps what it was.
    pub async fn delete_expense(&self, context: &EventContext, id: Uuid) -> Result<(), SalesError> {
        let mut transaction = self.pool.begin().await?;
        let erased = expenses::delete(&mut transaction, id)
            .await?
            .ok_or_else(|| SalesError::not_found("Expense"))?;
        let changes = json!({"before": erased.audit_json()});
        self.record(&mut transaction, context, ENTITY, id, "delete", changes)
            .await?;
        transaction.commit().await?;
        Ok(())
    }
}
