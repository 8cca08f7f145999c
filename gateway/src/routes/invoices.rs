//! `/invoices`: admins do everything, cashiers create and read, employees read. Creating
//! an invoice that is not a draft sells it (the stock saga in the sales service).

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
};
use chrono::{DateTime, NaiveDate, Utc};
use regal_authz::{Action, Permission, Resource};
use regal_errors::{FieldViolation, RestError};
use regal_proto::{
    common::v1::PageRequest,
    prost_types::Timestamp,
    sales::v1::{self as proto, sales_service_client::SalesServiceClient},
    time::{to_rfc3339, to_timestamp},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http_error::ApiError,
    routes::{
        auth::MessageOut,
        extract::{Authenticated, ListParams, RawJson},
        fields::{MoneyIn, created_response, list_response, money, money_out, nullable},
    },
    state::{AppState, Service},
};

/// One line of an invoice, with the catalog's data at the time of sale.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceItemOut {
    product_id: String,
    sku: String,
    name: String,
    quantity: i64,
    unit_price: String,
    tax_rate: String,
    /// Money taken off the line (the product's discount plus its share of the invoice's).
    discount: String,
    /// Net plus tax: what was paid for the line.
    line_total: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsOut {
    subtotal: String,
    tax: String,
    discount: String,
    total: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentOut {
    /// `cash`, `card` or `other`.
    method: String,
    amount: String,
}

/// An invoice as the REST contract shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceOut {
    pub id: String,
    /// Empty on a draft.
    invoice_no: String,
    customer_id: Option<String>,
    salesman_id: Option<String>,
    cashier_id: String,
    shift_id: Option<String>,
    items: Vec<InvoiceItemOut>,
    totals: TotalsOut,
    taxes: String,
    discounts: String,
    payments: Vec<PaymentOut>,
    amount_paid: String,
    change_due: String,
    /// draft, issued, paid, cancelled, partially_refunded or refunded.
    status: &'static str,
    reprint_count: i64,
    created_at: Option<String>,
    updated_at: Option<String>,
}

pub fn method_name(method: proto::PaymentMethod) -> &'static str {
    match method {
        proto::PaymentMethod::Cash => "cash",
        proto::PaymentMethod::Card => "card",
        proto::PaymentMethod::Other | proto::PaymentMethod::Unspecified => "other",
    }
}

/// A method by name; an unknown one is passed on as UNSPECIFIED, which the service refuses
/// with the field named.
pub fn method_of(name: &str) -> proto::PaymentMethod {
    match name.trim().to_ascii_lowercase().as_str() {
        "cash" => proto::PaymentMethod::Cash,
        "card" => proto::PaymentMethod::Card,
        "other" => proto::PaymentMethod::Other,
        _ => proto::PaymentMethod::Unspecified,
    }
}

fn status_name(status: proto::InvoiceStatus) -> &'static str {
    match status {
        proto::InvoiceStatus::Draft => "draft",
        proto::InvoiceStatus::Issued => "issued",
        proto::InvoiceStatus::Paid => "paid",
        proto::InvoiceStatus::Cancelled => "cancelled",
        proto::InvoiceStatus::PartiallyRefunded => "partially_refunded",
        proto::InvoiceStatus::Refunded => "refunded",
        proto::InvoiceStatus::Unspecified => "unspecified",
    }
}

fn status_of(name: &str, field: &str) -> Result<proto::InvoiceStatus, ApiError> {
    Ok(match name.trim().to_ascii_lowercase().as_str() {
        "draft" => proto::InvoiceStatus::Draft,
        "issued" => proto::InvoiceStatus::Issued,
        "paid" => proto::InvoiceStatus::Paid,
        "cancelled" => proto::InvoiceStatus::Cancelled,
        "partially_refunded" => proto::InvoiceStatus::PartiallyRefunded,
        "refunded" => proto::InvoiceStatus::Refunded,
        _ => {
            return Err(ApiError(RestError::validation(&[FieldViolation::new(
                field,
                "enum",
                "Input should be 'draft', 'issued', 'paid', 'cancelled', 'partially_refunded' or 'refunded'",
            )])));
        }
    })
}

impl InvoiceOut {
    pub fn from_message(invoice: Option<proto::Invoice>) -> Result<Self, ApiError> {
        let invoice = invoice.ok_or_else(|| {
            ApiError::from(tonic::Status::internal("sales service sent no invoice"))
        })?;
        let status = status_name(invoice.status());
        let totals = invoice.totals.unwrap_or_default();
        Ok(Self {
            created_at: to_rfc3339(invoice.created_at.as_ref()),
            updated_at: to_rfc3339(invoice.updated_at.as_ref()),
            id: invoice.id,
            invoice_no: invoice.invoice_no,
            customer_id: invoice.customer_id,
            salesman_id: invoice.salesman_id,
            cashier_id: invoice.cashier_id,
            shift_id: invoice.shift_id,
            items: invoice
                .items
                .into_iter()
                .map(|item| InvoiceItemOut {
                    product_id: item.product_id,
                    sku: item.sku,
                    name: item.name,
                    quantity: item.quantity,
                    unit_price: money_out(item.unit_price),
                    tax_rate: money_out(item.tax_rate),
                    discount: money_out(item.discount),
                    line_total: money_out(item.line_total),
                })
                .collect(),
            totals: TotalsOut {
                subtotal: money_out(totals.subtotal),
                tax: money_out(totals.tax),
                discount: money_out(totals.discount),
                total: money_out(totals.total),
            },
            taxes: money_out(invoice.taxes),
            discounts: money_out(invoice.discounts),
            payments: invoice
                .payments
                .into_iter()
                .map(|payment| PaymentOut {
                    method: method_name(payment.method()).to_owned(),
                    amount: money_out(payment.amount),
                })
                .collect(),
            amount_paid: money_out(invoice.amount_paid),
            change_due: money_out(invoice.change_due),
            status,
            reprint_count: invoice.reprint_count,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ItemIn {
    pub product_id: String,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PaymentIn {
    /// `cash`, `card` or `other`.
    pub method: String,
    #[schema(value_type = String)]
    pub amount: MoneyIn,
}

pub fn items_message(items: Vec<ItemIn>) -> Vec<proto::ItemQuantity> {
    items
        .into_iter()
        .map(|item| proto::ItemQuantity {
            product_id: item.product_id,
            quantity: item.quantity,
        })
        .collect()
}

pub fn payments_message(payments: Vec<PaymentIn>) -> Vec<proto::Payment> {
    payments
        .into_iter()
        .map(|payment| proto::Payment {
            method: method_of(&payment.method) as i32,
            amount: Some(payment.amount.message()),
        })
        .collect()
}

/// The `Idempotency-Key` header, trimmed; the service checks its length.
pub fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(String::new()),
        Some(value) => value
            .to_str()
            .map(|key| key.trim().to_owned())
            .map_err(|_| {
                ApiError::detail(
                    StatusCode::BAD_REQUEST,
                    "Idempotency-Key must be visible ASCII",
                )
            }),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateInvoiceBody {
    items: Vec<ItemIn>,
    customer_id: Option<String>,
    salesman_id: Option<String>,
    /// Invoice-level discount, money (not a percentage).
    #[schema(value_type = Option<String>)]
    discount: Option<MoneyIn>,
    #[serde(default)]
    payments: Vec<PaymentIn>,
    /// `draft`, `issued` or `paid`; absent = paid when the payments cover the total,
    /// issued otherwise.
    status: Option<String>,
}

/// Partial update: absent fields stay; `customer_id`/`salesman_id` null clears them.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateInvoiceBody {
    items: Option<Vec<ItemIn>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    customer_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    salesman_id: Option<Option<String>>,
    #[schema(value_type = Option<String>)]
    discount: Option<MoneyIn>,
    payments: Option<Vec<PaymentIn>>,
    /// `issued`, `paid` or `cancelled`.
    status: Option<String>,
}

pub fn client(state: &AppState) -> SalesServiceClient<tonic::transport::Channel> {
    SalesServiceClient::new(state.channel(Service::Sales))
}

const fn invoices(action: Action) -> Permission {
    Permission::Crud(Resource::Invoices, action)
}

/// `from`/`to` of a list: an RFC 3339 time, or a day (`from` = its start, `to` = the end of
/// it, so both days are included).
pub fn time_filter(
    params: &ListParams,
    name: &str,
    end_of_day: bool,
) -> Result<Option<Timestamp>, ApiError> {
    let Some(text) = params.text(name) else {
        return Ok(None);
    };
    if let Ok(time) = DateTime::parse_from_rfc3339(&text) {
        return Ok(Some(to_timestamp(time.with_timezone(&Utc))));
    }
    if let Ok(day) = NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        let day = if end_of_day {
            day.succ_opt().unwrap_or(day)
        } else {
            day
        };
        if let Some(start) = day.and_hms_opt(0, 0, 0) {
            return Ok(Some(to_timestamp(start.and_utc())));
        }
    }
    Err(ApiError(RestError::validation(&[FieldViolation::new(
        format!("query.{name}"),
        "datetime_parsing",
        "Input should be a date (YYYY-MM-DD) or an RFC 3339 time",
    )])))
}

/// Lists invoices, newest first; filters `status`, `customer_id`, `from`, `to`.
#[utoipa::path(get, path = "/invoices", tag = "invoices", security(("bearer" = [])),
    params(("skip" = Option<i64>, Query), ("limit" = Option<i64>, Query),
           ("status" = Option<String>, Query), ("customer_id" = Option<String>, Query),
           ("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, body = [InvoiceOut]), (status = 401), (status = 403), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(invoices(Action::Read))?;
    let status = match params.text("status") {
        None => proto::InvoiceStatus::Unspecified,
        Some(name) => status_of(&name, "query.status")?,
    };
    let request = caller.call.request(proto::ListInvoicesRequest {
        page: Some(PageRequest {
            skip: params.skip,
            limit: params.limit,
        }),
        status: status as i32,
        customer_id: params.text("customer_id"),
        from: time_filter(&params, "from", false)?,
        to: time_filter(&params, "to", true)?,
    });
    let response = client(&state).list_invoices(request).await?.into_inner();
    let total = response
        .page
        .map(|page| page.total_count)
        .unwrap_or_default();
    let items = response
        .invoices
        .into_iter()
        .map(|invoice| InvoiceOut::from_message(Some(invoice)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(items, total))
}

/// Creates an invoice. A draft is only saved; `issued` or `paid` sells its items (409
/// when stock is short, naming the available quantity). `Idempotency-Key` makes a retry
/// return the first invoice.
#[utoipa::path(post, path = "/invoices", tag = "invoices", security(("bearer" = [])),
    request_body = CreateInvoiceBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = InvoiceOut), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "Not enough stock"), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authenticated,
    headers: HeaderMap,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(invoices(Action::Create))?;
    let body: CreateInvoiceBody = body.parse()?;
    let status = match body.status.as_deref() {
        None => proto::InvoiceStatus::Unspecified,
        Some(name) => status_of(name, "status")?,
    };
    let request = caller.call.request(proto::CreateInvoiceRequest {
        items: items_message(body.items),
        customer_id: body.customer_id,
        salesman_id: body.salesman_id,
        discount: money(body.discount),
        payments: payments_message(body.payments),
        status: status as i32,
        idempotency_key: idempotency_key(&headers)?,
    });
    let response = client(&state).create_invoice(request).await?.into_inner();
    let invoice = InvoiceOut::from_message(response.invoice)?;
    Ok(created_response(
        format!("/invoices/{}", invoice.id),
        invoice,
    ))
}

#[utoipa::path(get, path = "/invoices/{id}", tag = "invoices", security(("bearer" = [])),
    responses((status = 200, body = InvoiceOut), (status = 404), (status = 422)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<InvoiceOut>, ApiError> {
    caller.require(invoices(Action::Read))?;
    let response = client(&state)
        .get_invoice(caller.call.request(proto::GetInvoiceRequest { id }))
        .await?
        .into_inner();
    InvoiceOut::from_message(response.invoice).map(Json)
}

/// Edits a draft, or moves the status forward: draft → issued | paid (sells), issued →
/// paid, draft | issued | paid → cancelled (puts the stock back). Anything else is 409.
#[utoipa::path(put, path = "/invoices/{id}", tag = "invoices", security(("bearer" = [])),
    request_body = UpdateInvoiceBody,
    responses((status = 200, body = InvoiceOut), (status = 403), (status = 404), (status = 409),
              (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<InvoiceOut>, ApiError> {
    caller.require(invoices(Action::Update))?;
    let body: UpdateInvoiceBody = body.parse()?;
    let status = match body.status.as_deref() {
        None => None,
        Some(name) => Some(status_of(name, "status")? as i32),
    };
    let request = caller.call.request(proto::UpdateInvoiceRequest {
        id,
        items: body.items.map(|items| proto::ItemQuantityList {
            items: items_message(items),
        }),
        customer_id: body.customer_id.map(Option::unwrap_or_default),
        salesman_id: body.salesman_id.map(Option::unwrap_or_default),
        discount: money(body.discount),
        payments: body.payments.map(|payments| proto::PaymentList {
            payments: payments_message(payments),
        }),
        status,
    });
    let response = client(&state).update_invoice(request).await?.into_inner();
    InvoiceOut::from_message(response.invoice).map(Json)
}

/// Erases a draft (admin); any other status is 409 (cancel it instead).
#[utoipa::path(delete, path = "/invoices/{id}", tag = "invoices", security(("bearer" = [])),
    responses((status = 200, body = MessageOut), (status = 403), (status = 404), (status = 409)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, ApiError> {
    caller.require(invoices(Action::Delete))?;
    let response = client(&state)
        .delete_invoice(caller.call.request(proto::DeleteInvoiceRequest { id }))
        .await?;
    Ok(Json(response.into_inner().into()))
}
