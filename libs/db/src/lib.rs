//! Postgres access shared by the services: a lazily connected pool with bounded waits, and
//! embedded migrations applied into the service's own schema with its own migrations table
//! (four services can share one database without their `0001` files colliding).

use std::{str::FromStr, time::Duration};

use regal_config::{DatabaseSettings, ExposeSecret};
use sqlx::{
    migrate::{MigrateError, Migrator},
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
};

pub use sqlx;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL is not a valid Postgres URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    #[error("migrating schema {schema} failed: {source}")]
    Migration {
        schema: &'static str,
        #[source]
        source: MigrateError,
    },
}

/// Builds the pool of one service without connecting: the service starts (and reports
/// NOT_SERVING) even while its database is unreachable.
pub fn connect_lazy(
    settings: &DatabaseSettings,
    application_name: &str,
) -> Result<PgPool, DbError> {
    let options = PgConnectOptions::from_str(settings.url.expose_secret())
        .map_err(DbError::InvalidUrl)?
        .application_name(application_name)
        .options([(
            "statement_timeout",
            settings.statement_timeout.as_millis().to_string(),
        )]);
    Ok(PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .min_connections(0)
        .acquire_timeout(settings.acquire_timeout)
        .idle_timeout(Some(Duration::from_secs(300)))
        .test_before_acquire(false)
        .connect_lazy_with(options))
}

/// Applies `migrator` into `schema`, recording it in `<schema>._sqlx_migrations`.
///
/// `migrator` comes from `sqlx::migrate!("./migrations")` in the service crate. Migrations
/// take sqlx's advisory lock, so replicas starting together apply them once.
pub async fn migrate(
    pool: &PgPool,
    mut migrator: Migrator,
    schema: &'static str,
) -> Result<(), DbError> {
    migrator.create_schema(schema);
    migrator.dangerous_set_table_name(format!("{schema}._sqlx_migrations"));
    migrator
        .run(pool)
        .await
        .map_err(|source| DbError::Migration { schema, source })
}

/// Answers whether the database responds within `timeout`.
pub async fn ping(pool: &PgPool, timeout: Duration) -> bool {
    let query = sqlx::query_scalar::<_, i32>("select 1").fetch_one(pool);
    matches!(tokio::time::timeout(timeout, query).await, Ok(Ok(1)))
}

/// The SQLSTATE of a database error, for mapping constraint violations in one place.
pub fn sql_state(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|database_error| database_error.code())
        .map(|code| code.into_owned())
}

/// The name of the violated constraint, when the error is a constraint violation.
pub fn violated_constraint(error: &sqlx::Error) -> Option<&str> {
    error
        .as_database_error()
        .and_then(|database_error| database_error.constraint())
}

/// A `LIKE` pattern matching `text` anywhere, with its wildcards escaped (for `ilike`
/// searches over user-typed text).
pub fn contains_pattern(text: &str) -> String {
    format!(
        "%{}%",
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// SQLSTATE codes the services map to domain errors.
pub mod sql_states {
    pub const UNIQUE_VIOLATION: &str = "23505";
    pub const FOREIGN_KEY_VIOLATION: &str = "23503";
    pub const CHECK_VIOLATION: &str = "23514";
    pub const SERIALIZATION_FAILURE: &str = "40001";
    pub const DEADLOCK_DETECTED: &str = "40P01";
    pub const QUERY_CANCELED: &str = "57014";
}

/// The Redis connection shared by a part: reconnects by itself, bounds every command.
pub mod redis_connection {
    use redis::{
        IntoConnectionInfo,
        aio::{ConnectionManager, ConnectionManagerConfig},
        io::tcp::TcpSettings,
    };
    use regal_config::{ExposeSecret, RedisSettings};

    pub use redis;

    /// Builds a connection manager without connecting, so a part starts while Redis is
    /// down; commands fail fast (bounded by `REDIS_TIMEOUT_MS`) until it is back.
    ///
    /// `TCP_NODELAY` is on: the connection is multiplexed, so a command is often written
    /// while an earlier one is unanswered, and with Nagle's algorithm (redis-rs 1.x's
    /// default) it would wait for that answer's delayed ACK, up to 40 ms on Linux.
    pub fn connect_lazy(settings: &RedisSettings) -> redis::RedisResult<ConnectionManager> {
        let info = settings
            .url
            .expose_secret()
            .into_connection_info()?
            .set_tcp_settings(TcpSettings::default().set_nodelay(true));
        let client = redis::Client::open(info)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.command_timeout))
            .set_response_timeout(Some(settings.command_timeout))
            .set_number_of_retries(1)
            .set_max_delay(settings.command_timeout);
        ConnectionManager::new_lazy_with_config(client, config)
    }
}
