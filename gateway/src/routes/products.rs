//! `/products`: admins do everything, employees create, read and update, cashiers read.

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
            MoneyIn, created_response, from_struct, list_response, money, money_out, nullable,
            to_struct,
        },
    },
    state::{AppState, Service},
};

/// A product as the REST contract shows it. Money and rates are two-decimal strings.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductOut {
    id: String,
    sku: String,
    name: String,
    desc: String,
    unit_price: String,
    cost_price: String,
    /// Percentage: "16.00" = 16 %.
    tax_rate: String,
    /// Percentage taken off the unit price.
    discount: String,
    vendor_id: Option<String>,
    /// Units in stock: the sum of the product's stock entries.
    stock_level: i64,
    barcode: Option<String>,
    category: String,
    branch: String,
    #[schema(value_type = Object)]
    attributes: Value,
    is_active: bool,
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl ProductOut {
    fn from_message(product: Option<proto::Product>) -> Result<Self, ApiError> {
        let product = product.ok_or_else(|| {
            ApiError::from(tonic::Status::internal("catalog service sent no product"))
        })?;
        Ok(Self {
            created_at: to_rfc3339(product.created_at.as_ref()),
            updated_at: to_rfc3339(product.updated_at.as_ref()),
            unit_price: money_out(product.unit_price),
            cost_price: money_out(product.cost_price),
            tax_rate: money_out(product.tax_rate),
            discount: money_out(product.discount),
            attributes: from_struct(product.attributes),
            id: product.id,
            sku: product.sku,
            name: product.name,
            desc: product.desc,
            vendor_id: product.vendor_id,
            stock_level: product.stock_level,
            barcode: product.barcode,
            category: product.category,
            branch: product.branch,
            is_active: product.is_active,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateProductBody {
    sku: String,
    name: String,
    desc: Option<String>,
    /// A number or a decimal string, at most two decimals.
    #[schema(value_type = String)]
    unit_price: MoneyIn,
    #[schema(value_type = Option<String>)]
    cost_price: Option<MoneyIn>,
    #[schema(value_type = Option<String>)]
    tax_rate: Option<MoneyIn>,
    #[schema(value_type = Option<String>)]
    discount: Option<MoneyIn>,
    vendor_id: Option<String>,
    /// Opening stock, posted as an `IN` stock entry.
    stock_level: Option<i64>,
    barcode: Option<String>,
    category: Option<String>,
    branch: Option<String>,
    #[schema(value_type = Option<Object>)]
    attributes: Option<Map<String, Value>>,
    is_active: Option<bool>,
}

/// A partial update: absent fields stay. `vendor_id` and `barcode` may be `null` to
/// clear them.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateProductBody {
    sku: Option<String>,
    name: Option<String>,
    desc: Option<String>,
    #[schema(value_type = Option<String>)]
    unit_price: Option<MoneyIn>,
    #[schema(value_type = Option<String>)]
    cost_price: Option<MoneyIn>,
    #[schema(value_type = Option<String>)]
    tax_rate: Option<MoneyIn>,
    #[schema(value_type = Option<String>)]
    discount: Option<MoneyIn>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    vendor_id: Option<Option<String>>,
    /// A stocktake: the counted level, posted as an `ADJUST` entry of the difference.
    stock_level: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    barcode: Option<Option<String>>,
    category: Option<String>,
    branch: Option<String>,
    #[schema(value_type = Option<Object>)]
    attributes: Option<Map<String, Value>>,
    is_active: Option<bool>,
}

fn client(state: &AppState) -> CatalogServiceClient<tonic::transport::Channel> {
    CatalogServiceClient::new(state.channel(Service::Catalog))
}

const fn products(action: Action) -> Permission {
    Permission::Crud(Resource::Products, action)
}

/// Lists products, newest first; archived ones only with `include_inactive=true`. The
/// total is in `X-Total-Count`.
#[utoipa::path(get, path = "/products", tag = "products", security(("bearer" = [])),
    params(("skip" = Option<i64>, Query), ("limit" = Option<i64>, Query),
           ("search" = Option<String>, Query, description = "Substring of name, sku, barcode or category"),
           ("category" = Option<String>, Query), ("barcode" = Option<String>, Query),
           ("sku" = Option<String>, Query), ("include_inactive" = Option<bool>, Query)),
    responses((status = 200, body = [ProductOut]), (status = 401), (status = 403), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(products(Action::Read))?;
    let request = caller.call.request(proto::ListProductsRequest {
        page: Some(PageRequest {
            skip: params.skip,
            limit: params.limit,
        }),
        search: params.text("search"),
        category: params.text("category"),
        barcode: params.text("barcode"),
        sku: params.text("sku"),
        include_inactive: params.include_inactive,
    });
    let response = client(&state).list_products(request).await?.into_inner();
    let total = response
        .page
        .map(|page| page.total_count)
        .unwrap_or_default();
    let items = response
        .products
        .into_iter()
        .map(|product| ProductOut::from_message(Some(product)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(items, total))
}

/// Creates a product; `stock_level` is its opening stock.
#[utoipa::path(post, path = "/products", tag = "products", security(("bearer" = [])),
    request_body = CreateProductBody,
    responses((status = 201, body = ProductOut), (status = 401), (status = 403), (status = 404, description = "Unknown vendor"),
              (status = 409, description = "Duplicate sku or barcode, archived vendor"), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authenticated,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(products(Action::Create))?;
    let body: CreateProductBody = body.parse()?;
    let request = caller.call.request(proto::CreateProductRequest {
        sku: body.sku,
        name: body.name,
        desc: body.desc.unwrap_or_default(),
        unit_price: Some(body.unit_price.message()),
        cost_price: money(body.cost_price),
        tax_rate: money(body.tax_rate),
        discount: money(body.discount),
        vendor_id: body.vendor_id,
        stock_level: body.stock_level.unwrap_or_default(),
        barcode: body.barcode,
        category: body.category.unwrap_or_default(),
        branch: body.branch.unwrap_or_default(),
        attributes: to_struct(body.attributes),
        is_active: body.is_active,
    });
    let response = client(&state).create_product(request).await?.into_inner();
    let product = ProductOut::from_message(response.product)?;
    Ok(created_response(
        format!("/products/{}", product.id),
        product,
    ))
}

/// One product (archived ones too).
#[utoipa::path(get, path = "/products/{id}", tag = "products", security(("bearer" = [])),
    responses((status = 200, body = ProductOut), (status = 404), (status = 422)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<ProductOut>, ApiError> {
    caller.require(products(Action::Read))?;
    let response = client(&state)
        .get_product(caller.call.request(proto::GetProductRequest { id }))
        .await?
        .into_inner();
    ProductOut::from_message(response.product).map(Json)
}

/// Changes the given fields; a `stock_level` is a stocktake.
#[utoipa::path(put, path = "/products/{id}", tag = "products", security(("bearer" = [])),
    request_body = UpdateProductBody,
    responses((status = 200, body = ProductOut), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<ProductOut>, ApiError> {
    caller.require(products(Action::Update))?;
    let body: UpdateProductBody = body.parse()?;
    let request = caller.call.request(proto::UpdateProductRequest {
        id,
        sku: body.sku,
        name: body.name,
        desc: body.desc,
        unit_price: money(body.unit_price),
        cost_price: money(body.cost_price),
        tax_rate: money(body.tax_rate),
        discount: money(body.discount),
        vendor_id: body.vendor_id.map(Option::unwrap_or_default),
        stock_level: body.stock_level,
        barcode: body.barcode.map(Option::unwrap_or_default),
        category: body.category,
        branch: body.branch,
        attributes: to_struct(body.attributes),
        is_active: body.is_active,
    });
    let response = client(&state).update_product(request).await?.into_inner();
    ProductOut::from_message(response.product).map(Json)
}

/// Archives a product (admin): it leaves the lists and can no longer be sold.
#[utoipa::path(delete, path = "/products/{id}", tag = "products", security(("bearer" = [])),
    responses((status = 200, body = MessageOut), (status = 403), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, ApiError> {
    caller.require(products(Action::Delete))?;
    let response = client(&state)
        .delete_product(caller.call.request(proto::DeleteProductRequest { id }))
        .await?;
    Ok(Json(response.into_inner().into()))
}
