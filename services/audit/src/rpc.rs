//! `regal.audit.v1.AuditService`: thin handlers; admin only.

use regal_authz::{Permission, principal};
use regal_config::PaginationSettings;
use regal_errors::ServiceError;
use regal_proto::{
    audit::v1::{
        AuditEvent, ListAuditEventsRequest, ListAuditEventsResponse, VerifyChainRequest,
        VerifyChainResponse, audit_service_server::AuditService,
    },
    common::v1::PageRequest,
};
use regal_server::page_bounds;
use tonic::{Request, Response, Status};

use crate::{
    domain::{Cursor, ListFilter, trace_id},
    store::log::{AuditLog, LogRow},
};

pub struct AuditRpc {
    log: AuditLog,
    pagination: PaginationSettings,
}

impl AuditRpc {
    pub fn new(log: AuditLog, pagination: PaginationSettings) -> Self {
        Self { log, pagination }
    }
}

fn audit_event(row: LogRow) -> AuditEvent {
    let changes = match &row.changes {
        serde_json::Value::Object(object) => regal_proto::json::object_to_struct(object),
        _ => Default::default(),
    };
    AuditEvent {
        id: row.id.to_string(),
        occurred_at: Some(regal_proto::time::to_timestamp(row.occurred_at)),
        trace_id: trace_id(row.trace_context.as_deref()),
        service: row.service,
        entity: row.entity,
        entity_id: row.entity_id,
        action: row.action,
        actor_id: row.actor_id.map(|id| id.to_string()).unwrap_or_default(),
        actor_role: row.actor_role.unwrap_or_default(),
        request_id: row.request_id.unwrap_or_default(),
        client_addr: row.client_addr.unwrap_or_default(),
        changes: Some(changes),
    }
}

#[tonic::async_trait]
impl AuditService for AuditRpc {
    async fn list_audit_events(
        &self,
        request: Request<ListAuditEventsRequest>,
    ) -> Result<Response<ListAuditEventsResponse>, Status> {
        principal(&request)?.require(Permission::Audit)?;
        let body = request.get_ref();
        let filter = ListFilter::try_from(body).map_err(ServiceError::Validation)?;
        let (skip, limit) = page_bounds(
            Some(&PageRequest {
                skip: body.skip,
                limit: body.limit,
            }),
            &self.pagination,
        )?;
        let mut rows = self
            .log
            .list(&filter, skip, limit)
            .await
            .map_err(ServiceError::from)?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last()
                .map(|row| {
                    Cursor {
                        occurred_at: row.occurred_at,
                        id: row.id,
                    }
                    .encode()
                })
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(ListAuditEventsResponse {
            events: rows.into_iter().map(audit_event).collect(),
            next_cursor,
        }))
    }

    async fn verify_chain(
        &self,
        request: Request<VerifyChainRequest>,
    ) -> Result<Response<VerifyChainResponse>, Status> {
        principal(&request)?.require(Permission::Audit)?;
        let verification = self.log.verify().await.map_err(ServiceError::from)?;
        if !verification.ok {
            tracing::error!(first_bad_id = ?verification.first_bad_id, checked = verification.checked, "audit chain verification failed");
        }
        Ok(Response::new(VerifyChainResponse {
            ok: verification.ok,
            checked: verification.checked,
            first_bad_id: verification.first_bad_id.map(|id| id.to_string()),
        }))
    }
}
