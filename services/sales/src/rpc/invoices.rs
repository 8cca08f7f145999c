//! Scaffold: replaced by the area's handlers.

use regal_proto::{common::v1::DeleteResponse, sales::v1 as proto};
use tonic::{Request, Response, Status};

use super::SalesRpc;

pub(super) async fn list_invoices(
    _rpc: &SalesRpc,
    _request: Request<proto::ListInvoicesRequest>,
) -> Result<Response<proto::ListInvoicesResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn create_invoice(
    _rpc: &SalesRpc,
    _request: Request<proto::CreateInvoiceRequest>,
) -> Result<Response<proto::CreateInvoiceResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn get_invoice(
    _rpc: &SalesRpc,
    _request: Request<proto::GetInvoiceRequest>,
) -> Result<Response<proto::GetInvoiceResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn update_invoice(
    _rpc: &SalesRpc,
    _request: Request<proto::UpdateInvoiceRequest>,
) -> Result<Response<proto::UpdateInvoiceResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn delete_invoice(
    _rpc: &SalesRpc,
    _request: Request<proto::DeleteInvoiceRequest>,
) -> Result<Response<DeleteResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn quick_sell(
    _rpc: &SalesRpc,
    _request: Request<proto::QuickSellRequest>,
) -> Result<Response<proto::QuickSellResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn get_duplicate_bill(
    _rpc: &SalesRpc,
    _request: Request<proto::GetDuplicateBillRequest>,
) -> Result<Response<proto::GetDuplicateBillResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}
