//! One sale through the saga (see the module above).

use regal_domain::{money::to_text, parse_uuid};
use regal_errors::FieldViolation;
use regal_outbox::NewEvent;
use regal_proto::catalog::v1::{ReleaseStockRequest, ReserveStockRequest, ReservedLine, StockLine};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgConnection;
use tonic::Code;
use uuid::Uuid;

use super::{Upstream, committer::ReadySale, messages};
use crate::{
    domain::{
        pricing::{self, PricedLine, PricingError, Settlement, SettlementError},
        sale::{PaymentIn, PaymentMethod, SaleLines, SaleTerms},
    },
    error::SalesError,
    rpc::{Caller, SalesRpc},
    store::{
        invoices::{self, FullInvoice},
        pending::{self, NewPending, PendingKind},
    },
};

/// How a sale's payments decide its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PaymentRule {
    /// Quick-sell: paid; no payments = one cash payment of exactly the total.
    PaidOrCashExact,
    /// Paid: the payments must cover the total.
    Paid,
    /// Issued, whatever was paid so far.
    Issued,
    /// Paid when the payments cover the total, issued otherwise.
    ByPayments,
}

/// A sale ready to run.
pub(crate) struct Sale<'a> {
    pub id: Uuid,
    pub kind: PendingKind,
    pub terms: &'a SaleTerms,
    pub rule: PaymentRule,
    /// The key to complete in the sale's commit.
    pub idempotency_key: Option<&'a str>,
}

/// The marker of the test build's injected crash (see `fault-injection` in Cargo.toml):
/// a quick-sell with this `Idempotency-Key` stops right after its reservation, as if the
/// process had died, leaving the pending row and the reservation to the sweeper.
#[cfg(feature = "fault-injection")]
pub const CRASH_AFTER_RESERVE_KEY: &str = "fault-injection:crash-after-reserve";

pub(crate) fn is_injected_crash(_sale_key: Option<&str>) -> bool {
    #[cfg(feature = "fault-injection")]
    {
        _sale_key == Some(CRASH_AFTER_RESERVE_KEY)
    }
    #[cfg(not(feature = "fault-injection"))]
    {
        false
    }
}

/// Customers and salesmen named by a sale must exist (404 before anything moves).
pub(crate) async fn check_references(
    connection: &mut PgConnection,
    terms: &SaleTerms,
) -> Result<(), SalesError> {
    if let Some(customer_id) = terms.customer_id
        && !invoices::customer_exists(&mut *connection, customer_id).await?
    {
        return Err(SalesError::not_found("Customer"));
    }
    if let Some(salesman_id) = terms.salesman_id
        && !invoices::salesman_exists(&mut *connection, salesman_id).await?
    {
        return Err(SalesError::not_found("Salesman"));
    }
    Ok(())
}

/// The pending row of a new sale: the first write of its saga.
pub(crate) fn pending_row(caller: &Caller, sale: &Sale<'_>) -> NewPending {
    NewPending {
        id: sale.id,
        kind: sale.kind,
        cashier_id: caller.principal.user_id,
        idempotency_key: sale.idempotency_key.map(str::to_owned),
        request: serde_json::to_value(sale.terms).unwrap_or_default(),
    }
}

/// Runs the saga of a new sale (quick-sell or a new invoice) whose pending row
/// ([`pending_row`]) is written, and returns the invoice.
pub(crate) async fn sell(
    rpc: &SalesRpc,
    caller: &Caller,
    upstream: &Upstream,
    sale: Sale<'_>,
) -> Result<FullInvoice, SalesError> {
    let checked = async {
        let mut connection = rpc.pool.acquire().await?;
        check_references(&mut connection, sale.terms).await
    }
    .await;
    if let Err(error) = checked {
        compensate(rpc, upstream, sale.id, false).await;
        return Err(error);
    }

    let reserved = match reserve(upstream, sale.id, &sale.terms.lines).await {
        Ok(lines) => lines,
        Err(error) => {
            compensate(rpc, upstream, sale.id, !is_refusal(&error)).await;
            return Err(error);
        }
    };
    if is_injected_crash(sale.idempotency_key) {
        tracing::warn!(sale_id = %sale.id, "injected crash after the reservation");
        return Err(SalesError::Service(
            regal_errors::ServiceError::Unavailable("injected crash".to_owned()),
        ));
    }
    match commit(rpc, caller, &sale, reserved).await {
        Ok(invoice) => Ok(invoice),
        Err(error) => {
            compensate(rpc, upstream, sale.id, true).await;
            Err(error)
        }
    }
}

/// Errors where catalog refused the reservation outright: nothing was taken.
fn is_refusal(error: &SalesError) -> bool {
    matches!(error, SalesError::Upstream { status, .. }
        if matches!(status.code(), Code::NotFound | Code::FailedPrecondition | Code::InvalidArgument | Code::AlreadyExists))
        || matches!(error, SalesError::Validation(_))
}

/// Asks catalog for the stock of a sale; the answer carries the authoritative prices.
#[tracing::instrument(
    name = "catalog.ReserveStock",
    skip_all,
    fields(otel.kind = "client", regal.service = "regal-sales", sale_id = %sale_id)
)]
pub(crate) async fn reserve(
    upstream: &Upstream,
    sale_id: Uuid,
    lines: &SaleLines,
) -> Result<Vec<PricedLine>, SalesError> {
    let request = ReserveStockRequest {
        sale_id: sale_id.to_string(),
        lines: lines
            .lines()
            .iter()
            .map(|(product_id, quantity)| StockLine {
                product_id: product_id.to_string(),
                quantity: *quantity,
            })
            .collect(),
    };
    let answer = upstream
        .catalog()
        .reserve_stock(upstream.request(request))
        .await
        .map_err(SalesError::upstream("catalog"))?
        .into_inner();
    answer.lines.iter().map(priced_line).collect()
}

pub(crate) fn priced_line(line: &ReservedLine) -> Result<PricedLine, SalesError> {
    let unreadable =
        |_: FieldViolation| SalesError::from(anyhow::anyhow!("catalog sent an unreadable line"));
    let amount = |value: Option<&regal_proto::common::v1::Decimal>| {
        regal_domain::money::parse_amount("line", value.map_or("0", |value| value.value.as_str()))
            .map_err(unreadable)
    };
    Ok(PricedLine {
        product_id: parse_uuid("product_id", &line.product_id).map_err(unreadable)?,
        sku: line.sku.clone(),
        name: line.name.clone(),
        quantity: line.quantity,
        unit_price: amount(line.unit_price.as_ref())?,
        cost_price: amount(line.cost_price.as_ref())?,
        tax_rate: amount(line.tax_rate.as_ref())?,
        discount_rate: amount(line.discount.as_ref())?,
    })
}

/// Gives the stock of a failed sale back, then forgets the pending row. When catalog
/// cannot be reached the row stays, and the sweeper releases it later.
pub(crate) async fn compensate(rpc: &SalesRpc, upstream: &Upstream, sale_id: Uuid, release: bool) {
    if release {
        let answer = upstream
            .catalog()
            .release_stock(upstream.request(ReleaseStockRequest {
                sale_id: sale_id.to_string(),
            }))
            .await;
        if let Err(status) = answer {
            tracing::warn!(sale_id = %sale_id, error = %status.message(),
                "reservation not released; the sweeper will");
            return;
        }
    }
    let forgotten = async {
        let mut connection = rpc.pool.acquire().await?;
        pending::take(&mut connection, sale_id).await
    }
    .await;
    if let Err(error) = forgotten {
        tracing::warn!(sale_id = %sale_id, error = %error, "pending sale not removed");
    }
}

/// The money of a sale: totals and what the payments settle.
pub(crate) fn price_and_settle(
    lines: Vec<PricedLine>,
    terms: &SaleTerms,
    rule: PaymentRule,
) -> Result<(pricing::Priced, Vec<PaymentIn>, Settlement, &'static str), SalesError> {
    let priced = pricing::price(lines, terms.discount).map_err(|error| match error {
        PricingError::DiscountTooLarge { most } => SalesError::from(FieldViolation::new(
            "discount",
            "less_than_equal",
            format!("Discount should be at most {}", to_text(most)),
        )),
    })?;
    let total = priced.totals.total;
    let payments = if rule == PaymentRule::PaidOrCashExact && terms.payments.is_empty() {
        if total.is_zero() {
            Vec::new()
        } else {
            vec![PaymentIn {
                method: PaymentMethod::Cash,
                amount: total,
            }]
        }
    } else {
        terms.payments.clone()
    };
    let tenders: Vec<(bool, Decimal)> = payments
        .iter()
        .map(|payment| (payment.method == PaymentMethod::Cash, payment.amount))
        .collect();
    let settlement = pricing::settle(total, &tenders).map_err(|error| match error {
        SettlementError::NonCashOverTotal => SalesError::from(FieldViolation::new(
            "payments",
            "value_error",
            "Only cash may exceed the total (card and other payments give no change)",
        )),
    })?;
    let covered = settlement.amount_paid >= total;
    let status = match rule {
        PaymentRule::PaidOrCashExact | PaymentRule::Paid if !covered => {
            return Err(SalesError::from(FieldViolation::new(
                "payments",
                "value_error",
                format!(
                    "Payments of {} are short of the total {}",
                    to_text(settlement.amount_paid),
                    to_text(total)
                ),
            )));
        }
        PaymentRule::PaidOrCashExact | PaymentRule::Paid => "paid",
        PaymentRule::Issued => "issued",
        PaymentRule::ByPayments if covered => "paid",
        PaymentRule::ByPayments => "issued",
    };
    Ok((priced, payments, settlement, status))
}

/// Step 4: the sale's one transaction, shared with the sales queued meanwhile (see
/// [`super::committer`]).
#[tracing::instrument(
    name = "db.transaction",
    skip_all,
    fields(otel.name = "sales: commit sale", regal.service = "regal-sales", db.system = "postgresql")
)]
async fn commit(
    rpc: &SalesRpc,
    caller: &Caller,
    sale: &Sale<'_>,
    reserved: Vec<PricedLine>,
) -> Result<FullInvoice, SalesError> {
    let (priced, payments, settlement, status) = price_and_settle(reserved, sale.terms, sale.rule)?;
    rpc.committer
        .commit(ReadySale {
            id: sale.id,
            status,
            customer_id: sale.terms.customer_id,
            salesman_id: sale.terms.salesman_id,
            cashier_id: caller.principal.user_id,
            cashier: caller.principal.username.clone(),
            invoice_discount: sale.terms.discount,
            priced,
            payments,
            settlement,
            idempotency_key: sale.idempotency_key.map(str::to_owned),
            context: caller.context.clone(),
        })
        .await
}

/// An issued invoice's unpaid part is owed by its customer: it raises their balance,
/// within their credit limit (409 beyond it). Walk-in sales owe nothing on account.
pub(crate) async fn charge_customer(
    connection: &mut PgConnection,
    customer_id: Option<Uuid>,
    status: &str,
    total: Decimal,
    settlement: Settlement,
) -> Result<(), SalesError> {
    let Some((customer_id, owed)) = owed_on_account(customer_id, status, total, settlement) else {
        return Ok(());
    };
    if !invoices::move_customer_balance(connection, customer_id, owed).await? {
        return Err(credit_refused());
    }
    Ok(())
}

/// The customer and the amount an invoice puts on their account: the unpaid part of an
/// issued invoice with a customer; `None` for anything else.
pub(crate) fn owed_on_account(
    customer_id: Option<Uuid>,
    status: &str,
    total: Decimal,
    settlement: Settlement,
) -> Option<(Uuid, Decimal)> {
    let owed = total - settlement.amount_paid;
    let customer_id = customer_id?;
    (status == "issued" && owed > Decimal::ZERO).then_some((customer_id, owed))
}

/// The error of a sale whose unpaid part the customer's credit does not cover.
pub(crate) fn credit_refused() -> SalesError {
    SalesError::Conflict("The customer's credit limit does not cover the unpaid amount".to_owned())
}

/// The audit events of a sold invoice: the invoice, then each payment (one statement).
pub(crate) async fn record_sold(
    rpc: &SalesRpc,
    connection: &mut PgConnection,
    caller: &Caller,
    invoice: &FullInvoice,
) -> Result<(), SalesError> {
    rpc.outbox
        .record_all(connection, &caller.context, sold_events(invoice))
        .await?;
    Ok(())
}

/// The audit events of a sold invoice: the invoice, then each payment.
pub(crate) fn sold_events(invoice: &FullInvoice) -> Vec<NewEvent<'static>> {
    let mut events = vec![NewEvent {
        entity: "invoice",
        entity_id: invoice.row.id.to_string(),
        action: "sell",
        changes: messages::invoice_audit(invoice),
    }];
    events.extend(payment_events(invoice.row.id, &invoice.payments));
    events
}

pub(crate) async fn record_payments(
    rpc: &SalesRpc,
    connection: &mut PgConnection,
    caller: &Caller,
    invoice_id: Uuid,
    payments: &[invoices::PaymentRow],
) -> Result<(), SalesError> {
    rpc.outbox
        .record_all(
            connection,
            &caller.context,
            payment_events(invoice_id, payments).collect(),
        )
        .await?;
    Ok(())
}

fn payment_events(
    invoice_id: Uuid,
    payments: &[invoices::PaymentRow],
) -> impl Iterator<Item = NewEvent<'static>> + '_ {
    payments.iter().map(move |payment| NewEvent {
        entity: "payment",
        entity_id: format!("{invoice_id}/{}", payment.position),
        action: "record",
        changes: json!({
            "invoice_id": invoice_id,
            "method": payment.method,
            "amount": to_text(payment.amount),
        }),
    })
}
