//! `sales.customers`.

use chrono::{DateTime, Utc};
use regal_db::contains_pattern;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{CustomerChanges, CustomerFilter, NewCustomer, money},
    error::SalesError,
};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CustomerRow {
    pub id: Uuid,
    pub name: String,
    pub contacts: Value,
    pub billing_addr: Value,
    pub shipping_addr: Value,
    pub credit_limit: Decimal,
    pub balance: Decimal,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CustomerRow {
    /// The customer as audit events record it.
    pub fn audit_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "contacts": self.contacts,
            "billing_addr": self.billing_addr, "shipping_addr": self.shipping_addr,
            "credit_limit": money::to_text(self.credit_limit),
            "balance": money::to_text(self.balance), "is_active": self.is_active,
        })
    }
}

const COLUMNS: &str = "id, name, contacts, billing_addr, shipping_addr, credit_limit, balance, \
                       is_active, created_at, updated_at";

pub async fn find(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<CustomerRow>, SalesError> {
    Ok(sqlx::query_as::<_, CustomerRow>(
        "select id, name, contacts, billing_addr, shipping_addr, credit_limit, balance, \
                is_active, created_at, updated_at \
         from sales.customers where id = $1",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// The latest customers created, archived ones too (the dashboard shows activity).
pub async fn latest(
    connection: &mut PgConnection,
    limit: i64,
) -> Result<Vec<CustomerRow>, SalesError> {
    Ok(sqlx::query_as::<_, CustomerRow>(
        "select id, name, contacts, billing_addr, shipping_addr, credit_limit, balance, \
                is_active, created_at, updated_at \
         from sales.customers order by created_at desc, id desc limit $1",
    )
    .bind(limit)
    .fetch_all(connection)
    .await?)
}

/// Locks the customer row for an update in the caller's transaction.
pub async fn lock(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<CustomerRow>, SalesError> {
    Ok(sqlx::query_as::<_, CustomerRow>(
        "select id, name, contacts, billing_addr, shipping_addr, credit_limit, balance, \
                is_active, created_at, updated_at \
         from sales.customers where id = $1 for update",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// `Ok` when `id` names an active customer, the reason otherwise. Takes a key-share lock,
/// so the customer cannot be archived before the caller's transaction commits.
pub async fn check_usable(connection: &mut PgConnection, id: Uuid) -> Result<(), SalesError> {
    let active: Option<bool> =
        sqlx::query_scalar("select is_active from sales.customers where id = $1 for key share")
            .bind(id)
            .fetch_optional(connection)
            .await?;
    match active {
        Some(true) => Ok(()),
        Some(false) => Err(SalesError::Conflict("Customer is archived".to_owned())),
        None => Err(SalesError::not_found("Customer")),
    }
}

pub async fn insert(
    connection: &mut PgConnection,
    id: Uuid,
    customer: &NewCustomer,
) -> Result<CustomerRow, SalesError> {
    Ok(sqlx::query_as::<_, CustomerRow>(
        "insert into sales.customers \
           (id, name, contacts, billing_addr, shipping_addr, credit_limit, balance) \
         values ($1, $2, $3, $4, $5, $6, $7) \
         returning id, name, contacts, billing_addr, shipping_addr, credit_limit, balance, \
                   is_active, created_at, updated_at",
    )
    .bind(id)
    .bind(&customer.name)
    .bind(Value::Object(customer.contacts.clone()))
    .bind(Value::Object(customer.billing_addr.clone()))
    .bind(Value::Object(customer.shipping_addr.clone()))
    .bind(customer.credit_limit)
    .bind(customer.balance)
    .fetch_one(connection)
    .await?)
}

pub async fn update(
    connection: &mut PgConnection,
    id: Uuid,
    changes: &CustomerChanges,
) -> Result<CustomerRow, SalesError> {
    Ok(sqlx::query_as::<_, CustomerRow>(
        "update sales.customers set \
           name = coalesce($2, name), \
           contacts = coalesce($3, contacts), \
           billing_addr = coalesce($4, billing_addr), \
           shipping_addr = coalesce($5, shipping_addr), \
           credit_limit = coalesce($6, credit_limit), \
           balance = coalesce($7, balance), \
           is_active = coalesce($8, is_active) \
         where id = $1 \
         returning id, name, contacts, billing_addr, shipping_addr, credit_limit, balance, \
                   is_active, created_at, updated_at",
    )
    .bind(id)
    .bind(changes.name.as_deref())
    .bind(changes.contacts.clone().map(Value::Object))
    .bind(changes.billing_addr.clone().map(Value::Object))
    .bind(changes.shipping_addr.clone().map(Value::Object))
    .bind(changes.credit_limit)
    .bind(changes.balance)
    .bind(changes.is_active)
    .fetch_one(connection)
    .await?)
}

/// A page of customers, newest first, with the total matching count. The search looks at
/// the name and at the `phone` and `email` of the contacts.
pub async fn list(
    connection: &mut PgConnection,
    filter: &CustomerFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<CustomerRow>, i64), SalesError> {
    super::newest_first(
        connection,
        COLUMNS,
        "sales.customers",
        |builder| {
            if !filter.include_inactive {
                builder.push(" and is_active");
            }
            if let Some(search) = &filter.search {
                let pattern = contains_pattern(search);
                builder
                    .push(" and (name ilike ")
                    .push_bind(pattern.clone())
                    .push(" or contacts->>'phone' ilike ")
                    .push_bind(pattern.clone())
                    .push(" or contacts->>'email' ilike ")
                    .push_bind(pattern)
                    .push(")");
            }
        },
        offset,
        limit,
    )
    .await
}
