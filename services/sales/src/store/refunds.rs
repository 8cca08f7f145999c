//! `sales.refunds` and `sales.refund_items`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::{domain::refund::RefundedAmounts, error::SalesError};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefundRow {
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub amount: Decimal,
    pub method: String,
    pub reason: String,
    pub processed_by: Uuid,
    pub shift_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefundItemRow {
    pub product_id: Uuid,
    pub quantity: i64,
}

#[derive(Debug, Clone)]
pub struct FullRefund {
    pub row: RefundRow,
    pub items: Vec<RefundItemRow>,
}

const COLUMNS: &str = "id, invoice_id, amount, method, reason, processed_by, shift_id, created_at";

/// A refund to write.
#[derive(Debug, Clone)]
pub struct NewRefundRow<'a> {
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub method: &'a str,
    pub reason: &'a str,
    pub processed_by: Uuid,
    pub processed_by_name: &'a str,
    pub shift_id: Option<Uuid>,
    /// (line_no, product_id, quantity, amounts).
    pub lines: Vec<(i32, Uuid, i64, RefundedAmounts)>,
}

pub async fn insert(
    connection: &mut PgConnection,
    refund: &NewRefundRow<'_>,
) -> Result<(), SalesError> {
    let net: Decimal = refund.lines.iter().map(|line| line.3.net).sum();
    let tax: Decimal = refund.lines.iter().map(|line| line.3.tax).sum();
    sqlx::query(
        "insert into sales.refunds (id, invoice_id, amount, net, tax, method, reason, \
         processed_by, processed_by_name, shift_id) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(refund.id)
    .bind(refund.invoice_id)
    .bind(net + tax)
    .bind(net)
    .bind(tax)
    .bind(refund.method)
    .bind(refund.reason)
    .bind(refund.processed_by)
    .bind(refund.processed_by_name)
    .bind(refund.shift_id)
    .execute(&mut *connection)
    .await?;
    for (line_no, product_id, quantity, amounts) in &refund.lines {
        sqlx::query(
            "insert into sales.refund_items (refund_id, line_no, product_id, quantity, gross, \
             discount, net, tax, cost) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(refund.id)
        .bind(line_no)
        .bind(product_id)
        .bind(quantity)
        .bind(amounts.gross)
        .bind(amounts.discount)
        .bind(amounts.net)
        .bind(amounts.tax)
        .bind(amounts.cost)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// Units of each invoice line refunded by refunds that are not voided: (line_no, units).
pub async fn refunded_units(
    connection: &mut PgConnection,
    invoice_id: Uuid,
) -> Result<Vec<(i32, i64)>, SalesError> {
    Ok(sqlx::query_as(
        "select ri.line_no, sum(ri.quantity)::bigint from sales.refund_items ri \
         join sales.refunds r on r.id = ri.refund_id \
         where r.invoice_id = $1 and r.voided_at is null group by ri.line_no",
    )
    .bind(invoice_id)
    .fetch_all(connection)
    .await?)
}

async fn items_of(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, RefundItemRow)>, SalesError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        refund_id: Uuid,
        #[sqlx(flatten)]
        item: RefundItemRow,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select refund_id, product_id, quantity from sales.refund_items \
         where refund_id = any($1) order by refund_id, line_no",
    )
    .bind(ids)
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.refund_id, row.item))
        .collect())
}

async fn complete(
    connection: &mut PgConnection,
    rows: Vec<RefundRow>,
) -> Result<Vec<FullRefund>, SalesError> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let items = items_of(connection, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| FullRefund {
            items: items
                .iter()
                .filter(|(id, _)| *id == row.id)
                .map(|(_, item)| item.clone())
                .collect(),
            row,
        })
        .collect())
}

/// A refund that is not voided.
pub async fn load(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<FullRefund>, SalesError> {
    let statement =
        format!("select {COLUMNS} from sales.refunds where id = $1 and voided_at is null");
    let row: Option<RefundRow> = sqlx::query_as(sqlx::AssertSqlSafe(statement))
        .bind(id)
        .fetch_optional(&mut *connection)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(complete(connection, vec![row]).await?.pop())
}

/// A refund that is not voided, locked until the transaction ends.
pub async fn lock(connection: &mut PgConnection, id: Uuid) -> Result<RefundRow, SalesError> {
    let statement = format!(
        "select {COLUMNS} from sales.refunds where id = $1 and voided_at is null for update"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(statement))
        .bind(id)
        .fetch_optional(connection)
        .await?
        .ok_or_else(|| SalesError::not_found("Refund"))
}

#[derive(Debug, Clone, Default)]
pub struct RefundFilter {
    pub invoice_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Voided refunds are left out; then the conditions of `filter`, each starting with ` and `.
fn push_filter(builder: &mut QueryBuilder<Postgres>, filter: &RefundFilter) {
    builder.push(" and voided_at is null");
    if let Some(invoice_id) = filter.invoice_id {
        builder.push(" and invoice_id = ").push_bind(invoice_id);
    }
    if let Some(from) = filter.from {
        builder.push(" and created_at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        builder.push(" and created_at < ").push_bind(to);
    }
}

/// A page of refunds that are not voided, newest first, and how many match.
pub async fn list(
    connection: &mut PgConnection,
    filter: &RefundFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<FullRefund>, i64), SalesError> {
    let (rows, total) = super::newest_first::<RefundRow>(
        &mut *connection,
        COLUMNS,
        "sales.refunds",
        |builder| push_filter(builder, filter),
        offset,
        limit,
    )
    .await?;
    Ok((complete(connection, rows).await?, total))
}

pub async fn set_reason(
    connection: &mut PgConnection,
    id: Uuid,
    reason: &str,
) -> Result<(), SalesError> {
    sqlx::query("update sales.refunds set reason = $2 where id = $1")
        .bind(id)
        .bind(reason)
        .execute(connection)
        .await?;
    Ok(())
}

pub async fn void(connection: &mut PgConnection, id: Uuid, by: Uuid) -> Result<(), SalesError> {
    sqlx::query("update sales.refunds set voided_at = now(), voided_by = $2 where id = $1")
        .bind(id)
        .bind(by)
        .execute(connection)
        .await?;
    Ok(())
}

pub async fn mark_restocked(connection: &mut PgConnection, id: Uuid) -> Result<(), SalesError> {
    sqlx::query("update sales.refunds set restocked_at = now() where id = $1")
        .bind(id)
        .execute(connection)
        .await?;
    Ok(())
}

/// Refunds older than `older_than` whose restock never happened, locked (others skipped).
pub async fn take_unrestocked(
    connection: &mut PgConnection,
    older_than: Duration,
    limit: i64,
) -> Result<Vec<FullRefund>, SalesError> {
    let statement = format!(
        "select {COLUMNS} from sales.refunds where restocked_at is null and voided_at is null \
         and created_at < now() - make_interval(secs => $1) order by created_at limit $2 \
         for update skip locked"
    );
    let rows: Vec<RefundRow> = sqlx::query_as(sqlx::AssertSqlSafe(statement))
        .bind(older_than.as_secs_f64())
        .bind(limit)
        .fetch_all(&mut *connection)
        .await?;
    complete(connection, rows).await
}
