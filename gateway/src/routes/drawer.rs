//! `/pos/cash-drawer/*` and `/pos/shift-close`: the cashier's drawer and shift (admins and
//! cashiers).

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
};
use regal_authz::Permission;
use regal_proto::{
    sales::v1::{self as proto, sales_service_client::SalesServiceClient},
    time::to_rfc3339,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http_error::ApiError,
    routes::{
        extract::{Authenticated, OptionalJsonBody, RawJson},
        fields::{MoneyIn, money, money_out},
        invoices::idempotency_key,
        reports::ShiftReportOut,
    },
    state::{AppState, Service},
};

fn client(state: &AppState) -> SalesServiceClient<tonic::transport::Channel> {
    SalesServiceClient::new(state.channel(Service::Sales))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OpenDrawerBody {
    /// Opening float, >= 0.
    #[schema(value_type = String)]
    amount: Option<MoneyIn>,
    note: Option<String>,
}

/// The drawer just opened and the shift it starts.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawerOpenedOut {
    id: String,
    shift_id: String,
    message: String,
    /// Opening float.
    amount: String,
    timestamp: Option<String>,
    /// Username of the cashier.
    cashier: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CashMovementBody {
    /// > 0.
    #[schema(value_type = String)]
    amount: Option<MoneyIn>,
    /// Why the cash went in or out.
    #[serde(default)]
    reason: String,
}

/// A pay-in or pay-out recorded in the open drawer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CashMovementOut {
    id: String,
    shift_id: String,
    message: String,
    amount: String,
    reason: String,
    timestamp: Option<String>,
    cashier: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CloseDrawerBody {
    /// Cash counted in the drawer, >= 0.
    #[schema(value_type = String)]
    actual_amount: Option<MoneyIn>,
    /// The terminal's own figure, kept for the record; the server computes its own.
    #[schema(value_type = Option<String>)]
    expected_amount: Option<MoneyIn>,
    note: Option<String>,
}

/// The closed drawer: expected cash computed by the server, the count and the variance.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawerClosedOut {
    message: String,
    expected_amount: String,
    actual_amount: String,
    /// actual_amount − expected_amount.
    variance: String,
    timestamp: Option<String>,
    cashier: String,
    note: Option<String>,
    id: String,
    shift_id: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CloseShiftBody {
    /// Cash counted, when the drawer is still open; absent leaves the count empty.
    #[schema(value_type = Option<String>)]
    actual_amount: Option<MoneyIn>,
}

/// Opens the caller's cash drawer with its float, which starts their shift.
#[utoipa::path(post, path = "/pos/cash-drawer/open", tag = "pos", security(("bearer" = [])),
    request_body = OpenDrawerBody,
    responses((status = 201, body = DrawerOpenedOut), (status = 401), (status = 403),
              (status = 409, description = "The caller already has an open drawer or shift"),
              (status = 422)))]
pub async fn open(
    State(state): State<AppState>,
    caller: Authenticated,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Permission::PointOfSale)?;
    let body: OpenDrawerBody = body.parse()?;
    let request = caller.call.request(proto::OpenCashDrawerRequest {
        amount: money(body.amount),
        note: body.note,
    });
    let response = client(&state).open_cash_drawer(request).await?.into_inner();
    Ok((
        StatusCode::CREATED,
        Json(DrawerOpenedOut {
            id: response.id,
            shift_id: response.shift_id,
            message: response.message,
            amount: money_out(response.amount),
            timestamp: to_rfc3339(response.timestamp.as_ref()),
            cashier: response.cashier,
        }),
    ))
}

/// Puts petty cash into the open drawer (not counted as variance). An `Idempotency-Key`
/// header makes a retry return the first pay-in.
#[utoipa::path(post, path = "/pos/cash-drawer/pay-in", tag = "pos", security(("bearer" = [])),
    request_body = CashMovementBody, params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CashMovementOut), (status = 401), (status = 403),
              (status = 409, description = "No open drawer"), (status = 422)))]
pub async fn pay_in(
    State(state): State<AppState>,
    caller: Authenticated,
    headers: HeaderMap,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Permission::PointOfSale)?;
    let body: CashMovementBody = body.parse()?;
    let request = caller.call.request(proto::PayInRequest {
        amount: money(body.amount),
        reason: body.reason,
        idempotency_key: idempotency_key(&headers)?,
    });
    let response = client(&state).pay_in(request).await?.into_inner();
    Ok((
        StatusCode::CREATED,
        Json(CashMovementOut {
            id: response.id,
            shift_id: response.shift_id,
            message: response.message,
            amount: money_out(response.amount),
            reason: response.reason,
            timestamp: to_rfc3339(response.timestamp.as_ref()),
            cashier: response.cashier,
        }),
    ))
}

/// Takes petty cash out of the open drawer (not counted as variance). An
/// `Idempotency-Key` header makes a retry return the first pay-out.
#[utoipa::path(post, path = "/pos/cash-drawer/pay-out", tag = "pos", security(("bearer" = [])),
    request_body = CashMovementBody, params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CashMovementOut), (status = 401), (status = 403),
              (status = 409, description = "No open drawer"), (status = 422)))]
pub async fn pay_out(
    State(state): State<AppState>,
    caller: Authenticated,
    headers: HeaderMap,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Permission::PointOfSale)?;
    let body: CashMovementBody = body.parse()?;
    let request = caller.call.request(proto::PayOutRequest {
        amount: money(body.amount),
        reason: body.reason,
        idempotency_key: idempotency_key(&headers)?,
    });
    let response = client(&state).pay_out(request).await?.into_inner();
    Ok((
        StatusCode::CREATED,
        Json(CashMovementOut {
            id: response.id,
            shift_id: response.shift_id,
            message: response.message,
            amount: money_out(response.amount),
            reason: response.reason,
            timestamp: to_rfc3339(response.timestamp.as_ref()),
            cashier: response.cashier,
        }),
    ))
}

/// Closes the caller's drawer with the counted cash; the server computes the expected cash
/// and the variance.
#[utoipa::path(post, path = "/pos/cash-drawer/close", tag = "pos", security(("bearer" = [])),
    request_body = CloseDrawerBody,
    responses((status = 200, body = DrawerClosedOut), (status = 401), (status = 403),
              (status = 409, description = "No open drawer"), (status = 422)))]
pub async fn close(
    State(state): State<AppState>,
    caller: Authenticated,
    body: RawJson,
) -> Result<Json<DrawerClosedOut>, ApiError> {
    caller.require(Permission::PointOfSale)?;
    let body: CloseDrawerBody = body.parse()?;
    let request = caller.call.request(proto::CloseCashDrawerRequest {
        actual_amount: money(body.actual_amount),
        expected_amount: money(body.expected_amount),
        note: body.note,
    });
    let response = client(&state)
        .close_cash_drawer(request)
        .await?
        .into_inner();
    Ok(Json(DrawerClosedOut {
        message: response.message,
        expected_amount: money_out(response.expected_amount),
        actual_amount: money_out(response.actual_amount),
        variance: money_out(response.variance),
        timestamp: to_rfc3339(response.timestamp.as_ref()),
        cashier: response.cashier,
        note: response.note,
        id: response.id,
        shift_id: response.shift_id,
    }))
}

/// Ends the caller's shift and answers its Z-report, closing the drawer first when it is
/// still open.
#[utoipa::path(post, path = "/pos/shift-close", tag = "pos", security(("bearer" = [])),
    request_body(content = Option<CloseShiftBody>),
    responses((status = 200, body = ShiftReportOut), (status = 401), (status = 403),
              (status = 409, description = "No open shift"), (status = 422)))]
pub async fn shift_close(
    State(state): State<AppState>,
    caller: Authenticated,
    OptionalJsonBody(body): OptionalJsonBody<CloseShiftBody>,
) -> Result<Json<ShiftReportOut>, ApiError> {
    caller.require(Permission::PointOfSale)?;
    let body = body.unwrap_or_default();
    let request = caller.call.request(proto::CloseShiftRequest {
        actual_amount: money(body.actual_amount),
    });
    let response = client(&state).close_shift(request).await?.into_inner();
    ShiftReportOut::from_message(response.report).map(Json)
}
