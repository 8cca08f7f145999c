//! Revoked access tokens, kept in Redis until they would have expired anyway.
//!
//! Two kinds of entry: one access token (`jti`, written at logout) and one session
//! (`sid`, the refresh-token family; written when a session ends by logout, refresh-token
//! reuse, deactivation or a password change). The auth service writes them; the gateway
//! reads both for every authenticated request in one round trip.

use std::time::Duration;

use redis::{AsyncCommands, aio::ConnectionManager};

use crate::Principal;

pub fn access_token_key(prefix: &str, token_id: &str) -> String {
    format!("{prefix}revoked:token:{token_id}")
}

pub fn session_key(prefix: &str, session_id: &str) -> String {
    format!("{prefix}revoked:session:{session_id}")
}

/// Whether the caller's token or session has been revoked.
pub async fn is_revoked(
    redis: &mut ConnectionManager,
    prefix: &str,
    principal: &Principal,
) -> redis::RedisResult<bool> {
    let mut keys = vec![access_token_key(prefix, &principal.token_id)];
    if let Some(session_id) = principal.session_id {
        keys.push(session_key(prefix, &session_id.to_string()));
    }
    let found: Vec<Option<String>> = redis.mget(keys).await?;
    Ok(found.iter().any(Option::is_some))
}

/// Revokes one access token for `lifetime` (the rest of its life).
pub async fn revoke_access_token(
    redis: &mut ConnectionManager,
    prefix: &str,
    token_id: &str,
    lifetime: Duration,
) -> redis::RedisResult<()> {
    let seconds = lifetime.as_secs().max(1);
    redis
        .set_ex(access_token_key(prefix, token_id), "1", seconds)
        .await
}

/// Revokes every access token of the given sessions for `lifetime` (the access-token
/// lifetime: no token of theirs can outlive it).
pub async fn revoke_sessions(
    redis: &mut ConnectionManager,
    prefix: &str,
    session_ids: &[String],
    lifetime: Duration,
) -> redis::RedisResult<()> {
    if session_ids.is_empty() {
        return Ok(());
    }
    let seconds = lifetime.as_secs().max(1);
    let mut pipeline = redis::pipe();
    for session_id in session_ids {
        pipeline
            .set_ex(session_key(prefix, session_id), "1", seconds)
            .ignore();
    }
    pipeline.query_async(redis).await
}
