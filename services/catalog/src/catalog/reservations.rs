//! The reservation api of the stock saga, idempotent by the caller's sale or refund id:
//! reserve a sale's stock, release it, restock a refund, reverse that restock.
//!
//! Every call runs in one transaction that first claims (or finds and locks) its row in
//! `catalog.reservations`, then locks the products it moves in ascending id order, so
//! concurrent calls over the same products queue instead of deadlocking. The stored row
//! holds the answer: a retry returns it and moves nothing.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Caller, Catalog};
use crate::{
    domain::{EntryType, StockLines},
    error::CatalogError,
    store::{
        products::{self, ProductRow},
        reservations::{self, Kind, ReservationRow},
        stock::{self, EntryToPost},
    },
};

/// A reserved line with the catalog's prices and rates at reservation time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservedLine {
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: Decimal,
    pub cost_price: Decimal,
    pub tax_rate: Decimal,
    pub discount: Decimal,
}

/// A line put back in stock by a refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestockedLine {
    pub product_id: Uuid,
    pub quantity: i64,
}

impl Catalog {
    /// Takes the stock of a sale: all lines or none.
    #[tracing::instrument(
        name = "db.transaction",
        skip_all,
        fields(
            otel.name = "catalog: reserve stock",
            regal.service = "regal-catalog",
            db.system = "postgresql",
            sale_id = %sale_id,
        )
    )]
    pub async fn reserve_stock(
        &self,
        caller: &Caller,
        sale_id: Uuid,
        lines: StockLines,
    ) -> Result<Vec<ReservedLine>, CatalogError> {
        let mut transaction = self.pool.begin().await?;
        if let Some(existing) =
            reservations::claim(&mut transaction, Kind::Sale, sale_id, caller.user_id).await?
        {
            if existing.undone_at.is_some() {
                return Err(CatalogError::Conflict(
                    "The reservation of this sale was released",
                ));
            }
            let answer: Vec<ReservedLine> = stored_lines(&existing)?;
            let stored: Vec<(Uuid, i64)> = answer
                .iter()
                .map(|line| (line.product_id, line.quantity))
                .collect();
            ensure_same_lines(
                &stored,
                &lines,
                "This sale id was reserved with other lines",
            )?;
            return Ok(answer);
        }

        let locked = lock_products(&mut transaction, &lines).await?;
        for &(product_id, _) in lines.lines() {
            let product = locked
                .get(&product_id)
                .ok_or(CatalogError::LineProductNotFound(product_id))?;
            if !product.is_active {
                return Err(CatalogError::ProductArchived(product_id));
            }
        }
        for &(product_id, quantity) in lines.lines() {
            let product = &locked[&product_id];
            if product.stock_level < quantity {
                return Err(CatalogError::InsufficientStock {
                    product_id,
                    sku: product.sku.clone(),
                    available: product.stock_level,
                    requested: quantity,
                });
            }
        }
        let entries: Vec<(Uuid, EntryToPost)> = lines
            .lines()
            .iter()
            .map(|&(product_id, quantity)| {
                let entry = EntryToPost {
                    product_id,
                    entry_type: Some(EntryType::Sale),
                    qty: quantity,
                    reference: sale_id.to_string(),
                    sale_id: Some(sale_id),
                    created_by: caller.user_id,
                    ..EntryToPost::default()
                };
                (Uuid::now_v7(), entry)
            })
            .collect();
        let entries: Vec<(Uuid, &EntryToPost)> =
            entries.iter().map(|(id, entry)| (*id, entry)).collect();
        self.post_entries(&mut transaction, caller, &entries)
            .await?;
        let mut answer = Vec::with_capacity(lines.lines().len());
        for &(product_id, quantity) in lines.lines() {
            let product = &locked[&product_id];
            answer.push(ReservedLine {
                product_id,
                sku: product.sku.clone(),
                name: product.name.clone(),
                quantity,
                unit_price: product.unit_price,
                cost_price: product.cost_price,
                tax_rate: product.tax_rate,
                discount: product.discount,
            });
        }
        reservations::store_answer(&mut transaction, Kind::Sale, sale_id, to_json(&answer)?)
            .await?;
        transaction.commit().await?;
        tracing::info!(sale_id = %sale_id, lines = answer.len(), "stock reserved");
        Ok(answer)
    }

    /// Gives back what a sale reserved. `false` when there was nothing (left) to give back;
    /// a release that comes before its reservation leaves a tombstone, so that a late
    /// reservation with the same id takes nothing.
    pub async fn release_stock(
        &self,
        caller: &Caller,
        sale_id: Uuid,
    ) -> Result<bool, CatalogError> {
        self.undo(caller, Kind::Sale, sale_id).await
    }

    /// Puts refunded units back in stock (archived products too: the goods are back).
    pub async fn restock_for_refund(
        &self,
        caller: &Caller,
        refund_id: Uuid,
        lines: StockLines,
    ) -> Result<Vec<RestockedLine>, CatalogError> {
        let mut transaction = self.pool.begin().await?;
        if let Some(existing) =
            reservations::claim(&mut transaction, Kind::Refund, refund_id, caller.user_id).await?
        {
            if existing.undone_at.is_some() {
                return Err(CatalogError::Conflict(
                    "The restock of this refund was reversed",
                ));
            }
            let answer: Vec<RestockedLine> = stored_lines(&existing)?;
            let stored: Vec<(Uuid, i64)> = answer
                .iter()
                .map(|line| (line.product_id, line.quantity))
                .collect();
            ensure_same_lines(
                &stored,
                &lines,
                "This refund id was restocked with other lines",
            )?;
            return Ok(answer);
        }
        let locked = lock_products(&mut transaction, &lines).await?;
        let mut answer = Vec::with_capacity(lines.lines().len());
        let mut entries = Vec::with_capacity(lines.lines().len());
        for &(product_id, quantity) in lines.lines() {
            if !locked.contains_key(&product_id) {
                return Err(CatalogError::LineProductNotFound(product_id));
            }
            let entry = EntryToPost {
                product_id,
                entry_type: Some(EntryType::Refund),
                qty: quantity,
                reference: refund_id.to_string(),
                refund_id: Some(refund_id),
                created_by: caller.user_id,
                ..EntryToPost::default()
            };
            entries.push((Uuid::now_v7(), entry));
            answer.push(RestockedLine {
                product_id,
                quantity,
            });
        }
        let entries: Vec<(Uuid, &EntryToPost)> =
            entries.iter().map(|(id, entry)| (*id, entry)).collect();
        self.post_entries(&mut transaction, caller, &entries)
            .await?;
        reservations::store_answer(&mut transaction, Kind::Refund, refund_id, to_json(&answer)?)
            .await?;
        transaction.commit().await?;
        Ok(answer)
    }

    /// Takes back out what a refund put back (the refund is voided); all or nothing.
    pub async fn reverse_refund_restock(
        &self,
        caller: &Caller,
        refund_id: Uuid,
    ) -> Result<bool, CatalogError> {
        self.undo(caller, Kind::Refund, refund_id).await
    }

    /// Posts a `REVERSAL` for every not yet reversed entry of a sale or refund.
    async fn undo(&self, caller: &Caller, kind: Kind, id: Uuid) -> Result<bool, CatalogError> {
        let mut transaction = self.pool.begin().await?;
        let existing = reservations::claim(&mut transaction, kind, id, caller.user_id).await?;
        let undone = match existing {
            // Nothing was reserved under this id; the claimed row becomes a tombstone.
            None => false,
            Some(row) if row.undone_at.is_some() => false,
            Some(_) => {
                let entry_type = match kind {
                    Kind::Sale => EntryType::Sale,
                    Kind::Refund => EntryType::Refund,
                };
                let entries =
                    stock::unreversed_entries_of(&mut transaction, entry_type, id).await?;
                let mut product_ids: Vec<Uuid> =
                    entries.iter().map(|entry| entry.product_id).collect();
                product_ids.sort_unstable();
                product_ids.dedup();
                products::lock_many(&mut transaction, &product_ids).await?;
                let reversals: Vec<(Uuid, EntryToPost)> = entries
                    .iter()
                    .map(|original| {
                        let reversal = EntryToPost {
                            product_id: original.product_id,
                            entry_type: Some(EntryType::Reversal),
                            qty: -original.delta,
                            reference: original.id.to_string(),
                            reverses: Some(original.id),
                            sale_id: original.sale_id,
                            refund_id: original.refund_id,
                            created_by: caller.user_id,
                            ..EntryToPost::default()
                        };
                        (Uuid::now_v7(), reversal)
                    })
                    .collect();
                let reversals: Vec<(Uuid, &EntryToPost)> =
                    reversals.iter().map(|(id, entry)| (*id, entry)).collect();
                self.post_entries(&mut transaction, caller, &reversals)
                    .await?;
                !entries.is_empty()
            }
        };
        reservations::mark_undone(&mut transaction, kind, id, caller.user_id).await?;
        transaction.commit().await?;
        if undone {
            tracing::info!(id = %id, kind = ?kind, "reservation undone");
        }
        Ok(undone)
    }
}

/// Locks the products of `lines` in ascending id order; keyed by id.
async fn lock_products(
    transaction: &mut PgConnection,
    lines: &StockLines,
) -> Result<HashMap<Uuid, ProductRow>, CatalogError> {
    let rows = products::lock_many(transaction, &lines.ids_in_lock_order()).await?;
    Ok(rows.into_iter().map(|row| (row.id, row)).collect())
}

fn stored_lines<T: for<'de> Deserialize<'de>>(
    row: &ReservationRow,
) -> Result<Vec<T>, CatalogError> {
    serde_json::from_value(row.lines.clone()).map_err(|error| {
        CatalogError::from(anyhow::anyhow!(
            "stored reservation {} is unreadable: {error}",
            row.id
        ))
    })
}

fn to_json<T: Serialize>(lines: &[T]) -> Result<serde_json::Value, CatalogError> {
    serde_json::to_value(lines).map_err(|error| CatalogError::from(anyhow::Error::from(error)))
}

/// A retry must ask for what the first call asked for.
fn ensure_same_lines(
    stored: &[(Uuid, i64)],
    requested: &StockLines,
    message: &'static str,
) -> Result<(), CatalogError> {
    let mut stored = stored.to_vec();
    let mut requested = requested.lines().to_vec();
    stored.sort_unstable();
    requested.sort_unstable();
    if stored == requested {
        Ok(())
    } else {
        Err(CatalogError::Conflict(message))
    }
}
