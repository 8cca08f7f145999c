//! `auth.sessions` (refresh-token families) and `auth.refresh_tokens` (hashes only).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::AuthError;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshTokenRow {
    pub session_id: Uuid,
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub spent_at: Option<DateTime<Utc>>,
    pub user_id: Uuid,
    pub session_revoked_at: Option<DateTime<Utc>>,
}

pub async fn create_session(
    connection: &mut PgConnection,
    session_id: Uuid,
    user_id: Uuid,
    client_addr: Option<&str>,
) -> Result<(), AuthError> {
    sqlx::query("insert into auth.sessions (id, user_id, client_addr) values ($1, $2, $3)")
        .bind(session_id)
        .bind(user_id)
        .bind(client_addr)
        .execute(connection)
        .await?;
    Ok(())
}

pub async fn insert_refresh_token(
    connection: &mut PgConnection,
    token_id: Uuid,
    session_id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<(), AuthError> {
    sqlx::query(
        "insert into auth.refresh_tokens (id, session_id, token_hash, expires_at) values ($1, $2, $3, $4)",
    )
    .bind(token_id)
    .bind(session_id)
    .bind(token_hash)
    .bind(expires_at)
    .execute(connection)
    .await?;
    Ok(())
}

/// The refresh token and its session, both locked for the caller's transaction, so two
/// concurrent refreshes with the same token cannot both succeed.
pub async fn lock_refresh_token(
    connection: &mut PgConnection,
    token_id: Uuid,
) -> Result<Option<RefreshTokenRow>, AuthError> {
    Ok(sqlx::query_as::<_, RefreshTokenRow>(
        "select t.session_id, t.token_hash, t.expires_at, t.spent_at, \
                s.user_id, s.revoked_at as session_revoked_at \
         from auth.refresh_tokens t join auth.sessions s on s.id = t.session_id \
         where t.id = $1 for update of t, s",
    )
    .bind(token_id)
    .fetch_optional(connection)
    .await?)
}

pub async fn spend_refresh_token(
    connection: &mut PgConnection,
    token_id: Uuid,
) -> Result<(), AuthError> {
    sqlx::query("update auth.refresh_tokens set spent_at = now() where id = $1")
        .bind(token_id)
        .execute(connection)
        .await?;
    Ok(())
}

/// Revokes one session; answers whether it was still active.
pub async fn revoke_session(
    connection: &mut PgConnection,
    session_id: Uuid,
    reason: &str,
) -> Result<bool, AuthError> {
    let revoked = sqlx::query(
        "update auth.sessions set revoked_at = now(), revoked_reason = $2 \
         where id = $1 and revoked_at is null",
    )
    .bind(session_id)
    .bind(reason)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(revoked > 0)
}

/// Revokes every active session of a user; returns their ids.
pub async fn revoke_user_sessions(
    connection: &mut PgConnection,
    user_id: Uuid,
    reason: &str,
) -> Result<Vec<Uuid>, AuthError> {
    Ok(sqlx::query_scalar(
        "update auth.sessions set revoked_at = now(), revoked_reason = $2 \
         where user_id = $1 and revoked_at is null returning id",
    )
    .bind(user_id)
    .bind(reason)
    .fetch_all(connection)
    .await?)
}

pub async fn session_owner(
    connection: &mut PgConnection,
    session_id: Uuid,
) -> Result<Option<Uuid>, AuthError> {
    Ok(
        sqlx::query_scalar("select user_id from auth.sessions where id = $1")
            .bind(session_id)
            .fetch_optional(connection)
            .await?,
    )
}
