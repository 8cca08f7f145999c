//! `/custom-orders`: admins do everything; cashiers and employees create, read and update.

use axum::{
    Json,
    extract::{Path, State},
    response::IntoResponse,
};
use regal_authz::{Action, Permission, Resource};
use regal_errors::{FieldViolation, RestError};
use regal_proto::{
    common::v1::PageRequest,
    sales::v1::{self as proto, CustomOrderStatus, sales_service_client::SalesServiceClient},
    time::to_rfc3339,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::{
    http_error::ApiError,
    routes::{
        auth::MessageOut,
        extract::{Authenticated, ListParams, RawJson},
        fields::{created_response, from_struct, list_response, nullable, to_struct},
    },
    state::{AppState, Service},
};

/// A custom order as the REST contract shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomOrderOut {
    id: String,
    customer_id: Option<String>,
    /// Free-form order details (measurements, material, due date, ...).
    #[schema(value_type = Object)]
    fields: Value,
    /// `pending`, `in_progress`, `completed` or `cancelled`.
    status: &'static str,
    /// The invoice that bills it, once billed.
    linked_invoice: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl CustomOrderOut {
    fn from_message(order: Option<proto::CustomOrder>) -> Result<Self, ApiError> {
        let order = order.ok_or_else(|| {
            ApiError::from(tonic::Status::internal(
                "sales service sent no custom order",
            ))
        })?;
        let status = status_name(order.status()).ok_or_else(|| {
            ApiError::from(tonic::Status::internal(
                "sales service sent a custom order without a status",
            ))
        })?;
        Ok(Self {
            created_at: to_rfc3339(order.created_at.as_ref()),
            updated_at: to_rfc3339(order.updated_at.as_ref()),
            fields: from_struct(order.fields),
            id: order.id,
            customer_id: order.customer_id,
            status,
            linked_invoice: order.linked_invoice,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCustomOrderBody {
    /// An existing, active customer (404 unknown, 409 archived).
    customer_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    fields: Option<Map<String, Value>>,
    /// Default `pending`.
    status: Option<String>,
    /// An existing invoice (404 otherwise).
    linked_invoice: Option<String>,
}

/// A partial update: absent fields stay; `fields` is replaced whole; `null` or `""`
/// removes `customer_id` or `linked_invoice`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateCustomOrderBody {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    customer_id: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    fields: Option<Map<String, Value>>,
    status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    linked_invoice: Option<Option<String>>,
}

fn client(state: &AppState) -> SalesServiceClient<tonic::transport::Channel> {
    SalesServiceClient::new(state.channel(Service::Sales))
}

const fn custom_orders(action: Action) -> Permission {
    Permission::Crud(Resource::CustomOrders, action)
}

fn status_name(status: CustomOrderStatus) -> Option<&'static str> {
    Some(match status {
        CustomOrderStatus::Pending => "pending",
        CustomOrderStatus::InProgress => "in_progress",
        CustomOrderStatus::Completed => "completed",
        CustomOrderStatus::Cancelled => "cancelled",
        CustomOrderStatus::Unspecified => return None,
    })
}

/// A status by its REST name (any case); 422 at `field` for anything else.
fn parse_status(field: &str, name: &str) -> Result<CustomOrderStatus, ApiError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "pending" => Ok(CustomOrderStatus::Pending),
        "in_progress" => Ok(CustomOrderStatus::InProgress),
        "completed" => Ok(CustomOrderStatus::Completed),
        "cancelled" => Ok(CustomOrderStatus::Cancelled),
        _ => Err(ApiError(RestError::validation(&[FieldViolation::new(
            field,
            "enum",
            "Input should be 'pending', 'in_progress', 'completed' or 'cancelled'",
        )]))),
    }
}

/// Lists custom orders, newest first, optionally of one `status` or one `customer_id`.
#[utoipa::path(get, path = "/custom-orders", tag = "custom orders", security(("bearer" = [])),
    params(("skip" = Option<i64>, Query), ("limit" = Option<i64>, Query),
           ("status" = Option<String>, Query, description = "pending, in_progress, completed or cancelled"),
           ("customer_id" = Option<String>, Query)),
    responses((status = 200, body = [CustomOrderOut]), (status = 401), (status = 403), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(custom_orders(Action::Read))?;
    let status = match params.text("status") {
        None => CustomOrderStatus::Unspecified,
        Some(name) => parse_status("query.status", &name)?,
    };
    let request = caller.call.request(proto::ListCustomOrdersRequest {
        page: Some(PageRequest {
            skip: params.skip,
            limit: params.limit,
        }),
        status: status as i32,
        customer_id: params.text("customer_id"),
    });
    let response = client(&state)
        .list_custom_orders(request)
        .await?
        .into_inner();
    let total = response
        .page
        .map(|page| page.total_count)
        .unwrap_or_default();
    let items = response
        .custom_orders
        .into_iter()
        .map(|order| CustomOrderOut::from_message(Some(order)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(items, total))
}

#[utoipa::path(post, path = "/custom-orders", tag = "custom orders", security(("bearer" = [])),
    request_body = CreateCustomOrderBody,
    responses((status = 201, body = CustomOrderOut), (status = 401), (status = 403),
              (status = 404, description = "Unknown customer or invoice"),
              (status = 409, description = "Archived customer"), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authenticated,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(custom_orders(Action::Create))?;
    let body: CreateCustomOrderBody = body.parse()?;
    let status = match body.status.as_deref() {
        None => CustomOrderStatus::Unspecified,
        Some(name) => parse_status("status", name)?,
    };
    let request = caller.call.request(proto::CreateCustomOrderRequest {
        customer_id: body.customer_id,
        fields: to_struct(body.fields),
        status: status as i32,
        linked_invoice: body.linked_invoice,
    });
    let response = client(&state)
        .create_custom_order(request)
        .await?
        .into_inner();
    let order = CustomOrderOut::from_message(response.custom_order)?;
    Ok(created_response(
        format!("/custom-orders/{}", order.id),
        order,
    ))
}

#[utoipa::path(get, path = "/custom-orders/{id}", tag = "custom orders", security(("bearer" = [])),
    responses((status = 200, body = CustomOrderOut), (status = 401), (status = 403),
              (status = 404), (status = 422)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<CustomOrderOut>, ApiError> {
    caller.require(custom_orders(Action::Read))?;
    let response = client(&state)
        .get_custom_order(caller.call.request(proto::GetCustomOrderRequest { id }))
        .await?
        .into_inner();
    CustomOrderOut::from_message(response.custom_order).map(Json)
}

#[utoipa::path(put, path = "/custom-orders/{id}", tag = "custom orders", security(("bearer" = [])),
    request_body = UpdateCustomOrderBody,
    responses((status = 200, body = CustomOrderOut), (status = 401), (status = 403),
              (status = 404), (status = 409, description = "Archived customer"), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<CustomOrderOut>, ApiError> {
    caller.require(custom_orders(Action::Update))?;
    let body: UpdateCustomOrderBody = body.parse()?;
    let status = body
        .status
        .as_deref()
        .map(|name| parse_status("status", name))
        .transpose()?;
    let request = caller.call.request(proto::UpdateCustomOrderRequest {
        id,
        customer_id: body.customer_id.map(Option::unwrap_or_default),
        fields: to_struct(body.fields),
        status: status.map(|status| status as i32),
        linked_invoice: body.linked_invoice.map(Option::unwrap_or_default),
    });
    let response = client(&state)
        .update_custom_order(request)
        .await?
        .into_inner();
    CustomOrderOut::from_message(response.custom_order).map(Json)
}

/// Erases a custom order (admin); the audit log keeps what it was.
#[utoipa::path(delete, path = "/custom-orders/{id}", tag = "custom orders", security(("bearer" = [])),
    responses((status = 200, body = MessageOut), (status = 401), (status = 403), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, ApiError> {
    caller.require(custom_orders(Action::Delete))?;
    let response = client(&state)
        .delete_custom_order(caller.call.request(proto::DeleteCustomOrderRequest { id }))
        .await?;
    Ok(Json(response.into_inner().into()))
}
