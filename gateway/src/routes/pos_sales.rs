//! `POST /pos/quick-sell` and `GET /pos/duplicate-bill/{invoice_id}` (admins and
//! cashiers). The drawer, shift and report routes of `/pos` live in their own file.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use regal_authz::Permission;
use regal_proto::sales::v1 as proto;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http_error::ApiError,
    routes::{
        extract::{Authenticated, ListParams, RawJson},
        fields::{MoneyIn, created_response, money},
        invoices::{
            InvoiceOut, ItemIn, PaymentIn, client, idempotency_key, items_message, payments_message,
        },
    },
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct QuickSellBody {
    #[serde(default)]
    items: Vec<ItemIn>,
    /// The original form: one unit of each id (an id may repeat).
    #[serde(default)]
    product_ids: Vec<String>,
    customer_id: Option<String>,
    salesman_id: Option<String>,
    /// Invoice-level discount, money (not a percentage).
    #[schema(value_type = Option<String>)]
    discount: Option<MoneyIn>,
    /// Empty = one cash payment of exactly the total.
    #[serde(default)]
    payments: Vec<PaymentIn>,
}

/// Sells at the till in one step → 201 the paid invoice. Unknown product 404; not enough
/// stock 409 naming the available quantity; payments short of the total 422.
/// `Idempotency-Key` makes a retry return the first invoice.
#[utoipa::path(post, path = "/pos/quick-sell", tag = "pos", security(("bearer" = [])),
    request_body = QuickSellBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = InvoiceOut), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "Not enough stock"), (status = 422)))]
pub async fn quick_sell(
    State(state): State<AppState>,
    caller: Authenticated,
    headers: HeaderMap,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Permission::PointOfSale)?;
    let body: QuickSellBody = body.parse()?;
    let request = caller.call.request(proto::QuickSellRequest {
        items: items_message(body.items),
        product_ids: body.product_ids,
        customer_id: body.customer_id,
        salesman_id: body.salesman_id,
        discount: money(body.discount),
        payments: payments_message(body.payments),
        idempotency_key: idempotency_key(&headers)?,
    });
    let response = client(&state).quick_sell(request).await?.into_inner();
    let invoice = InvoiceOut::from_message(response.invoice)?;
    Ok(created_response(
        format!("/invoices/{}", invoice.id),
        invoice,
    ))
}

/// A reprinted bill: the invoice marked as a duplicate.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateBillOut {
    #[serde(flatten)]
    invoice: InvoiceOut,
    /// Always true.
    duplicate: bool,
}

/// Reprints an invoice: raises its `reprint_count`, writes an audit event, and returns it
/// marked as a duplicate; `?format=text` answers a plain-text receipt for an 80-column
/// printer instead.
#[utoipa::path(get, path = "/pos/duplicate-bill/{invoice_id}", tag = "pos",
    security(("bearer" = [])),
    params(("format" = Option<String>, Query, description = "json (default) or text")),
    responses((status = 200, body = DuplicateBillOut), (status = 403), (status = 404),
              (status = 409, description = "A draft has no bill")))]
pub async fn duplicate_bill(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(invoice_id): Path<String>,
    params: ListParams,
) -> Result<Response, ApiError> {
    caller.require(Permission::PointOfSale)?;
    let text = match params
        .text("format")
        .map(|format| format.to_ascii_lowercase())
    {
        None => false,
        Some(format) if format == "json" => false,
        Some(format) if format == "text" => true,
        Some(_) => {
            return Err(ApiError(regal_errors::RestError::validation(&[
                regal_errors::FieldViolation::new(
                    "query.format",
                    "enum",
                    "Input should be 'json' or 'text'",
                ),
            ])));
        }
    };
    let format = if text {
        proto::ReceiptFormat::Text
    } else {
        proto::ReceiptFormat::Json
    };
    let response = client(&state)
        .get_duplicate_bill(caller.call.request(proto::GetDuplicateBillRequest {
            invoice_id,
            format: format as i32,
        }))
        .await?
        .into_inner();
    if text {
        let receipt = response.text_receipt.unwrap_or_default();
        return Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            receipt,
        )
            .into_response());
    }
    let invoice = InvoiceOut::from_message(response.invoice)?;
    Ok(Json(DuplicateBillOut {
        invoice,
        duplicate: true,
    })
    .into_response())
}
