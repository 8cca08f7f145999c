//! `/vendors`: admins do everything, employees create, read and update.

use axum::{
    Json,
    extract::{Path, State},
    response::IntoResponse,
};
use regal_authz::{Action, Permission, Resource};
use regal_proto::{
    catalog::v1::{self as proto, catalog_service_client::CatalogServiceClient},
    common::v1::PageRequest,
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
        fields::{
            MoneyIn, created_response, from_struct, list_response, money, money_out, to_struct,
        },
    },
    state::{AppState, Service},
};

/// A vendor as the REST contract shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct VendorOut {
    id: String,
    name: String,
    #[schema(value_type = Object)]
    contacts: Value,
    #[schema(value_type = Object)]
    terms: Value,
    /// Money owed to the vendor, a two-decimal string.
    balance: String,
    is_active: bool,
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl VendorOut {
    fn from_message(vendor: Option<proto::Vendor>) -> Result<Self, ApiError> {
        let vendor = vendor.ok_or_else(|| {
            ApiError::from(tonic::Status::internal("catalog service sent no vendor"))
        })?;
        Ok(Self {
            created_at: to_rfc3339(vendor.created_at.as_ref()),
            updated_at: to_rfc3339(vendor.updated_at.as_ref()),
            contacts: from_struct(vendor.contacts),
            terms: from_struct(vendor.terms),
            balance: money_out(vendor.balance),
            id: vendor.id,
            name: vendor.name,
            is_active: vendor.is_active,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateVendorBody {
    name: String,
    #[schema(value_type = Option<Object>)]
    contacts: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    terms: Option<Map<String, Value>>,
    #[schema(value_type = Option<String>)]
    balance: Option<MoneyIn>,
}

/// A partial update: absent fields stay; `contacts` and `terms` are replaced whole.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateVendorBody {
    name: Option<String>,
    #[schema(value_type = Option<Object>)]
    contacts: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    terms: Option<Map<String, Value>>,
    #[schema(value_type = Option<String>)]
    balance: Option<MoneyIn>,
    is_active: Option<bool>,
}

fn client(state: &AppState) -> CatalogServiceClient<tonic::transport::Channel> {
    CatalogServiceClient::new(state.channel(Service::Catalog))
}

const fn vendors(action: Action) -> Permission {
    Permission::Crud(Resource::Vendors, action)
}

/// Lists vendors, newest first; archived ones only with `include_inactive=true`.
#[utoipa::path(get, path = "/vendors", tag = "vendors", security(("bearer" = [])),
    params(("skip" = Option<i64>, Query), ("limit" = Option<i64>, Query),
           ("search" = Option<String>, Query), ("include_inactive" = Option<bool>, Query)),
    responses((status = 200, body = [VendorOut]), (status = 401), (status = 403), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(vendors(Action::Read))?;
    let request = caller.call.request(proto::ListVendorsRequest {
        page: Some(PageRequest {
            skip: params.skip,
            limit: params.limit,
        }),
        search: params.text("search"),
        include_inactive: params.include_inactive,
    });
    let response = client(&state).list_vendors(request).await?.into_inner();
    let total = response
        .page
        .map(|page| page.total_count)
        .unwrap_or_default();
    let items = response
        .vendors
        .into_iter()
        .map(|vendor| VendorOut::from_message(Some(vendor)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(items, total))
}

#[utoipa::path(post, path = "/vendors", tag = "vendors", security(("bearer" = [])),
    request_body = CreateVendorBody,
    responses((status = 201, body = VendorOut), (status = 401), (status = 403), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authenticated,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(vendors(Action::Create))?;
    let body: CreateVendorBody = body.parse()?;
    let request = caller.call.request(proto::CreateVendorRequest {
        name: body.name,
        contacts: to_struct(body.contacts),
        terms: to_struct(body.terms),
        balance: money(body.balance),
    });
    let response = client(&state).create_vendor(request).await?.into_inner();
    let vendor = VendorOut::from_message(response.vendor)?;
    Ok(created_response(format!("/vendors/{}", vendor.id), vendor))
}

#[utoipa::path(get, path = "/vendors/{id}", tag = "vendors", security(("bearer" = [])),
    responses((status = 200, body = VendorOut), (status = 404), (status = 422)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<VendorOut>, ApiError> {
    caller.require(vendors(Action::Read))?;
    let response = client(&state)
        .get_vendor(caller.call.request(proto::GetVendorRequest { id }))
        .await?
        .into_inner();
    VendorOut::from_message(response.vendor).map(Json)
}

#[utoipa::path(put, path = "/vendors/{id}", tag = "vendors", security(("bearer" = [])),
    request_body = UpdateVendorBody,
    responses((status = 200, body = VendorOut), (status = 404), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<VendorOut>, ApiError> {
    caller.require(vendors(Action::Update))?;
    let body: UpdateVendorBody = body.parse()?;
    let request = caller.call.request(proto::UpdateVendorRequest {
        id,
        name: body.name,
        contacts: to_struct(body.contacts),
        terms: to_struct(body.terms),
        balance: money(body.balance),
        is_active: body.is_active,
    });
    let response = client(&state).update_vendor(request).await?.into_inner();
    VendorOut::from_message(response.vendor).map(Json)
}

/// Archives a vendor (admin); its products keep their `vendor_id`.
#[utoipa::path(delete, path = "/vendors/{id}", tag = "vendors", security(("bearer" = [])),
    responses((status = 200, body = MessageOut), (status = 403), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, ApiError> {
    caller.require(vendors(Action::Delete))?;
    let response = client(&state)
        .delete_vendor(caller.call.request(proto::DeleteVendorRequest { id }))
        .await?;
    Ok(Json(response.into_inner().into()))
}
