//! `regal.outbox.v1.OutboxService`, served by every service next to its own: the audit
//! service fetches events it missed (a gap, or a lost tail) by sequence number.
//!
//! It is wired once here rather than per service: a service whose schema has no outbox
//! (the audit service itself) answers UNIMPLEMENTED.

use regal_authz::{Permission, principal};
use regal_errors::{FieldViolation, ServiceError};
use regal_outbox::{Outbox, PublishedEvent};
use regal_proto::outbox::v1::{
    ListOutboxEventsRequest, ListOutboxEventsResponse, OutboxEvent,
    outbox_service_server::OutboxService,
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

/// Events returned when the caller asks for none in particular.
const DEFAULT_LIMIT: i64 = 500;
/// The most events one call returns.
const MAX_LIMIT: i64 = 1000;
/// SQLSTATE undefined_table: this service keeps no outbox.
const UNDEFINED_TABLE: &str = "42P01";

pub struct OutboxRpc {
    outbox: Outbox,
    pool: PgPool,
}

impl OutboxRpc {
    pub fn new(schema: &'static str, pool: PgPool) -> Self {
        Self {
            outbox: Outbox::new(schema),
            pool,
        }
    }
}

#[tonic::async_trait]
impl OutboxService for OutboxRpc {
    async fn list_outbox_events(
        &self,
        request: Request<ListOutboxEventsRequest>,
    ) -> Result<Response<ListOutboxEventsResponse>, Status> {
        principal(&request)?.require(Permission::Audit)?;
        let body = request.get_ref();
        let mut violations = Vec::new();
        if body.after_seq < 0 {
            violations.push(FieldViolation::new(
                "after_seq",
                "greater_than_equal",
                "Input should be greater than or equal to 0",
            ));
        }
        if body.limit < 0 {
            violations.push(FieldViolation::new(
                "limit",
                "greater_than_equal",
                "Input should be greater than or equal to 0",
            ));
        }
        if !violations.is_empty() {
            return Err(ServiceError::Validation(violations).into());
        }
        let limit = match i64::from(body.limit) {
            0 => DEFAULT_LIMIT,
            limit => limit.min(MAX_LIMIT),
        };
        let events = match self
            .outbox
            .list_after(&self.pool, body.after_seq, limit)
            .await
        {
            Ok(events) => events,
            Err(error) if regal_db::sql_state(&error).as_deref() == Some(UNDEFINED_TABLE) => {
                return Err(Status::unimplemented(format!(
                    "{} produces no audit events",
                    self.outbox.schema()
                )));
            }
            Err(error) => return Err(ServiceError::from(error).into()),
        };
        let last_seq = events.last().map_or(body.after_seq, |event| event.seq);
        Ok(Response::new(ListOutboxEventsResponse {
            events: events.into_iter().map(outbox_event).collect(),
            last_seq,
        }))
    }
}

/// An outbox row as the contract carries it.
pub fn outbox_event(event: PublishedEvent) -> OutboxEvent {
    let changes = match &event.changes {
        serde_json::Value::Object(object) => regal_proto::json::object_to_struct(object),
        serde_json::Value::Null => Default::default(),
        other => {
            let wrapped = serde_json::Map::from_iter([("value".to_owned(), other.clone())]);
            regal_proto::json::object_to_struct(&wrapped)
        }
    };
    OutboxEvent {
        event_id: event.event_id.to_string(),
        seq: event.seq,
        service: event.service,
        occurred_at: Some(regal_proto::time::to_timestamp(event.occurred_at)),
        entity: event.entity,
        entity_id: event.entity_id,
        action: event.action,
        actor_id: event.actor_id.map(|id| id.to_string()).unwrap_or_default(),
        actor_role: event.actor_role.unwrap_or_default(),
        request_id: event.request_id.unwrap_or_default(),
        client_addr: event.client_addr.unwrap_or_default(),
        trace_context: event.trace_context.unwrap_or_default(),
        changes: Some(changes),
    }
}
