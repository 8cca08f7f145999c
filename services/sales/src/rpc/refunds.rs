//! Scaffold: replaced by the area's handlers.

use regal_proto::{common::v1::DeleteResponse, sales::v1 as proto};
use tonic::{Request, Response, Status};

use super::SalesRpc;

pub(super) async fn list_refunds(
    _rpc: &SalesRpc,
    _request: Request<proto::ListRefundsRequest>,
) -> Result<Response<proto::ListRefundsResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn create_refund(
    _rpc: &SalesRpc,
    _request: Request<proto::CreateRefundRequest>,
) -> Result<Response<proto::CreateRefundResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn get_refund(
    _rpc: &SalesRpc,
    _request: Request<proto::GetRefundRequest>,
) -> Result<Response<proto::GetRefundResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn update_refund(
    _rpc: &SalesRpc,
    _request: Request<proto::UpdateRefundRequest>,
) -> Result<Response<proto::UpdateRefundResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn delete_refund(
    _rpc: &SalesRpc,
    _request: Request<proto::DeleteRefundRequest>,
) -> Result<Response<DeleteResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}
