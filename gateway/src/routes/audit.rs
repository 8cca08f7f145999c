//! `/audit`: the audit log, newest first, and the verification of its hash chain. Admin only.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue},
    response::IntoResponse,
};
use chrono::{DateTime, NaiveDate, Utc};
use regal_authz::Permission;
use regal_errors::{FieldViolation, RestError};
use regal_proto::{
    audit::v1::{self as proto, audit_service_client::AuditServiceClient},
    time::{to_rfc3339, to_timestamp},
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::{
    http_error::ApiError,
    routes::{
        extract::{Authenticated, ListParams},
        fields::from_struct,
    },
    state::{AppState, Service},
};

/// One recorded action.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventOut {
    id: String,
    occurred_at: Option<String>,
    /// `auth`, `catalog` or `sales`.
    service: String,
    entity: String,
    entity_id: String,
    action: String,
    actor_id: Option<String>,
    actor_role: Option<String>,
    request_id: Option<String>,
    /// The client's address as the gateway saw it.
    client_addr: Option<String>,
    /// OpenTelemetry trace id of the request, when traced.
    trace_id: Option<String>,
    /// What changed: the created object, or `{"before": .., "after": ..}`.
    #[schema(value_type = Object)]
    changes: Value,
}

impl From<proto::AuditEvent> for AuditEventOut {
    fn from(event: proto::AuditEvent) -> Self {
        let present = |text: String| Some(text).filter(|text| !text.is_empty());
        Self {
            occurred_at: to_rfc3339(event.occurred_at.as_ref()),
            changes: from_struct(event.changes),
            id: event.id,
            service: event.service,
            entity: event.entity,
            entity_id: event.entity_id,
            action: event.action,
            actor_id: present(event.actor_id),
            actor_role: present(event.actor_role),
            request_id: present(event.request_id),
            client_addr: present(event.client_addr),
            trace_id: present(event.trace_id),
        }
    }
}

/// The result of recomputing the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyOut {
    ok: bool,
    checked: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_bad_id: Option<String>,
}

fn client(state: &AppState) -> AuditServiceClient<tonic::transport::Channel> {
    AuditServiceClient::new(state.channel(Service::Audit))
}

/// An RFC 3339 time, or a date (midnight UTC).
fn parse_time(name: &str, value: &str) -> Result<DateTime<Utc>, FieldViolation> {
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Ok(time.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc())
        .ok_or_else(|| {
            FieldViolation::new(
                format!("query.{name}"),
                "datetime_parsing",
                "Input should be a valid datetime (RFC 3339) or date (YYYY-MM-DD)",
            )
        })
}

/// Audit events, newest first. The next page's cursor comes in `X-Next-Cursor` (absent on
/// the last page); `skip` also works for small offsets. No `X-Total-Count`: counting a
/// multi-year log on every page would cost more than the page.
#[utoipa::path(get, path = "/audit", tag = "audit", security(("bearer" = [])),
    params(("entity" = Option<String>, Query), ("entity_id" = Option<String>, Query),
           ("action" = Option<String>, Query), ("user_id" = Option<String>, Query),
           ("from" = Option<String>, Query, description = "RFC 3339 time or date, inclusive"),
           ("to" = Option<String>, Query, description = "RFC 3339 time or date, exclusive"),
           ("limit" = Option<i64>, Query), ("skip" = Option<i64>, Query),
           ("cursor" = Option<String>, Query)),
    responses((status = 200, body = [AuditEventOut]), (status = 401), (status = 403), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Permission::Audit)?;
    let mut violations = Vec::new();
    let mut time = |name: &str| match params.text(name) {
        None => None,
        Some(value) => match parse_time(name, &value) {
            Ok(time) => Some(to_timestamp(time)),
            Err(violation) => {
                violations.push(violation);
                None
            }
        },
    };
    let from = time("from");
    let to = time("to");
    if !violations.is_empty() {
        return Err(ApiError(RestError::validation(&violations)));
    }
    let request = caller.call.request(proto::ListAuditEventsRequest {
        entity: params.text("entity"),
        entity_id: params.text("entity_id"),
        action: params.text("action"),
        user_id: params.text("user_id"),
        from,
        to,
        limit: params.limit,
        cursor: params.text("cursor").unwrap_or_default(),
        skip: params.skip,
    });
    let response = client(&state)
        .list_audit_events(request)
        .await?
        .into_inner();
    let mut headers = HeaderMap::new();
    if !response.next_cursor.is_empty()
        && let Ok(cursor) = HeaderValue::from_str(&response.next_cursor)
    {
        headers.insert("x-next-cursor", cursor);
    }
    let events: Vec<AuditEventOut> = response.events.into_iter().map(Into::into).collect();
    Ok((headers, Json(events)))
}

/// Recomputes the hash chain of the whole log and reports the first row that does not
/// match.
#[utoipa::path(get, path = "/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = VerifyOut), (status = 401), (status = 403)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Result<Json<VerifyOut>, ApiError> {
    caller.require(Permission::Audit)?;
    let response = client(&state)
        .verify_chain(caller.call.request(proto::VerifyChainRequest {}))
        .await?
        .into_inner();
    Ok(Json(VerifyOut {
        ok: response.ok,
        checked: response.checked,
        first_bad_id: response.first_bad_id,
    }))
}
