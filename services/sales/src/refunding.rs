//! Refunds: units of a paid invoice given back, never more than sold minus already
//! refunded; the money from the invoice's own lines; the stock put back in catalog.
//!
//! Order of operations: the refund, the invoice's new status and the audit event are
//! written in one transaction (the invoice row locked, so concurrent refunds of one invoice
//! queue and cannot together exceed what was sold); then catalog restocks it, idempotently
//! by the refund id, and `restocked_at` is set. If the process dies in between (or catalog
//! is down), the sweeper finds the refund without `restocked_at` and restocks it: stock is
//! never lost and, being keyed by the refund id, never doubled.
//!
//! Voiding (admin) takes the stock back out first (ReverseRefundRestock, 409 when that
//! would take stock below zero) while the refund row is locked, then marks it voided and
//! recomputes the invoice's status in the same transaction. If the process dies between
//! the two, deleting the refund again finishes it (the reversal is idempotent).

use regal_domain::money::to_text;
use regal_errors::FieldViolation;
use regal_outbox::NewEvent;
use regal_proto::catalog::v1::{RestockForRefundRequest, ReverseRefundRestockRequest, StockLine};
use serde_json::{Value, json};
use sqlx::PgConnection;
use tonic::Code;
use uuid::Uuid;

use crate::{
    domain::{
        refund::{NewRefund, SoldLine, refund_share},
        sale::request_digest,
    },
    error::SalesError,
    rpc::{Caller, SalesRpc},
    selling::{
        Upstream,
        idempotency::{Claim, Key},
        sweeper::Sweeper,
    },
    store::{
        idempotency as keys, invoices,
        refunds::{self, FullRefund, NewRefundRow},
    },
};

fn audit(refund: &FullRefund) -> Value {
    json!({
        "id": refund.row.id,
        "invoice_id": refund.row.invoice_id,
        "items": refund.items.iter().map(|item| json!({
            "product_id": item.product_id, "quantity": item.quantity,
        })).collect::<Vec<_>>(),
        "amount": to_text(refund.row.amount),
        "method": refund.row.method,
        "reason": refund.row.reason,
        "processed_by": refund.row.processed_by,
        "shift_id": refund.row.shift_id,
    })
}

async fn record(
    rpc: &SalesRpc,
    connection: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    action: &str,
    changes: Value,
) -> Result<(), SalesError> {
    rpc.outbox
        .record(
            connection,
            &caller.context,
            NewEvent {
                entity: "refund",
                entity_id: id.to_string(),
                action,
                changes,
            },
        )
        .await?;
    Ok(())
}

async fn load(rpc: &SalesRpc, id: Uuid) -> Result<FullRefund, SalesError> {
    let mut connection = rpc.pool.acquire().await?;
    refunds::load(&mut connection, id)
        .await?
        .ok_or_else(|| SalesError::not_found("Refund"))
}

pub(crate) async fn get(rpc: &SalesRpc, id: Uuid) -> Result<FullRefund, SalesError> {
    load(rpc, id).await
}

/// `POST /refunds`, idempotent per (caller, key).
pub(crate) async fn create(
    rpc: &SalesRpc,
    caller: &Caller,
    upstream: &Upstream,
    refund: NewRefund,
) -> Result<FullRefund, SalesError> {
    let Some(key) = refund.idempotency_key.clone() else {
        return create_once(rpc, caller, upstream, &refund).await;
    };
    let key = Key {
        user_id: caller.principal.user_id,
        key,
        operation: "refund",
        request_hash: request_digest("refund", &refund),
    };
    match key.claim(&rpc.pool, None).await? {
        Claim::Done(refund_id) => load(rpc, refund_id).await,
        Claim::Fresh => {
            let result = create_once(rpc, caller, upstream, &refund).await;
            if result.is_err() {
                key.release(&rpc.pool).await;
            }
            result
        }
    }
}

async fn create_once(
    rpc: &SalesRpc,
    caller: &Caller,
    upstream: &Upstream,
    refund: &NewRefund,
) -> Result<FullRefund, SalesError> {
    let refund_id = Uuid::now_v7();
    let mut transaction = rpc.pool.begin().await?;
    let invoice = invoices::lock(&mut transaction, refund.invoice_id).await?;
    if !matches!(invoice.status.as_str(), "paid" | "partially_refunded") {
        return Err(SalesError::Conflict(format!(
            "Only a paid invoice can be refunded (this one is {})",
            invoice.status
        )));
    }
    let full = invoices::load_full(&mut transaction, invoice.id)
        .await?
        .ok_or_else(|| SalesError::not_found("Invoice"))?;
    let already = refunds::refunded_units(&mut transaction, invoice.id).await?;
    let already_of = |line_no: i32| {
        already
            .iter()
            .find(|(line, _)| *line == line_no)
            .map_or(0, |(_, units)| *units)
    };
    let mut lines = Vec::new();
    for (index, (product_id, quantity)) in refund.lines.lines().iter().enumerate() {
        let Some(item) = full
            .items
            .iter()
            .find(|item| item.product_id == *product_id)
        else {
            return Err(SalesError::from(FieldViolation::new(
                format!("items.{index}.product_id"),
                "value_error",
                "This product is not on the invoice",
            )));
        };
        let refunded = already_of(item.line_no);
        let left = item.quantity - refunded;
        if *quantity > left {
            return Err(SalesError::Conflict(format!(
                "Refund exceeds the sale: {left} of {} ({}) left to refund, {quantity} asked",
                item.sku, item.name
            )));
        }
        let sold = SoldLine {
            quantity: item.quantity,
            gross: item.gross,
            discount: item.discount,
            tax: item.tax,
            cost_price: item.cost_price,
        };
        lines.push((
            item.line_no,
            *product_id,
            *quantity,
            refund_share(sold, refunded, *quantity),
        ));
    }
    let units_sold: i64 = full.items.iter().map(|item| item.quantity).sum();
    let units_refunded: i64 = already.iter().map(|(_, units)| units).sum::<i64>()
        + refund
            .lines
            .lines()
            .iter()
            .map(|(_, quantity)| quantity)
            .sum::<i64>();
    let status = if units_refunded >= units_sold {
        "refunded"
    } else {
        "partially_refunded"
    };
    let shift_id = invoices::open_shift_of(&mut transaction, caller.principal.user_id).await?;
    refunds::insert(
        &mut transaction,
        &NewRefundRow {
            id: refund_id,
            invoice_id: invoice.id,
            method: refund.method.as_str(),
            reason: &refund.reason,
            processed_by: caller.principal.user_id,
            processed_by_name: &caller.principal.username,
            shift_id,
            lines,
        },
    )
    .await?;
    invoices::set_status(&mut transaction, invoice.id, status).await?;
    if let Some(key) = &refund.idempotency_key {
        keys::complete(&mut transaction, caller.principal.user_id, key, refund_id).await?;
    }
    let written = refunds::load(&mut transaction, refund_id)
        .await?
        .ok_or_else(|| SalesError::from(anyhow::anyhow!("the refund just written is missing")))?;
    record(
        rpc,
        &mut transaction,
        caller,
        refund_id,
        "create",
        audit(&written),
    )
    .await?;
    transaction.commit().await?;

    if is_injected_restock_failure(refund.idempotency_key.as_deref()) {
        tracing::warn!(refund_id = %refund_id, "injected restock failure; the sweeper will");
        return Ok(written);
    }
    let restock = upstream
        .catalog()
        .restock_for_refund(upstream.request(restock_request(&written)))
        .await;
    match restock {
        Ok(_) => {
            let mut connection = rpc.pool.acquire().await?;
            refunds::mark_restocked(&mut connection, refund_id).await?;
        }
        Err(status) => tracing::warn!(refund_id = %refund_id, error = %status.message(),
            "refund not restocked yet; the sweeper will"),
    }
    Ok(written)
}

/// The marker of the test build's injected fault (see `fault-injection` in Cargo.toml): a
/// refund with this `Idempotency-Key` is committed but its restock never reaches catalog,
/// as if catalog were unreachable or the process died right after the commit, leaving the
/// restock to the sweeper.
#[cfg(feature = "fault-injection")]
pub const SKIP_RESTOCK_KEY: &str = "fault-injection:skip-restock";

fn is_injected_restock_failure(_refund_key: Option<&str>) -> bool {
    #[cfg(feature = "fault-injection")]
    {
        _refund_key == Some(SKIP_RESTOCK_KEY)
    }
    #[cfg(not(feature = "fault-injection"))]
    {
        false
    }
}

fn restock_request(refund: &FullRefund) -> RestockForRefundRequest {
    RestockForRefundRequest {
        refund_id: refund.row.id.to_string(),
        lines: refund
            .items
            .iter()
            .map(|item| StockLine {
                product_id: item.product_id.to_string(),
                quantity: item.quantity,
            })
            .collect(),
    }
}

/// `PUT /refunds/{id}`: the reason only.
pub(crate) async fn update_reason(
    rpc: &SalesRpc,
    caller: &Caller,
    id: Uuid,
    reason: Option<String>,
) -> Result<FullRefund, SalesError> {
    let Some(reason) = reason else {
        return load(rpc, id).await;
    };
    let mut transaction = rpc.pool.begin().await?;
    let before = refunds::lock(&mut transaction, id).await?;
    refunds::set_reason(&mut transaction, id, &reason).await?;
    let after = refunds::load(&mut transaction, id)
        .await?
        .ok_or_else(|| SalesError::not_found("Refund"))?;
    let changes = json!({"before": {"reason": before.reason}, "after": {"reason": reason}});
    record(rpc, &mut transaction, caller, id, "update", changes).await?;
    transaction.commit().await?;
    Ok(after)
}

/// `DELETE /refunds/{id}` (admin): voids the refund.
pub(crate) async fn void(
    rpc: &SalesRpc,
    caller: &Caller,
    upstream: &Upstream,
    id: Uuid,
) -> Result<(), SalesError> {
    let mut transaction = rpc.pool.begin().await?;
    let refund = refunds::lock(&mut transaction, id).await?;
    let invoice = invoices::lock(&mut transaction, refund.invoice_id).await?;
    let full = refunds::load(&mut transaction, id)
        .await?
        .ok_or_else(|| SalesError::not_found("Refund"))?;
    refunds::void(&mut transaction, id, caller.principal.user_id).await?;
    let still_refunded: i64 = refunds::refunded_units(&mut transaction, invoice.id)
        .await?
        .iter()
        .map(|(_, units)| units)
        .sum();
    let status = if still_refunded == 0 {
        "paid"
    } else {
        "partially_refunded"
    };
    invoices::set_status(&mut transaction, invoice.id, status).await?;
    record(rpc, &mut transaction, caller, id, "void", audit(&full)).await?;
    upstream
        .catalog()
        .reverse_refund_restock(upstream.request(ReverseRefundRestockRequest {
            refund_id: id.to_string(),
        }))
        .await
        .map_err(SalesError::upstream("catalog"))?;
    transaction.commit().await?;
    Ok(())
}

/// The sweeper's part: restocks refunds a crash left without their restock.
pub(crate) async fn finish_restocks(sweeper: &Sweeper) -> Result<(), SalesError> {
    let mut transaction = sweeper.pool().begin().await?;
    let waiting = refunds::take_unrestocked(&mut transaction, sweeper.timeout(), 50).await?;
    for refund in &waiting {
        let answer = sweeper
            .catalog()
            .restock_for_refund(sweeper.request(restock_request(refund))?)
            .await;
        match answer {
            Ok(_) => {
                refunds::mark_restocked(&mut transaction, refund.row.id).await?;
                tracing::warn!(refund_id = %refund.row.id, "refund restocked by the sweeper");
            }
            // Catalog is away: keep what this pass did and try the rest later.
            Err(status) if matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded) => {
                tracing::warn!(error = %status.message(), "catalog unreachable; restocks wait");
                break;
            }
            // Catalog refuses this one (e.g. its restock was reversed by a void that died
            // before committing; deleting the refund again finishes that void): it must not
            // hold up the refunds after it.
            Err(status) => tracing::error!(refund_id = %refund.row.id,
                error = %status.message(), "catalog refused the refund's restock; skipped"),
        }
    }
    transaction.commit().await?;
    Ok(())
}
