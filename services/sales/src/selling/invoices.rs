//! The use cases of invoices: quick-sell, new invoices (drafts or sold at once), reads,
//! edits and status moves, deletion of drafts, and reprints.

use regal_domain::money::to_text;
use regal_errors::FieldViolation;
use regal_outbox::NewEvent;
use regal_proto::catalog::v1::{GetProductRequest, ReleaseStockRequest};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    Upstream, committer,
    idempotency::{Claim, Key},
    messages::invoice_audit,
    saga::{self, PaymentRule, Sale},
};
use crate::{
    domain::{
        invoice_update::{InvoiceUpdate, StatusMove},
        pricing::{self, PricedLine},
        sale::{NewInvoice, QuickSale, RequestedStatus, SaleLines, SaleTerms, request_digest},
    },
    error::SalesError,
    rpc::{Caller, SalesRpc},
    store::{
        invoices::{self, FullInvoice, NewInvoiceRow},
        pending::{self, NewPending, PendingKind},
    },
};

async fn load(rpc: &SalesRpc, id: Uuid) -> Result<FullInvoice, SalesError> {
    let mut connection = rpc.pool.acquire().await?;
    invoices::load_full(&mut connection, id)
        .await?
        .ok_or_else(|| SalesError::not_found("Invoice"))
}

pub(crate) async fn get(rpc: &SalesRpc, id: Uuid) -> Result<FullInvoice, SalesError> {
    load(rpc, id).await
}

/// Runs `work` under the caller's idempotency key, when the request has one. A sale's
/// `pending` row is written first: with the claim, in the same statement, when there is a
/// key (and only if this call claims it).
async fn idempotent<F, Fut>(
    rpc: &SalesRpc,
    caller: &Caller,
    key: Option<&str>,
    operation: &'static str,
    request_hash: String,
    pending: Option<NewPending>,
    work: F,
) -> Result<FullInvoice, SalesError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<FullInvoice, SalesError>>,
{
    let Some(key) = key else {
        if let Some(pending) = &pending {
            let mut connection = rpc.pool.acquire().await?;
            pending::insert(&mut connection, pending).await?;
        }
        return work().await;
    };
    let key = Key {
        user_id: caller.principal.user_id,
        key: key.to_owned(),
        operation,
        request_hash,
    };
    match key.claim(&rpc.pool, pending.as_ref()).await? {
        Claim::Done(invoice_id) => load(rpc, invoice_id).await,
        Claim::Fresh => match work().await {
            Ok(invoice) => Ok(invoice),
            Err(error) => {
                if !saga::is_injected_crash(Some(&key.key)) {
                    key.release(&rpc.pool).await;
                }
                Err(error)
            }
        },
    }
}

/// `POST /pos/quick-sell`: sells at once and returns the paid invoice.
pub(crate) async fn quick_sell(
    rpc: &SalesRpc,
    caller: &Caller,
    upstream: &Upstream,
    sale: QuickSale,
) -> Result<FullInvoice, SalesError> {
    let key = sale.idempotency_key.as_deref();
    let hash = request_digest("quick_sell", &sale.terms);
    let sale = Sale {
        id: Uuid::now_v7(),
        kind: PendingKind::QuickSell,
        terms: &sale.terms,
        rule: PaymentRule::PaidOrCashExact,
        idempotency_key: key,
    };
    let pending = saga::pending_row(caller, &sale);
    idempotent(rpc, caller, key, "quick_sell", hash, Some(pending), || {
        saga::sell(rpc, caller, upstream, sale)
    })
    .await
}

/// `POST /invoices`: a draft is only saved; any other status sells.
pub(crate) async fn create(
    rpc: &SalesRpc,
    caller: &Caller,
    upstream: &Upstream,
    invoice: NewInvoice,
) -> Result<FullInvoice, SalesError> {
    let key = invoice.idempotency_key.as_deref();
    let hash = request_digest("invoice", &(&invoice.terms, invoice.status));
    let rule = match invoice.status {
        RequestedStatus::Draft => None,
        RequestedStatus::Issued => Some(PaymentRule::Issued),
        RequestedStatus::Paid => Some(PaymentRule::Paid),
        RequestedStatus::ByPayments => Some(PaymentRule::ByPayments),
    };
    let sale = rule.map(|rule| Sale {
        id: Uuid::now_v7(),
        kind: PendingKind::Invoice,
        terms: &invoice.terms,
        rule,
        idempotency_key: key,
    });
    let pending = sale.as_ref().map(|sale| saga::pending_row(caller, sale));
    idempotent(rpc, caller, key, "invoice", hash, pending, || async {
        match sale {
            Some(sale) => saga::sell(rpc, caller, upstream, sale).await,
            None => create_draft(rpc, caller, upstream, &invoice.terms, key).await,
        }
    })
    .await
}

/// The catalog's current data of each line, for a draft (nothing is reserved).
async fn current_prices(
    upstream: &Upstream,
    lines: &SaleLines,
) -> Result<Vec<PricedLine>, SalesError> {
    let mut priced = Vec::with_capacity(lines.lines().len());
    for (product_id, quantity) in lines.lines() {
        let product = upstream
            .catalog()
            .get_product(upstream.request(GetProductRequest {
                id: product_id.to_string(),
            }))
            .await
            .map_err(SalesError::upstream("catalog"))?
            .into_inner()
            .product
            .ok_or_else(|| SalesError::from(anyhow::anyhow!("catalog sent no product")))?;
        if !product.is_active {
            return Err(SalesError::NotFound(format!(
                "Product {product_id} not found"
            )));
        }
        let line = regal_proto::catalog::v1::ReservedLine {
            product_id: product.id,
            sku: product.sku,
            name: product.name,
            quantity: *quantity,
            unit_price: product.unit_price,
            cost_price: product.cost_price,
            tax_rate: product.tax_rate,
            discount: product.discount,
        };
        priced.push(saga::priced_line(&line)?);
    }
    Ok(priced)
}

async fn create_draft(
    rpc: &SalesRpc,
    caller: &Caller,
    upstream: &Upstream,
    terms: &SaleTerms,
    key: Option<&str>,
) -> Result<FullInvoice, SalesError> {
    {
        let mut connection = rpc.pool.acquire().await?;
        saga::check_references(&mut connection, terms).await?;
    }
    let lines = current_prices(upstream, &terms.lines).await?;
    let (priced, payments, settlement, _) =
        saga::price_and_settle(lines, terms, PaymentRule::Issued)?;
    let id = Uuid::now_v7();
    let mut transaction = rpc.pool.begin().await?;
    invoices::insert_draft(
        &mut transaction,
        &NewInvoiceRow {
            id,
            status: "draft",
            customer_id: terms.customer_id,
            salesman_id: terms.salesman_id,
            cashier_id: caller.principal.user_id,
            cashier: &caller.principal.username,
            shift_id: None,
            invoice_discount: terms.discount,
            priced: &priced,
            settlement,
        },
        &payments,
    )
    .await?;
    if let Some(key) = key {
        crate::store::idempotency::complete(&mut transaction, caller.principal.user_id, key, id)
            .await?;
    }
    let invoice = invoices::load_full(&mut transaction, id)
        .await?
        .ok_or_else(|| SalesError::from(anyhow::anyhow!("the draft just written is missing")))?;
    record(
        rpc,
        &mut transaction,
        caller,
        &invoice,
        "create",
        invoice_audit(&invoice),
    )
    .await?;
    transaction.commit().await?;
    Ok(invoice)
}

async fn record(
    rpc: &SalesRpc,
    connection: &mut PgConnection,
    caller: &Caller,
    invoice: &FullInvoice,
    action: &str,
    changes: serde_json::Value,
) -> Result<(), SalesError> {
    rpc.outbox
        .record(
            connection,
            &caller.context,
            NewEvent {
                entity: "invoice",
                entity_id: invoice.row.id.to_string(),
                action,
                changes,
            },
        )
        .await?;
    Ok(())
}

/// The terms a draft holds now.
fn draft_terms(invoice: &FullInvoice) -> SaleTerms {
    let items: Vec<regal_proto::sales::v1::ItemQuantity> = invoice
        .items
        .iter()
        .map(|item| regal_proto::sales::v1::ItemQuantity {
            product_id: item.product_id.to_string(),
            quantity: item.quantity,
        })
        .collect();
    SaleTerms {
        lines: SaleLines::parse(&items, "items").unwrap_or_default(),
        customer_id: invoice.row.customer_id,
        salesman_id: invoice.row.salesman_id,
        discount: invoice.row.invoice_discount,
        payments: invoice
            .payments
            .iter()
            .map(|payment| crate::domain::sale::PaymentIn {
                method: crate::domain::sale::PaymentMethod::from_stored(&payment.method),
                amount: payment.amount,
            })
            .collect(),
    }
}

/// The stored lines of an invoice, priced as they were.
fn stored_lines(invoice: &FullInvoice) -> Vec<PricedLine> {
    invoice
        .items
        .iter()
        .map(|item| PricedLine {
            product_id: item.product_id,
            sku: item.sku.clone(),
            name: item.name.clone(),
            quantity: item.quantity,
            unit_price: item.unit_price,
            cost_price: item.cost_price,
            tax_rate: item.tax_rate,
            discount_rate: item.discount_rate,
        })
        .collect()
}

/// `PUT /invoices/{id}`: edits a draft, or moves the status forward.
pub(crate) async fn update(
    rpc: &SalesRpc,
    caller: &Caller,
    upstream: &Upstream,
    change: InvoiceUpdate,
) -> Result<FullInvoice, SalesError> {
    let current = load(rpc, change.id).await?;
    let status = current.row.status.as_str();
    let edits_terms = change.lines.is_some()
        || change.customer_id.is_some()
        || change.salesman_id.is_some()
        || change.discount.is_some();
    if edits_terms && status != "draft" {
        return Err(SalesError::Conflict(
            "Only a draft's items, customer, salesman and discount can change".to_owned(),
        ));
    }
    if change.payments.is_some() && !matches!(status, "draft" | "issued") {
        return Err(SalesError::Conflict(
            "Payments change only on a draft or an issued invoice".to_owned(),
        ));
    }
    let mut terms = draft_terms(&current);
    if let Some(lines) = &change.lines {
        terms.lines = lines.clone();
    }
    if let Some(customer_id) = change.customer_id {
        terms.customer_id = customer_id;
    }
    if let Some(salesman_id) = change.salesman_id {
        terms.salesman_id = salesman_id;
    }
    if let Some(discount) = change.discount {
        terms.discount = discount;
    }
    if let Some(payments) = &change.payments {
        terms.payments = payments.clone();
    }
    let target = change.status.filter(|target| target.as_str() != status);
    match (status, target) {
        ("draft", Some(StatusMove::Issued | StatusMove::Paid)) => {
            let rule = if target == Some(StatusMove::Paid) {
                PaymentRule::Paid
            } else {
                PaymentRule::Issued
            };
            sell_draft(rpc, caller, upstream, &current, &terms, rule).await
        }
        ("draft" | "issued" | "paid", Some(StatusMove::Cancelled)) => {
            cancel(rpc, caller, upstream, &current).await
        }
        ("issued", Some(StatusMove::Paid)) => {
            settle_issued(rpc, caller, &current, &terms, true).await
        }
        ("issued", None) if change.payments.is_some() => {
            settle_issued(rpc, caller, &current, &terms, target.is_some()).await
        }
        ("draft", None) => {
            edit_draft(
                rpc,
                caller,
                upstream,
                &current,
                &terms,
                change.lines.is_some(),
            )
            .await
        }
        (_, None) => Ok(current),
        (from, Some(to)) => Err(SalesError::Conflict(format!(
            "An invoice cannot move from {from} to {}",
            to.as_str()
        ))),
    }
}

async fn edit_draft(
    rpc: &SalesRpc,
    caller: &Caller,
    upstream: &Upstream,
    current: &FullInvoice,
    terms: &SaleTerms,
    lines_changed: bool,
) -> Result<FullInvoice, SalesError> {
    if terms.lines.is_empty() {
        return Err(SalesError::from(FieldViolation::new(
            "items",
            "missing",
            "At least one item is required",
        )));
    }
    {
        let mut connection = rpc.pool.acquire().await?;
        saga::check_references(&mut connection, terms).await?;
    }
    let lines = if lines_changed {
        current_prices(upstream, &terms.lines).await?
    } else {
        stored_lines(current)
    };
    let (priced, payments, settlement, _) =
        saga::price_and_settle(lines, terms, PaymentRule::Issued)?;
    let mut transaction = rpc.pool.begin().await?;
    let locked = invoices::lock(&mut transaction, current.row.id).await?;
    if locked.status != "draft" {
        return Err(SalesError::Conflict(
            "The invoice is no longer a draft".to_owned(),
        ));
    }
    invoices::update_draft(
        &mut transaction,
        current.row.id,
        terms.customer_id,
        terms.salesman_id,
        terms.discount,
        &priced,
        settlement,
    )
    .await?;
    invoices::replace_items(&mut transaction, current.row.id, &priced.lines).await?;
    invoices::replace_payments(&mut transaction, current.row.id, &payments).await?;
    let after = invoices::load_full(&mut transaction, current.row.id)
        .await?
        .ok_or_else(|| SalesError::not_found("Invoice"))?;
    let changes = json!({"before": invoice_audit(current), "after": invoice_audit(&after)});
    record(rpc, &mut transaction, caller, &after, "update", changes).await?;
    transaction.commit().await?;
    Ok(after)
}

/// A draft sold: the saga with the draft's own id as the sale id.
async fn sell_draft(
    rpc: &SalesRpc,
    caller: &Caller,
    upstream: &Upstream,
    current: &FullInvoice,
    terms: &SaleTerms,
    rule: PaymentRule,
) -> Result<FullInvoice, SalesError> {
    if terms.lines.is_empty() {
        return Err(SalesError::from(FieldViolation::new(
            "items",
            "missing",
            "At least one item is required",
        )));
    }
    let invoice_id = current.row.id;
    // Each attempt reserves under a sale id of its own: a failed attempt's release leaves a
    // tombstone in catalog that must not block the next one.
    let sale_id = Uuid::now_v7();
    {
        let mut connection = rpc.pool.acquire().await?;
        saga::check_references(&mut connection, terms).await?;
        let request = serde_json::to_value(terms).unwrap_or_default();
        pending::insert_draft_sale(
            &mut connection,
            sale_id,
            invoice_id,
            caller.principal.user_id,
            request,
        )
        .await
        .map_err(|error| match error {
            SalesError::Service(_) => {
                SalesError::Conflict("This draft is already being sold".to_owned())
            }
            other => other,
        })?;
    }
    let reserved = match saga::reserve(upstream, sale_id, &terms.lines).await {
        Ok(lines) => lines,
        Err(error) => {
            saga::compensate(rpc, upstream, sale_id, true).await;
            return Err(error);
        }
    };
    let result = async {
        let (priced, payments, settlement, status) = saga::price_and_settle(reserved, terms, rule)?;
        let mut transaction = rpc.pool.begin().await?;
        if !pending::take(&mut transaction, sale_id).await? {
            return Err(committer::abandoned());
        }
        let locked = invoices::lock(&mut transaction, invoice_id).await?;
        if locked.status != "draft" {
            return Err(SalesError::Conflict(
                "The invoice is no longer a draft".to_owned(),
            ));
        }
        let shift_id = invoices::open_shift_of(&mut transaction, caller.principal.user_id).await?;
        saga::charge_customer(
            &mut transaction,
            terms.customer_id,
            status,
            priced.totals.total,
            settlement,
        )
        .await?;
        invoices::update_draft(
            &mut transaction,
            invoice_id,
            terms.customer_id,
            terms.salesman_id,
            terms.discount,
            &priced,
            settlement,
        )
        .await?;
        invoices::replace_items(&mut transaction, invoice_id, &priced.lines).await?;
        invoices::replace_payments(&mut transaction, invoice_id, &payments).await?;
        invoices::set_reservation(&mut transaction, invoice_id, sale_id).await?;
        // Numbered last (see `invoices::sell_draft`).
        invoices::sell_draft(
            &mut transaction,
            invoice_id,
            status,
            caller.principal.user_id,
            &caller.principal.username,
            shift_id,
            &priced,
            settlement,
        )
        .await?;
        let invoice = invoices::load_full(&mut transaction, invoice_id)
            .await?
            .ok_or_else(|| SalesError::not_found("Invoice"))?;
        saga::record_sold(rpc, &mut transaction, caller, &invoice).await?;
        transaction.commit().await?;
        Ok(invoice)
    }
    .await;
    if result.is_err() {
        saga::compensate(rpc, upstream, sale_id, true).await;
    }
    result
}

/// Payments of an issued invoice, and its move to paid when they cover the total.
async fn settle_issued(
    rpc: &SalesRpc,
    caller: &Caller,
    current: &FullInvoice,
    terms: &SaleTerms,
    to_paid: bool,
) -> Result<FullInvoice, SalesError> {
    let total = current.row.total;
    let tenders: Vec<(bool, Decimal)> = terms
        .payments
        .iter()
        .map(|payment| {
            (
                payment.method == crate::domain::sale::PaymentMethod::Cash,
                payment.amount,
            )
        })
        .collect();
    let settlement = pricing::settle(total, &tenders).map_err(|_| {
        SalesError::from(FieldViolation::new(
            "payments",
            "value_error",
            "Only cash may exceed the total (card and other payments give no change)",
        ))
    })?;
    if to_paid && settlement.amount_paid < total {
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
    let mut transaction = rpc.pool.begin().await?;
    let locked = invoices::lock(&mut transaction, current.row.id).await?;
    if locked.status != "issued" {
        return Err(SalesError::Conflict(
            "The invoice is no longer issued".to_owned(),
        ));
    }
    if let Some(customer_id) = locked.customer_id {
        let owed_before = (locked.total - locked.amount_paid).max(Decimal::ZERO);
        let owed_after = (total - settlement.amount_paid).max(Decimal::ZERO);
        let delta = owed_after - owed_before;
        if !delta.is_zero()
            && !invoices::move_customer_balance(&mut transaction, customer_id, delta).await?
        {
            return Err(SalesError::Conflict(
                "The customer's credit limit does not cover the unpaid amount".to_owned(),
            ));
        }
    }
    invoices::replace_payments(&mut transaction, current.row.id, &terms.payments).await?;
    invoices::set_settlement(&mut transaction, current.row.id, settlement).await?;
    if to_paid {
        invoices::set_status(&mut transaction, current.row.id, "paid").await?;
    }
    let after = invoices::load_full(&mut transaction, current.row.id)
        .await?
        .ok_or_else(|| SalesError::not_found("Invoice"))?;
    let changes = json!({"before": invoice_audit(current), "after": invoice_audit(&after)});
    record(rpc, &mut transaction, caller, &after, "update", changes).await?;
    saga::record_payments(rpc, &mut transaction, caller, after.row.id, &after.payments).await?;
    transaction.commit().await?;
    Ok(after)
}

/// Cancels an invoice; a sold one gives its stock back. The row stays locked while
/// catalog releases the stock, so the release and the status move go together; if the
/// process dies in between, the invoice still shows as sold and cancelling it again
/// finishes the job (the release is idempotent).
async fn cancel(
    rpc: &SalesRpc,
    caller: &Caller,
    upstream: &Upstream,
    current: &FullInvoice,
) -> Result<FullInvoice, SalesError> {
    let mut transaction = rpc.pool.begin().await?;
    let locked = invoices::lock(&mut transaction, current.row.id).await?;
    let reservation_id = invoices::reservation_of(&mut transaction, current.row.id).await?;
    if !matches!(locked.status.as_str(), "draft" | "issued" | "paid") {
        return Err(SalesError::Conflict(format!(
            "An invoice cannot move from {} to cancelled",
            locked.status
        )));
    }
    if locked.status == "issued"
        && let Some(customer_id) = locked.customer_id
    {
        let owed = (locked.total - locked.amount_paid).max(Decimal::ZERO);
        invoices::move_customer_balance(&mut transaction, customer_id, -owed).await?;
    }
    invoices::set_status(&mut transaction, current.row.id, "cancelled").await?;
    let after = invoices::load_full(&mut transaction, current.row.id)
        .await?
        .ok_or_else(|| SalesError::not_found("Invoice"))?;
    let changes = json!({"before": invoice_audit(current), "after": invoice_audit(&after)});
    record(rpc, &mut transaction, caller, &after, "cancel", changes).await?;
    if locked.status != "draft" {
        upstream
            .catalog()
            .release_stock(upstream.request(ReleaseStockRequest {
                sale_id: reservation_id.to_string(),
            }))
            .await
            .map_err(SalesError::upstream("catalog"))?;
    }
    transaction.commit().await?;
    Ok(after)
}

/// `DELETE /invoices/{id}`: drafts only.
pub(crate) async fn delete(rpc: &SalesRpc, caller: &Caller, id: Uuid) -> Result<(), SalesError> {
    let mut transaction = rpc.pool.begin().await?;
    let locked = invoices::lock(&mut transaction, id).await?;
    if locked.status != "draft" {
        return Err(SalesError::Conflict(
            "Only a draft can be deleted; cancel a sold invoice instead".to_owned(),
        ));
    }
    let invoice = invoices::load_full(&mut transaction, id)
        .await?
        .ok_or_else(|| SalesError::not_found("Invoice"))?;
    invoices::delete(&mut transaction, id).await?;
    record(
        rpc,
        &mut transaction,
        caller,
        &invoice,
        "delete",
        invoice_audit(&invoice),
    )
    .await?;
    transaction.commit().await?;
    Ok(())
}

/// A reprint: the count raised by one, an audit event, and the invoice as it is now.
pub(crate) async fn reprint(
    rpc: &SalesRpc,
    caller: &Caller,
    id: Uuid,
) -> Result<FullInvoice, SalesError> {
    let mut transaction = rpc.pool.begin().await?;
    let locked = invoices::lock(&mut transaction, id).await?;
    if locked.status == "draft" {
        return Err(SalesError::Conflict(
            "A draft has no bill to reprint".to_owned(),
        ));
    }
    let count = invoices::count_reprint(&mut transaction, id).await?;
    let invoice = invoices::load_full(&mut transaction, id)
        .await?
        .ok_or_else(|| SalesError::not_found("Invoice"))?;
    let changes = json!({"invoice_no": invoice.row.invoice_no, "reprint_count": count});
    record(rpc, &mut transaction, caller, &invoice, "reprint", changes).await?;
    transaction.commit().await?;
    Ok(invoice)
}

/// The 80-column text of a duplicate bill, with the store's name, address and footer.
pub(crate) async fn text_receipt(
    rpc: &SalesRpc,
    invoice: &FullInvoice,
) -> Result<String, SalesError> {
    let mut connection = rpc.pool.acquire().await?;
    let (store_name, address, footer, currency): (String, String, String, String) =
        sqlx::query_as("select store_name, address, receipt_footer, currency from sales.settings")
            .fetch_one(&mut *connection)
            .await?;
    let row = &invoice.row;
    let receipt = crate::domain::receipt::Receipt {
        store_name: &store_name,
        address: &address,
        footer: &footer,
        currency: &currency,
        invoice_no: row.invoice_no.as_deref().unwrap_or(""),
        date: row
            .sold_at
            .unwrap_or(row.created_at)
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        cashier: &row.cashier,
        status: &row.status,
        lines: invoice
            .items
            .iter()
            .map(|item| {
                (
                    item.name.as_str(),
                    item.quantity,
                    item.unit_price,
                    item.discount,
                    item.line_total,
                )
            })
            .collect(),
        subtotal: row.subtotal,
        discount: row.discount,
        tax: row.tax,
        total: row.total,
        payments: invoice
            .payments
            .iter()
            .map(|payment| (payment.method.as_str(), payment.amount))
            .collect(),
        amount_paid: row.amount_paid,
        change_due: row.change_due,
        reprint_count: row.reprint_count,
    };
    Ok(receipt.render())
}
