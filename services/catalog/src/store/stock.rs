//! `catalog.stock_entries` (the ledger), the product level it moves, and the idempotency
//! keys of manual entries.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::{
    domain::{EntryType, StockEntryChanges, StockEntryFilter},
    error::CatalogError,
};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StockEntryRow {
    pub id: Uuid,
    pub product_id: Uuid,
    #[sqlx(rename = "type")]
    pub entry_type: String,
    pub qty: i64,
    pub delta: i64,
    pub location: String,
    pub batch: String,
    pub expiry: Option<NaiveDate>,
    #[sqlx(rename = "ref")]
    pub reference: String,
    pub reverses: Option<Uuid>,
    pub sale_id: Option<Uuid>,
    pub refund_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl StockEntryRow {
    pub fn entry_type(&self) -> Result<EntryType, CatalogError> {
        EntryType::parse(&self.entry_type).ok_or_else(|| {
            CatalogError::from(anyhow::anyhow!(
                "stored stock entry type {:?} is invalid",
                self.entry_type
            ))
        })
    }

    /// The entry as audit events record it.
    pub fn audit_json(&self, level_after: Option<i64>) -> Value {
        json!({
            "id": self.id, "product_id": self.product_id, "type": self.entry_type,
            "qty": self.qty, "delta": self.delta, "location": self.location,
            "batch": self.batch, "expiry": self.expiry, "ref": self.reference,
            "reverses": self.reverses, "sale_id": self.sale_id, "refund_id": self.refund_id,
            "stock_level_after": level_after,
        })
    }
}

/// A ledger entry about to be posted.
#[derive(Debug, Clone, Default)]
pub struct EntryToPost {
    pub product_id: Uuid,
    pub entry_type: Option<EntryType>,
    pub qty: i64,
    pub location: String,
    pub batch: String,
    pub expiry: Option<NaiveDate>,
    pub reference: String,
    pub reverses: Option<Uuid>,
    pub sale_id: Option<Uuid>,
    pub refund_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
}

const COLUMNS: &str = "id, product_id, type, qty, delta, location, batch, expiry, ref, reverses, \
     sale_id, refund_id, created_by, created_at";

/// Moves each product's level by its `delta` unless that would take it below zero, in one
/// statement (each product at most once); returns the new level of each product moved.
/// A product missing from the answer is unknown or short of stock.
pub async fn move_levels(
    connection: &mut PgConnection,
    moves: &[(Uuid, i64)],
) -> Result<HashMap<Uuid, i64>, CatalogError> {
    let product_ids: Vec<Uuid> = moves.iter().map(|(product_id, _)| *product_id).collect();
    let deltas: Vec<i64> = moves.iter().map(|(_, delta)| *delta).collect();
    let moved: Vec<(Uuid, i64)> = sqlx::query_as(
        "update catalog.products as product set stock_level = product.stock_level + moved.delta \
         from unnest($1::uuid[], $2::int8[]) as moved (id, delta) \
         where product.id = moved.id and product.stock_level + moved.delta >= 0 \
         returning product.id, product.stock_level",
    )
    .bind(product_ids)
    .bind(deltas)
    .fetch_all(connection)
    .await?;
    Ok(moved.into_iter().collect())
}

/// Writes ledger rows in one statement (the caller moves the levels in the same
/// transaction); returns them in the order given.
pub async fn insert_entries(
    connection: &mut PgConnection,
    entries: &[(Uuid, &EntryToPost, EntryType)],
) -> Result<Vec<StockEntryRow>, CatalogError> {
    let count = entries.len();
    let mut ids = Vec::with_capacity(count);
    let mut product_ids = Vec::with_capacity(count);
    let mut types = Vec::with_capacity(count);
    let mut quantities = Vec::with_capacity(count);
    let mut locations = Vec::with_capacity(count);
    let mut batches = Vec::with_capacity(count);
    let mut expiries = Vec::with_capacity(count);
    let mut references = Vec::with_capacity(count);
    let mut reversed = Vec::with_capacity(count);
    let mut sale_ids = Vec::with_capacity(count);
    let mut refund_ids = Vec::with_capacity(count);
    let mut created_by = Vec::with_capacity(count);
    for (id, entry, entry_type) in entries {
        ids.push(*id);
        product_ids.push(entry.product_id);
        types.push(entry_type.as_str());
        quantities.push(entry.qty);
        locations.push(entry.location.as_str());
        batches.push(entry.batch.as_str());
        expiries.push(entry.expiry);
        references.push(entry.reference.as_str());
        reversed.push(entry.reverses);
        sale_ids.push(entry.sale_id);
        refund_ids.push(entry.refund_id);
        created_by.push(entry.created_by);
    }
    let rows: Vec<StockEntryRow> = sqlx::query_as(
        "insert into catalog.stock_entries (id, product_id, type, qty, location, batch, expiry, \
           ref, reverses, sale_id, refund_id, created_by) \
         select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::int8[], $5::text[], \
                              $6::text[], $7::date[], $8::text[], $9::uuid[], $10::uuid[], \
                              $11::uuid[], $12::uuid[]) \
         returning id, product_id, type, qty, delta, location, batch, expiry, ref, reverses, \
           sale_id, refund_id, created_by, created_at",
    )
    .bind(&ids)
    .bind(product_ids)
    .bind(types)
    .bind(quantities)
    .bind(locations)
    .bind(batches)
    .bind(expiries)
    .bind(references)
    .bind(reversed)
    .bind(sale_ids)
    .bind(refund_ids)
    .bind(created_by)
    .fetch_all(connection)
    .await?;
    let mut by_id: HashMap<Uuid, StockEntryRow> =
        rows.into_iter().map(|row| (row.id, row)).collect();
    ids.iter()
        .map(|id| {
            by_id.remove(id).ok_or_else(|| {
                CatalogError::from(anyhow::anyhow!("stock entry {id} was not written"))
            })
        })
        .collect()
}

pub async fn find(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<StockEntryRow>, CatalogError> {
    Ok(sqlx::query_as::<_, StockEntryRow>(
        "select id, product_id, type, qty, delta, location, batch, expiry, ref, reverses, \
           sale_id, refund_id, created_by, created_at \
         from catalog.stock_entries where id = $1",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// Whether a reversal of `id` exists.
pub async fn is_reversed(connection: &mut PgConnection, id: Uuid) -> Result<bool, CatalogError> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from catalog.stock_entries where reverses = $1)",
    )
    .bind(id)
    .fetch_one(connection)
    .await?)
}

/// The entries a sale (`SALE`) or refund (`REFUND`) posted that are not reversed yet.
pub async fn unreversed_entries_of(
    connection: &mut PgConnection,
    entry_type: EntryType,
    reference_id: Uuid,
) -> Result<Vec<StockEntryRow>, CatalogError> {
    let column = match entry_type {
        EntryType::Refund => "refund_id",
        _ => "sale_id",
    };
    let statement = format!(
        "select {COLUMNS} from catalog.stock_entries e \
         where e.{column} = $1 and e.type = $2 \
           and not exists (select 1 from catalog.stock_entries r where r.reverses = e.id) \
         order by e.product_id"
    );
    Ok(
        sqlx::query_as::<_, StockEntryRow>(sqlx::AssertSqlSafe(statement))
            .bind(reference_id)
            .bind(entry_type.as_str())
            .fetch_all(connection)
            .await?,
    )
}

/// Changes the descriptive fields of an entry.
pub async fn update(
    connection: &mut PgConnection,
    id: Uuid,
    changes: &StockEntryChanges,
) -> Result<Option<StockEntryRow>, CatalogError> {
    Ok(sqlx::query_as::<_, StockEntryRow>(
        "update catalog.stock_entries set \
           location = coalesce($2, location), \
           batch = coalesce($3, batch), \
           expiry = case when $4 then $5 else expiry end, \
           ref = coalesce($6, ref) \
         where id = $1 \
         returning id, product_id, type, qty, delta, location, batch, expiry, ref, reverses, \
           sale_id, refund_id, created_by, created_at",
    )
    .bind(id)
    .bind(changes.location.as_deref())
    .bind(changes.batch.as_deref())
    .bind(changes.expiry.is_some())
    .bind(changes.expiry.flatten())
    .bind(changes.reference.as_deref())
    .fetch_optional(connection)
    .await?)
}

/// A page of entries, newest first, with the total matching count.
pub async fn list(
    connection: &mut PgConnection,
    filter: &StockEntryFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<StockEntryRow>, i64), CatalogError> {
    let filters = |builder: &mut QueryBuilder<Postgres>| {
        builder.push(" where true");
        if let Some(product_id) = filter.product_id {
            builder.push(" and product_id = ").push_bind(product_id);
        }
        if let Some(entry_type) = filter.entry_type {
            builder.push(" and type = ").push_bind(entry_type.as_str());
        }
    };
    let mut count = QueryBuilder::<Postgres>::new("select count(*) from catalog.stock_entries");
    filters(&mut count);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *connection)
        .await?;
    let mut page =
        QueryBuilder::<Postgres>::new(format!("select {COLUMNS} from catalog.stock_entries"));
    filters(&mut page);
    page.push(" order by created_at desc, id desc offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let entries = page
        .build_query_as::<StockEntryRow>()
        .fetch_all(&mut *connection)
        .await?;
    Ok((entries, total))
}

/// Claims an idempotency key for `entry_id` in the caller's transaction. Returns the
/// entry and fingerprint already recorded for the key when another request claimed it
/// first (waiting for that request's transaction if it is still running).
pub async fn claim_idempotency_key(
    connection: &mut PgConnection,
    user_id: Uuid,
    key: &str,
    entry_id: Uuid,
    fingerprint: &str,
) -> Result<Option<(Uuid, String)>, CatalogError> {
    let claimed = sqlx::query(
        "insert into catalog.stock_entry_idempotency (user_id, key, entry_id, fingerprint) \
         values ($1, $2, $3, $4) on conflict do nothing",
    )
    .bind(user_id)
    .bind(key)
    .bind(entry_id)
    .bind(fingerprint)
    .execute(&mut *connection)
    .await?
    .rows_affected()
        == 1;
    if claimed {
        return Ok(None);
    }
    Ok(sqlx::query_as::<_, (Uuid, String)>(
        "select entry_id, fingerprint from catalog.stock_entry_idempotency \
         where user_id = $1 and key = $2",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(connection)
    .await?)
}
