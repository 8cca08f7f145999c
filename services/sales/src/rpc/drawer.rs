//! The cash drawer and shifts: open, pay-in, pay-out, close, shift close (the Z-report).

use regal_authz::Permission;
use regal_domain::money::to_message;
use regal_proto::{sales::v1 as proto, time::to_timestamp};
use tonic::{Request, Response, Status};

use super::{SalesRpc, authorize, invalid, reports::shift_report_message};
use crate::{
    cash,
    domain::drawer::{CashMovement, CloseDrawer, CloseShift, MovementKind, OpenDrawer},
};

pub(super) async fn open_cash_drawer(
    rpc: &SalesRpc,
    request: Request<proto::OpenCashDrawerRequest>,
) -> Result<Response<proto::OpenCashDrawerResponse>, Status> {
    let caller = authorize(&request, Permission::PointOfSale)?;
    let open = OpenDrawer::try_from(request.get_ref()).map_err(invalid)?;
    let (shift, drawer) = cash::open_drawer(&rpc.pool, &rpc.outbox, &caller, open).await?;
    Ok(Response::new(proto::OpenCashDrawerResponse {
        id: drawer.id.to_string(),
        shift_id: shift.id.to_string(),
        message: "Cash drawer opened".to_owned(),
        amount: Some(to_message(drawer.opening_float)),
        timestamp: Some(to_timestamp(drawer.opened_at)),
        cashier: shift.cashier,
    }))
}

async fn movement(
    rpc: &SalesRpc,
    caller: &super::Caller,
    movement: CashMovement,
) -> Result<(proto::PayInResponse, MovementKind), Status> {
    let kind = movement.kind;
    let row = cash::record_movement(&rpc.pool, &rpc.outbox, caller, movement).await?;
    Ok((
        proto::PayInResponse {
            id: row.id.to_string(),
            shift_id: row.shift_id.to_string(),
            message: kind.message().to_owned(),
            amount: Some(to_message(row.amount)),
            reason: row.reason,
            timestamp: Some(to_timestamp(row.created_at)),
            cashier: caller.principal.username.clone(),
        },
        kind,
    ))
}

pub(super) async fn pay_in(
    rpc: &SalesRpc,
    request: Request<proto::PayInRequest>,
) -> Result<Response<proto::PayInResponse>, Status> {
    let caller = authorize(&request, Permission::PointOfSale)?;
    let body = request.get_ref();
    let pay_in = CashMovement::parse(
        MovementKind::PayIn,
        body.amount.as_ref(),
        &body.reason,
        &body.idempotency_key,
    )
    .map_err(invalid)?;
    let (response, _) = movement(rpc, &caller, pay_in).await?;
    Ok(Response::new(response))
}

pub(super) async fn pay_out(
    rpc: &SalesRpc,
    request: Request<proto::PayOutRequest>,
) -> Result<Response<proto::PayOutResponse>, Status> {
    let caller = authorize(&request, Permission::PointOfSale)?;
    let body = request.get_ref();
    let pay_out = CashMovement::parse(
        MovementKind::PayOut,
        body.amount.as_ref(),
        &body.reason,
        &body.idempotency_key,
    )
    .map_err(invalid)?;
    let (response, _) = movement(rpc, &caller, pay_out).await?;
    Ok(Response::new(proto::PayOutResponse {
        id: response.id,
        shift_id: response.shift_id,
        message: response.message,
        amount: response.amount,
        reason: response.reason,
        timestamp: response.timestamp,
        cashier: response.cashier,
    }))
}

pub(super) async fn close_cash_drawer(
    rpc: &SalesRpc,
    request: Request<proto::CloseCashDrawerRequest>,
) -> Result<Response<proto::CloseCashDrawerResponse>, Status> {
    let caller = authorize(&request, Permission::PointOfSale)?;
    let count = CloseDrawer::try_from(request.get_ref()).map_err(invalid)?;
    let drawer = cash::close_drawer(&rpc.pool, &rpc.outbox, &caller, count).await?;
    Ok(Response::new(proto::CloseCashDrawerResponse {
        message: "Cash drawer closed".to_owned(),
        expected_amount: drawer.expected_amount.map(to_message),
        actual_amount: drawer.actual_amount.map(to_message),
        variance: drawer.variance.map(to_message),
        timestamp: drawer.closed_at.map(to_timestamp),
        cashier: caller.principal.username.clone(),
        note: drawer.close_note,
        id: drawer.id.to_string(),
        shift_id: drawer.shift_id.to_string(),
    }))
}

pub(super) async fn close_shift(
    rpc: &SalesRpc,
    request: Request<proto::CloseShiftRequest>,
) -> Result<Response<proto::CloseShiftResponse>, Status> {
    let caller = authorize(&request, Permission::PointOfSale)?;
    let close = CloseShift::try_from(request.get_ref()).map_err(invalid)?;
    let report = cash::close_shift(&rpc.pool, &rpc.outbox, &caller, close).await?;
    Ok(Response::new(proto::CloseShiftResponse {
        report: Some(shift_report_message(report)),
    }))
}
