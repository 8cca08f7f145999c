//! Scaffold: replaced by the area's handlers.

use regal_proto::{common::v1::DeleteResponse, sales::v1 as proto};
use tonic::{Request, Response, Status};

use super::SalesRpc;

pub(super) async fn list_salesmen(
    _rpc: &SalesRpc,
    _request: Request<proto::ListSalesmenRequest>,
) -> Result<Response<proto::ListSalesmenResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn create_salesman(
    _rpc: &SalesRpc,
    _request: Request<proto::CreateSalesmanRequest>,
) -> Result<Response<proto::CreateSalesmanResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn get_salesman(
    _rpc: &SalesRpc,
    _request: Request<proto::GetSalesmanRequest>,
) -> Result<Response<proto::GetSalesmanResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn update_salesman(
    _rpc: &SalesRpc,
    _request: Request<proto::UpdateSalesmanRequest>,
) -> Result<Response<proto::UpdateSalesmanResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn delete_salesman(
    _rpc: &SalesRpc,
    _request: Request<proto::DeleteSalesmanRequest>,
) -> Result<Response<DeleteResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}
