//! Salesmen: list, read, create, change, archive.

use regal_outbox::EventContext;
use serde_json::json;
use uuid::Uuid;

use super::BackOffice;
use crate::{
    domain::{NewSalesman, SalesmanChanges, SalesmanFilter},
    error::SalesError,
    store::salesmen::{self, SalesmanRow},
};

const ENTITY: &str = "salesman";

impl BackOffice<'_> {
    pub async fn list_salesmen(
        &self,
        filter: &SalesmanFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<SalesmanRow>, i64), SalesError> {
        let mut connection = self.connection().await?;
        salesmen::list(&mut connection, filter, offset, limit).await
    }

    /// One salesman, archived ones too.
    pub async fn get_salesman(&self, id: Uuid) -> Result<SalesmanRow, SalesError> {
        let mut connection = self.connection().await?;
        salesmen::find(&mut connection, id)
            .await?
            .ok_or_else(|| SalesError::not_found("Salesman"))
    }

    pub async fn create_salesman(
        &self,
        context: &EventContext,
        salesman: NewSalesman,
    ) -> Result<SalesmanRow, SalesError> {
        let mut transaction = self.pool.begin().await?;
        let created = salesmen::insert(&mut transaction, Uuid::now_v7(), &salesman).await?;
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
    /// `delete` for an archive). A code taken by another salesman is a conflict.
    pub async fn update_salesman(
        &self,
        context: &EventContext,
        id: Uuid,
        changes: SalesmanChanges,
        action: &str,
    ) -> Result<SalesmanRow, SalesError> {
        let mut transaction = self.pool.begin().await?;
        let before = salesmen::lock(&mut transaction, id)
            .await?
            .ok_or_else(|| SalesError::not_found("Salesman"))?;
        let after = salesmen::update(&mut transaction, id, &changes).await?;
        let changes = json!({"before": before.audit_json(), "after": after.audit_json()});
        self.record(&mut transaction, context, ENTITY, id, action, changes)
            .await?;
        transaction.commit().await?;
        Ok(after)
    }

    /// Archives a salesman: gone from lists, still readable, invoices keep referring to
    /// them, and their code stays theirs.
    pub async fn archive_salesman(
        &self,
        context: &EventContext,
        id: Uuid,
    ) -> Result<(), SalesError> {
        self.update_salesman(context, id, SalesmanChanges::archive(), "delete")
            .await?;
        Ok(())
    }
}
