//! The auth use cases: sign in, refresh, sign out, and user management. Each owns its
//! transaction and writes its audit event through the outbox inside it.

use std::sync::Arc;

use chrono::{Duration as ChronoDuration, Utc};
use redis::aio::ConnectionManager;
use regal_authz::{Principal, Role, TokenCodec, revocation};
use regal_config::Settings;
use regal_outbox::{EventContext, NewEvent, Outbox};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use tokio::sync::{OnceCell, Semaphore};
use uuid::Uuid;

use crate::{
    domain::{NewUser, UserChanges},
    error::AuthError,
    passwords,
    rate_limit::LoginLimiter,
    store::{
        sessions,
        users::{self, UserRow},
    },
};

/// A signed-in session's tokens.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// The claims of a refresh token (signed with `REFRESH_TOKEN_SECRET_KEY`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RefreshClaims {
    sub: String,
    jti: String,
    sid: String,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
}

/// Where a call comes from, for the rate limiter and the audit log.
pub struct Caller<'a> {
    pub context: EventContext,
    pub principal: Option<&'a Principal>,
}

#[derive(Clone)]
pub struct Accounts {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    outbox: Outbox,
    access_tokens: TokenCodec,
    refresh_tokens: TokenCodec,
    redis: ConnectionManager,
    redis_prefix: String,
    limiter: LoginLimiter,
    /// Verified against when the username is unknown, so both failures take as long.
    decoy_hash: OnceCell<String>,
    /// Logins in progress at once. Their throughput is bound by argon2 (one hash per core
    /// at a time) anyway; the rest wait here rather than holding pooled connections that
    /// other requests need.
    login_permits: Semaphore,
}

impl Accounts {
    pub fn new(
        settings: &Settings,
        pool: PgPool,
        outbox: Outbox,
        redis: ConnectionManager,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                outbox,
                access_tokens: TokenCodec::access(&settings.tokens),
                refresh_tokens: TokenCodec::refresh(&settings.tokens),
                limiter: LoginLimiter::new(
                    redis.clone(),
                    &settings.redis.key_prefix,
                    settings.login.clone(),
                ),
                redis,
                redis_prefix: settings.redis.key_prefix.clone(),
                decoy_hash: OnceCell::new(),
                login_permits: Semaphore::new(
                    2 * std::thread::available_parallelism()
                        .map(usize::from)
                        .unwrap_or(2),
                ),
            }),
        }
    }

    async fn record(
        &self,
        transaction: &mut PgConnection,
        context: &EventContext,
        event: NewEvent<'_>,
    ) -> Result<(), AuthError> {
        self.inner
            .outbox
            .record(transaction, context, event)
            .await?;
        Ok(())
    }

    // ----- sessions -------------------------------------------------------------------

    /// Signs a user in. Unknown user, wrong password and inactive user all fail the same
    /// way, after the same argon2 work.
    pub async fn login(
        &self,
        caller: &Caller<'_>,
        username: &str,
        password: &str,
    ) -> Result<IssuedTokens, AuthError> {
        let _permit = self
            .inner
            .login_permits
            .acquire()
            .await
            .map_err(|error| AuthError::from(anyhow::Error::from(error)))?;
        let address = caller.context.client_addr.as_deref();
        if let Err(retry_after) = self.inner.limiter.check(username, address).await {
            metrics::counter!("auth_login_rate_limited_total").increment(1);
            return Err(AuthError::TooManyAttempts { retry_after });
        }

        let mut connection = self.inner.pool.acquire().await.map_err(AuthError::from)?;
        let user = users::find_by_username(&mut connection, username).await?;
        drop(connection);
        let stored_hash = match &user {
            Some(user) => user.password_hash.clone(),
            None => self.decoy_hash().await?,
        };
        let password_matches = passwords::verify(password.to_owned(), stored_hash).await?;

        let user = match user {
            Some(user) if password_matches && user.is_active => user,
            unknown_or_refused => {
                metrics::counter!("auth_login_failures_total").increment(1);
                self.inner.limiter.record_failure(username, address).await;
                let entity_id = unknown_or_refused
                    .as_ref()
                    .map(|user| user.id.to_string())
                    .unwrap_or_else(|| username.chars().take(100).collect());
                let mut transaction = self.inner.pool.begin().await?;
                self.record(
                    &mut transaction,
                    &caller.context,
                    NewEvent {
                        entity: "user",
                        entity_id,
                        action: "login_failed",
                        changes: json!({"username": username.chars().take(100).collect::<String>()}),
                    },
                )
                .await?;
                transaction.commit().await?;
                return Err(AuthError::InvalidCredentials);
            }
        };

        let session_id = Uuid::now_v7();
        let mut transaction = self.inner.pool.begin().await?;
        sessions::create_session(&mut transaction, session_id, user.id, address).await?;
        let tokens = self
            .issue_tokens(&mut transaction, &user, session_id)
            .await?;
        let context = EventContext {
            actor_id: Some(user.id),
            actor_role: Some(user.role.clone()),
            ..caller.context.clone()
        };
        self.record(
            &mut transaction,
            &context,
            NewEvent {
                entity: "user",
                entity_id: user.id.to_string(),
                action: "login",
                changes: json!({"session_id": session_id}),
            },
        )
        .await?;
        transaction.commit().await?;
        self.inner.limiter.clear_username(username).await;
        Ok(tokens)
    }

    async fn decoy_hash(&self) -> Result<String, AuthError> {
        let hash = self
            .inner
            .decoy_hash
            .get_or_try_init(|| passwords::hash(Uuid::new_v4().to_string()))
            .await?;
        Ok(hash.clone())
    }

    /// Issues an access token and a new refresh token of `session_id`, recording the
    /// refresh token's hash in the caller's transaction.
    async fn issue_tokens(
        &self,
        transaction: &mut PgConnection,
        user: &UserRow,
        session_id: Uuid,
    ) -> Result<IssuedTokens, AuthError> {
        let role = user.role()?;
        let (access_token, _) = self
            .inner
            .access_tokens
            .issue_access_for_session(user.id, &user.username, role, Some(session_id))
            .map_err(|error| anyhow::anyhow!("signing an access token failed: {error}"))?;
        let now = Utc::now();
        let expires_at = now
            + ChronoDuration::from_std(self.inner.refresh_tokens.ttl())
                .map_err(anyhow::Error::from)?;
        let token_id = Uuid::now_v7();
        let claims = RefreshClaims {
            sub: user.id.to_string(),
            jti: token_id.to_string(),
            sid: session_id.to_string(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            iss: self.inner.refresh_tokens.issuer().to_owned(),
            aud: self.inner.refresh_tokens.audience().to_owned(),
        };
        let refresh_token = self
            .inner
            .refresh_tokens
            .sign(&claims)
            .map_err(|error| anyhow::anyhow!("signing a refresh token failed: {error}"))?;
        sessions::insert_refresh_token(
            transaction,
            token_id,
            session_id,
            &token_hash(&refresh_token),
            expires_at,
        )
        .await?;
        Ok(IssuedTokens {
            access_token,
            refresh_token,
            expires_in: self.inner.access_tokens.ttl().as_secs() as i64,
        })
    }

    /// Spends a refresh token for a new pair. A token spent before revokes its session.
    pub async fn refresh(
        &self,
        caller: &Caller<'_>,
        refresh_token: &str,
    ) -> Result<IssuedTokens, AuthError> {
        let claims: RefreshClaims = self
            .inner
            .refresh_tokens
            .verify(refresh_token)
            .map_err(|_| AuthError::InvalidRefreshToken)?;
        let token_id = Uuid::parse_str(&claims.jti).map_err(|_| AuthError::InvalidRefreshToken)?;

        let mut transaction = self.inner.pool.begin().await?;
        let Some(stored) = sessions::lock_refresh_token(&mut transaction, token_id).await? else {
            return Err(AuthError::InvalidRefreshToken);
        };
        if stored.token_hash != token_hash(refresh_token) || stored.session_revoked_at.is_some() {
            return Err(AuthError::InvalidRefreshToken);
        }
        if stored.spent_at.is_some() {
            sessions::revoke_session(&mut transaction, stored.session_id, "refresh_token_reuse")
                .await?;
            self.record(
                &mut transaction,
                &EventContext {
                    actor_id: Some(stored.user_id),
                    ..caller.context.clone()
                },
                NewEvent {
                    entity: "session",
                    entity_id: stored.session_id.to_string(),
                    action: "refresh_reuse_detected",
                    changes: json!({"user_id": stored.user_id, "refresh_token_id": token_id}),
                },
            )
            .await?;
            transaction.commit().await?;
            self.revoke_sessions_in_redis(&[stored.session_id]).await;
            tracing::warn!(session_id = %stored.session_id, "refresh token reuse detected; session revoked");
            return Err(AuthError::RefreshTokenReused);
        }
        if stored.expires_at <= Utc::now() {
            return Err(AuthError::InvalidRefreshToken);
        }
        let user = users::find_by_id(&mut transaction, stored.user_id).await?;
        let Some(user) = user.filter(|user| user.is_active) else {
            sessions::revoke_session(&mut transaction, stored.session_id, "user_inactive").await?;
            transaction.commit().await?;
            return Err(AuthError::InvalidRefreshToken);
        };
        sessions::spend_refresh_token(&mut transaction, token_id).await?;
        let tokens = self
            .issue_tokens(&mut transaction, &user, stored.session_id)
            .await?;
        transaction.commit().await?;
        Ok(tokens)
    }

    /// Ends the caller's session: the session (refresh family) is revoked in Postgres, and
    /// the access token and session are denylisted in Redis until they would expire.
    pub async fn logout(
        &self,
        caller: &Caller<'_>,
        refresh_token: Option<&str>,
    ) -> Result<(), AuthError> {
        let principal = caller.principal.ok_or(AuthError::InvalidCredentials)?;
        let named_session = refresh_token
            .and_then(|token| {
                self.inner
                    .refresh_tokens
                    .verify::<RefreshClaims>(token)
                    .ok()
            })
            .filter(|claims| claims.sub == principal.user_id.to_string())
            .and_then(|claims| Uuid::parse_str(&claims.sid).ok());

        let mut transaction = self.inner.pool.begin().await?;
        let mut ended = Vec::new();
        for session_id in [principal.session_id, named_session].into_iter().flatten() {
            if ended.contains(&session_id) {
                continue;
            }
            if sessions::session_owner(&mut transaction, session_id).await?
                == Some(principal.user_id)
            {
                sessions::revoke_session(&mut transaction, session_id, "logout").await?;
                ended.push(session_id);
            }
        }
        self.record(
            &mut transaction,
            &caller.context,
            NewEvent {
                entity: "user",
                entity_id: principal.user_id.to_string(),
                action: "logout",
                changes: json!({"sessions": ended}),
            },
        )
        .await?;
        transaction.commit().await?;

        let remaining = (principal.expires_at - Utc::now().timestamp()).max(1) as u64;
        let mut redis = self.inner.redis.clone();
        if let Err(error) = revocation::revoke_access_token(
            &mut redis,
            &self.inner.redis_prefix,
            &principal.token_id,
            std::time::Duration::from_secs(remaining),
        )
        .await
        {
            tracing::error!(error = %error, "could not denylist the access token; it stays valid until it expires");
        }
        self.revoke_sessions_in_redis(&ended).await;
        Ok(())
    }

    async fn revoke_sessions_in_redis(&self, session_ids: &[Uuid]) {
        let ids: Vec<String> = session_ids.iter().map(Uuid::to_string).collect();
        let mut redis = self.inner.redis.clone();
        if let Err(error) = revocation::revoke_sessions(
            &mut redis,
            &self.inner.redis_prefix,
            &ids,
            self.inner.access_tokens.ttl()
                + std::time::Duration::from_secs(regal_authz::LEEWAY_SECONDS),
        )
        .await
        {
            tracing::error!(error = %error, "could not denylist ended sessions; their access tokens stay valid until they expire");
        }
    }

    // ----- users ----------------------------------------------------------------------

    pub async fn me(&self, principal: &Principal) -> Result<UserRow, AuthError> {
        let mut connection = self.inner.pool.acquire().await.map_err(AuthError::from)?;
        users::find_by_id(&mut connection, principal.user_id)
            .await?
            .filter(|user| user.is_active)
            .ok_or(AuthError::InvalidCredentials)
    }

    pub async fn get_user(&self, id: Uuid) -> Result<UserRow, AuthError> {
        let mut connection = self.inner.pool.acquire().await.map_err(AuthError::from)?;
        users::find_by_id(&mut connection, id)
            .await?
            .ok_or(AuthError::UserNotFound)
    }

    pub async fn list_users(
        &self,
        search: Option<&str>,
        include_inactive: bool,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<UserRow>, i64), AuthError> {
        let mut connection = self.inner.pool.acquire().await.map_err(AuthError::from)?;
        users::list(&mut connection, search, include_inactive, offset, limit).await
    }

    pub async fn create_user(
        &self,
        caller: &Caller<'_>,
        new_user: NewUser,
    ) -> Result<UserRow, AuthError> {
        let password_hash = passwords::hash(new_user.password.clone().into_inner()).await?;
        let mut transaction = self.inner.pool.begin().await?;
        let user =
            users::insert(&mut transaction, Uuid::now_v7(), &new_user, &password_hash).await?;
        self.record(
            &mut transaction,
            &caller.context,
            NewEvent {
                entity: "user",
                entity_id: user.id.to_string(),
                action: "create",
                changes: json!({"after": user.public_json()}),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(user)
    }

    /// Applies a partial update. A new password or a deactivation ends all of the user's
    /// sessions at once.
    pub async fn update_user(
        &self,
        caller: &Caller<'_>,
        id: Uuid,
        changes: UserChanges,
    ) -> Result<UserRow, AuthError> {
        let password_hash = match &changes.password {
            Some(password) => Some(passwords::hash(password.clone().into_inner()).await?),
            None => None,
        };
        let mut transaction = self.inner.pool.begin().await?;
        let before = users::find_by_id_for_update(&mut transaction, id)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        let deactivating = changes.is_active == Some(false) && before.is_active;
        let demoting = changes.role.is_some_and(|role| role != Role::Admin)
            && before.role == Role::Admin.as_str();
        self.guard_admin_removal(&mut transaction, caller, &before, deactivating, demoting)
            .await?;

        let after = users::update(&mut transaction, id, &changes, password_hash.as_deref()).await?;
        let end_sessions = deactivating || changes.password.is_some();
        let ended = if end_sessions {
            let reason = if deactivating {
                "user_deactivated"
            } else {
                "password_changed"
            };
            sessions::revoke_user_sessions(&mut transaction, id, reason).await?
        } else {
            Vec::new()
        };
        self.record(
            &mut transaction,
            &caller.context,
            NewEvent {
                entity: "user",
                entity_id: id.to_string(),
                action: "update",
                changes: json!({
                    "before": before.public_json(),
                    "after": after.public_json(),
                    "password_changed": changes.password.is_some(),
                }),
            },
        )
        .await?;
        transaction.commit().await?;
        self.revoke_sessions_in_redis(&ended).await;
        Ok(after)
    }

    /// Deactivates a user (users are referred to by sales and audit records, so they are
    /// never erased) and ends all their sessions.
    pub async fn delete_user(&self, caller: &Caller<'_>, id: Uuid) -> Result<(), AuthError> {
        let mut transaction = self.inner.pool.begin().await?;
        let before = users::find_by_id_for_update(&mut transaction, id)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        self.guard_admin_removal(&mut transaction, caller, &before, before.is_active, false)
            .await?;
        let changes = UserChanges {
            is_active: Some(false),
            ..UserChanges::default()
        };
        let after = users::update(&mut transaction, id, &changes, None).await?;
        let ended = sessions::revoke_user_sessions(&mut transaction, id, "user_deleted").await?;
        self.record(
            &mut transaction,
            &caller.context,
            NewEvent {
                entity: "user",
                entity_id: id.to_string(),
                action: "delete",
                changes: json!({"before": before.public_json(), "after": after.public_json()}),
            },
        )
        .await?;
        transaction.commit().await?;
        self.revoke_sessions_in_redis(&ended).await;
        Ok(())
    }

    /// An admin may not lock themselves out, and the last active admin may not go.
    async fn guard_admin_removal(
        &self,
        transaction: &mut PgConnection,
        caller: &Caller<'_>,
        user: &UserRow,
        deactivating: bool,
        demoting: bool,
    ) -> Result<(), AuthError> {
        if deactivating
            && caller
                .principal
                .is_some_and(|principal| principal.user_id == user.id)
        {
            return Err(AuthError::Conflict(
                "You cannot deactivate your own account",
            ));
        }
        if (deactivating || demoting)
            && user.role == Role::Admin.as_str()
            && user.is_active
            && users::count_other_active_admins(transaction, user.id).await? == 0
        {
            return Err(AuthError::Conflict(
                "The last active admin cannot be removed or demoted",
            ));
        }
        Ok(())
    }
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
