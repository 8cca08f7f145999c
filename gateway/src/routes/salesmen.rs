//! `/salesman` (also `/salesmen`): admins do everything; employees create, read and
//! update; cashiers read.

use axum::{
    Json,
    extract::{Path, State},
    response::IntoResponse,
};
use regal_authz::{Action, Permission, Resource};
use regal_proto::{
    common::v1::PageRequest,
    sales::v1::{self as proto, sales_service_client::SalesServiceClient},
    time::to_rfc3339,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http_error::ApiError,
    routes::{
        auth::MessageOut,
        extract::{Authenticated, ListParams, RawJson},
        fields::{MoneyIn, created_response, list_response, money, money_out},
    },
    state::{AppState, Service},
};

/// The contract's path; `/salesmen` is the same resource.
pub const PATH: &str = "/salesman";
pub const PLURAL_PATH: &str = "/salesmen";

/// A salesman as the REST contract shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct SalesmanOut {
    id: String,
    name: String,
    /// Unique ignoring case; stored in upper case.
    code: String,
    /// Percentage of the net sales, a two-decimal string (`"2.50"` = 2.5 %).
    commission_rate: String,
    /// False once archived (deleted).
    is_active: bool,
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl SalesmanOut {
    fn from_message(salesman: Option<proto::Salesman>) -> Result<Self, ApiError> {
        let salesman = salesman.ok_or_else(|| {
            ApiError::from(tonic::Status::internal("sales service sent no salesman"))
        })?;
        Ok(Self {
            created_at: to_rfc3339(salesman.created_at.as_ref()),
            updated_at: to_rfc3339(salesman.updated_at.as_ref()),
            commission_rate: money_out(salesman.commission_rate),
            id: salesman.id,
            name: salesman.name,
            code: salesman.code,
            is_active: salesman.is_active,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateSalesmanBody {
    name: String,
    /// 1–20 letters, digits, `-` or `_`; unique ignoring case (409).
    code: String,
    /// 0–100; default 0.
    #[schema(value_type = Option<String>)]
    commission_rate: Option<MoneyIn>,
}

/// A partial update: absent fields stay; `is_active: true` restores an archived salesman.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateSalesmanBody {
    name: Option<String>,
    code: Option<String>,
    #[schema(value_type = Option<String>)]
    commission_rate: Option<MoneyIn>,
    is_active: Option<bool>,
}

fn client(state: &AppState) -> SalesServiceClient<tonic::transport::Channel> {
    SalesServiceClient::new(state.channel(Service::Sales))
}

const fn salesmen(action: Action) -> Permission {
    Permission::Crud(Resource::Salesmen, action)
}

/// Lists salesmen, newest first; `search` matches the name or code (any case); archived
/// ones only with `include_inactive=true`.
#[utoipa::path(get, path = "/salesman", tag = "salesmen", security(("bearer" = [])),
    params(("skip" = Option<i64>, Query), ("limit" = Option<i64>, Query),
           ("search" = Option<String>, Query), ("include_inactive" = Option<bool>, Query)),
    responses((status = 200, body = [SalesmanOut]), (status = 401), (status = 403), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(salesmen(Action::Read))?;
    let request = caller.call.request(proto::ListSalesmenRequest {
        page: Some(PageRequest {
            skip: params.skip,
            limit: params.limit,
        }),
        search: params.text("search"),
        include_inactive: params.include_inactive,
    });
    let response = client(&state).list_salesmen(request).await?.into_inner();
    let total = response
        .page
        .map(|page| page.total_count)
        .unwrap_or_default();
    let items = response
        .salesmen
        .into_iter()
        .map(|salesman| SalesmanOut::from_message(Some(salesman)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(items, total))
}

#[utoipa::path(post, path = "/salesman", tag = "salesmen", security(("bearer" = [])),
    request_body = CreateSalesmanBody,
    responses((status = 201, body = SalesmanOut), (status = 401), (status = 403),
              (status = 409, description = "Code already in use"), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authenticated,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(salesmen(Action::Create))?;
    let body: CreateSalesmanBody = body.parse()?;
    let request = caller.call.request(proto::CreateSalesmanRequest {
        name: body.name,
        code: body.code,
        commission_rate: money(body.commission_rate),
    });
    let response = client(&state).create_salesman(request).await?.into_inner();
    let salesman = SalesmanOut::from_message(response.salesman)?;
    Ok(created_response(
        format!("{PATH}/{}", salesman.id),
        salesman,
    ))
}

/// One salesman by id, archived ones too.
#[utoipa::path(get, path = "/salesman/{id}", tag = "salesmen", security(("bearer" = [])),
    responses((status = 200, body = SalesmanOut), (status = 401), (status = 403), (status = 404),
              (status = 422)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<SalesmanOut>, ApiError> {
    caller.require(salesmen(Action::Read))?;
    let response = client(&state)
        .get_salesman(caller.call.request(proto::GetSalesmanRequest { id }))
        .await?
        .into_inner();
    SalesmanOut::from_message(response.salesman).map(Json)
}

#[utoipa::path(put, path = "/salesman/{id}", tag = "salesmen", security(("bearer" = [])),
    request_body = UpdateSalesmanBody,
    responses((status = 200, body = SalesmanOut), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "Code already in use"), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<SalesmanOut>, ApiError> {
    caller.require(salesmen(Action::Update))?;
    let body: UpdateSalesmanBody = body.parse()?;
    let request = caller.call.request(proto::UpdateSalesmanRequest {
        id,
        name: body.name,
        code: body.code,
        commission_rate: money(body.commission_rate),
        is_active: body.is_active,
    });
    let response = client(&state).update_salesman(request).await?.into_inner();
    SalesmanOut::from_message(response.salesman).map(Json)
}

/// Archives a salesman (admin): gone from lists, still readable by id; their code stays
/// taken.
#[utoipa::path(delete, path = "/salesman/{id}", tag = "salesmen", security(("bearer" = [])),
    responses((status = 200, body = MessageOut), (status = 401), (status = 403), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, ApiError> {
    caller.require(salesmen(Action::Delete))?;
    let response = client(&state)
        .delete_salesman(caller.call.request(proto::DeleteSalesmanRequest { id }))
        .await?;
    Ok(Json(response.into_inner().into()))
}

/// Lists `/salesmen` and `/salesmen/{id}` in the OpenAPI document as the same operations
/// as `/salesman` (the router serves both with the same handlers).
pub struct PluralPaths;

impl utoipa::Modify for PluralPaths {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let aliases: Vec<(String, utoipa::openapi::PathItem)> = openapi
            .paths
            .paths
            .iter()
            .filter_map(|(path, item)| {
                let rest = path.strip_prefix(PATH)?;
                (rest.is_empty() || rest.starts_with('/'))
                    .then(|| (format!("{PLURAL_PATH}{rest}"), item.clone()))
            })
            .collect();
        openapi.paths.paths.extend(aliases);
    }
}
