//! `sales.invoices`, `sales.invoice_items`, `sales.payments` and `sales.invoice_numbers`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::{
    domain::{
        pricing::{LineAmounts, Priced, Settlement},
        sale::PaymentIn,
    },
    error::SalesError,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvoiceRow {
    pub id: Uuid,
    pub invoice_no: Option<String>,
    pub status: String,
    pub customer_id: Option<Uuid>,
    pub salesman_id: Option<Uuid>,
    pub cashier_id: Uuid,
    pub cashier: String,
    pub shift_id: Option<Uuid>,
    pub invoice_discount: Decimal,
    pub subtotal: Decimal,
    pub tax: Decimal,
    pub discount: Decimal,
    pub total: Decimal,
    pub amount_paid: Decimal,
    pub change_due: Decimal,
    pub reprint_count: i64,
    pub sold_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ItemRow {
    pub line_no: i32,
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: Decimal,
    pub cost_price: Decimal,
    pub tax_rate: Decimal,
    pub discount_rate: Decimal,
    pub gross: Decimal,
    pub discount: Decimal,
    pub net: Decimal,
    pub tax: Decimal,
    pub line_total: Decimal,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct PaymentRow {
    pub position: i32,
    pub method: String,
    pub amount: Decimal,
}

/// An invoice with its lines and payments.
#[derive(Debug, Clone)]
pub struct FullInvoice {
    pub row: InvoiceRow,
    pub items: Vec<ItemRow>,
    pub payments: Vec<PaymentRow>,
}

const COLUMNS: &str = "id, invoice_no, status, customer_id, salesman_id, cashier_id, cashier, \
     shift_id, invoice_discount, subtotal, tax, discount, total, amount_paid, change_due, \
     reprint_count, sold_at, created_at, updated_at";

/// Where a new invoice row starts: a draft (no number), or a sale numbered as it is
/// written ([`insert_numbered`]).
#[derive(Debug, Clone)]
pub struct NewInvoiceRow<'a> {
    pub id: Uuid,
    pub status: &'a str,
    pub customer_id: Option<Uuid>,
    pub salesman_id: Option<Uuid>,
    pub cashier_id: Uuid,
    pub cashier: &'a str,
    pub shift_id: Option<Uuid>,
    pub invoice_discount: Decimal,
    pub priced: &'a Priced,
    pub settlement: Settlement,
}

/// The caller's open shift, if any, held shared until the caller's transaction ends: a
/// drawer or shift close (which locks the row for update) waits for this sale or refund to
/// commit and counts it, or this one waits for the close and then finds no open shift.
pub async fn open_shift_of(
    connection: &mut PgConnection,
    cashier_id: Uuid,
) -> Result<Option<Uuid>, SalesError> {
    Ok(open_shifts_of(connection, &[cashier_id])
        .await?
        .remove(&cashier_id))
}

/// The open shifts of `cashier_ids` (cashier → shift), each held shared as
/// [`open_shift_of`] holds one.
pub async fn open_shifts_of(
    connection: &mut PgConnection,
    cashier_ids: &[Uuid],
) -> Result<HashMap<Uuid, Uuid>, SalesError> {
    let shifts: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "select cashier_id, id from sales.shifts \
         where cashier_id = any($1) and closed_at is null for share",
    )
    .bind(cashier_ids)
    .fetch_all(connection)
    .await?;
    Ok(shifts.into_iter().collect())
}

/// Takes the next invoice numbers ("INV-000123") from the counter row, as a common table
/// expression for the one statement that writes them: the counter moves by the number of
/// sales in `$1` (a uuid array) at once, and sale number `position` (1-based, from
/// `unnest … with ordinality`) takes `numbers.base + position`, formatted by
/// [`NUMBER_TEXT`]. Numbers are gap-free: a sale that rolls back gives its number back.
/// The counter's row lock is held until the sales' transaction ends (through COMMIT's WAL
/// flush), so concurrent sales queue on it: the statement that takes it must be the last
/// write before COMMIT, with everything else of the sales (lines, payments, keys) written
/// before it.
const NEXT_NUMBERS: &str = "with numbers as (\
     update sales.invoice_numbers set last_number = last_number + cardinality($1::uuid[]) \
     returning last_number - cardinality($1::uuid[]) as base) ";

/// "INV-" and the number, zero-padded to six digits.
const NUMBER_TEXT: &str = "'INV-' || lpad((numbers.base + sale.position)::text, \
     greatest(6, length((numbers.base + sale.position)::text)), '0')";

/// Writes a draft (no number) with its lines and payments.
pub async fn insert_draft(
    connection: &mut PgConnection,
    invoice: &NewInvoiceRow<'_>,
    payments: &[PaymentIn],
) -> Result<(), SalesError> {
    let totals = invoice.priced.totals;
    sqlx::query(
        "insert into sales.invoices (id, invoice_no, status, customer_id, salesman_id, \
         cashier_id, cashier, shift_id, invoice_discount, subtotal, tax, discount, total, \
         amount_paid, change_due, sold_at) \
         values ($1, null, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, null)",
    )
    .bind(invoice.id)
    .bind(invoice.status)
    .bind(invoice.customer_id)
    .bind(invoice.salesman_id)
    .bind(invoice.cashier_id)
    .bind(invoice.cashier)
    .bind(invoice.shift_id)
    .bind(invoice.invoice_discount)
    .bind(totals.subtotal)
    .bind(totals.tax)
    .bind(totals.discount)
    .bind(totals.total)
    .bind(invoice.settlement.amount_paid)
    .bind(invoice.settlement.change_due)
    .execute(&mut *connection)
    .await?;
    insert_items(&mut *connection, invoice.id, &invoice.priced.lines).await?;
    insert_payments(connection, invoice.id, payments).await?;
    Ok(())
}

/// Writes the rows of sold invoices, numbered in the order given by the same statement
/// (see [`NEXT_NUMBERS`]: call it last before COMMIT; their lines and payments are written
/// before it, their foreign keys being checked at COMMIT), and returns the rows as stored,
/// in the order given. A batch of sales takes its numbers with one lock of the counter.
pub async fn insert_numbered(
    connection: &mut PgConnection,
    invoices: &[NewInvoiceRow<'_>],
) -> Result<Vec<InvoiceRow>, SalesError> {
    if invoices.is_empty() {
        return Ok(Vec::new());
    }
    let count = invoices.len();
    let mut ids = Vec::with_capacity(count);
    let mut statuses = Vec::with_capacity(count);
    let mut customer_ids = Vec::with_capacity(count);
    let mut salesman_ids = Vec::with_capacity(count);
    let mut cashier_ids = Vec::with_capacity(count);
    let mut cashiers = Vec::with_capacity(count);
    let mut shift_ids = Vec::with_capacity(count);
    let mut invoice_discounts = Vec::with_capacity(count);
    let mut subtotals = Vec::with_capacity(count);
    let mut taxes = Vec::with_capacity(count);
    let mut discounts = Vec::with_capacity(count);
    let mut totals = Vec::with_capacity(count);
    let mut amounts_paid = Vec::with_capacity(count);
    let mut changes_due = Vec::with_capacity(count);
    for invoice in invoices {
        let amounts = invoice.priced.totals;
        ids.push(invoice.id);
        statuses.push(invoice.status);
        customer_ids.push(invoice.customer_id);
        salesman_ids.push(invoice.salesman_id);
        cashier_ids.push(invoice.cashier_id);
        cashiers.push(invoice.cashier);
        shift_ids.push(invoice.shift_id);
        invoice_discounts.push(invoice.invoice_discount);
        subtotals.push(amounts.subtotal);
        taxes.push(amounts.tax);
        discounts.push(amounts.discount);
        totals.push(amounts.total);
        amounts_paid.push(invoice.settlement.amount_paid);
        changes_due.push(invoice.settlement.change_due);
    }
    let statement = format!(
        "{NEXT_NUMBERS}insert into sales.invoices (id, invoice_no, status, customer_id, \
         salesman_id, cashier_id, cashier, shift_id, invoice_discount, subtotal, tax, discount, \
         total, amount_paid, change_due, sold_at) \
         select sale.id, {NUMBER_TEXT}, sale.status, sale.customer_id, sale.salesman_id, \
                sale.cashier_id, sale.cashier, sale.shift_id, sale.invoice_discount, \
                sale.subtotal, sale.tax, sale.discount, sale.total, sale.amount_paid, \
                sale.change_due, now() \
         from numbers, unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::uuid[], \
                              $6::text[], $7::uuid[], $8::numeric[], $9::numeric[], \
                              $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[], \
                              $14::numeric[]) with ordinality \
              as sale (id, status, customer_id, salesman_id, cashier_id, cashier, shift_id, \
                       invoice_discount, subtotal, tax, discount, total, amount_paid, \
                       change_due, position) \
         order by sale.position \
         returning {COLUMNS}"
    );
    let rows: Vec<InvoiceRow> = sqlx::query_as(sqlx::AssertSqlSafe(statement))
        .bind(&ids)
        .bind(statuses)
        .bind(customer_ids)
        .bind(salesman_ids)
        .bind(cashier_ids)
        .bind(cashiers)
        .bind(shift_ids)
        .bind(invoice_discounts)
        .bind(subtotals)
        .bind(taxes)
        .bind(discounts)
        .bind(totals)
        .bind(amounts_paid)
        .bind(changes_due)
        .fetch_all(connection)
        .await?;
    let mut by_id: HashMap<Uuid, InvoiceRow> = rows.into_iter().map(|row| (row.id, row)).collect();
    ids.iter()
        .map(|id| {
            by_id
                .remove(id)
                .ok_or_else(|| SalesError::from(anyhow::anyhow!("invoice {id} was not written")))
        })
        .collect()
}

/// Writes the lines of an invoice anew.
pub async fn replace_items(
    connection: &mut PgConnection,
    invoice_id: Uuid,
    lines: &[LineAmounts],
) -> Result<(), SalesError> {
    sqlx::query("delete from sales.invoice_items where invoice_id = $1")
        .bind(invoice_id)
        .execute(&mut *connection)
        .await?;
    insert_items(connection, invoice_id, lines).await?;
    Ok(())
}

/// Writes the lines of an invoice that has none; returns them as stored, in line order.
pub async fn insert_items(
    connection: &mut PgConnection,
    invoice_id: Uuid,
    lines: &[LineAmounts],
) -> Result<Vec<ItemRow>, SalesError> {
    let mut stored = insert_items_of(connection, &[(invoice_id, lines)]).await?;
    Ok(stored.remove(&invoice_id).unwrap_or_default())
}

/// Rows written for several invoices, grouped by invoice, each group in `order`.
fn by_invoice<T>(
    rows: impl IntoIterator<Item = (Uuid, T)>,
    order: impl Fn(&T) -> i32,
) -> HashMap<Uuid, Vec<T>> {
    let mut grouped: HashMap<Uuid, Vec<T>> = HashMap::new();
    for (invoice_id, row) in rows {
        grouped.entry(invoice_id).or_default().push(row);
    }
    for group in grouped.values_mut() {
        group.sort_by_key(&order);
    }
    grouped
}

/// A line as stored, with the invoice it belongs to.
#[derive(sqlx::FromRow)]
struct StoredItem {
    invoice_id: Uuid,
    #[sqlx(flatten)]
    item: ItemRow,
}

/// Writes the lines of invoices that have none, in one statement; returns each invoice's
/// lines as stored, in line order.
pub async fn insert_items_of(
    connection: &mut PgConnection,
    invoices: &[(Uuid, &[LineAmounts])],
) -> Result<HashMap<Uuid, Vec<ItemRow>>, SalesError> {
    let count = invoices.iter().map(|(_, lines)| lines.len()).sum();
    if count == 0 {
        return Ok(HashMap::new());
    }
    let mut invoice_ids = Vec::with_capacity(count);
    let mut line_nos = Vec::with_capacity(count);
    let mut product_ids = Vec::with_capacity(count);
    let mut skus = Vec::with_capacity(count);
    let mut names = Vec::with_capacity(count);
    let mut quantities = Vec::with_capacity(count);
    let mut unit_prices = Vec::with_capacity(count);
    let mut cost_prices = Vec::with_capacity(count);
    let mut tax_rates = Vec::with_capacity(count);
    let mut discount_rates = Vec::with_capacity(count);
    let mut grosses = Vec::with_capacity(count);
    let mut discounts = Vec::with_capacity(count);
    let mut nets = Vec::with_capacity(count);
    let mut taxes = Vec::with_capacity(count);
    let mut line_totals = Vec::with_capacity(count);
    for (invoice_id, lines) in invoices {
        for (line_no, amounts) in (1..).zip(lines.iter()) {
            invoice_ids.push(*invoice_id);
            line_nos.push(line_no);
            product_ids.push(amounts.line.product_id);
            skus.push(amounts.line.sku.as_str());
            names.push(amounts.line.name.as_str());
            quantities.push(amounts.line.quantity);
            unit_prices.push(amounts.line.unit_price);
            cost_prices.push(amounts.line.cost_price);
            tax_rates.push(amounts.line.tax_rate);
            discount_rates.push(amounts.line.discount_rate);
            grosses.push(amounts.gross);
            discounts.push(amounts.discount);
            nets.push(amounts.net);
            taxes.push(amounts.tax);
            line_totals.push(amounts.line_total);
        }
    }
    let stored: Vec<StoredItem> = sqlx::query_as(
        "insert into sales.invoice_items (invoice_id, line_no, product_id, sku, name, quantity, \
         unit_price, cost_price, tax_rate, discount_rate, gross, discount, net, tax, line_total) \
         select * from unnest($1::uuid[], $2::int4[], $3::uuid[], $4::text[], $5::text[], \
                              $6::int8[], $7::numeric[], $8::numeric[], $9::numeric[], \
                              $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[], \
                              $14::numeric[], $15::numeric[]) \
         returning invoice_id, line_no, product_id, sku, name, quantity, unit_price, cost_price, \
         tax_rate, discount_rate, gross, discount, net, tax, line_total",
    )
    .bind(invoice_ids)
    .bind(line_nos)
    .bind(product_ids)
    .bind(skus)
    .bind(names)
    .bind(quantities)
    .bind(unit_prices)
    .bind(cost_prices)
    .bind(tax_rates)
    .bind(discount_rates)
    .bind(grosses)
    .bind(discounts)
    .bind(nets)
    .bind(taxes)
    .bind(line_totals)
    .fetch_all(connection)
    .await?;
    Ok(by_invoice(
        stored
            .into_iter()
            .map(|stored| (stored.invoice_id, stored.item)),
        |item| item.line_no,
    ))
}

/// Writes the payments of an invoice anew.
pub async fn replace_payments(
    connection: &mut PgConnection,
    invoice_id: Uuid,
    payments: &[PaymentIn],
) -> Result<(), SalesError> {
    sqlx::query("delete from sales.payments where invoice_id = $1")
        .bind(invoice_id)
        .execute(&mut *connection)
        .await?;
    insert_payments(connection, invoice_id, payments).await?;
    Ok(())
}

/// Writes the payments of an invoice that has none, in one statement; returns them as
/// stored, in position order.
pub async fn insert_payments(
    connection: &mut PgConnection,
    invoice_id: Uuid,
    payments: &[PaymentIn],
) -> Result<Vec<PaymentRow>, SalesError> {
    let mut stored = insert_payments_of(connection, &[(invoice_id, payments)]).await?;
    Ok(stored.remove(&invoice_id).unwrap_or_default())
}

/// A payment as stored, with the invoice it belongs to.
#[derive(sqlx::FromRow)]
struct StoredPayment {
    invoice_id: Uuid,
    #[sqlx(flatten)]
    payment: PaymentRow,
}

/// Writes the payments of invoices that have none, in one statement; returns each
/// invoice's payments as stored, in position order.
pub async fn insert_payments_of(
    connection: &mut PgConnection,
    invoices: &[(Uuid, &[PaymentIn])],
) -> Result<HashMap<Uuid, Vec<PaymentRow>>, SalesError> {
    let count = invoices.iter().map(|(_, payments)| payments.len()).sum();
    if count == 0 {
        return Ok(HashMap::new());
    }
    let mut ids = Vec::with_capacity(count);
    let mut invoice_ids = Vec::with_capacity(count);
    let mut positions = Vec::with_capacity(count);
    let mut methods = Vec::with_capacity(count);
    let mut amounts = Vec::with_capacity(count);
    for (invoice_id, payments) in invoices {
        for (position, payment) in (1..).zip(payments.iter()) {
            ids.push(Uuid::now_v7());
            invoice_ids.push(*invoice_id);
            positions.push(position);
            methods.push(payment.method.as_str());
            amounts.push(payment.amount);
        }
    }
    let stored: Vec<StoredPayment> = sqlx::query_as(
        "insert into sales.payments (id, invoice_id, position, method, amount) \
         select * from unnest($1::uuid[], $2::uuid[], $3::int4[], $4::text[], $5::numeric[]) \
         returning invoice_id, position, method, amount",
    )
    .bind(ids)
    .bind(invoice_ids)
    .bind(positions)
    .bind(methods)
    .bind(amounts)
    .fetch_all(connection)
    .await?;
    Ok(by_invoice(
        stored
            .into_iter()
            .map(|stored| (stored.invoice_id, stored.payment)),
        |payment| payment.position,
    ))
}

pub async fn find(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<InvoiceRow>, SalesError> {
    let statement = format!("select {COLUMNS} from sales.invoices where id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(statement))
        .bind(id)
        .fetch_optional(connection)
        .await?)
}

/// The invoice row, locked until the transaction ends.
pub async fn lock(connection: &mut PgConnection, id: Uuid) -> Result<InvoiceRow, SalesError> {
    let statement = format!("select {COLUMNS} from sales.invoices where id = $1 for update");
    sqlx::query_as(sqlx::AssertSqlSafe(statement))
        .bind(id)
        .fetch_optional(connection)
        .await?
        .ok_or_else(|| SalesError::not_found("Invoice"))
}

async fn items_of(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, ItemRow)>, SalesError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        invoice_id: Uuid,
        #[sqlx(flatten)]
        item: ItemRow,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select invoice_id, line_no, product_id, sku, name, quantity, unit_price, cost_price, \
         tax_rate, discount_rate, gross, discount, net, tax, line_total \
         from sales.invoice_items where invoice_id = any($1) order by invoice_id, line_no",
    )
    .bind(ids)
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.invoice_id, row.item))
        .collect())
}

async fn payments_of(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, PaymentRow)>, SalesError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        invoice_id: Uuid,
        #[sqlx(flatten)]
        payment: PaymentRow,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select invoice_id, position, method, amount from sales.payments \
         where invoice_id = any($1) order by invoice_id, position",
    )
    .bind(ids)
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.invoice_id, row.payment))
        .collect())
}

/// Rows with their lines and payments, in the order given.
async fn complete(
    connection: &mut PgConnection,
    rows: Vec<InvoiceRow>,
) -> Result<Vec<FullInvoice>, SalesError> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut items = items_of(&mut *connection, &ids).await?;
    let mut payments = payments_of(&mut *connection, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (own_items, rest): (Vec<_>, Vec<_>) =
                items.drain(..).partition(|(id, _)| *id == row.id);
            items = rest;
            let (own_payments, rest): (Vec<_>, Vec<_>) =
                payments.drain(..).partition(|(id, _)| *id == row.id);
            payments = rest;
            FullInvoice {
                row,
                items: own_items.into_iter().map(|(_, item)| item).collect(),
                payments: own_payments
                    .into_iter()
                    .map(|(_, payment)| payment)
                    .collect(),
            }
        })
        .collect())
}

/// One invoice with its lines and payments.
pub async fn load_full(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<FullInvoice>, SalesError> {
    let Some(row) = find(&mut *connection, id).await? else {
        return Ok(None);
    };
    Ok(complete(connection, vec![row]).await?.pop())
}

/// The latest `count` invoices (any status), newest first, with lines and payments (the
/// admin dashboard's recent invoices).
pub async fn latest(
    connection: &mut PgConnection,
    count: i64,
) -> Result<Vec<FullInvoice>, SalesError> {
    list(connection, &InvoiceFilter::default(), 0, count)
        .await
        .map(|(invoices, _)| invoices)
}

/// Filters of `GET /invoices`.
#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    pub status: Option<&'static str>,
    pub customer_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The conditions of `filter`, each starting with ` and ` (see [`super::newest_first`]).
fn push_filter(builder: &mut QueryBuilder<Postgres>, filter: &InvoiceFilter) {
    if let Some(status) = filter.status {
        builder.push(" and status = ").push_bind(status);
    }
    if let Some(customer_id) = filter.customer_id {
        builder.push(" and customer_id = ").push_bind(customer_id);
    }
    if let Some(from) = filter.from {
        builder.push(" and created_at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        builder.push(" and created_at < ").push_bind(to);
    }
}

/// A page of invoices, newest first, and how many match in all.
pub async fn list(
    connection: &mut PgConnection,
    filter: &InvoiceFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<FullInvoice>, i64), SalesError> {
    let (rows, total) = super::newest_first::<InvoiceRow>(
        &mut *connection,
        COLUMNS,
        "sales.invoices",
        |builder| push_filter(builder, filter),
        offset,
        limit,
    )
    .await?;
    Ok((complete(connection, rows).await?, total))
}

pub async fn set_status(
    connection: &mut PgConnection,
    id: Uuid,
    status: &str,
) -> Result<(), SalesError> {
    sqlx::query(
        "update sales.invoices set status = $2, \
         cancelled_at = case when $2 = 'cancelled' then now() else cancelled_at end \
         where id = $1",
    )
    .bind(id)
    .bind(status)
    .execute(connection)
    .await?;
    Ok(())
}

/// Rewrites a draft's money and references (the lines are written apart).
pub async fn update_draft(
    connection: &mut PgConnection,
    id: Uuid,
    customer_id: Option<Uuid>,
    salesman_id: Option<Uuid>,
    invoice_discount: Decimal,
    priced: &Priced,
    settlement: Settlement,
) -> Result<(), SalesError> {
    let totals = priced.totals;
    sqlx::query(
        "update sales.invoices set customer_id = $2, salesman_id = $3, invoice_discount = $4, \
         subtotal = $5, tax = $6, discount = $7, total = $8, amount_paid = $9, change_due = $10 \
         where id = $1",
    )
    .bind(id)
    .bind(customer_id)
    .bind(salesman_id)
    .bind(invoice_discount)
    .bind(totals.subtotal)
    .bind(totals.tax)
    .bind(totals.discount)
    .bind(totals.total)
    .bind(settlement.amount_paid)
    .bind(settlement.change_due)
    .execute(connection)
    .await?;
    Ok(())
}

/// Records new payments of an issued invoice.
pub async fn set_settlement(
    connection: &mut PgConnection,
    id: Uuid,
    settlement: Settlement,
) -> Result<(), SalesError> {
    sqlx::query("update sales.invoices set amount_paid = $2, change_due = $3 where id = $1")
        .bind(id)
        .bind(settlement.amount_paid)
        .bind(settlement.change_due)
        .execute(connection)
        .await?;
    Ok(())
}

/// Turns a draft into a sold invoice (same id), with the catalog's prices of the sale,
/// numbered by the same statement (see [`NEXT_NUMBERS`]: call it last before COMMIT, after
/// the draft's lines and payments are rewritten).
#[allow(clippy::too_many_arguments)]
pub async fn sell_draft(
    connection: &mut PgConnection,
    id: Uuid,
    status: &str,
    cashier_id: Uuid,
    cashier: &str,
    shift_id: Option<Uuid>,
    priced: &Priced,
    settlement: Settlement,
) -> Result<(), SalesError> {
    let totals = priced.totals;
    let statement = format!(
        "{NEXT_NUMBERS}update sales.invoices set invoice_no = {NUMBER_TEXT}, status = $2, \
         cashier_id = $3, cashier = $4, shift_id = $5, subtotal = $6, tax = $7, discount = $8, \
         total = $9, amount_paid = $10, change_due = $11, sold_at = now() \
         from numbers, (select 1 as position) as sale where id = any($1)"
    );
    sqlx::query(sqlx::AssertSqlSafe(statement))
        .bind([id])
        .bind(status)
        .bind(cashier_id)
        .bind(cashier)
        .bind(shift_id)
        .bind(totals.subtotal)
        .bind(totals.tax)
        .bind(totals.discount)
        .bind(totals.total)
        .bind(settlement.amount_paid)
        .bind(settlement.change_due)
        .execute(connection)
        .await?;
    Ok(())
}

/// Records the catalog reservation a sold draft's stock was taken under.
pub async fn set_reservation(
    connection: &mut PgConnection,
    id: Uuid,
    reservation_id: Uuid,
) -> Result<(), SalesError> {
    sqlx::query("update sales.invoices set reservation_id = $2 where id = $1")
        .bind(id)
        .bind(reservation_id)
        .execute(connection)
        .await?;
    Ok(())
}

/// The id of the catalog reservation holding a sold invoice's stock.
pub async fn reservation_of(connection: &mut PgConnection, id: Uuid) -> Result<Uuid, SalesError> {
    let reservation: Option<Uuid> =
        sqlx::query_scalar("select coalesce(reservation_id, id) from sales.invoices where id = $1")
            .bind(id)
            .fetch_optional(connection)
            .await?;
    reservation.ok_or_else(|| SalesError::not_found("Invoice"))
}

pub async fn delete(connection: &mut PgConnection, id: Uuid) -> Result<(), SalesError> {
    sqlx::query("delete from sales.invoices where id = $1")
        .bind(id)
        .execute(connection)
        .await?;
    Ok(())
}

/// Raises the reprint count by one and returns the new count.
pub async fn count_reprint(connection: &mut PgConnection, id: Uuid) -> Result<i64, SalesError> {
    sqlx::query_scalar(
        "update sales.invoices set reprint_count = reprint_count + 1 where id = $1 \
         returning reprint_count",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?
    .ok_or_else(|| SalesError::not_found("Invoice"))
}

/// Does the customer exist (archived ones too: their old invoices stay theirs)?
pub async fn customer_exists(connection: &mut PgConnection, id: Uuid) -> Result<bool, SalesError> {
    Ok(sqlx::query_scalar(
        "select exists(select 1 from sales.customers where id = $1 and is_active)",
    )
    .bind(id)
    .fetch_one(connection)
    .await?)
}

pub async fn salesman_exists(connection: &mut PgConnection, id: Uuid) -> Result<bool, SalesError> {
    Ok(sqlx::query_scalar(
        "select exists(select 1 from sales.salesmen where id = $1 and is_active)",
    )
    .bind(id)
    .fetch_one(connection)
    .await?)
}

/// Moves a customer's balance by `delta`; when raising it, only within the credit limit.
/// `false` when the limit would be passed.
pub async fn move_customer_balance(
    connection: &mut PgConnection,
    customer_id: Uuid,
    delta: Decimal,
) -> Result<bool, SalesError> {
    let moved = sqlx::query(
        "update sales.customers set balance = balance + $2 \
         where id = $1 and ($2 <= 0 or balance + $2 <= credit_limit)",
    )
    .bind(customer_id)
    .bind(delta)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(moved == 1)
}
