//! `catalog.stock_entries` (the ledger), the product level it moves, and the idempotency
//! keys of manual entries.

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

/// Moves a product's level by `delta` unless that would take it below zero; returns the
/// new level, or `None` when the product is unknown or short of stock.
pub async fn move_level(
    connection: &mut PgConnection,
    product_id: Uuid,
    delta: i64,
) -> Result<Option<i64>, CatalogError> {
    Ok(sqlx::query_scalar(
        "update catalog.products set stock_level = stock_level + $2 \
         where id = $1 and stock_level + $2 >= 0 returning stock_level",
    )
    .bind(product_id)
    .bind(delta)
    .fetch_optional(connection)
    .await?)
}

/// Writes one ledger row (the caller moves the level in the same transaction).
pub async fn insert_entry(
    connection: &mut PgConnection,
    id: Uuid,
    entry: &EntryToPost,
    entry_type: EntryType,
) -> Result<StockEntryRow, CatalogError> {
    Ok(sqlx::query_as::<_, StockEntryRow>(
        "insert into catalog.stock_entries (id, product_id, type, qty, location, batch, expiry, \
           ref, reverses, sale_id, refund_id, created_by) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         returning id, product_id, type, qty, delta, location, batch, expiry, ref, reverses, \
           sale_id, refund_id, created_by, created_at",
    )
    .bind(id)
    .bind(entry.product_id)
    .bind(entry_type.as_str())
    .bind(entry.qty)
    .bind(&entry.location)
    .bind(&entry.batch)
    .bind(entry.expiry)
    .bind(&entry.reference)
    .bind(entry.reverses)
    .bind(entry.sale_id)
    .bind(entry.refund_id)
    .bind(entry.created_by)
    .fetch_one(connection)
    .await?)
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
