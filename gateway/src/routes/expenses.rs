//! `/expenses`: admins do everything; employees record and read; cashiers nothing.

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

/// An expense as the REST contract shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpenseOut {
    id: String,
    /// Kind of expense (rent, utilities, supplies, ...).
    #[serde(rename = "type")]
    expense_type: String,
    /// > 0, a two-decimal string.
    amount: String,
    /// The day it belongs to, `YYYY-MM-DD`.
    date: String,
    note: String,
    /// Id of the user who recorded it.
    created_by: String,
    created_at: Option<String>,
}

impl ExpenseOut {
    fn from_message(expense: Option<proto::Expense>) -> Result<Self, ApiError> {
        let expense = expense.ok_or_else(|| {
            ApiError::from(tonic::Status::internal("sales service sent no expense"))
        })?;
        Ok(Self {
            created_at: to_rfc3339(expense.created_at.as_ref()),
            amount: money_out(expense.amount),
            id: expense.id,
            expense_type: expense.r#type,
            date: expense.date,
            note: expense.note,
            created_by: expense.created_by,
        })
    }
}

/// `created_by` is always the caller; a value in the body is ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateExpenseBody {
    #[serde(rename = "type")]
    expense_type: String,
    /// > 0.
    #[schema(value_type = String)]
    amount: MoneyIn,
    /// `YYYY-MM-DD`; default today (UTC).
    date: Option<String>,
    note: Option<String>,
}

/// A partial update: absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateExpenseBody {
    #[serde(rename = "type")]
    expense_type: Option<String>,
    #[schema(value_type = Option<String>)]
    amount: Option<MoneyIn>,
    date: Option<String>,
    note: Option<String>,
}

fn client(state: &AppState) -> SalesServiceClient<tonic::transport::Channel> {
    SalesServiceClient::new(state.channel(Service::Sales))
}

const fn expenses(action: Action) -> Permission {
    Permission::Crud(Resource::Expenses, action)
}

/// Lists expenses, newest first; `type` matches exactly (any case), `from` and `to` are
/// inclusive days (`YYYY-MM-DD`).
#[utoipa::path(get, path = "/expenses", tag = "expenses", security(("bearer" = [])),
    params(("skip" = Option<i64>, Query), ("limit" = Option<i64>, Query),
           ("type" = Option<String>, Query), ("from" = Option<String>, Query),
           ("to" = Option<String>, Query)),
    responses((status = 200, body = [ExpenseOut]), (status = 401), (status = 403), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(expenses(Action::Read))?;
    let request = caller.call.request(proto::ListExpensesRequest {
        page: Some(PageRequest {
            skip: params.skip,
            limit: params.limit,
        }),
        r#type: params.text("type"),
        from: params.text("from"),
        to: params.text("to"),
    });
    let response = client(&state).list_expenses(request).await?.into_inner();
    let total = response
        .page
        .map(|page| page.total_count)
        .unwrap_or_default();
    let items = response
        .expenses
        .into_iter()
        .map(|expense| ExpenseOut::from_message(Some(expense)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(items, total))
}

/// Records an expense by the caller.
#[utoipa::path(post, path = "/expenses", tag = "expenses", security(("bearer" = [])),
    request_body = CreateExpenseBody,
    responses((status = 201, body = ExpenseOut), (status = 401), (status = 403), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authenticated,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(expenses(Action::Create))?;
    let body: CreateExpenseBody = body.parse()?;
    let request = caller.call.request(proto::CreateExpenseRequest {
        r#type: body.expense_type,
        amount: Some(body.amount.message()),
        date: body.date,
        note: body.note.unwrap_or_default(),
    });
    let response = client(&state).create_expense(request).await?.into_inner();
    let expense = ExpenseOut::from_message(response.expense)?;
    Ok(created_response(
        format!("/expenses/{}", expense.id),
        expense,
    ))
}

#[utoipa::path(get, path = "/expenses/{id}", tag = "expenses", security(("bearer" = [])),
    responses((status = 200, body = ExpenseOut), (status = 401), (status = 403), (status = 404),
              (status = 422)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<ExpenseOut>, ApiError> {
    caller.require(expenses(Action::Read))?;
    let response = client(&state)
        .get_expense(caller.call.request(proto::GetExpenseRequest { id }))
        .await?
        .into_inner();
    ExpenseOut::from_message(response.expense).map(Json)
}

/// Changes an expense (admin).
#[utoipa::path(put, path = "/expenses/{id}", tag = "expenses", security(("bearer" = [])),
    request_body = UpdateExpenseBody,
    responses((status = 200, body = ExpenseOut), (status = 401), (status = 403), (status = 404),
              (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<ExpenseOut>, ApiError> {
    caller.require(expenses(Action::Update))?;
    let body: UpdateExpenseBody = body.parse()?;
    let request = caller.call.request(proto::UpdateExpenseRequest {
        id,
        r#type: body.expense_type,
        amount: money(body.amount),
        date: body.date,
        note: body.note,
    });
    let response = client(&state).update_expense(request).await?.into_inner();
    ExpenseOut::from_message(response.expense).map(Json)
}

/// Erases an expense (admin); the audit log keeps what it was.
#[utoipa::path(delete, path = "/expenses/{id}", tag = "expenses", security(("bearer" = [])),
    responses((status = 200, body = MessageOut), (status = 401), (status = 403), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, ApiError> {
    caller.require(expenses(Action::Delete))?;
    let response = client(&state)
        .delete_expense(caller.call.request(proto::DeleteExpenseRequest { id }))
        .await?;
    Ok(Json(response.into_inner().into()))
}
