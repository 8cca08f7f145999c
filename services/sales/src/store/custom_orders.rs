//! `sales.custom_orders`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{CustomOrderChanges, CustomOrderFilter, CustomOrderStatus, NewCustomOrder},
    error::SalesError,
};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CustomOrderRow {
    pub id: Uuid,
    pub customer_id: Option<Uuid>,
    pub fields: Value,
    pub status: String,
    pub linked_invoice: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CustomOrderRow {
    /// The stored status (the schema's check keeps it one of the four).
    pub fn status(&self) -> Result<CustomOrderStatus, SalesError> {
        CustomOrderStatus::from_stored(&self.status).ok_or_else(|| {
            SalesError::from(anyhow::anyhow!(
                "custom order {} has an unknown status {:?}",
                self.id,
                self.status
            ))
        })
    }

    /// The order as audit events record it.
    pub fn audit_json(&self) -> Value {
        json!({
            "id": self.id, "customer_id": self.customer_id, "fields": self.fields,
            "status": self.status, "linked_invoice": self.linked_invoice,
        })
    }
}

const COLUMNS: &str = "id, customer_id, fields, status, linked_invoice, created_at, updated_at";

pub async fn find(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<CustomOrderRow>, SalesError> {
    Ok(sqlx::query_as::<_, CustomOrderRow>(
        "select id, customer_id, fields, status, linked_invoice, created_at, updated_at \
         from sales.custom_orders where id = $1",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// Locks the order row for an update in the caller's transaction.
pub async fn lock(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<CustomOrderRow>, SalesError> {
    Ok(sqlx::query_as::<_, CustomOrderRow>(
        "select id, customer_id, fields, status, linked_invoice, created_at, updated_at \
         from sales.custom_orders where id = $1 for update",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// Inserts the order; an unknown invoice is NOT_FOUND through
/// `custom_orders_linked_invoice_fkey`.
pub async fn insert(
    connection: &mut PgConnection,
    id: Uuid,
    order: &NewCustomOrder,
) -> Result<CustomOrderRow, SalesError> {
    Ok(sqlx::query_as::<_, CustomOrderRow>(
        "insert into sales.custom_orders (id, customer_id, fields, status, linked_invoice) \
         values ($1, $2, $3, $4, $5) \
         returning id, customer_id, fields, status, linked_invoice, created_at, updated_at",
    )
    .bind(id)
    .bind(order.customer_id)
    .bind(Value::Object(order.fields.clone()))
    .bind(order.status.as_str())
    .bind(order.linked_invoice)
    .fetch_one(connection)
    .await?)
}

pub async fn update(
    connection: &mut PgConnection,
    id: Uuid,
    changes: &CustomOrderChanges,
) -> Result<CustomOrderRow, SalesError> {
    Ok(sqlx::query_as::<_, CustomOrderRow>(
        "update sales.custom_orders set \
           customer_id = case when $2 then $3 else customer_id end, \
           fields = coalesce($4, fields), \
           status = coalesce($5, status), \
           linked_invoice = case when $6 then $7 else linked_invoice end \
         where id = $1 \
         returning id, customer_id, fields, status, linked_invoice, created_at, updated_at",
    )
    .bind(id)
    .bind(changes.customer_id.is_some())
    .bind(changes.customer_id.flatten())
    .bind(changes.fields.clone().map(Value::Object))
    .bind(changes.status.map(CustomOrderStatus::as_str))
    .bind(changes.linked_invoice.is_some())
    .bind(changes.linked_invoice.flatten())
    .fetch_one(connection)
    .await?)
}

/// Erases the order; the erased row, or `None` when there was none.
pub async fn delete(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<CustomOrderRow>, SalesError> {
    Ok(sqlx::query_as::<_, CustomOrderRow>(
        "delete from sales.custom_orders where id = $1 \
         returning id, customer_id, fields, status, linked_invoice, created_at, updated_at",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// A page of orders, newest first, with the total matching count.
pub async fn list(
    connection: &mut PgConnection,
    filter: &CustomOrderFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<CustomOrderRow>, i64), SalesError> {
    super::newest_first(
        connection,
        COLUMNS,
        "sales.custom_orders",
        |builder| {
            if let Some(status) = filter.status {
                builder.push(" and status = ").push_bind(status.as_str());
            }
            if let Some(customer_id) = filter.customer_id {
                builder.push(" and customer_id = ").push_bind(customer_id);
            }
        },
        offset,
        limit,
    )
    .await
}
