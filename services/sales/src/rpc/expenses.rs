//! Expenses: admins do everything; employees record and read; cashiers nothing.

use regal_authz::{Action, Permission, Resource};
use regal_proto::{
    common::v1::{DeleteResponse, PageInfo},
    sales::v1 as proto,
    time::to_timestamp,
};
use tonic::{Request, Response, Status};

use super::{SalesRpc, authorize, invalid, path_id};
use crate::{
    back_office::BackOffice,
    domain::{ExpenseChanges, ExpenseFilter, NewExpense, money::to_message},
    store::expenses::ExpenseRow,
};

const fn expenses(action: Action) -> Permission {
    Permission::Crud(Resource::Expenses, action)
}

fn expense_message(row: &ExpenseRow) -> proto::Expense {
    proto::Expense {
        id: row.id.to_string(),
        r#type: row.expense_type.clone(),
        amount: Some(to_message(row.amount)),
        date: row.date.to_string(),
        note: row.note.clone(),
        created_by: row.created_by.to_string(),
        created_at: Some(to_timestamp(row.created_at)),
    }
}

pub(super) async fn list_expenses(
    rpc: &SalesRpc,
    request: Request<proto::ListExpensesRequest>,
) -> Result<Response<proto::ListExpensesResponse>, Status> {
    authorize(&request, expenses(Action::Read))?;
    let body = request.get_ref();
    let (offset, limit) = rpc.page(body.page.as_ref())?;
    let filter = ExpenseFilter::try_from(body).map_err(invalid)?;
    let (rows, total) = BackOffice::new(&rpc.pool, &rpc.outbox)
        .list_expenses(&filter, offset, limit)
        .await?;
    Ok(Response::new(proto::ListExpensesResponse {
        expenses: rows.iter().map(expense_message).collect(),
        page: Some(PageInfo { total_count: total }),
    }))
}

pub(super) async fn create_expense(
    rpc: &SalesRpc,
    request: Request<proto::CreateExpenseRequest>,
) -> Result<Response<proto::CreateExpenseResponse>, Status> {
    let caller = authorize(&request, expenses(Action::Create))?;
    let expense = NewExpense::try_from(request.get_ref()).map_err(invalid)?;
    let row = BackOffice::new(&rpc.pool, &rpc.outbox)
        .create_expense(&caller.context, caller.principal.user_id, expense)
        .await?;
    Ok(Response::new(proto::CreateExpenseResponse {
        expense: Some(expense_message(&row)),
    }))
}

pub(super) async fn get_expense(
    rpc: &SalesRpc,
    request: Request<proto::GetExpenseRequest>,
) -> Result<Response<proto::GetExpenseResponse>, Status> {
    authorize(&request, expenses(Action::Read))?;
    let id = path_id(&request.get_ref().id)?;
    let row = BackOffice::new(&rpc.pool, &rpc.outbox)
        .get_expense(id)
        .await?;
    Ok(Response::new(proto::GetExpenseResponse {
        expense: Some(expense_message(&row)),
    }))
}

pub(super) async fn update_expense(
    rpc: &SalesRpc,
    request: Request<proto::UpdateExpenseRequest>,
) -> Result<Response<proto::UpdateExpenseResponse>, Status> {
    let caller = authorize(&request, expenses(Action::Update))?;
    let id = path_id(&request.get_ref().id)?;
    let changes = ExpenseChanges::try_from(request.get_ref()).map_err(invalid)?;
    let row = BackOffice::new(&rpc.pool, &rpc.outbox)
        .update_expense(&caller.context, id, changes)
        .await?;
    Ok(Response::new(proto::UpdateExpenseResponse {
        expense: Some(expense_message(&row)),
    }))
}

pub(super) async fn delete_expense(
    rpc: &SalesRpc,
    request: Request<proto::DeleteExpenseRequest>,
) -> Result<Response<DeleteResponse>, Status> {
    let caller = authorize(&request, expenses(Action::Delete))?;
    let id = path_id(&request.get_ref().id)?;
    BackOffice::new(&rpc.pool, &rpc.outbox)
        .delete_expense(&caller.context, id)
        .await?;
    Ok(Response::new(DeleteResponse {
        message: "Expense deleted successfully".to_owned(),
    }))
}
