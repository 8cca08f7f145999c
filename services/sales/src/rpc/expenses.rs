//! Scaffold: replaced by the area's handlers.

use regal_proto::{common::v1::DeleteResponse, sales::v1 as proto};
use tonic::{Request, Response, Status};

use super::SalesRpc;

pub(super) async fn list_expenses(
    _rpc: &SalesRpc,
    _request: Request<proto::ListExpensesRequest>,
) -> Result<Response<proto::ListExpensesResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn create_expense(
    _rpc: &SalesRpc,
    _request: Request<proto::CreateExpenseRequest>,
) -> Result<Response<proto::CreateExpenseResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn get_expense(
    _rpc: &SalesRpc,
    _request: Request<proto::GetExpenseRequest>,
) -> Result<Response<proto::GetExpenseResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn update_expense(
    _rpc: &SalesRpc,
    _request: Request<proto::UpdateExpenseRequest>,
) -> Result<Response<proto::UpdateExpenseResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn delete_expense(
    _rpc: &SalesRpc,
    _request: Request<proto::DeleteExpenseRequest>,
) -> Result<Response<DeleteResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}
