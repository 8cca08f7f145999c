//! `/customers`: admins do everything; cashiers and employees create, read and update.

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

/// A customer as the REST contract shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerOut {
    id: String,
    name: String,
    /// Usually `{"phone": .., "email": ..}`.
    #[schema(value_type = Object)]
    contacts: Value,
    #[schema(value_type = Object)]
    billing_addr: Value,
    #[schema(value_type = Object)]
    shipping_addr: Value,
    /// The most the customer may owe, a two-decimal string.
    credit_limit: String,
    /// What the customer owes now, a two-decimal string.
    balance: String,
    /// False once archived (deleted).
    is_active: bool,
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl CustomerOut {
    fn from_message(customer: Option<proto::Customer>) -> Result<Self, ApiError> {
        let customer = customer.ok_or_else(|| {
            ApiError::from(tonic::Status::internal("sales service sent no customer"))
        })?;
        Ok(Self::from(customer))
    }
}

impl From<proto::Customer> for CustomerOut {
    fn from(customer: proto::Customer) -> Self {
        Self {
            created_at: to_rfc3339(customer.created_at.as_ref()),
            updated_at: to_rfc3339(customer.updated_at.as_ref()),
            contacts: from_struct(customer.contacts),
            billing_addr: from_struct(customer.billing_addr),
            shipping_addr: from_struct(customer.shipping_addr),
            credit_limit: money_out(customer.credit_limit),
            balance: money_out(customer.balance),
            id: customer.id,
            name: customer.name,
            is_active: customer.is_active,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCustomerBody {
    name: String,
    #[schema(value_type = Option<Object>)]
    contacts: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    billing_addr: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    shipping_addr: Option<Map<String, Value>>,
    /// >= 0; default 0.
    #[schema(value_type = Option<String>)]
    credit_limit: Option<MoneyIn>,
    /// Default 0.
    #[schema(value_type = Option<String>)]
    balance: Option<MoneyIn>,
}

/// A partial update: absent fields stay; objects are replaced whole; `is_active: true`
/// restores an archived customer.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateCustomerBody {
    name: Option<String>,
    #[schema(value_type = Option<Object>)]
    contacts: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    billing_addr: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    shipping_addr: Option<Map<String, Value>>,
    #[schema(value_type = Option<String>)]
    credit_limit: Option<MoneyIn>,
    #[schema(value_type = Option<String>)]
    balance: Option<MoneyIn>,
    is_active: Option<bool>,
}

fn client(state: &AppState) -> SalesServiceClient<tonic::transport::Channel> {
    SalesServiceClient::new(state.channel(Service::Sales))
}

const fn customers(action: Action) -> Permission {
    Permission::Crud(Resource::Customers, action)
}

/// Lists customers, newest first; `search` matches the name, phone or email (any case);
/// archived ones only with `include_inactive=true`.
#[utoipa::path(get, path = "/customers", tag = "customers", security(("bearer" = [])),
    params(("skip" = Option<i64>, Query), ("limit" = Option<i64>, Query),
           ("search" = Option<String>, Query), ("include_inactive" = Option<bool>, Query)),
    responses((status = 200, body = [CustomerOut]), (status = 401), (status = 403), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(customers(Action::Read))?;
    let request = caller.call.request(proto::ListCustomersRequest {
        page: Some(PageRequest {
            skip: params.skip,
            limit: params.limit,
        }),
        search: params.text("search"),
        include_inactive: params.include_inactive,
    });
    let response = client(&state).list_customers(request).await?.into_inner();
    let total = response
        .page
        .map(|page| page.total_count)
        .unwrap_or_default();
    let items = response
        .customers
        .into_iter()
        .map(|customer| CustomerOut::from_message(Some(customer)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(items, total))
}

#[utoipa::path(post, path = "/customers", tag = "customers", security(("bearer" = [])),
    request_body = CreateCustomerBody,
    responses((status = 201, body = CustomerOut), (status = 401), (status = 403), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authenticated,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(customers(Action::Create))?;
    let body: CreateCustomerBody = body.parse()?;
    let request = caller.call.request(proto::CreateCustomerRequest {
        name: body.name,
        contacts: to_struct(body.contacts),
        billing_addr: to_struct(body.billing_addr),
        shipping_addr: to_struct(body.shipping_addr),
        credit_limit: money(body.credit_limit),
        balance: money(body.balance),
    });
    let response = client(&state).create_customer(request).await?.into_inner();
    let customer = CustomerOut::from_message(response.customer)?;
    Ok(created_response(
        format!("/customers/{}", customer.id),
        customer,
    ))
}

/// One customer by id, archived ones too.
#[utoipa::path(get, path = "/customers/{id}", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = CustomerOut), (status = 401), (status = 403), (status = 404),
              (status = 422)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<CustomerOut>, ApiError> {
    caller.require(customers(Action::Read))?;
    let response = client(&state)
        .get_customer(caller.call.request(proto::GetCustomerRequest { id }))
        .await?
        .into_inner();
    CustomerOut::from_message(response.customer).map(Json)
}

#[utoipa::path(put, path = "/customers/{id}", tag = "customers", security(("bearer" = [])),
    request_body = UpdateCustomerBody,
    responses((status = 200, body = CustomerOut), (status = 401), (status = 403), (status = 404),
              (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<CustomerOut>, ApiError> {
    caller.require(customers(Action::Update))?;
    let body: UpdateCustomerBody = body.parse()?;
    let request = caller.call.request(proto::UpdateCustomerRequest {
        id,
        name: body.name,
        contacts: to_struct(body.contacts),
        billing_addr: to_struct(body.billing_addr),
        shipping_addr: to_struct(body.shipping_addr),
        credit_limit: money(body.credit_limit),
        balance: money(body.balance),
        is_active: body.is_active,
    });
    let response = client(&state).update_customer(request).await?.into_inner();
    CustomerOut::from_message(response.customer).map(Json)
}

/// Archives a customer (admin): gone from lists, still readable by id; their invoices
/// keep referring to them.
#[utoipa::path(delete, path = "/customers/{id}", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = MessageOut), (status = 401), (status = 403), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, ApiError> {
    caller.require(customers(Action::Delete))?;
    let response = client(&state)
        .delete_customer(caller.call.request(proto::DeleteCustomerRequest { id }))
        .await?;
    Ok(Json(response.into_inner().into()))
}
