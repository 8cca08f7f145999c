//! Domain values of the audit service: incoming events (from the stream or fetched from a
//! producer), list filters and cursors, and the hash chain.

pub mod chain;

use chrono::{DateTime, Utc};
use regal_errors::FieldViolation;
use regal_outbox::PublishedEvent;
use regal_proto::{audit::v1::ListAuditEventsRequest, outbox::v1::OutboxEvent};
use uuid::Uuid;

/// Longest text accepted in any field of an incoming event.
const MAX_TEXT: usize = 4096;

/// An event a producer recorded, checked and ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingEvent(PublishedEvent);

impl IncomingEvent {
    /// Checks an event: a service name, a positive sequence number, an entity and an
    /// action, no NUL characters (Postgres refuses them) and no huge texts.
    pub fn parse(event: PublishedEvent) -> Result<Self, String> {
        if event.service.trim().is_empty() {
            return Err("event has no service".to_owned());
        }
        if event.seq < 1 {
            return Err(format!("event has an invalid seq {}", event.seq));
        }
        if event.entity.trim().is_empty() || event.action.trim().is_empty() {
            return Err("event has no entity or action".to_owned());
        }
        let texts = [
            Some(&event.service),
            Some(&event.entity),
            Some(&event.entity_id),
            Some(&event.action),
            event.actor_role.as_ref(),
            event.request_id.as_ref(),
            event.client_addr.as_ref(),
            event.trace_context.as_ref(),
        ];
        for text in texts.into_iter().flatten() {
            if text.len() > MAX_TEXT || text.contains('\0') {
                return Err("event has an oversized text or a NUL character".to_owned());
            }
        }
        if event.changes.to_string().contains("\\u0000") {
            return Err("event changes contain a NUL character".to_owned());
        }
        Ok(Self(event))
    }

    /// The `event` field of a stream entry (the relay's JSON).
    pub fn from_stream_json(json: &str) -> Result<Self, String> {
        let event: PublishedEvent =
            serde_json::from_str(json).map_err(|error| format!("malformed event: {error}"))?;
        Self::parse(event)
    }

    /// An event fetched from a producer's `regal.outbox.v1.OutboxService`.
    pub fn from_outbox_message(message: OutboxEvent) -> Result<Self, String> {
        let optional_uuid = |text: &str, name: &str| -> Result<Option<Uuid>, String> {
            if text.is_empty() {
                Ok(None)
            } else {
                Uuid::parse_str(text)
                    .map(Some)
                    .map_err(|_| format!("{name} is not a UUID"))
            }
        };
        let optional_text = |text: String| Some(text).filter(|text| !text.is_empty());
        let occurred_at = message
            .occurred_at
            .as_ref()
            .and_then(regal_proto::time::from_timestamp)
            .ok_or("event has no occurred_at")?;
        let changes = message
            .changes
            .as_ref()
            .map(|changes| serde_json::Value::Object(regal_proto::json::struct_to_object(changes)))
            .unwrap_or_else(|| serde_json::json!({}));
        Self::parse(PublishedEvent {
            event_id: optional_uuid(&message.event_id, "event_id")?.ok_or("event has no id")?,
            seq: message.seq,
            service: message.service,
            occurred_at,
            entity: message.entity,
            entity_id: message.entity_id,
            action: message.action,
            actor_id: optional_uuid(&message.actor_id, "actor_id")?,
            actor_role: optional_text(message.actor_role),
            request_id: optional_text(message.request_id),
            client_addr: optional_text(message.client_addr),
            trace_context: optional_text(message.trace_context),
            changes,
        })
    }

    pub fn event(&self) -> &PublishedEvent {
        &self.0
    }
}

/// Keyset position in the newest-first listing: the last row of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub occurred_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    /// `<microseconds since the epoch>.<event id>`; opaque to clients.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}",
            self.occurred_at.timestamp_micros(),
            self.id.simple()
        )
    }

    pub fn parse(text: &str) -> Result<Self, FieldViolation> {
        let invalid = || FieldViolation::new("query.cursor", "value_error", "Invalid cursor");
        let (micros, id) = text.split_once('.').ok_or_else(invalid)?;
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        Ok(Self {
            occurred_at: DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?,
            id: Uuid::parse_str(id).map_err(|_| invalid())?,
        })
    }
}

/// The filters of `ListAuditEvents`, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    pub user_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub cursor: Option<Cursor>,
}

impl TryFrom<&ListAuditEventsRequest> for ListFilter {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &ListAuditEventsRequest) -> Result<Self, Self::Error> {
        let mut violations = Vec::new();
        let text = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let user_id = match text(&request.user_id) {
            None => None,
            Some(value) => match Uuid::parse_str(&value) {
                Ok(id) => Some(id),
                Err(_) => {
                    violations.push(FieldViolation::new(
                        "query.user_id",
                        "uuid_parsing",
                        "Input should be a valid UUID",
                    ));
                    None
                }
            },
        };
        let cursor = match request.cursor.trim() {
            "" => None,
            value => match Cursor::parse(value) {
                Ok(cursor) => Some(cursor),
                Err(violation) => {
                    violations.push(violation);
                    None
                }
            },
        };
        let time = |value: &Option<prost_types::Timestamp>| {
            value.as_ref().and_then(regal_proto::time::from_timestamp)
        };
        for (name, value) in [("limit", request.limit), ("skip", request.skip)] {
            if value < 0 {
                violations.push(FieldViolation::new(
                    format!("query.{name}"),
                    "greater_than_equal",
                    "Input should be greater than or equal to 0",
                ));
            }
        }
        if !violations.is_empty() {
            return Err(violations);
        }
        Ok(Self {
            entity: text(&request.entity),
            entity_id: text(&request.entity_id),
            action: text(&request.action),
            user_id,
            from: time(&request.from),
            to: time(&request.to),
            cursor,
        })
    }
}

/// The OpenTelemetry trace id (32 hex digits) of a W3C `traceparent`, if it has one.
pub fn trace_id(traceparent: Option<&str>) -> String {
    traceparent
        .and_then(|value| value.split('-').nth(1))
        .filter(|id| id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_owned)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let cursor = Cursor {
            occurred_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::parse(&cursor.encode()), Ok(cursor));
        for bad in [
            "",
            "abc",
            "12.",
            ".x",
            "12.not-a-uuid",
            "x.0190c9a6f8a87c1b9b1a9c6d2e3f4a5b",
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_trace_id_comes_from_a_traceparent() {
        assert_eq!(
            trace_id(Some(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            )),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(trace_id(Some("garbage")), "");
        assert_eq!(trace_id(None), "");
    }

    #[test]
    fn stream_json_that_is_not_an_event_is_refused() {
        assert!(IncomingEvent::from_stream_json("not json").is_err());
        assert!(IncomingEvent::from_stream_json("{}").is_err());
    }
}
