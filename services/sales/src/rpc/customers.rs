//! Scaffold: replaced by the area's handlers.

use regal_proto::{common::v1::DeleteResponse, sales::v1 as proto};
use tonic::{Request, Response, Status};

use super::SalesRpc;

pub(super) async fn list_customers(
    _rpc: &SalesRpc,
    _request: Request<proto::ListCustomersRequest>,
) -> Result<Response<proto::ListCustomersResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn create_customer(
    _rpc: &SalesRpc,
    _request: Request<proto::CreateCustomerRequest>,
) -> Result<Response<proto::CreateCustomerResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn get_customer(
    _rpc: &SalesRpc,
    _request: Request<proto::GetCustomerRequest>,
) -> Result<Response<proto::GetCustomerResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn update_customer(
    _rpc: &SalesRpc,
    _request: Request<proto::UpdateCustomerRequest>,
) -> Result<Response<proto::UpdateCustomerResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn delete_customer(
    _rpc: &SalesRpc,
    _request: Request<proto::DeleteCustomerRequest>,
) -> Result<Response<DeleteResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}
