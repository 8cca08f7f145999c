//! The stock ledger: posting entries (the only way a level moves), manual entries, their
//! descriptive changes, and reversals.

use regal_outbox::NewEvent;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Caller, Catalog};
use crate::{
    domain::{EntryType, NewStockEntry, StockEntryChanges, StockEntryFilter},
    error::CatalogError,
    store::{
        products,
        stock::{self, EntryToPost, StockEntryRow},
    },
};

impl Catalog {
    /// Posts one entry in the caller's transaction: moves the product's level by the
    /// entry's effect with a conditional update (never below zero), writes the ledger row
    /// and its audit event. Returns the entry and the level after it.
    pub(super) async fn post_entry(
        &self,
        transaction: &mut PgConnection,
        caller: &Caller,
        entry_id: Uuid,
        entry: &EntryToPost,
    ) -> Result<(StockEntryRow, i64), CatalogError> {
        let mut posted = self
            .post_entries(transaction, caller, &[(entry_id, entry)])
            .await?;
        posted
            .pop()
            .ok_or_else(|| CatalogError::from(anyhow::anyhow!("stock entry {entry_id} not posted")))
    }

    /// Posts entries as [`Catalog::post_entry`] does, all or none, with one statement per
    /// kind of row when each product has one entry (the lines of a sale); one entry after
    /// the other when a product has several (each its own level after it). Returns them in
    /// the order given.
    pub(super) async fn post_entries(
        &self,
        transaction: &mut PgConnection,
        caller: &Caller,
        entries: &[(Uuid, &EntryToPost)],
    ) -> Result<Vec<(StockEntryRow, i64)>, CatalogError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let mut product_ids: Vec<Uuid> =
            entries.iter().map(|(_, entry)| entry.product_id).collect();
        product_ids.sort_unstable();
        product_ids.dedup();
        if entries.len() > 1 && product_ids.len() < entries.len() {
            let mut posted = Vec::with_capacity(entries.len());
            for entry in entries {
                posted.extend(
                    Box::pin(self.post_entries(transaction, caller, std::slice::from_ref(entry)))
                        .await?,
                );
            }
            return Ok(posted);
        }
        let mut typed = Vec::with_capacity(entries.len());
        for (entry_id, entry) in entries {
            let entry_type = entry
                .entry_type
                .ok_or_else(|| CatalogError::from(anyhow::anyhow!("stock entry without a type")))?;
            typed.push((*entry_id, *entry, entry_type));
        }
        let moves: Vec<(Uuid, i64)> = typed
            .iter()
            .map(|(_, entry, entry_type)| (entry.product_id, entry_type.delta(entry.qty)))
            .collect();
        let levels = stock::move_levels(transaction, &moves).await?;
        for (product_id, delta) in &moves {
            if levels.contains_key(product_id) {
                continue;
            }
            let product = products::find(transaction, *product_id)
                .await?
                .ok_or(CatalogError::ProductNotFound)?;
            return Err(CatalogError::InsufficientStock {
                product_id: product.id,
                sku: product.sku,
                available: product.stock_level,
                requested: -delta,
            });
        }
        let rows = stock::insert_entries(transaction, &typed).await?;
        let posted: Vec<(StockEntryRow, i64)> = rows
            .into_iter()
            .map(|row| {
                let level = levels.get(&row.product_id).copied().unwrap_or_default();
                (row, level)
            })
            .collect();
        let events = posted
            .iter()
            .map(|(row, level)| NewEvent {
                entity: "stock_entry",
                entity_id: row.id.to_string(),
                action: "create",
                changes: json!({"after": row.audit_json(Some(*level))}),
            })
            .collect();
        self.outbox
            .record_all(transaction, &caller.context, events)
            .await?;
        Ok(posted)
    }

    pub async fn list_stock_entries(
        &self,
        filter: &StockEntryFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<StockEntryRow>, i64), CatalogError> {
        let mut connection = self.connection().await?;
        stock::list(&mut connection, filter, offset, limit).await
    }

    pub async fn get_stock_entry(&self, id: Uuid) -> Result<StockEntryRow, CatalogError> {
        let mut connection = self.connection().await?;
        stock::find(&mut connection, id)
            .await?
            .ok_or(CatalogError::StockEntryNotFound)
    }

    /// Posts a manual `IN`, `OUT` or `ADJUST` entry. With an idempotency key, the same key
    /// from the same user returns the first entry and posts nothing more.
    pub async fn create_stock_entry(
        &self,
        caller: &Caller,
        new_entry: NewStockEntry,
    ) -> Result<StockEntryRow, CatalogError> {
        let mut transaction = self.pool.begin().await?;
        let entry_id = Uuid::now_v7();
        if let (Some(key), Some(user_id)) = (&new_entry.idempotency_key, caller.user_id) {
            let fingerprint = new_entry.fingerprint();
            if let Some((first_entry_id, first_fingerprint)) =
                stock::claim_idempotency_key(&mut transaction, user_id, key, entry_id, &fingerprint)
                    .await?
            {
                if first_fingerprint != fingerprint {
                    return Err(CatalogError::Conflict(
                        "Idempotency-Key was already used for a different stock entry",
                    ));
                }
                return stock::find(&mut transaction, first_entry_id)
                    .await?
                    .ok_or(CatalogError::StockEntryNotFound);
            }
        }
        let entry = EntryToPost {
            product_id: new_entry.product_id,
            entry_type: Some(new_entry.entry_type),
            qty: new_entry.qty,
            location: new_entry.location,
            batch: new_entry.batch,
            expiry: new_entry.expiry,
            reference: new_entry.reference,
            created_by: caller.user_id,
            ..EntryToPost::default()
        };
        let (row, _) = self
            .post_entry(&mut transaction, caller, entry_id, &entry)
            .await?;
        transaction.commit().await?;
        Ok(row)
    }

    /// Changes an entry's location, batch, expiry or ref; what it moved never changes.
    pub async fn update_stock_entry(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: StockEntryChanges,
    ) -> Result<StockEntryRow, CatalogError> {
        let mut transaction = self.pool.begin().await?;
        let before = stock::find(&mut transaction, id)
            .await?
            .ok_or(CatalogError::StockEntryNotFound)?;
        let after = stock::update(&mut transaction, id, &changes)
            .await?
            .ok_or(CatalogError::StockEntryNotFound)?;
        self.record(
            &mut transaction,
            caller,
            NewEvent {
                entity: "stock_entry",
                entity_id: id.to_string(),
                action: "update",
                changes: json!({"before": before.audit_json(None), "after": after.audit_json(None)}),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(after)
    }

    /// Cancels a manual entry with a `REVERSAL` entry; the original stays in the ledger.
    pub async fn reverse_stock_entry(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<StockEntryRow, CatalogError> {
        let mut transaction = self.pool.begin().await?;
        let original = stock::find(&mut transaction, id)
            .await?
            .ok_or(CatalogError::StockEntryNotFound)?;
        if !original.entry_type()?.is_manual() {
            return Err(CatalogError::Conflict(
                "Only IN, OUT and ADJUST entries can be deleted; sales and refunds are undone \
                 through their invoice or refund",
            ));
        }
        // The product row lock serialises reversals of the same product's entries.
        products::lock(&mut transaction, original.product_id).await?;
        if stock::is_reversed(&mut transaction, id).await? {
            return Err(CatalogError::Conflict("Stock entry is already reversed"));
        }
        let reversal = EntryToPost {
            product_id: original.product_id,
            entry_type: Some(EntryType::Reversal),
            qty: -original.delta,
            location: original.location.clone(),
            batch: original.batch.clone(),
            expiry: original.expiry,
            reference: original.id.to_string(),
            reverses: Some(original.id),
            created_by: caller.user_id,
            ..EntryToPost::default()
        };
        let (row, _) = self
            .post_entry(&mut transaction, caller, Uuid::now_v7(), &reversal)
            .await?;
        transaction.commit().await?;
        Ok(row)
    }
}
