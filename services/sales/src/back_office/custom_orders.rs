//! Custom orders: list, read, record, change, erase.

use regal_outbox::EventContext;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::BackOffice;
use crate::{
    domain::{CustomOrderChanges, CustomOrderFilter, NewCustomOrder},
    error::SalesError,
    store::{
        custom_orders::{self, CustomOrderRow},
        customers,
    },
};

const ENTITY: &str = "custom_order";

/// A new order's customer must exist (NOT_FOUND) and be active (a conflict); the lock
/// taken keeps it so until the order commits. An unknown invoice is refused by its
/// foreign key (NOT_FOUND, mapped in `error.rs`).
async fn check_customer(
    transaction: &mut PgConnection,
    customer_id: Option<Uuid>,
) -> Result<(), SalesError> {
    match customer_id {
        Some(customer_id) => customers::check_usable(transaction, customer_id).await,
        None => Ok(()),
    }
}

impl BackOffice<'_> {
    pub async fn list_custom_orders(
        &self,
        filter: &CustomOrderFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<CustomOrderRow>, i64), SalesError> {
        let mut connection = self.connection().await?;
        custom_orders::list(&mut connection, filter, offset, limit).await
    }

    pub async fn get_custom_order(&self, id: Uuid) -> Result<CustomOrderRow, SalesError> {
        let mut connection = self.connection().await?;
        custom_orders::find(&mut connection, id)
            .await?
            .ok_or_else(|| SalesError::not_found("Custom order"))
    }

    pub async fn create_custom_order(
        &self,
        context: &EventContext,
        order: NewCustomOrder,
    ) -> Result<CustomOrderRow, SalesError> {
        let mut transaction = self.pool.begin().await?;
        check_customer(&mut transaction, order.customer_id).await?;
        let created = custom_orders::insert(&mut transaction, Uuid::now_v7(), &order).await?;
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

    pub async fn update_custom_order(
        &self,
        context: &EventContext,
        id: Uuid,
        changes: CustomOrderChanges,
    ) -> Result<CustomOrderRow, SalesError> {
        let mut transaction = self.pool.begin().await?;
        let before = custom_orders::lock(&mut transaction, id)
            .await?
            .ok_or_else(|| SalesError::not_found("Custom order"))?;
        if let Some(customer_id) = changes.customer_id
            && customer_id != before.customer_id
        {
            check_customer(&mut transaction, customer_id).await?;
        }
        let after = custom_orders::update(&mut transaction, id, &changes).await?;
        let changes = json!({"before": before.audit_json(), "after": after.audit_json()});
        self.record(&mut transaction, context, ENTITY, id, "update", changes)
            .await?;
        transaction.commit().await?;
        Ok(after)
    }

    /// Erases a custom order; the audit event keeps what it was.
    pub async fn delete_custom_order(
        &self,
        context: &EventContext,
        id: Uuid,
    ) -> Result<(), SalesError> {
        let mut transaction = self.pool.begin().await?;
        let erased = custom_orders::delete(&mut transaction, id)
            .await?
            .ok_or_else(|| SalesError::not_found("Custom order"))?;
        let changes = json!({"before": erased.audit_json()});
        self.record(&mut transaction, context, ENTITY, id, "delete", changes)
            .await?;
        transaction.commit().await?;
        Ok(())
    }
}
