//! `sales.invoices`, `sales.invoice_items`, `sales.payments` and `sales.invoice_numbers`.

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

/// Where a new invoice row starts.
#[derive(Debug, Clone)]
pub struct NewInvoiceRow<'a> {
    pub id: Uuid,
    /// `None` for a draft.
    pub invoice_no: Option<String>,
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
    Ok(sqlx::query_scalar(
        "select id from sales.shifts where cashier_id = $1 and closed_at is null for share",
    )
    .bind(cashier_id)
    .fetch_optional(connection)
    .await?)
}

/// The next invoice number, "INV-000123". Taken inside the sale's commit: a sale that
/// rolls back gives its number back, so numbers have no gaps (concurrent sales queue on
/// the counter's row lock for the rest of their commit).
pub async fn next_invoice_no(connection: &mut PgConnection) -> Result<String, SalesError> {
    let number: i64 = sqlx::query_scalar(
        "update sales.invoice_numbers set last_number = last_number + 1 returning last_number",
    )
    .fetch_one(connection)
    .await?;
    Ok(format!("INV-{number:06}"))
}

pub async fn insert(
    connection: &mut PgConnection,
    invoice: &NewInvoiceRow<'_>,
    payments: &[PaymentIn],
) -> Result<(), SalesError> {
    let totals = invoice.priced.totals;
    sqlx::query(
        "insert into sales.invoices (id, invoice_no, status, customer_id, salesman_id, \
         cashier_id, cashier, shift_id, invoice_discount, subtotal, tax, discount, total, \
         amount_paid, change_due, sold_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                 case when $3 = 'draft' then null else now() end)",
    )
    .bind(invoice.id)
    .bind(invoice.invoice_no.as_deref())
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
    replace_items(connection, invoice.id, &invoice.priced.lines).await?;
    replace_payments(connection, invoice.id, payments).await
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
    if lines.is_empty() {
        return Ok(());
    }
    let mut builder: QueryBuilder<Postgres> = QueryBuilder::new(
        "insert into sales.invoice_items (invoice_id, line_no, product_id, sku, name, quantity, \
         unit_price, cost_price, tax_rate, discount_rate, gross, discount, net, tax, line_total) ",
    );
    builder.push_values(lines.iter().enumerate(), |mut row, (index, amounts)| {
        row.push_bind(invoice_id)
            .push_bind(index as i32 + 1)
            .push_bind(amounts.line.product_id)
            .push_bind(amounts.line.sku.clone())
            .push_bind(amounts.line.name.clone())
            .push_bind(amounts.line.quantity)
            .push_bind(amounts.line.unit_price)
            .push_bind(amounts.line.cost_price)
            .push_bind(amounts.line.tax_rate)
            .push_bind(amounts.line.discount_rate)
            .push_bind(amounts.gross)
            .push_bind(amounts.discount)
            .push_bind(amounts.net)
            .push_bind(amounts.tax)
            .push_bind(amounts.line_total);
    });
    builder.build().execute(connection).await?;
    Ok(())
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
    for (index, payment) in payments.iter().enumerate() {
        sqlx::query(
            "insert into sales.payments (id, invoice_id, position, method, amount) \
             values ($1, $2, $3, $4, $5)",
        )
        .bind(Uuid::now_v7())
        .bind(invoice_id)
        .bind(index as i32 + 1)
        .bind(payment.method.as_str())
        .bind(payment.amount)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
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

/// Turns a draft into a sold invoice (same id), with the catalog's prices of the sale.
#[allow(clippy::too_many_arguments)]
pub async fn sell_draft(
    connection: &mut PgConnection,
    id: Uuid,
    invoice_no: &str,
    status: &str,
    cashier_id: Uuid,
    cashier: &str,
    shift_id: Option<Uuid>,
    priced: &Priced,
    settlement: Settlement,
) -> Result<(), SalesError> {
    let totals = priced.totals;
    sqlx::query(
        "update sales.invoices set invoice_no = $2, status = $3, cashier_id = $4, cashier = $5, \
         shift_id = $6, subtotal = $7, tax = $8, discount = $9, total = $10, amount_paid = $11, \
         change_due = $12, sold_at = now() where id = $1",
    )
    .bind(id)
    .bind(invoice_no)
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
    .execute(&mut *connection)
    .await?;
    replace_items(connection, id, &priced.lines).await
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
