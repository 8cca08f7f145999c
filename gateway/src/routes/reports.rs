//! `/pos/shift-report`, `/pos/daily-report`, `/pos/sales-report`: shift reports for the
//! cashier who worked the shift (admins any), the daily report for admins and cashiers, the
//! sales report for admins.

use std::collections::BTreeMap;

use axum::{Json, extract::State};
use regal_authz::Permission;
use regal_errors::{FieldViolation, RestError};
use regal_proto::{
    common::v1::Decimal,
    sales::v1::{self as proto, SalesReportGroupBy, sales_service_client::SalesServiceClient},
    time::to_rfc3339,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    http_error::ApiError,
    routes::{
        extract::{Authenticated, ListParams},
        fields::money_out,
    },
    state::{AppState, Service},
};

fn client(state: &AppState) -> SalesServiceClient<tonic::transport::Channel> {
    SalesServiceClient::new(state.channel(Service::Sales))
}

fn missing(what: &str) -> ApiError {
    ApiError::from(tonic::Status::internal(format!(
        "sales service sent no {what}"
    )))
}

fn method_name(method: i32) -> &'static str {
    match proto::PaymentMethod::try_from(method) {
        Ok(proto::PaymentMethod::Cash) => "cash",
        Ok(proto::PaymentMethod::Card) => "card",
        Ok(proto::PaymentMethod::Other) => "other",
        _ => "unspecified",
    }
}

/// Money kept per method: `{"cash": "34.80", "card": "0.00", "other": "0.00"}`.
fn payments_out(payments: Vec<proto::PaymentMethodTotal>) -> BTreeMap<String, String> {
    payments
        .into_iter()
        .map(|total| {
            (
                method_name(total.method).to_owned(),
                money_out(total.amount),
            )
        })
        .collect()
}

fn optional_money(value: Option<Decimal>) -> Option<String> {
    value.map(|decimal| decimal.value)
}

/// A shift's report: the X-report while open, the Z-report once closed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShiftReportOut {
    shift_id: String,
    /// Username of the cashier.
    cashier: String,
    cashier_id: String,
    opened_at: Option<String>,
    /// Null while the shift is open.
    closed_at: Option<String>,
    opening_float: String,
    invoices_count: i64,
    gross_sales: String,
    taxes: String,
    discounts: String,
    refunds: String,
    net_sales: String,
    /// Money kept per method (cash: tendered − change − cash refunds).
    #[schema(value_type = Object)]
    payments_by_method: BTreeMap<String, String>,
    pay_ins: String,
    pay_outs: String,
    /// Opening float + cash kept + pay-ins − pay-outs.
    expected_cash: String,
    /// Null while open or when the shift closed without a count.
    counted_cash: Option<String>,
    /// counted_cash − expected_cash; null without a count.
    variance: Option<String>,
}

impl ShiftReportOut {
    pub fn from_message(report: Option<proto::ShiftReport>) -> Result<Self, ApiError> {
        let report = report.ok_or_else(|| missing("shift report"))?;
        Ok(Self {
            opened_at: to_rfc3339(report.opened_at.as_ref()),
            closed_at: to_rfc3339(report.closed_at.as_ref()),
            opening_float: money_out(report.opening_float),
            gross_sales: money_out(report.gross_sales),
            taxes: money_out(report.taxes),
            discounts: money_out(report.discounts),
            refunds: money_out(report.refunds),
            net_sales: money_out(report.net_sales),
            payments_by_method: payments_out(report.payments_by_method),
            pay_ins: money_out(report.pay_ins),
            pay_outs: money_out(report.pay_outs),
            expected_cash: money_out(report.expected_cash),
            counted_cash: optional_money(report.counted_cash),
            variance: optional_money(report.variance),
            shift_id: report.shift_id,
            cashier: report.cashier,
            cashier_id: report.cashier_id,
            invoices_count: report.invoices_count,
        })
    }
}

/// A shift's X/Z-report. Without `shift_id`: the caller's open shift, else their last.
#[utoipa::path(get, path = "/pos/shift-report", tag = "reports", security(("bearer" = [])),
    params(("shift_id" = Option<String>, Query)),
    responses((status = 200, body = ShiftReportOut), (status = 401),
              (status = 403, description = "Employees, or a cashier asking for another's shift"),
              (status = 404), (status = 422)))]
pub async fn shift_report(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<Json<ShiftReportOut>, ApiError> {
    caller.require(Permission::ShiftReportOwn)?;
    let request = caller.call.request(proto::GetShiftReportRequest {
        shift_id: params.text("shift_id"),
    });
    let response = client(&state).get_shift_report(request).await?.into_inner();
    ShiftReportOut::from_message(response.report).map(Json)
}

/// One cashier's figures in a daily report.
#[derive(Debug, Serialize, ToSchema)]
pub struct CashierSalesOut {
    cashier_id: String,
    cashier: String,
    invoices_count: i64,
    gross_sales: String,
    taxes: String,
    discounts: String,
    refunds: String,
    net_sales: String,
}

/// One product's figures in a daily report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductSalesOut {
    product_id: String,
    sku: String,
    name: String,
    /// Units sold minus units refunded.
    quantity: i64,
    net_sales: String,
}

/// The whole shop's figures for one UTC day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DailyReportOut {
    date: String,
    invoices_count: i64,
    gross_sales: String,
    taxes: String,
    discounts: String,
    refunds: String,
    net_sales: String,
    #[schema(value_type = Object)]
    payments_by_method: BTreeMap<String, String>,
    by_cashier: Vec<CashierSalesOut>,
    top_products: Vec<ProductSalesOut>,
    /// Σ expenses dated that day.
    expenses: String,
}

/// The day's figures (`date` = YYYY-MM-DD, default today in UTC).
#[utoipa::path(get, path = "/pos/daily-report", tag = "reports", security(("bearer" = [])),
    params(("date" = Option<String>, Query)),
    responses((status = 200, body = DailyReportOut), (status = 401), (status = 403),
              (status = 422)))]
pub async fn daily_report(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<Json<DailyReportOut>, ApiError> {
    caller.require(Permission::DailyReport)?;
    let request = caller.call.request(proto::GetDailyReportRequest {
        date: params.text("date"),
    });
    let response = client(&state).get_daily_report(request).await?.into_inner();
    let report = response.report.ok_or_else(|| missing("daily report"))?;
    Ok(Json(DailyReportOut {
        date: report.date,
        invoices_count: report.invoices_count,
        gross_sales: money_out(report.gross_sales),
        taxes: money_out(report.taxes),
        discounts: money_out(report.discounts),
        refunds: money_out(report.refunds),
        net_sales: money_out(report.net_sales),
        payments_by_method: payments_out(report.payments_by_method),
        by_cashier: report
            .by_cashier
            .into_iter()
            .map(|row| CashierSalesOut {
                cashier_id: row.cashier_id,
                cashier: row.cashier,
                invoices_count: row.invoices_count,
                gross_sales: money_out(row.gross_sales),
                taxes: money_out(row.taxes),
                discounts: money_out(row.discounts),
                refunds: money_out(row.refunds),
                net_sales: money_out(row.net_sales),
            })
            .collect(),
        top_products: report
            .top_products
            .into_iter()
            .map(|product| ProductSalesOut {
                product_id: product.product_id,
                sku: product.sku,
                name: product.name,
                quantity: product.quantity,
                net_sales: money_out(product.net_sales),
            })
            .collect(),
        expenses: money_out(report.expenses),
    }))
}

/// One group of the sales report.
#[derive(Debug, Serialize, ToSchema)]
pub struct SalesReportRowOut {
    /// ISO date, product id, cashier id or salesman id ("" for sales without a salesman).
    key: String,
    /// The date, product name, cashier's username or salesman's name.
    label: String,
    invoices_count: i64,
    quantity: i64,
    gross_sales: String,
    taxes: String,
    discounts: String,
    refunds: String,
    net_sales: String,
    cost: String,
    gross_margin: String,
    /// Salesman rows only: commission due.
    #[serde(skip_serializing_if = "Option::is_none")]
    commission: Option<String>,
}

/// Sums over all the rows (invoices_count counts each invoice once).
#[derive(Debug, Serialize, ToSchema)]
pub struct SalesReportTotalsOut {
    invoices_count: i64,
    quantity: i64,
    gross_sales: String,
    taxes: String,
    discounts: String,
    refunds: String,
    net_sales: String,
    cost: String,
    gross_margin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    commission: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SalesReportOut {
    from: String,
    to: String,
    group_by: &'static str,
    rows: Vec<SalesReportRowOut>,
    totals: SalesReportTotalsOut,
}

fn group_by_name(group_by: i32) -> &'static str {
    match SalesReportGroupBy::try_from(group_by) {
        Ok(SalesReportGroupBy::Product) => "product",
        Ok(SalesReportGroupBy::Cashier) => "cashier",
        Ok(SalesReportGroupBy::Salesman) => "salesman",
        _ => "day",
    }
}

fn parse_group_by(value: Option<String>) -> Result<SalesReportGroupBy, ApiError> {
    match value.map(|value| value.to_ascii_lowercase()).as_deref() {
        None | Some("day") => Ok(SalesReportGroupBy::Day),
        Some("product") => Ok(SalesReportGroupBy::Product),
        Some("cashier") => Ok(SalesReportGroupBy::Cashier),
        Some("salesman") => Ok(SalesReportGroupBy::Salesman),
        Some(_) => Err(ApiError(RestError::validation(&[FieldViolation::new(
            "query.group_by",
            "enum",
            "Input should be 'day', 'product', 'cashier' or 'salesman'",
        )]))),
    }
}

/// Figures over `from`..=`to` (UTC days; default today, `from` defaults to `to`), grouped
/// by day, product, cashier or salesman.
#[utoipa::path(get, path = "/pos/sales-report", tag = "reports", security(("bearer" = [])),
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query),
           ("group_by" = Option<String>, Query, description = "day | product | cashier | salesman")),
    responses((status = 200, body = SalesReportOut), (status = 401), (status = 403),
              (status = 422)))]
pub async fn sales_report(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<Json<SalesReportOut>, ApiError> {
    caller.require(Permission::SalesReport)?;
    let group_by = parse_group_by(params.text("group_by"))?;
    let request = caller.call.request(proto::GetSalesReportRequest {
        from: params.text("from").unwrap_or_default(),
        to: params.text("to").unwrap_or_default(),
        group_by: group_by as i32,
    });
    let response = client(&state).get_sales_report(request).await?.into_inner();
    let totals = response
        .totals
        .ok_or_else(|| missing("sales report totals"))?;
    Ok(Json(SalesReportOut {
        group_by: group_by_name(response.group_by),
        from: response.from,
        to: response.to,
        rows: response
            .rows
            .into_iter()
            .map(|row| SalesReportRowOut {
                key: row.key,
                label: row.label,
                invoices_count: row.invoices_count,
                quantity: row.quantity,
                gross_sales: money_out(row.gross_sales),
                taxes: money_out(row.taxes),
                discounts: money_out(row.discounts),
                refunds: money_out(row.refunds),
                net_sales: money_out(row.net_sales),
                cost: money_out(row.cost),
                gross_margin: money_out(row.gross_margin),
                commission: optional_money(row.commission),
            })
            .collect(),
        totals: SalesReportTotalsOut {
            invoices_count: totals.invoices_count,
            quantity: totals.quantity,
            gross_sales: money_out(totals.gross_sales),
            taxes: money_out(totals.taxes),
            discounts: money_out(totals.discounts),
            refunds: money_out(totals.refunds),
            net_sales: money_out(totals.net_sales),
            cost: money_out(totals.cost),
            gross_margin: money_out(totals.gross_margin),
            commission: optional_money(totals.commission),
        },
    }))
}
