//! `/refunds`: admins do everything, cashiers create and read, employees read.

use axum::{
    Json,
    extract::{Path, State},
    http::HeaderMap,
    response::IntoResponse,
};
use regal_authz::{Action, Permission, Resource};
use regal_proto::{common::v1::PageRequest, sales::v1 as proto, time::to_rfc3339};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http_error::ApiError,
    routes::{
        auth::MessageOut,
        extract::{Authenticated, ListParams, RawJson},
        fields::{created_response, list_response, money_out},
        invoices::{
            ItemIn, client, idempotency_key, items_message, method_name, method_of, time_filter,
        },
    },
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundItemOut {
    product_id: String,
    quantity: i64,
}

/// A refund as the REST contract shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundOut {
    id: String,
    invoice_id: String,
    items: Vec<RefundItemOut>,
    /// Money given back: what was paid for those units.
    amount: String,
    reason: String,
    processed_by: String,
    /// `cash`, `card` or `other`.
    method: &'static str,
    shift_id: Option<String>,
    created_at: Option<String>,
}

impl RefundOut {
    fn from_message(refund: Option<proto::Refund>) -> Result<Self, ApiError> {
        let refund = refund.ok_or_else(|| {
            ApiError::from(tonic::Status::internal("sales service sent no refund"))
        })?;
        let method = method_name(refund.method());
        Ok(Self {
            created_at: to_rfc3339(refund.created_at.as_ref()),
            id: refund.id,
            invoice_id: refund.invoice_id,
            items: refund
                .items
                .into_iter()
                .map(|item| RefundItemOut {
                    product_id: item.product_id,
                    quantity: item.quantity,
                })
                .collect(),
            amount: money_out(refund.amount),
            reason: refund.reason,
            processed_by: refund.processed_by,
            method,
            shift_id: refund.shift_id,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRefundBody {
    invoice_id: String,
    items: Vec<ItemIn>,
    reason: Option<String>,
    /// `cash` (default), `card` or `other`.
    method: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateRefundBody {
    reason: Option<String>,
}

const fn refunds(action: Action) -> Permission {
    Permission::Crud(Resource::Refunds, action)
}

/// Refunds, newest first; voided refunds are left out. Filters `invoice_id`, `from`, `to`.
#[utoipa::path(get, path = "/refunds", tag = "refunds", security(("bearer" = [])),
    params(("skip" = Option<i64>, Query), ("limit" = Option<i64>, Query),
           ("invoice_id" = Option<String>, Query), ("from" = Option<String>, Query),
           ("to" = Option<String>, Query)),
    responses((status = 200, body = [RefundOut]), (status = 401), (status = 403), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(refunds(Action::Read))?;
    let request = caller.call.request(proto::ListRefundsRequest {
        page: Some(PageRequest {
            skip: params.skip,
            limit: params.limit,
        }),
        invoice_id: params.text("invoice_id"),
        from: time_filter(&params, "from", false)?,
        to: time_filter(&params, "to", true)?,
    });
    let response = client(&state).list_refunds(request).await?.into_inner();
    let total = response
        .page
        .map(|page| page.total_count)
        .unwrap_or_default();
    let items = response
        .refunds
        .into_iter()
        .map(|refund| RefundOut::from_message(Some(refund)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(items, total))
}

/// Refunds units of a paid invoice (409 beyond what was sold minus already refunded),
/// restocks them and moves the invoice to partially_refunded or refunded.
/// `Idempotency-Key` makes a retry return the first refund.
#[utoipa::path(post, path = "/refunds", tag = "refunds", security(("bearer" = [])),
    request_body = CreateRefundBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = RefundOut), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "Refund exceeds the sale"), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authenticated,
    headers: HeaderMap,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(refunds(Action::Create))?;
    let body: CreateRefundBody = body.parse()?;
    let method = match body.method.as_deref() {
        None => proto::PaymentMethod::Unspecified,
        Some(name) => match method_of(name) {
            proto::PaymentMethod::Unspecified => {
                return Err(ApiError(regal_errors::RestError::validation(&[
                    regal_errors::FieldViolation::new(
                        "method",
                        "enum",
                        "Input should be 'cash', 'card' or 'other'",
                    ),
                ])));
            }
            method => method,
        },
    };
    let request = caller.call.request(proto::CreateRefundRequest {
        invoice_id: body.invoice_id,
        items: items_message(body.items),
        reason: body.reason.unwrap_or_default(),
        idempotency_key: idempotency_key(&headers)?,
        method: method as i32,
    });
    let response = client(&state).create_refund(request).await?.into_inner();
    let refund = RefundOut::from_message(response.refund)?;
    Ok(created_response(format!("/refunds/{}", refund.id), refund))
}

#[utoipa::path(get, path = "/refunds/{id}", tag = "refunds", security(("bearer" = [])),
    responses((status = 200, body = RefundOut), (status = 404), (status = 422)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<RefundOut>, ApiError> {
    caller.require(refunds(Action::Read))?;
    let response = client(&state)
        .get_refund(caller.call.request(proto::GetRefundRequest { id }))
        .await?
        .into_inner();
    RefundOut::from_message(response.refund).map(Json)
}

/// Changes only the reason.
#[utoipa::path(put, path = "/refunds/{id}", tag = "refunds", security(("bearer" = [])),
    request_body = UpdateRefundBody,
    responses((status = 200, body = RefundOut), (status = 403), (status = 404), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<RefundOut>, ApiError> {
    caller.require(refunds(Action::Update))?;
    let body: UpdateRefundBody = body.parse()?;
    let response = client(&state)
        .update_refund(caller.call.request(proto::UpdateRefundRequest {
            id,
            reason: body.reason,
        }))
        .await?
        .into_inner();
    RefundOut::from_message(response.refund).map(Json)
}

/// Voids the refund (admin): takes its stock back out (409 if that would take stock below
/// zero) and recomputes the invoice's status.
#[utoipa::path(delete, path = "/refunds/{id}", tag = "refunds", security(("bearer" = [])),
    responses((status = 200, body = MessageOut), (status = 403), (status = 404), (status = 409)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, ApiError> {
    caller.require(refunds(Action::Delete))?;
    let response = client(&state)
        .delete_refund(caller.call.request(proto::DeleteRefundRequest { id }))
        .await?;
    Ok(Json(response.into_inner().into()))
}
