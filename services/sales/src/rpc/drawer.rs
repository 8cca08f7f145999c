//! Scaffold: replaced by the area's handlers.

use regal_proto::sales::v1 as proto;
use tonic::{Request, Response, Status};

use super::SalesRpc;

pub(super) async fn open_cash_drawer(
    _rpc: &SalesRpc,
    _request: Request<proto::OpenCashDrawerRequest>,
) -> Result<Response<proto::OpenCashDrawerResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn pay_in(
    _rpc: &SalesRpc,
    _request: Request<proto::PayInRequest>,
) -> Result<Response<proto::PayInResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn pay_out(
    _rpc: &SalesRpc,
    _request: Request<proto::PayOutRequest>,
) -> Result<Response<proto::PayOutResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn close_cash_drawer(
    _rpc: &SalesRpc,
    _request: Request<proto::CloseCashDrawerRequest>,
) -> Result<Response<proto::CloseCashDrawerResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn close_shift(
    _rpc: &SalesRpc,
    _request: Request<proto::CloseShiftRequest>,
) -> Result<Response<proto::CloseShiftResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}
