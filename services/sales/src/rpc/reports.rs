//! The reports: a shift's X/Z-report, the daily report and the sales report.

use chrono::Utc;
use regal_authz::Permission;
use regal_domain::money::to_message;
use regal_proto::{sales::v1 as proto, time::to_timestamp};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};

use super::{SalesRpc, authorize, invalid};
use crate::{
    domain::report::{SalesReportQuery, ShiftSelector, daily_report_day},
    reporting::{self, ShiftReport},
    store::reports::{Figures, GroupRow},
};

fn payment_method(method: &str) -> proto::PaymentMethod {
    match method {
        "cash" => proto::PaymentMethod::Cash,
        "card" => proto::PaymentMethod::Card,
        "other" => proto::PaymentMethod::Other,
        _ => proto::PaymentMethod::Unspecified,
    }
}

fn payments_message(payments: Vec<(String, Decimal)>) -> Vec<proto::PaymentMethodTotal> {
    payments
        .into_iter()
        .map(|(method, amount)| proto::PaymentMethodTotal {
            method: payment_method(&method) as i32,
            amount: Some(to_message(amount)),
        })
        .collect()
}

/// A shift's report as `regal.sales.v1.ShiftReport` (also the answer of a shift close).
pub(super) fn shift_report_message(report: ShiftReport) -> proto::ShiftReport {
    let figures = &report.figures;
    proto::ShiftReport {
        shift_id: report.shift.id.to_string(),
        cashier: report.shift.cashier.clone(),
        opened_at: Some(to_timestamp(report.shift.opened_at)),
        closed_at: report.shift.closed_at.map(to_timestamp),
        opening_float: Some(to_message(report.cash.opening_float)),
        invoices_count: figures.invoices_count,
        gross_sales: Some(to_message(figures.gross_sales)),
        taxes: Some(to_message(figures.taxes)),
        discounts: Some(to_message(figures.discounts)),
        refunds: Some(to_message(figures.refunds)),
        net_sales: Some(to_message(figures.net_sales)),
        payments_by_method: payments_message(report.payments),
        expected_cash: Some(to_message(report.expected_cash)),
        counted_cash: report.counted_cash.map(to_message),
        variance: report.variance.map(to_message),
        cashier_id: report.shift.cashier_id.to_string(),
        pay_ins: Some(to_message(report.cash.pay_ins)),
        pay_outs: Some(to_message(report.cash.pay_outs)),
    }
}

pub(super) async fn get_shift_report(
    rpc: &SalesRpc,
    request: Request<proto::GetShiftReportRequest>,
) -> Result<Response<proto::GetShiftReportResponse>, Status> {
    let caller = authorize(&request, Permission::ShiftReportOwn)?;
    let selector = ShiftSelector::try_from(request.get_ref()).map_err(invalid)?;
    let report = reporting::get_shift_report(&rpc.pool, &caller, selector).await?;
    Ok(Response::new(proto::GetShiftReportResponse {
        report: Some(shift_report_message(report)),
    }))
}

fn cashier_message(row: GroupRow) -> proto::CashierSales {
    let figures = row.figures;
    proto::CashierSales {
        cashier_id: row.key,
        cashier: row.label,
        invoices_count: figures.invoices_count,
        gross_sales: Some(to_message(figures.gross_sales)),
        taxes: Some(to_message(figures.taxes)),
        discounts: Some(to_message(figures.discounts)),
        refunds: Some(to_message(figures.refunds)),
        net_sales: Some(to_message(figures.net_sales)),
    }
}

pub(super) async fn get_daily_report(
    rpc: &SalesRpc,
    request: Request<proto::GetDailyReportRequest>,
) -> Result<Response<proto::GetDailyReportResponse>, Status> {
    authorize(&request, Permission::DailyReport)?;
    let day = daily_report_day(request.get_ref(), Utc::now().date_naive()).map_err(invalid)?;
    let report = reporting::daily_report(&rpc.pool, day).await?;
    let figures = report.figures;
    Ok(Response::new(proto::GetDailyReportResponse {
        report: Some(proto::DailyReport {
            date: report.day.to_string(),
            invoices_count: figures.invoices_count,
            gross_sales: Some(to_message(figures.gross_sales)),
            taxes: Some(to_message(figures.taxes)),
            discounts: Some(to_message(figures.discounts)),
            refunds: Some(to_message(figures.refunds)),
            net_sales: Some(to_message(figures.net_sales)),
            payments_by_method: payments_message(report.payments),
            by_cashier: report.by_cashier.into_iter().map(cashier_message).collect(),
            top_products: report
                .top_products
                .into_iter()
                .map(|product| proto::ProductSales {
                    product_id: product.product_id.to_string(),
                    sku: product.sku,
                    name: product.name,
                    quantity: product.quantity,
                    net_sales: Some(to_message(product.net_sales)),
                })
                .collect(),
            expenses: Some(to_message(report.expenses)),
        }),
    }))
}

fn totals_message(figures: &Figures, commission: Option<Decimal>) -> proto::SalesReportTotals {
    proto::SalesReportTotals {
        invoices_count: figures.invoices_count,
        quantity: figures.quantity,
        gross_sales: Some(to_message(figures.gross_sales)),
        taxes: Some(to_message(figures.taxes)),
        discounts: Some(to_message(figures.discounts)),
        refunds: Some(to_message(figures.refunds)),
        net_sales: Some(to_message(figures.net_sales)),
        cost: Some(to_message(figures.cost)),
        gross_margin: Some(to_message(figures.gross_margin())),
        commission: commission.map(to_message),
    }
}

pub(super) async fn get_sales_report(
    rpc: &SalesRpc,
    request: Request<proto::GetSalesReportRequest>,
) -> Result<Response<proto::GetSalesReportResponse>, Status> {
    authorize(&request, Permission::SalesReport)?;
    let query =
        SalesReportQuery::parse(request.get_ref(), Utc::now().date_naive()).map_err(invalid)?;
    let report = reporting::sales_report(&rpc.pool, query).await?;
    Ok(Response::new(proto::GetSalesReportResponse {
        from: report.query.days.first.to_string(),
        to: report.query.days.last.to_string(),
        group_by: report.query.group_by.to_proto() as i32,
        rows: report
            .rows
            .into_iter()
            .map(|row| {
                let figures = row.group.figures;
                proto::SalesReportRow {
                    key: row.group.key,
                    label: row.group.label,
                    invoices_count: figures.invoices_count,
                    quantity: figures.quantity,
                    gross_sales: Some(to_message(figures.gross_sales)),
                    taxes: Some(to_message(figures.taxes)),
                    discounts: Some(to_message(figures.discounts)),
                    refunds: Some(to_message(figures.refunds)),
                    net_sales: Some(to_message(figures.net_sales)),
                    cost: Some(to_message(figures.cost)),
                    gross_margin: Some(to_message(figures.gross_margin())),
                    commission: row.commission.map(to_message),
                }
            })
            .collect(),
        totals: Some(totals_message(&report.totals, report.commission)),
    }))
}
