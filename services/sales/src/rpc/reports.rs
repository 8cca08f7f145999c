//! Scaffold: replaced by the area's handlers.

use regal_proto::sales::v1 as proto;
use tonic::{Request, Response, Status};

use super::SalesRpc;

pub(super) async fn get_shift_report(
    _rpc: &SalesRpc,
    _request: Request<proto::GetShiftReportRequest>,
) -> Result<Response<proto::GetShiftReportResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn get_daily_report(
    _rpc: &SalesRpc,
    _request: Request<proto::GetDailyReportRequest>,
) -> Result<Response<proto::GetDailyReportResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn get_sales_report(
    _rpc: &SalesRpc,
    _request: Request<proto::GetSalesReportRequest>,
) -> Result<Response<proto::GetSalesReportResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}
