//! Vendors: create, change, archive.

use regal_outbox::NewEvent;
use serde_json::json;
use uuid::Uuid;

use super::{Caller, Catalog};
use crate::{
    domain::{NewVendor, VendorChanges},
    error::CatalogError,
    store::vendors::{self, VendorRow},
};

impl Catalog {
    pub async fn list_vendors(
        &self,
        search: Option<&str>,
        include_inactive: bool,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<VendorRow>, i64), CatalogError> {
        let mut connection = self.connection().await?;
        vendors::list(&mut connection, search, include_inactive, offset, limit).await
    }

    pub async fn get_vendor(&self, id: Uuid) -> Result<VendorRow, CatalogError> {
        let mut connection = self.connection().await?;
        vendors::find(&mut connection, id)
            .await?
            .ok_or(CatalogError::VendorNotFound)
    }

    pub async fn create_vendor(
        &self,
        caller: &Caller,
        vendor: NewVendor,
    ) -> Result<VendorRow, CatalogError> {
        let mut transaction = self.pool.begin().await?;
        let created = vendors::insert(&mut transaction, Uuid::now_v7(), &vendor).await?;
        self.record(
            &mut transaction,
            caller,
            NewEvent {
                entity: "vendor",
                entity_id: created.id.to_string(),
                action: "create",
                changes: json!({"after": created.audit_json()}),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(created)
    }

    pub async fn update_vendor(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: VendorChanges,
        action: &str,
    ) -> Result<VendorRow, CatalogError> {
        let mut transaction = self.pool.begin().await?;
        let before = vendors::lock(&mut transaction, id)
            .await?
            .ok_or(CatalogError::VendorNotFound)?;
        let after = vendors::update(&mut transaction, id, &changes).await?;
        self.record(
            &mut transaction,
            caller,
            NewEvent {
                entity: "vendor",
                entity_id: id.to_string(),
                action,
                changes: json!({"before": before.audit_json(), "after": after.audit_json()}),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(after)
    }

    /// Archives a vendor; products keep their `vendor_id`.
    pub async fn archive_vendor(&self, caller: &Caller, id: Uuid) -> Result<(), CatalogError> {
        let changes = VendorChanges {
            is_active: Some(false),
            ..VendorChanges::default()
        };
        self.update_vendor(caller, id, changes, "delete").await?;
        Ok(())
    }
}
