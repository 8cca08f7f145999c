//! Products: create (with its opening stock), change (with a stocktake), archive.

use regal_outbox::NewEvent;
use serde_json::json;
use uuid::Uuid;

use super::{Caller, Catalog};
use crate::{
    domain::{EntryType, NewProduct, ProductChanges, ProductFilter},
    error::CatalogError,
    store::{
        products::{self, ProductRow},
        stock::EntryToPost,
        vendors,
    },
};

impl Catalog {
    pub async fn list_products(
        &self,
        filter: &ProductFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<ProductRow>, i64), CatalogError> {
        let mut connection = self.connection().await?;
        products::list(&mut connection, filter, offset, limit).await
    }

    pub async fn get_product(&self, id: Uuid) -> Result<ProductRow, CatalogError> {
        let mut connection = self.connection().await?;
        products::find(&mut connection, id)
            .await?
            .ok_or(CatalogError::ProductNotFound)
    }

    /// Creates a product; its opening stock is posted as an `IN` entry.
    pub async fn create_product(
        &self,
        caller: &Caller,
        product: NewProduct,
    ) -> Result<ProductRow, CatalogError> {
        let mut transaction = self.pool.begin().await?;
        if let Some(vendor_id) = product.vendor_id {
            vendors::check_usable(&mut transaction, vendor_id).await?;
        }
        let id = Uuid::now_v7();
        products::insert(&mut transaction, id, &product).await?;
        if product.opening_stock > 0 {
            let entry = EntryToPost {
                product_id: id,
                entry_type: Some(EntryType::In),
                qty: product.opening_stock,
                reference: "opening stock".to_owned(),
                created_by: caller.user_id,
                ..EntryToPost::default()
            };
            self.post_entry(&mut transaction, caller, Uuid::now_v7(), &entry)
                .await?;
        }
        let created = products::find(&mut transaction, id)
            .await?
            .ok_or(CatalogError::ProductNotFound)?;
        self.record(
            &mut transaction,
            caller,
            NewEvent {
                entity: "product",
                entity_id: id.to_string(),
                action: "create",
                changes: json!({"after": created.audit_json()}),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(created)
    }

    /// A partial update; a `stock_level` is a stocktake, posted as an `ADJUST` entry of the
    /// difference.
    pub async fn update_product(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: ProductChanges,
    ) -> Result<ProductRow, CatalogError> {
        let mut transaction = self.pool.begin().await?;
        let before = products::lock(&mut transaction, id)
            .await?
            .ok_or(CatalogError::ProductNotFound)?;
        if let Some(Some(vendor_id)) = changes.vendor_id
            && before.vendor_id != Some(vendor_id)
        {
            vendors::check_usable(&mut transaction, vendor_id).await?;
        }
        products::update(&mut transaction, id, &changes).await?;
        if let Some(counted) = changes.stock_level {
            let difference = counted - before.stock_level;
            if difference != 0 {
                let entry = EntryToPost {
                    product_id: id,
                    entry_type: Some(EntryType::Adjust),
                    qty: difference,
                    reference: "stocktake".to_owned(),
                    created_by: caller.user_id,
                    ..EntryToPost::default()
                };
                self.post_entry(&mut transaction, caller, Uuid::now_v7(), &entry)
                    .await?;
            }
        }
        let after = products::find(&mut transaction, id)
            .await?
            .ok_or(CatalogError::ProductNotFound)?;
        self.record(
            &mut transaction,
            caller,
            NewEvent {
                entity: "product",
                entity_id: id.to_string(),
                action: "update",
                changes: json!({
                    "before": before.audit_json(),
                    "after": after.audit_json(),
                    "price_changes": before.price_changes(&after),
                }),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(after)
    }

    /// Archives a product: it leaves the lists and can no longer be sold; invoices and the
    /// ledger keep referring to it.
    pub async fn archive_product(&self, caller: &Caller, id: Uuid) -> Result<(), CatalogError> {
        let mut transaction = self.pool.begin().await?;
        let before = products::lock(&mut transaction, id)
            .await?
            .ok_or(CatalogError::ProductNotFound)?;
        let changes = ProductChanges {
            is_active: Some(false),
            ..ProductChanges::default()
        };
        let after = products::update(&mut transaction, id, &changes).await?;
        self.record(
            &mut transaction,
            caller,
            NewEvent {
                entity: "product",
                entity_id: id.to_string(),
                action: "delete",
                changes: json!({"before": before.audit_json(), "after": after.audit_json()}),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Active products, and those at or below `low_stock_threshold`.
    pub async fn summary(&self, low_stock_threshold: i64) -> Result<(i64, i64), CatalogError> {
        let mut connection = self.connection().await?;
        products::summary(&mut connection, low_stock_threshold).await
    }
}
