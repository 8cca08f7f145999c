//! The transactional outbox of a service and its relay to the Redis audit stream.
//!
//! - [`Outbox::record`] writes an event in the caller's transaction, so an event exists
//!   exactly when the change it describes was committed.
//! - [`Relay`] numbers committed events gap-free per service (so the audit service can
//!   notice a lost one and fetch it again), publishes them to the stream with `XADD`, and
//!   marks them published. While Redis is down it backs off and retries: events wait in
//!   Postgres, nothing is lost. Several replicas coordinate through row locks.
//!
//! The outbox table lives in each service's own schema; its DDL is written once here and
//! applied per schema by [`Outbox::migrate`], with its own migrations table.

mod relay;

pub use relay::Relay;

use std::{borrow::Cow, sync::Arc};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{
    AssertSqlSafe, PgConnection, PgPool, SqlSafeStr,
    migrate::{Migration, MigrationType, Migrator},
};
use uuid::Uuid;

/// Who did it and in which request: filled from the caller's principal and metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventContext {
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    /// W3C `traceparent` of the request that caused the event.
    pub trace_context: Option<String>,
}

/// An audit event about to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent<'a> {
    pub entity: &'a str,
    pub entity_id: String,
    pub action: &'a str,
    /// What changed: the created object, or `{"before": .., "after": ..}` for updates.
    pub changes: serde_json::Value,
}

/// An event as published on the stream (the JSON of its `event` field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct PublishedEvent {
    pub event_id: Uuid,
    pub seq: i64,
    pub service: String,
    pub occurred_at: DateTime<Utc>,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub trace_context: Option<String>,
    pub changes: serde_json::Value,
}

/// The outbox of one service (`schema` is also the service's name on events).
#[derive(Debug, Clone)]
pub struct Outbox {
    schema: &'static str,
    insert_sql: Arc<str>,
    insert_all_sql: Arc<str>,
    list_sql: Arc<str>,
}

impl Outbox {
    pub fn new(schema: &'static str) -> Self {
        Self {
            schema,
            insert_sql: format!(
                "insert into {schema}.outbox (event_id, service, entity, entity_id, action, \
                 actor_id, actor_role, request_id, client_addr, trace_context, changes) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            )
            .into(),
            insert_all_sql: format!(
                "insert into {schema}.outbox (event_id, service, entity, entity_id, action, \
                 actor_id, actor_role, request_id, client_addr, trace_context, changes) \
                 select event.event_id, $2, event.entity, event.entity_id, event.action, \
                        event.actor_id, event.actor_role, event.request_id, event.client_addr, \
                        event.trace_context, event.changes \
                 from unnest($1::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[], \
                             $7::text[], $8::text[], $9::text[], $10::text[], $11::jsonb[]) \
                      as event (event_id, entity, entity_id, action, actor_id, actor_role, \
                                request_id, client_addr, trace_context, changes)"
            )
            .into(),
            list_sql: format!(
                "select event_id, seq, service, occurred_at, entity, entity_id, action, actor_id, \
                 actor_role, request_id, client_addr, trace_context, changes \
                 from {schema}.outbox where seq > $1 order by seq limit $2"
            )
            .into(),
        }
    }

    pub fn schema(&self) -> &'static str {
        self.schema
    }

    /// Creates or upgrades the outbox tables in this service's schema.
    pub async fn migrate(&self, pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
        let schema = self.schema;
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    AssertSqlSafe(sql.replace("{schema}", schema)).into_sql_str(),
                    false,
                )
            })
            .collect();
        let mut migrator = Migrator::with_migrations(migrations);
        migrator.create_schema(schema);
        migrator.dangerous_set_table_name(format!("{schema}._outbox_migrations"));
        migrator.run(pool).await
    }

    /// Writes `event` in the caller's transaction; returns its event id.
    pub async fn record(
        &self,
        transaction: &mut PgConnection,
        context: &EventContext,
        event: NewEvent<'_>,
    ) -> Result<Uuid, sqlx::Error> {
        let event_id = Uuid::now_v7();
        sqlx::query(AssertSqlSafe(Arc::clone(&self.insert_sql)))
            .bind(event_id)
            .bind(self.schema)
            .bind(event.entity)
            .bind(event.entity_id)
            .bind(event.action)
            .bind(context.actor_id)
            .bind(context.actor_role.as_deref())
            .bind(context.request_id.as_deref())
            .bind(context.client_addr.as_deref())
            .bind(context.trace_context.as_deref())
            .bind(event.changes)
            .execute(&mut *transaction)
            .await?;
        Ok(event_id)
    }

    /// Writes `events` in the caller's transaction in one statement (one round trip, for
    /// a commit that holds a lock meanwhile), in the order given: their ids grow in that
    /// order, and so do their places in the stream.
    pub async fn record_all(
        &self,
        transaction: &mut PgConnection,
        context: &EventContext,
        events: Vec<NewEvent<'_>>,
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        let events = events.into_iter().map(|event| (context, event)).collect();
        self.record_each(transaction, events).await
    }

    /// Like [`Outbox::record_all`], each event with the context of its own request: the
    /// events of several requests committed in one transaction (a batch of sales).
    pub async fn record_each(
        &self,
        transaction: &mut PgConnection,
        events: Vec<(&EventContext, NewEvent<'_>)>,
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let event_ids: Vec<Uuid> = events.iter().map(|_| Uuid::now_v7()).collect();
        let count = events.len();
        let mut entities = Vec::with_capacity(count);
        let mut entity_ids = Vec::with_capacity(count);
        let mut actions = Vec::with_capacity(count);
        let mut actor_ids = Vec::with_capacity(count);
        let mut actor_roles = Vec::with_capacity(count);
        let mut request_ids = Vec::with_capacity(count);
        let mut client_addrs = Vec::with_capacity(count);
        let mut trace_contexts = Vec::with_capacity(count);
        let mut changes = Vec::with_capacity(count);
        for (context, event) in events {
            entities.push(event.entity);
            entity_ids.push(event.entity_id);
            actions.push(event.action);
            actor_ids.push(context.actor_id);
            actor_roles.push(context.actor_role.as_deref());
            request_ids.push(context.request_id.as_deref());
            client_addrs.push(context.client_addr.as_deref());
            trace_contexts.push(context.trace_context.as_deref());
            changes.push(event.changes);
        }
        sqlx::query(AssertSqlSafe(Arc::clone(&self.insert_all_sql)))
            .bind(&event_ids)
            .bind(self.schema)
            .bind(entities)
            .bind(entity_ids)
            .bind(actions)
            .bind(actor_ids)
            .bind(actor_roles)
            .bind(request_ids)
            .bind(client_addrs)
            .bind(trace_contexts)
            .bind(changes)
            .execute(&mut *transaction)
            .await?;
        Ok(event_ids)
    }
}

impl Outbox {
    /// Numbered events with `seq > after_seq`, in sequence order, at most `limit` of them:
    /// what the audit service fetches when it notices a gap. Published events stay for
    /// `OUTBOX_RETENTION_HOURS`, so the first event returned may be above `after_seq + 1`
    /// when older ones have expired.
    pub async fn list_after(
        &self,
        pool: &PgPool,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<PublishedEvent>, sqlx::Error> {
        sqlx::query_as(AssertSqlSafe(Arc::clone(&self.list_sql)))
            .bind(after_seq)
            .bind(limit)
            .fetch_all(pool)
            .await
    }
}

const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "outbox", include_str!("../migrations/0001_outbox.sql"))];
