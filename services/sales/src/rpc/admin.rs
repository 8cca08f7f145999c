//! Scaffold: replaced by the area's handlers.

use regal_proto::sales::v1 as proto;
use tonic::{Request, Response, Status};

use super::SalesRpc;

pub(super) async fn get_admin_dashboard(
    _rpc: &SalesRpc,
    _request: Request<proto::GetAdminDashboardRequest>,
) -> Result<Response<proto::GetAdminDashboardResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn get_settings(
    _rpc: &SalesRpc,
    _request: Request<proto::GetSettingsRequest>,
) -> Result<Response<proto::GetSettingsResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}

pub(super) async fn update_settings(
    _rpc: &SalesRpc,
    _request: Request<proto::UpdateSettingsRequest>,
) -> Result<Response<proto::UpdateSettingsResponse>, Status> {
    Err(Status::unimplemented("not built yet"))
}
