//! The audit log table: chained appends, the newest-first listing, and verification.

use std::{
    collections::{BTreeSet, HashSet},
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    domain::{
        IncomingEvent, ListFilter,
        chain::{ChainedRow, GENESIS_HASH, to_micros},
    },
    store::{
        partitions::{self, Month},
        progress,
    },
};

/// Rows read per round trip while verifying.
const VERIFY_PAGE: i64 = 2000;

/// What an append did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Appended {
    /// Events stored now (the others were stored before).
    pub stored: usize,
}

/// The outcome of a verification of the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub ok: bool,
    pub checked: i64,
    pub first_bad_id: Option<Uuid>,
}

/// One event as listed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LogRow {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub service: String,
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

#[derive(sqlx::FromRow)]
struct Head {
    last_position: i64,
    last_hash: Vec<u8>,
    last_recorded_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct StoredRow {
    #[sqlx(flatten)]
    row: ChainedRow,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

/// The audit log of one service instance. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuditLog {
    pool: PgPool,
    /// Months whose partition is known to exist.
    partitions: Arc<Mutex<HashSet<Month>>>,
}

impl AuditLog {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            partitions: Arc::default(),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates the partitions of this month and the next `months_ahead` ones.
    pub async fn ensure_partitions(
        &self,
        now: DateTime<Utc>,
        months_ahead: u32,
    ) -> Result<(), sqlx::Error> {
        let mut month = Month::of(now);
        for _ in 0..=months_ahead {
            if !self.partition_known(month) {
                let mut transaction = self.pool.begin().await?;
                partitions::ensure(&mut transaction, month).await?;
                transaction.commit().await?;
                self.known_partitions().insert(month);
            }
            month = month.next();
        }
        Ok(())
    }

    fn partition_known(&self, month: Month) -> bool {
        self.known_partitions().contains(&month)
    }

    /// The months whose partition exists. A poisoned lock still holds a consistent set (an
    /// insert either happened or not), so it is used as it is.
    fn known_partitions(&self) -> std::sync::MutexGuard<'_, HashSet<Month>> {
        self.partitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores the events not stored yet (by event id), chained after the current end of
    /// the log. Replicas take turns on the chain head's row lock.
    pub async fn append(&self, events: &[IncomingEvent]) -> Result<Appended, sqlx::Error> {
        self.append_recorded_at(events, None).await
    }

    /// [`AuditLog::append`] with the time of recording given (tests back-date rows with it;
    /// `None` is now). The recording time never goes below the last row's, so chain order
    /// and partition order agree.
    pub async fn append_recorded_at(
        &self,
        events: &[IncomingEvent],
        recorded_at: Option<DateTime<Utc>>,
    ) -> Result<Appended, sqlx::Error> {
        if events.is_empty() {
            return Ok(Appended::default());
        }
        let mut transaction = self.pool.begin().await?;
        let head: Head = sqlx::query_as(
            "select last_position, last_hash, last_recorded_at from audit.chain_head for update",
        )
        .fetch_one(&mut *transaction)
        .await?;
        let ids: Vec<Uuid> = events.iter().map(|event| event.event().event_id).collect();
        let known: HashSet<Uuid> =
            sqlx::query_scalar("select event_id from audit.received where event_id = any($1)")
                .bind(&ids)
                .fetch_all(&mut *transaction)
                .await?
                .into_iter()
                .collect();
        let mut seen = known;
        let fresh: Vec<&IncomingEvent> = events
            .iter()
            .filter(|event| seen.insert(event.event().event_id))
            .collect();
        if fresh.is_empty() {
            transaction.commit().await?;
            return Ok(Appended::default());
        }

        let recorded_at =
            to_micros(recorded_at.unwrap_or_else(Utc::now)).max(head.last_recorded_at);
        let month = Month::of(recorded_at);
        let new_partition = !self.partition_known(month);
        if new_partition {
            partitions::ensure(&mut transaction, month).await?;
        }
        let changes: Vec<serde_json::Value> = fresh
            .iter()
            .map(|event| event.event().changes.clone())
            .collect();
        let changes_texts = canonical_json_texts(&mut transaction, &changes).await?;

        let mut previous_hash = head.last_hash;
        let mut rows = Vec::with_capacity(fresh.len());
        for (offset, (event, changes_text)) in fresh.iter().zip(changes_texts).enumerate() {
            let event = event.event();
            let row = ChainedRow {
                position: head.last_position + 1 + offset as i64,
                id: event.event_id,
                recorded_at,
                occurred_at: to_micros(event.occurred_at),
                service: event.service.clone(),
                seq: event.seq,
                entity: event.entity.clone(),
                entity_id: event.entity_id.clone(),
                action: event.action.clone(),
                actor_id: event.actor_id,
                actor_role: event.actor_role.clone(),
                request_id: event.request_id.clone(),
                client_addr: event.client_addr.clone(),
                trace_context: event.trace_context.clone(),
                changes_text,
            };
            let hash = row.hash(&previous_hash);
            rows.push((row, previous_hash, hash.clone()));
            previous_hash = hash;
        }
        insert_rows(&mut transaction, &rows).await?;
        // Each producer's contiguous mark moves over what was stored, in the same commit.
        let services: BTreeSet<&str> = rows
            .iter()
            .map(|(row, _, _)| row.service.as_str())
            .collect();
        for service in services {
            progress::advance_in(&mut transaction, service).await?;
        }
        if let Some((last_row, _, last_hash)) = rows.last() {
            sqlx::query(
                "update audit.chain_head set last_position = $1, last_hash = $2, last_recorded_at = $3",
            )
            .bind(last_row.position)
            .bind(last_hash)
            .bind(recorded_at)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        if new_partition {
            self.known_partitions().insert(month);
        }
        Ok(Appended { stored: rows.len() })
    }

    /// Events newest first (by when they happened), filtered; `limit + 1` rows are read
    /// so the caller knows whether a next page exists.
    pub async fn list(
        &self,
        filter: &ListFilter,
        skip: i64,
        limit: i64,
    ) -> Result<Vec<LogRow>, sqlx::Error> {
        sqlx::query_as(
            "select id, occurred_at, service, entity, entity_id, action, actor_id, actor_role, \
                    request_id, client_addr, trace_context, changes \
             from audit.audit_log \
             where ($1::text is null or entity = $1) \
               and ($2::text is null or entity_id = $2) \
               and ($3::text is null or action = $3) \
               and ($4::uuid is null or actor_id = $4) \
               and ($5::timestamptz is null or occurred_at >= $5) \
               and ($6::timestamptz is null or occurred_at < $6) \
               and ($7::timestamptz is null or (occurred_at, id) < ($7, $8)) \
             order by occurred_at desc, id desc \
             offset $9 limit $10",
        )
        .bind(filter.entity.as_deref())
        .bind(filter.entity_id.as_deref())
        .bind(filter.action.as_deref())
        .bind(filter.user_id)
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.cursor.map(|cursor| cursor.occurred_at))
        .bind(filter.cursor.map(|cursor| cursor.id))
        .bind(skip)
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await
    }

    /// Recomputes the chain from the retention checkpoint (or the beginning) to the head
    /// as it was when the check started, and reports the first row that does not match:
    /// a changed row fails its own hash, a removed or inserted one breaks the links or the
    /// positions, a removed tail no longer reaches the head.
    pub async fn verify(&self) -> Result<Verification, sqlx::Error> {
        let head: Head = sqlx::query_as(
            "select last_position, last_hash, last_recorded_at from audit.chain_head",
        )
        .fetch_one(&self.pool)
        .await?;
        let checkpoint: Option<(i64, Vec<u8>)> =
            sqlx::query_as("select position, hash from audit.chain_checkpoint")
                .fetch_optional(&self.pool)
                .await?;
        let (mut position, mut expected_prev) = checkpoint.unwrap_or((0, GENESIS_HASH.to_vec()));
        let mut checked = 0;
        let bad = |checked, id| Verification {
            ok: false,
            checked,
            first_bad_id: Some(id),
        };
        while position < head.last_position {
            let page: Vec<StoredRow> = sqlx::query_as(
                "select position, id, recorded_at, occurred_at, service, seq, entity, entity_id, \
                        action, actor_id, actor_role, request_id, client_addr, trace_context, \
                        changes::text as changes_text, prev_hash, hash \
                 from audit.audit_log where position > $1 and position <= $2 \
                 order by position limit $3",
            )
            .bind(position)
            .bind(head.last_position)
            .bind(VERIFY_PAGE)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = page.last() else {
                break;
            };
            let last_position = last.row.position;
            for stored in page {
                checked += 1;
                let linked =
                    stored.row.position == position + 1 && stored.prev_hash == expected_prev;
                if !linked || stored.row.hash(&stored.prev_hash) != stored.hash {
                    return Ok(bad(checked, stored.row.id));
                }
                position = stored.row.position;
                expected_prev = stored.hash;
            }
            debug_assert_eq!(position, last_position);
        }
        // Every row up to the head was there and chained, and the last one is the head.
        let reaches_head = position == head.last_position
            && (head.last_position == 0 || expected_prev == head.last_hash);
        Ok(Verification {
            ok: reaches_head,
            checked,
            first_bad_id: None,
        })
    }
}

/// Postgres's text of each value as `jsonb` (what `changes::text` returns once stored).
async fn canonical_json_texts(
    connection: &mut PgConnection,
    values: &[serde_json::Value],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select value::text from unnest($1::jsonb[]) with ordinality as item(value, n) order by n",
    )
    .bind(values)
    .fetch_all(&mut *connection)
    .await
}

async fn insert_rows(
    connection: &mut PgConnection,
    rows: &[(ChainedRow, Vec<u8>, Vec<u8>)],
) -> Result<(), sqlx::Error> {
    let column = |pick: fn(&ChainedRow) -> String| {
        rows.iter().map(|(row, _, _)| pick(row)).collect::<Vec<_>>()
    };
    let positions: Vec<i64> = rows.iter().map(|(row, _, _)| row.position).collect();
    let ids: Vec<Uuid> = rows.iter().map(|(row, _, _)| row.id).collect();
    let recorded: Vec<DateTime<Utc>> = rows.iter().map(|(row, _, _)| row.recorded_at).collect();
    let occurred: Vec<DateTime<Utc>> = rows.iter().map(|(row, _, _)| row.occurred_at).collect();
    let seqs: Vec<i64> = rows.iter().map(|(row, _, _)| row.seq).collect();
    let actors: Vec<Option<Uuid>> = rows.iter().map(|(row, _, _)| row.actor_id).collect();
    let optional = |pick: fn(&ChainedRow) -> Option<String>| {
        rows.iter().map(|(row, _, _)| pick(row)).collect::<Vec<_>>()
    };
    let prev_hashes: Vec<Vec<u8>> = rows.iter().map(|(_, prev, _)| prev.clone()).collect();
    let hashes: Vec<Vec<u8>> = rows.iter().map(|(_, _, hash)| hash.clone()).collect();
    let services = column(|row| row.service.clone());
    sqlx::query(
        "insert into audit.audit_log (position, id, recorded_at, occurred_at, service, seq, \
             entity, entity_id, action, actor_id, actor_role, request_id, client_addr, \
             trace_context, changes, prev_hash, hash) \
         select position, id, recorded_at, occurred_at, service, seq, entity, entity_id, action, \
                actor_id, actor_role, request_id, client_addr, trace_context, changes::jsonb, \
                prev_hash, hash \
         from unnest($1::bigint[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::text[], \
                     $6::bigint[], $7::text[], $8::text[], $9::text[], $10::uuid[], $11::text[], \
                     $12::text[], $13::text[], $14::text[], $15::text[], $16::bytea[], $17::bytea[]) \
              as item(position, id, recorded_at, occurred_at, service, seq, entity, entity_id, \
                      action, actor_id, actor_role, request_id, client_addr, trace_context, \
                      changes, prev_hash, hash)",
    )
    .bind(&positions)
    .bind(&ids)
    .bind(&recorded)
    .bind(&occurred)
    .bind(&services)
    .bind(&seqs)
    .bind(column(|row| row.entity.clone()))
    .bind(column(|row| row.entity_id.clone()))
    .bind(column(|row| row.action.clone()))
    .bind(&actors)
    .bind(optional(|row| row.actor_role.clone()))
    .bind(optional(|row| row.request_id.clone()))
    .bind(optional(|row| row.client_addr.clone()))
    .bind(optional(|row| row.trace_context.clone()))
    .bind(column(|row| row.changes_text.clone()))
    .bind(&prev_hashes)
    .bind(&hashes)
    .execute(&mut *connection)
    .await?;
    sqlx::query(
        "insert into audit.received (event_id, service, seq, position) \
         select * from unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[])",
    )
    .bind(&ids)
    .bind(&services)
    .bind(&seqs)
    .bind(&positions)
    .execute(&mut *connection)
    .await?;
    Ok(())
}
