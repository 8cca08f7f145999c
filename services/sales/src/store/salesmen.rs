//! `sales.salesmen`.

use chrono::{DateTime, Utc};
use regal_db::contains_pattern;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{NewSalesman, SalesmanChanges, SalesmanFilter, money},
    error::SalesError,
};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SalesmanRow {
    pub id: Uuid,
    pub name: String,
    pub code: String,
    pub commission_rate: Decimal,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SalesmanRow {
    /// The salesman as audit events record them.
    pub fn audit_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "code": self.code,
            "commission_rate": money::to_text(self.commission_rate), "is_active": self.is_active,
        })
    }
}

const COLUMNS: &str = "id, name, code, commission_rate, is_active, created_at, updated_at";

pub async fn find(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<SalesmanRow>, SalesError> {
    Ok(sqlx::query_as::<_, SalesmanRow>(
        "select id, name, code, commission_rate, is_active, created_at, updated_at \
         from sales.salesmen where id = $1",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// Locks the salesman row for an update in the caller's transaction.
pub async fn lock(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<SalesmanRow>, SalesError> {
    Ok(sqlx::query_as::<_, SalesmanRow>(
        "select id, name, code, commission_rate, is_active, created_at, updated_at \
         from sales.salesmen where id = $1 for update",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// Inserts the salesman; a code already taken (by any salesman, archived ones too) is a
/// conflict through `salesmen_code_key`.
pub async fn insert(
    connection: &mut PgConnection,
    id: Uuid,
    salesman: &NewSalesman,
) -> Result<SalesmanRow, SalesError> {
    Ok(sqlx::query_as::<_, SalesmanRow>(
        "insert into sales.salesmen (id, name, code, commission_rate) \
         values ($1, $2, $3, $4) \
         returning id, name, code, commission_rate, is_active, created_at, updated_at",
    )
    .bind(id)
    .bind(&salesman.name)
    .bind(&salesman.code)
    .bind(salesman.commission_rate)
    .fetch_one(connection)
    .await?)
}

pub async fn update(
    connection: &mut PgConnection,
    id: Uuid,
    changes: &SalesmanChanges,
) -> Result<SalesmanRow, SalesError> {
    Ok(sqlx::query_as::<_, SalesmanRow>(
        "update sales.salesmen set \
           name = coalesce($2, name), \
           code = coalesce($3, code), \
           commission_rate = coalesce($4, commission_rate), \
           is_active = coalesce($5, is_active) \
         where id = $1 \
         returning id, name, code, commission_rate, is_active, created_at, updated_at",
    )
    .bind(id)
    .bind(changes.name.as_deref())
    .bind(changes.code.as_deref())
    .bind(changes.commission_rate)
    .bind(changes.is_active)
    .fetch_one(connection)
    .await?)
}

/// A page of salesmen, newest first, with the total matching count.
pub async fn list(
    connection: &mut PgConnection,
    filter: &SalesmanFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<SalesmanRow>, i64), SalesError> {
    super::newest_first(
        connection,
        COLUMNS,
        "sales.salesmen",
        |builder| {
            if !filter.include_inactive {
                builder.push(" and is_active");
            }
            if let Some(search) = &filter.search {
                let pattern = contains_pattern(search);
                builder
                    .push(" and (name ilike ")
                    .push_bind(pattern.clone())
                    .push(" or code ilike ")
                    .push_bind(pattern)
                    .push(")");
            }
        },
        offset,
        limit,
    )
    .await
}
