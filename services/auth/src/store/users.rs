//! `auth.users`.

use chrono::{DateTime, Utc};
use regal_authz::Role;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::{
    domain::{NewUser, UserChanges},
    error::AuthError,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub full_name: String,
    pub email: String,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserRow {
    pub fn role(&self) -> Result<Role, AuthError> {
        self.role.parse().map_err(|error: String| {
            AuthError::from(anyhow::anyhow!("stored role is invalid: {error}"))
        })
    }

    /// The user as other records and audit events see it (never the hash).
    pub fn public_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "full_name": self.full_name, "email": self.email,
            "username": self.username, "role": self.role, "is_active": self.is_active,
        })
    }
}

const COLUMNS: &str =
    "id, full_name, email, username, password_hash, role, is_active, created_at, updated_at";

pub async fn find_by_id(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<UserRow>, AuthError> {
    Ok(sqlx::query_as::<_, UserRow>(
        "select id, full_name, email, username, password_hash, role, is_active, created_at, updated_at \
         from auth.users where id = $1",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

/// Locks the user row for an update in the caller's transaction.
pub async fn find_by_id_for_update(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<UserRow>, AuthError> {
    Ok(sqlx::query_as::<_, UserRow>(
        "select id, full_name, email, username, password_hash, role, is_active, created_at, updated_at \
         from auth.users where id = $1 for update",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?)
}

pub async fn find_by_username(
    connection: &mut PgConnection,
    username: &str,
) -> Result<Option<UserRow>, AuthError> {
    Ok(sqlx::query_as::<_, UserRow>(
        "select id, full_name, email, username, password_hash, role, is_active, created_at, updated_at \
         from auth.users where lower(username) = lower($1)",
    )
    .bind(username)
    .fetch_optional(connection)
    .await?)
}

pub async fn insert(
    connection: &mut PgConnection,
    id: Uuid,
    user: &NewUser,
    password_hash: &str,
) -> Result<UserRow, AuthError> {
    Ok(sqlx::query_as::<_, UserRow>(
        "insert into auth.users (id, full_name, email, username, password_hash, role, is_active) \
         values ($1, $2, $3, $4, $5, $6, $7) \
         returning id, full_name, email, username, password_hash, role, is_active, created_at, updated_at",
    )
    .bind(id)
    .bind(user.full_name.as_str())
    .bind(user.email.as_str())
    .bind(user.username.as_str())
    .bind(password_hash)
    .bind(user.role.as_str())
    .bind(user.is_active)
    .fetch_one(connection)
    .await?)
}

/// Applies the present fields of `changes` (the password as its new hash).
pub async fn update(
    connection: &mut PgConnection,
    id: Uuid,
    changes: &UserChanges,
    password_hash: Option<&str>,
) -> Result<UserRow, AuthError> {
    Ok(sqlx::query_as::<_, UserRow>(
        "update auth.users set \
           full_name = coalesce($2, full_name), \
           email = coalesce($3, email), \
           username = coalesce($4, username), \
           password_hash = coalesce($5, password_hash), \
           role = coalesce($6, role), \
           is_active = coalesce($7, is_active) \
         where id = $1 \
         returning id, full_name, email, username, password_hash, role, is_active, created_at, updated_at",
    )
    .bind(id)
    .bind(changes.full_name.as_ref().map(|name| name.as_str()))
    .bind(changes.email.as_ref().map(|email| email.as_str()))
    .bind(changes.username.as_ref().map(|username| username.as_str()))
    .bind(password_hash)
    .bind(changes.role.map(Role::as_str))
    .bind(changes.is_active)
    .fetch_one(connection)
    .await?)
}

/// How many active admins there are besides `excluded`.
pub async fn count_other_active_admins(
    connection: &mut PgConnection,
    excluded: Uuid,
) -> Result<i64, AuthError> {
    Ok(sqlx::query_scalar(
        "select count(*) from auth.users where role = 'admin' and is_active and id <> $1",
    )
    .bind(excluded)
    .fetch_one(connection)
    .await?)
}

/// A page of users, newest first, with the total matching count.
pub async fn list(
    connection: &mut PgConnection,
    search: Option<&str>,
    include_inactive: bool,
    offset: i64,
    limit: i64,
) -> Result<(Vec<UserRow>, i64), AuthError> {
    let filters = |builder: &mut QueryBuilder<Postgres>| {
        builder.push(" where true");
        if !include_inactive {
            builder.push(" and is_active");
        }
        if let Some(search) = search {
            let pattern = format!(
                "%{}%",
                search
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            builder
                .push(" and (username ilike ")
                .push_bind(pattern.clone())
                .push(" or full_name ilike ")
                .push_bind(pattern.clone())
                .push(" or email ilike ")
                .push_bind(pattern)
                .push(")");
        }
    };
    let mut count = QueryBuilder::<Postgres>::new("select count(*) from auth.users");
    filters(&mut count);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *connection)
        .await?;

    let mut page = QueryBuilder::<Postgres>::new(format!("select {COLUMNS} from auth.users"));
    filters(&mut page);
    page.push(" order by created_at desc, id desc offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let users = page
        .build_query_as::<UserRow>()
        .fetch_all(&mut *connection)
        .await?;
    Ok((users, total))
}
