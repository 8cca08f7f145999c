//! Customers: list, read, create, change, archive.

use regal_outbox::EventContext;
use serde_json::json;
use uuid::Uuid;

use super::BackOffice;
use crate::{
    domain::{CustomerChanges, CustomerFilter, NewCustomer},
    error::SalesError,
    store::customers::{self, CustomerRow},
};

const ENTITY: &str = "customer";

impl BackOffice<'_> {
    pub async fn list_customers(
        &self,
        filter: &CustomerFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<CustomerRow>, i64), SalesError> {
        let mut connection = self.connection().await?;
        customers::list(&mut connection, filter, offset, limit).await
    }

    /// One customer, archived ones too.
    pub async fn get_customer(&self, id: Uuid) -> Result<CustomerRow, SalesError> {
        let mut connection = self.connection().await?;
        customers::find(&mut connection, id)
            .await?
            .ok_or_else(|| SalesError::not_found("Customer"))
    }

    pub async fn create_customer(
        &self,
        context: &EventContext,
        customer: NewCustomer,
    ) -> Result<CustomerRow, SalesError> {
        let mut transaction = self.pool.begin().await?;
        let created = customers::insert(&mut transaction, Uuid::now_v7(), &customer).await?;
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

    /// Applies a partial update; `action` names it in the audit log (`update`, or
    /// `delete` for an archive).
    pub async fn update_customer(
        &self,
        context: &EventContext,
        id: Uuid,
        changes: CustomerChanges,
        action: &str,
    ) -> Result<CustomerRow, SalesError> {
        let mut transaction = self.pool.begin().await?;
        let before = customers::lock(&mut transaction, id)
            .await?
            .ok_or_else(|| SalesError::not_found("Customer"))?;
        let after = customers::update(&mut transaction, id, &changes).await?;
        let changes = json!({"before": before.audit_json(), "after": after.audit_json()});
        self.record(&mut transaction, context, ENTITY, id, action, changes)
            .await?;
        transaction.commit().await?;
        Ok(after)
    }

    /// Archives a customer: gone from lists, still readable, invoices keep referring to
    /// them.
    pub async fn archive_customer(
        &self,
        context: &EventContext,
        id: Uuid,
    ) -> Result<(), SalesError> {
        self.update_customer(context, id, CustomerChanges::archive(), "delete")
            .await?;
        Ok(())
    }
}
