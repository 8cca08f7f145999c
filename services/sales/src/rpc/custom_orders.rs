//! Scaffold: replaced by the area's handlers.

use regal_proto::{common::v1::DeleteResponse, sales::v1 as proto};
use tonic::{Request, Response, Status};

use super::SalesRpc;

pub(super) async fn list_custom_orders(
    _rpc: &SalesRpc,
    _request: Request<proto::ListCustomOrdersRequest>,
) -> Result<Response<proto::ListCustomOrdersResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn create_custom_order(
    _rpc: &SalesRpc,
    _request: Request<proto::CreateCustomOrderRequest>,
) -> Result<Response<proto::CreateCustomOrderResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn get_custom_order(
    _rpc: &SalesRpc,
    _request: Request<proto::GetCustomOrderRequest>,
) -> Result<Response<proto::GetCustomOrderResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn update_custom_order(
    _rpc: &SalesRpc,
    _request: Request<proto::UpdateCustomOrderRequest>,
) -> Result<Response<proto::UpdateCustomOrderResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn delete_custom_order(
    _rpc: &SalesRpc,
    _request: Request<proto::DeleteCustomOrderRequest>,
) -> Result<Response<DeleteResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}
