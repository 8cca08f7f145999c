//! The default admin, created on first start so that a fresh install can be signed into.

use regal_config::{ExposeSecret, Settings};
use regal_outbox::{EventContext, NewEvent, Outbox};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::passwords;

/// Creates `ADMIN_USERNAME` with `ADMIN_PASSWORD` unless a user of that name exists.
///
/// In production the default password never gets here: configuration refuses it at
/// start-up. Concurrent replicas are safe: the unique index on the username decides.
pub async fn ensure_default_admin(
    pool: &PgPool,
    settings: &Settings,
    outbox: &Outbox,
) -> anyhow::Result<()> {
    let admin = &settings.admin;
    let exists: bool = sqlx::query_scalar(
        "select exists (select 1 from auth.users where lower(username) = lower($1))",
    )
    .bind(&admin.username)
    .fetch_one(pool)
    .await?;
    if exists {
        return Ok(());
    }

    let password_hash = passwords::hash(admin.password.expose_secret().to_owned()).await?;
    let user_id = Uuid::now_v7();
    let mut transaction = pool.begin().await?;
    let inserted = sqlx::query(
        "insert into auth.users (id, full_name, email, username, password_hash, role) \
         values ($1, $2, $3, $4, $5, 'admin') on conflict do nothing",
    )
    .bind(user_id)
    .bind("Administrator")
    .bind(&admin.email)
    .bind(&admin.username)
    .bind(&password_hash)
    .execute(&mut *transaction)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(());
    }
    outbox
        .record(
            &mut transaction,
            &EventContext {
                actor_role: Some("system".to_owned()),
                ..EventContext::default()
            },
            NewEvent {
                entity: "user",
                entity_id: user_id.to_string(),
                action: "create",
                changes: json!({"after": {
                    "id": user_id, "username": admin.username, "email": admin.email,
                    "full_name": "Administrator", "role": "admin", "is_active": true,
                    "reason": "default admin created at first start"
                }}),
            },
        )
        .await?;
    transaction.commit().await?;
    tracing::info!(username = %admin.username, "default admin created");
    Ok(())
}
