//! The hash chain: each row stores the hash of the previous row and its own,
//! `sha256(prev_hash || canonical(row))`.
//!
//! The canonical encoding is a JSON array of the row's fields in a fixed order, timestamps
//! as RFC 3339 UTC with microseconds (what Postgres keeps), `changes` as Postgres's own
//! text of the stored `jsonb` (normalised by Postgres, so the encoding computed before the
//! insert and the one recomputed from the stored row are byte for byte the same).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Length of a chain hash (SHA-256).
pub const HASH_LEN: usize = 32;
/// `prev_hash` of the first row when nothing was ever cut off.
pub const GENESIS_HASH: [u8; HASH_LEN] = [0; HASH_LEN];

/// The fields of one row that the chain covers.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ChainedRow {
    pub position: i64,
    pub id: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub occurred_at: DateTime<Utc>,
    pub service: String,
    pub seq: i64,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub trace_context: Option<String>,
    /// `changes::text` as Postgres renders the stored `jsonb`.
    pub changes_text: String,
}

fn timestamp(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl ChainedRow {
    /// The canonical bytes the hash is computed over.
    pub fn canonical(&self) -> Vec<u8> {
        let encoded = json!([
            "regal.audit.v1",
            self.position,
            self.id.to_string(),
            timestamp(&self.recorded_at),
            timestamp(&self.occurred_at),
            self.service,
            self.seq,
            self.entity,
            self.entity_id,
            self.action,
            self.actor_id.map(|id| id.to_string()),
            self.actor_role,
            self.request_id,
            self.client_addr,
            self.trace_context,
            self.changes_text,
        ]);
        encoded.to_string().into_bytes()
    }

    /// `sha256(prev_hash || canonical(self))`.
    pub fn hash(&self, prev_hash: &[u8]) -> Vec<u8> {
        let mut hasher = Sha256::new();
        hasher.update(prev_hash);
        hasher.update(self.canonical());
        hasher.finalize().to_vec()
    }
}

/// Truncates a time to the microsecond, the precision Postgres stores.
pub fn to_micros(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(time.timestamp_micros()).unwrap_or(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> ChainedRow {
        let time = DateTime::parse_from_rfc3339("2026-11-24T10:15:30.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        ChainedRow {
            position: 7,
            id: Uuid::nil(),
            recorded_at: time,
            occurred_at: time,
            service: "catalog".into(),
            seq: 3,
            entity: "product".into(),
            entity_id: "p-1".into(),
            action: "update".into(),
            actor_id: None,
            actor_role: Some("admin".into()),
            request_id: None,
            client_addr: None,
            trace_context: None,
            changes_text: r#"{"after": {"price": "2.00"}}"#.into(),
        }
    }

    #[test]
    fn the_hash_depends_on_every_field_and_on_the_previous_hash() {
        let original = row();
        let hash = original.hash(&GENESIS_HASH);
        assert_eq!(hash.len(), HASH_LEN);
        assert_eq!(hash, original.hash(&GENESIS_HASH), "deterministic");
        assert_ne!(hash, original.hash(&[1; HASH_LEN]));
        let mut changed = original.clone();
        changed.changes_text = r#"{"after": {"price": "3.00"}}"#.into();
        assert_ne!(hash, changed.hash(&GENESIS_HASH));
        let mut moved = original.clone();
        moved.position = 8;
        assert_ne!(hash, moved.hash(&GENESIS_HASH));
        let mut attributed = original;
        attributed.actor_id = Some(Uuid::from_u128(1));
        assert_ne!(hash, attributed.hash(&GENESIS_HASH));
    }

    #[test]
    fn times_are_encoded_to_the_microsecond_as_postgres_keeps_them() {
        let precise = DateTime::parse_from_rfc3339("2026-11-24T10:15:30.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            timestamp(&to_micros(precise)),
            "2026-11-24T10:15:30.123456Z"
        );
    }
}
