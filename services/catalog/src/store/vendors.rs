//! `catalog.vendors`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::{
    domain::{NewVendor, VendorChanges, money},
    error::CatalogError,
};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct VendorRow {
    pub id: Uuid,
    pub name: String,
    pub contacts: Value,
    pub terms: Value,
    pub balance: Decimal,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl VendorRow {
    /// The vendor as audit events record it.
    pub fn audit_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "contacts": self.contacts, "terms": self.terms,
            "balance": money::to_text(self.balance), "is_active": self.is_active,
        })
    }
}

const COLUMNS: &str = "id, name, contacts, terms, balance, is_active, created_at, updated_at";

pub async fn find(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<VendorRow>, CatalogError> {
    Ok(sqlx::query_as::<_, VendorRow>(
        "select id, name, contacts, terms, balance, is_active, created_at, updated_at \
         from catalog.vendors where id = $1",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// Locks the vendor row for an update in the caller's transaction.
pub async fn lock(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<VendorRow>, CatalogError> {
    Ok(sqlx::query_as::<_, VendorRow>(
        "select id, name, contacts, terms, balance, is_active, created_at, updated_at \
         from catalog.vendors where id = $1 for update",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// Whether `id` names an active vendor: `Ok` if so, the reason otherwise. Takes a key-share
/// lock so the vendor cannot be archived before the caller's transaction commits.
pub async fn check_usable(connection: &mut PgConnection, id: Uuid) -> Result<(), CatalogError> {
    let active: Option<bool> =
        sqlx::query_scalar("select is_active from catalog.vendors where id = $1 for key share")
            .bind(id)
            .fetch_optional(connection)
            .await?;
    match active {
        Some(true) => Ok(()),
        Some(false) => Err(CatalogError::VendorArchived),
        None => Err(CatalogError::VendorNotFound),
    }
}

pub async fn insert(
    connection: &mut PgConnection,
    id: Uuid,
    vendor: &NewVendor,
) -> Result<VendorRow, CatalogError> {
    Ok(sqlx::query_as::<_, VendorRow>(
        "insert into catalog.vendors (id, name, contacts, terms, balance) \
         values ($1, $2, $3, $4, $5) \
         returning id, name, contacts, terms, balance, is_active, created_at, updated_at",
    )
    .bind(id)
    .bind(&vendor.name)
    .bind(Value::Object(vendor.contacts.clone()))
    .bind(Value::Object(vendor.terms.clone()))
    .bind(vendor.balance)
    .fetch_one(connection)
    .await?)
}

pub async fn update(
    connection: &mut PgConnection,
    id: Uuid,
    changes: &VendorChanges,
) -> Result<VendorRow, CatalogError> {
    Ok(sqlx::query_as::<_, VendorRow>(
        "update catalog.vendors set \
           name = coalesce($2, name), \
           contacts = coalesce($3, contacts), \
           terms = coalesce($4, terms), \
           balance = coalesce($5, balance), \
           is_active = coalesce($6, is_active) \
         where id = $1 \
         returning id, name, contacts, terms, balance, is_active, created_at, updated_at",
    )
    .bind(id)
    .bind(changes.name.as_deref())
    .bind(changes.contacts.clone().map(Value::Object))
    .bind(changes.terms.clone().map(Value::Object))
    .bind(changes.balance)
    .bind(changes.is_active)
    .fetch_one(connection)
    .await?)
}

/// A page of vendors, newest first, with the total matching count.
pub async fn list(
    connection: &mut PgConnection,
    search: Option<&str>,
    include_inactive: bool,
    offset: i64,
    limit: i64,
) -> Result<(Vec<VendorRow>, i64), CatalogError> {
    let filters = |builder: &mut QueryBuilder<Postgres>| {
        builder.push(" where true");
        if !include_inactive {
            builder.push(" and is_active");
        }
        if let Some(search) = search {
            builder
                .push(" and name ilike ")
                .push_bind(super::contains_pattern(search));
        }
    };
    let mut count = QueryBuilder::<Postgres>::new("select count(*) from catalog.vendors");
    filters(&mut count);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *connection)
        .await?;
    let mut page = QueryBuilder::<Postgres>::new(format!("select {COLUMNS} from catalog.vendors"));
    filters(&mut page);
    page.push(" order by created_at desc, id desc offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let vendors = page
        .build_query_as::<VendorRow>()
        .fetch_all(&mut *connection)
        .await?;
    Ok((vendors, total))
}
