//! `/stock`: the stock ledger. Admins do everything, employees create, read and update,
//! cashiers read.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
};
use regal_authz::{Action, Permission, Resource};
use regal_errors::{FieldViolation, RestError};
use regal_proto::{
    catalog::v1::{self as proto, StockEntryType, catalog_service_client::CatalogServiceClient},
    common::v1::PageRequest,
    time::to_rfc3339,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http_error::ApiError,
    routes::{
        auth::MessageOut,
        extract::{Authenticated, ListParams, RawJson},
        fields::{created_response, list_response, nullable},
    },
    state::{AppState, Service},
};

/// A stock entry as the REST contract shows it.
///
/// `type` is `IN`, `OUT` or `ADJUST` as the contract has it; the entries the catalog
/// posts itself appear as the movement they are (a sale as `OUT`, a refund as `IN`, a
/// reversal as a signed `ADJUST`), so the level is always the sum of `IN` minus `OUT` plus
/// `ADJUST`. `ledger_type` tells them apart: `IN`, `OUT`, `ADJUST`, `SALE`, `REFUND` or
/// `REVERSAL`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockEntryOut {
    id: String,
    product_id: String,
    qty: i64,
    #[serde(rename = "type")]
    entry_type: &'static str,
    ledger_type: &'static str,
    location: String,
    batch: String,
    /// `YYYY-MM-DD`, or null.
    expiry: Option<String>,
    #[serde(rename = "ref")]
    reference: String,
    created_by: Option<String>,
    created_at: Option<String>,
}

impl StockEntryOut {
    fn from_message(entry: Option<proto::StockEntry>) -> Result<Self, ApiError> {
        let entry = entry.ok_or_else(|| {
            ApiError::from(tonic::Status::internal(
                "catalog service sent no stock entry",
            ))
        })?;
        let (entry_type, ledger_type) = match entry.r#type() {
            StockEntryType::In => ("IN", "IN"),
            StockEntryType::Out => ("OUT", "OUT"),
            StockEntryType::Adjust => ("ADJUST", "ADJUST"),
            StockEntryType::Sale => ("OUT", "SALE"),
            StockEntryType::Refund => ("IN", "REFUND"),
            StockEntryType::Reversal => ("ADJUST", "REVERSAL"),
            StockEntryType::Unspecified => ("ADJUST", "UNSPECIFIED"),
        };
        Ok(Self {
            created_at: to_rfc3339(entry.created_at.as_ref()),
            id: entry.id,
            product_id: entry.product_id,
            qty: entry.qty,
            entry_type,
            ledger_type,
            location: entry.location,
            batch: entry.batch,
            expiry: Some(entry.expiry).filter(|date| !date.is_empty()),
            reference: entry.r#ref,
            created_by: Some(entry.created_by).filter(|id| !id.is_empty()),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateStockEntryBody {
    product_id: String,
    /// Positive for `IN` and `OUT`; signed and non-zero for `ADJUST`.
    qty: i64,
    /// `IN`, `OUT` or `ADJUST`.
    #[serde(rename = "type")]
    entry_type: String,
    location: Option<String>,
    batch: Option<String>,
    /// `YYYY-MM-DD`.
    expiry: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

/// Only the descriptive fields of an entry change; `expiry: null` clears it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateStockEntryBody {
    location: Option<String>,
    batch: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    expiry: Option<Option<String>>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

fn client(state: &AppState) -> CatalogServiceClient<tonic::transport::Channel> {
    CatalogServiceClient::new(state.channel(Service::Catalog))
}

const fn stock(action: Action) -> Permission {
    Permission::Crud(Resource::Stock, action)
}

/// A ledger type by name (any case); `None` for an unknown one.
fn entry_type(name: &str) -> Option<StockEntryType> {
    Some(match name.trim().to_ascii_uppercase().as_str() {
        "IN" => StockEntryType::In,
        "OUT" => StockEntryType::Out,
        "ADJUST" => StockEntryType::Adjust,
        "SALE" => StockEntryType::Sale,
        "REFUND" => StockEntryType::Refund,
        "REVERSAL" => StockEntryType::Reversal,
        _ => return None,
    })
}

/// Lists stock entries, newest first, optionally of one product (`product_id`) or one
/// ledger type (`type`).
#[utoipa::path(get, path = "/stock", tag = "stock", security(("bearer" = [])),
    params(("skip" = Option<i64>, Query), ("limit" = Option<i64>, Query),
           ("product_id" = Option<String>, Query),
           ("type" = Option<String>, Query, description = "IN, OUT, ADJUST, SALE, REFUND or REVERSAL")),
    responses((status = 200, body = [StockEntryOut]), (status = 401), (status = 403), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(stock(Action::Read))?;
    let type_filter = match params.text("type") {
        None => StockEntryType::Unspecified,
        Some(name) => entry_type(&name).ok_or_else(|| {
            ApiError(RestError::validation(&[FieldViolation::new(
                "query.type",
                "enum",
                "Input should be 'IN', 'OUT', 'ADJUST', 'SALE', 'REFUND' or 'REVERSAL'",
            )]))
        })?,
    };
    let request = caller.call.request(proto::ListStockEntriesRequest {
        page: Some(PageRequest {
            skip: params.skip,
            limit: params.limit,
        }),
        product_id: params.text("product_id"),
        r#type: type_filter as i32,
    });
    let response = client(&state)
        .list_stock_entries(request)
        .await?
        .into_inner();
    let total = response
        .page
        .map(|page| page.total_count)
        .unwrap_or_default();
    let items = response
        .entries
        .into_iter()
        .map(|entry| StockEntryOut::from_message(Some(entry)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(items, total))
}

/// Posts an `IN`, `OUT` or `ADJUST` entry and moves the product's level by it; 409 if it
/// would take stock below zero. An `Idempotency-Key` header makes a retry return the
/// first entry.
#[utoipa::path(post, path = "/stock", tag = "stock", security(("bearer" = [])),
    request_body = CreateStockEntryBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = StockEntryOut), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "Not enough stock"), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authenticated,
    headers: HeaderMap,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(stock(Action::Create))?;
    let body: CreateStockEntryBody = body.parse()?;
    let idempotency_key = match headers.get("idempotency-key") {
        None => String::new(),
        Some(value) => value
            .to_str()
            .map(|key| key.trim().to_owned())
            .map_err(|_| {
                ApiError::detail(
                    StatusCode::BAD_REQUEST,
                    "Idempotency-Key must be visible ASCII",
                )
            })?,
    };
    let entry_type = match body.entry_type.trim().to_ascii_uppercase().as_str() {
        "IN" => StockEntryType::In,
        "OUT" => StockEntryType::Out,
        "ADJUST" => StockEntryType::Adjust,
        _ => StockEntryType::Unspecified,
    };
    let request = caller.call.request(proto::CreateStockEntryRequest {
        product_id: body.product_id,
        qty: body.qty,
        r#type: entry_type as i32,
        location: body.location.unwrap_or_default(),
        batch: body.batch.unwrap_or_default(),
        expiry: body.expiry.unwrap_or_default(),
        r#ref: body.reference.unwrap_or_default(),
        idempotency_key,
    });
    let response = client(&state)
        .create_stock_entry(request)
        .await?
        .into_inner();
    let entry = StockEntryOut::from_message(response.entry)?;
    Ok(created_response(format!("/stock/{}", entry.id), entry))
}

#[utoipa::path(get, path = "/stock/{id}", tag = "stock", security(("bearer" = [])),
    responses((status = 200, body = StockEntryOut), (status = 404), (status = 422)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<StockEntryOut>, ApiError> {
    caller.require(stock(Action::Read))?;
    let response = client(&state)
        .get_stock_entry(caller.call.request(proto::GetStockEntryRequest { id }))
        .await?
        .into_inner();
    StockEntryOut::from_message(response.entry).map(Json)
}

/// Changes `location`, `batch`, `expiry` or `ref` only; what an entry moved never changes.
#[utoipa::path(put, path = "/stock/{id}", tag = "stock", security(("bearer" = [])),
    request_body = UpdateStockEntryBody,
    responses((status = 200, body = StockEntryOut), (status = 404), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<StockEntryOut>, ApiError> {
    caller.require(stock(Action::Update))?;
    let body: UpdateStockEntryBody = body.parse()?;
    let request = caller.call.request(proto::UpdateStockEntryRequest {
        id,
        location: body.location,
        batch: body.batch,
        expiry: body.expiry.map(Option::unwrap_or_default),
        r#ref: body.reference,
    });
    let response = client(&state)
        .update_stock_entry(request)
        .await?
        .into_inner();
    StockEntryOut::from_message(response.entry).map(Json)
}

/// Posts a reversing entry (admin); the original stays in the ledger. 409 if the reversal
/// would take stock below zero, the entry is already reversed, or it belongs to a sale or
/// refund.
#[utoipa::path(delete, path = "/stock/{id}", tag = "stock", security(("bearer" = [])),
    responses((status = 200, body = MessageOut), (status = 403), (status = 404), (status = 409)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, ApiError> {
    caller.require(stock(Action::Delete))?;
    let response = client(&state)
        .delete_stock_entry(caller.call.request(proto::DeleteStockEntryRequest { id }))
        .await?;
    Ok(Json(response.into_inner().into()))
}
