//! `catalog.products`. The stock level is never written here: only the ledger
//! ([`super::stock::move_levels`]) moves it, together with an entry.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::{
    domain::{NewProduct, ProductChanges, ProductFilter, money},
    error::CatalogError,
};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProductRow {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub unit_price: Decimal,
    pub cost_price: Decimal,
    pub tax_rate: Decimal,
    pub discount: Decimal,
    pub vendor_id: Option<Uuid>,
    pub stock_level: i64,
    pub barcode: Option<String>,
    pub category: String,
    pub branch: String,
    pub attributes: Value,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProductRow {
    /// The product as audit events record it.
    pub fn audit_json(&self) -> Value {
        json!({
            "id": self.id, "sku": self.sku, "name": self.name, "desc": self.description,
            "unit_price": money::to_text(self.unit_price),
            "cost_price": money::to_text(self.cost_price),
            "tax_rate": money::to_text(self.tax_rate),
            "discount": money::to_text(self.discount),
            "vendor_id": self.vendor_id, "stock_level": self.stock_level,
            "barcode": self.barcode, "category": self.category, "branch": self.branch,
            "attributes": self.attributes, "is_active": self.is_active,
        })
    }

    /// The prices and rates that differ between `self` (before) and `after`.
    pub fn price_changes(&self, after: &ProductRow) -> Value {
        let mut changes = serde_json::Map::new();
        for (name, before, after) in [
            ("unit_price", self.unit_price, after.unit_price),
            ("cost_price", self.cost_price, after.cost_price),
            ("tax_rate", self.tax_rate, after.tax_rate),
            ("discount", self.discount, after.discount),
        ] {
            if before != after {
                changes.insert(
                    name.to_owned(),
                    json!({"before": money::to_text(before), "after": money::to_text(after)}),
                );
            }
        }
        Value::Object(changes)
    }
}

const COLUMNS: &str = "id, sku, name, description, unit_price, cost_price, tax_rate, discount, \
     vendor_id, stock_level, barcode, category, branch, attributes, is_active, created_at, updated_at";

pub async fn find(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ProductRow>, CatalogError> {
    Ok(sqlx::query_as::<_, ProductRow>(
        "select id, sku, name, description, unit_price, cost_price, tax_rate, discount, \
         vendor_id, stock_level, barcode, category, branch, attributes, is_active, created_at, updated_at \
         from catalog.products where id = $1",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// Locks one product row for the rest of the caller's transaction.
pub async fn lock(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ProductRow>, CatalogError> {
    Ok(sqlx::query_as::<_, ProductRow>(
        "select id, sku, name, description, unit_price, cost_price, tax_rate, discount, \
         vendor_id, stock_level, barcode, category, branch, attributes, is_active, created_at, updated_at \
         from catalog.products where id = $1 for update",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// Locks the products of `ids` in ascending id order (the one order every multi-product
/// transaction uses, so two of them never wait on each other in a cycle). Unknown ids are
/// simply absent from the answer.
pub async fn lock_many(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<ProductRow>, CatalogError> {
    Ok(sqlx::query_as::<_, ProductRow>(
        "select id, sku, name, description, unit_price, cost_price, tax_rate, discount, \
         vendor_id, stock_level, barcode, category, branch, attributes, is_active, created_at, updated_at \
         from catalog.products where id = any($1) order by id for update",
    )
    .bind(ids)
    .fetch_all(connection)
    .await?)
}

/// Inserts a product with no stock yet (the opening stock is a ledger entry).
pub async fn insert(
    connection: &mut PgConnection,
    id: Uuid,
    product: &NewProduct,
) -> Result<ProductRow, CatalogError> {
    Ok(sqlx::query_as::<_, ProductRow>(
        "insert into catalog.products (id, sku, name, description, unit_price, cost_price, \
           tax_rate, discount, vendor_id, barcode, category, branch, attributes, is_active) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         returning id, sku, name, description, unit_price, cost_price, tax_rate, discount, \
         vendor_id, stock_level, barcode, category, branch, attributes, is_active, created_at, updated_at",
    )
    .bind(id)
    .bind(&product.sku)
    .bind(&product.name)
    .bind(&product.description)
    .bind(product.unit_price)
    .bind(product.cost_price)
    .bind(product.tax_rate)
    .bind(product.discount)
    .bind(product.vendor_id)
    .bind(product.barcode.as_deref())
    .bind(&product.category)
    .bind(&product.branch)
    .bind(Value::Object(product.attributes.clone()))
    .bind(product.is_active)
    .fetch_one(connection)
    .await?)
}

/// Applies the present fields of `changes` (all but the stock level).
pub async fn update(
    connection: &mut PgConnection,
    id: Uuid,
    changes: &ProductChanges,
) -> Result<ProductRow, CatalogError> {
    Ok(sqlx::query_as::<_, ProductRow>(
        "update catalog.products set \
           sku = coalesce($2, sku), \
           name = coalesce($3, name), \
           description = coalesce($4, description), \
           unit_price = coalesce($5, unit_price), \
           cost_price = coalesce($6, cost_price), \
           tax_rate = coalesce($7, tax_rate), \
           discount = coalesce($8, discount), \
           vendor_id = case when $9 then $10 else vendor_id end, \
           barcode = case when $11 then $12 else barcode end, \
           category = coalesce($13, category), \
           branch = coalesce($14, branch), \
           attributes = coalesce($15, attributes), \
           is_active = coalesce($16, is_active) \
         where id = $1 \
         returning id, sku, name, description, unit_price, cost_price, tax_rate, discount, \
         vendor_id, stock_level, barcode, category, branch, attributes, is_active, created_at, updated_at",
    )
    .bind(id)
    .bind(changes.sku.as_deref())
    .bind(changes.name.as_deref())
    .bind(changes.description.as_deref())
    .bind(changes.unit_price)
    .bind(changes.cost_price)
    .bind(changes.tax_rate)
    .bind(changes.discount)
    .bind(changes.vendor_id.is_some())
    .bind(changes.vendor_id.flatten())
    .bind(changes.barcode.is_some())
    .bind(changes.barcode.clone().flatten())
    .bind(changes.category.as_deref())
    .bind(changes.branch.as_deref())
    .bind(changes.attributes.clone().map(Value::Object))
    .bind(changes.is_active)
    .fetch_one(connection)
    .await?)
}

/// A page of products, newest first, with the total matching count.
pub async fn list(
    connection: &mut PgConnection,
    filter: &ProductFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<ProductRow>, i64), CatalogError> {
    let filters = |builder: &mut QueryBuilder<Postgres>| {
        builder.push(" where true");
        if !filter.include_inactive {
            builder.push(" and is_active");
        }
        if let Some(category) = &filter.category {
            builder.push(" and category = ").push_bind(category.clone());
        }
        if let Some(barcode) = &filter.barcode {
            builder.push(" and barcode = ").push_bind(barcode.clone());
        }
        if let Some(sku) = &filter.sku {
            builder
                .push(" and lower(sku) = lower(")
                .push_bind(sku.clone())
                .push(")");
        }
        if let Some(search) = &filter.search {
            let pattern = super::contains_pattern(search);
            builder
                .push(" and (name ilike ")
                .push_bind(pattern.clone())
                .push(" or sku ilike ")
                .push_bind(pattern.clone())
                .push(" or barcode ilike ")
                .push_bind(pattern.clone())
                .push(" or category ilike ")
                .push_bind(pattern)
                .push(")");
        }
    };
    let total = if filter.search.is_none() && filter.barcode.is_none() && filter.sku.is_none() {
        // Kept per category by a trigger (migration 0006): a few rows, not every product.
        sqlx::query_scalar(
            "select coalesce(sum(products), 0)::bigint from catalog.product_counts \
             where (is_active or $1) and ($2::text is null or category = $2)",
        )
        .bind(filter.include_inactive)
        .bind(filter.category.as_deref())
        .fetch_one(&mut *connection)
        .await?
    } else {
        let mut count = QueryBuilder::<Postgres>::new("select count(*) from catalog.products");
        filters(&mut count);
        count
            .build_query_scalar()
            .fetch_one(&mut *connection)
            .await?
    };

    let mut page = QueryBuilder::<Postgres>::new(format!("select {COLUMNS} from catalog.products"));
    filters(&mut page);
    page.push(" order by created_at desc, id desc offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let products = page
        .build_query_as::<ProductRow>()
        .fetch_all(&mut *connection)
        .await?;
    Ok((products, total))
}

/// Active products, and those of them at or below `low_stock_threshold`.
pub async fn summary(
    connection: &mut PgConnection,
    low_stock_threshold: i64,
) -> Result<(i64, i64), CatalogError> {
    Ok(sqlx::query_as::<_, (i64, i64)>(
        "select count(*), count(*) filter (where stock_level <= $1) \
         from catalog.products where is_active",
    )
    .bind(low_stock_threshold)
    .fetch_one(connection)
    .await?)
}
