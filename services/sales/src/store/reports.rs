//! The figures of every report, computed in SQL from one ledger: the lines of the sold
//! invoices (by `sold_at`) and the lines of the refunds that were not voided (by
//! `created_at`). A refund line counts against the product, the salesman of its invoice and
//! the user who processed it. Nothing is summed into a running total that could drift.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::drawers::SOLD_STATUSES;
use crate::{domain::report::GroupBy, error::SalesError};

/// What the ledger is restricted to: one shift's records, or a span of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Shift(Uuid),
    Period {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
}

impl Scope {
    fn shift(self) -> Option<Uuid> {
        match self {
            Self::Shift(id) => Some(id),
            Self::Period { .. } => None,
        }
    }

    fn start(self) -> Option<DateTime<Utc>> {
        match self {
            Self::Shift(_) => None,
            Self::Period { start, .. } => Some(start),
        }
    }

    fn end(self) -> Option<DateTime<Utc>> {
        match self {
            Self::Shift(_) => None,
            Self::Period { end, .. } => Some(end),
        }
    }
}

/// Which invoices a scope takes: `$1` shift, `[$2, $3)` sold_at.
fn invoice_filter(alias: &str) -> String {
    format!(
        "{alias}.status in {SOLD_STATUSES} \
         and ($1::uuid is null or {alias}.shift_id = $1) \
         and ($2::timestamptz is null or {alias}.sold_at >= $2) \
         and ($3::timestamptz is null or {alias}.sold_at < $3)"
    )
}

/// Which refunds a scope takes: `$1` shift, `[$2, $3)` created_at.
fn refund_filter(alias: &str) -> String {
    format!(
        "{alias}.voided_at is null \
         and ($1::uuid is null or {alias}.shift_id = $1) \
         and ($2::timestamptz is null or {alias}.created_at >= $2) \
         and ($3::timestamptz is null or {alias}.created_at < $3)"
    )
}

/// The ledger as a CTE named `ledger`: one row per sold line (positive) and per refunded
/// line (negative), with the same columns.
fn ledger() -> String {
    format!(
        "with ledger as ( \
           select i.id as invoice_id, i.cashier_id as user_id, i.cashier as username, \
             i.salesman_id, (i.sold_at at time zone 'UTC')::date as day, \
             it.product_id, it.sku, it.name, it.quantity::bigint as quantity, \
             it.gross, it.discount, 0::numeric as refunds, it.tax, \
             it.quantity * it.cost_price as cost, it.net \
           from sales.invoices i join sales.invoice_items it on it.invoice_id = i.id \
           where {invoices} \
           union all \
           select null::uuid, r.processed_by, r.processed_by_name, \
             i.salesman_id, (r.created_at at time zone 'UTC')::date, \
             it.product_id, it.sku, it.name, -ri.quantity, \
             0::numeric, 0::numeric, ri.net, -ri.tax, \
             -(ri.quantity * it.cost_price), -ri.net \
           from sales.refunds r \
             join sales.refund_items ri on ri.refund_id = r.id \
             join sales.invoices i on i.id = r.invoice_id \
             join sales.invoice_items it on it.invoice_id = r.invoice_id and it.line_no = ri.line_no \
           where {refunds} \
         ) ",
        invoices = invoice_filter("i"),
        refunds = refund_filter("r"),
    )
}

/// The sums every report shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Figures {
    pub invoices_count: i64,
    pub quantity: i64,
    pub gross_sales: Decimal,
    pub discounts: Decimal,
    pub refunds: Decimal,
    pub taxes: Decimal,
    pub net_sales: Decimal,
    pub cost: Decimal,
}

impl Figures {
    pub fn gross_margin(&self) -> Decimal {
        self.net_sales - self.cost
    }
}

const SUMS: &str = "count(distinct invoice_id) as invoices_count, \
     coalesce(sum(quantity), 0)::bigint as quantity, \
     coalesce(sum(gross), 0) as gross_sales, \
     coalesce(sum(discount), 0) as discounts, \
     coalesce(sum(refunds), 0) as refunds, \
     coalesce(sum(tax), 0) as taxes, \
     coalesce(sum(net), 0) as net_sales, \
     coalesce(sum(cost), 0) as cost";

/// The totals of a scope.
pub async fn figures(connection: &mut PgConnection, scope: Scope) -> Result<Figures, SalesError> {
    let statement = format!("{} select {SUMS} from ledger", ledger());
    Ok(sqlx::query_as::<_, Figures>(sqlx::AssertSqlSafe(statement))
        .bind(scope.shift())
        .bind(scope.start())
        .bind(scope.end())
        .fetch_one(connection)
        .await?)
}

/// One group of a report: its key, a readable label, and its figures.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupRow {
    pub key: String,
    pub label: String,
    /// The salesman's commission rate (salesman grouping only).
    pub commission_rate: Option<Decimal>,
    #[sqlx(flatten)]
    pub figures: Figures,
}

/// The figures of a scope grouped by day, product, cashier or salesman. Days come in
/// order; the other groupings by net sales, largest first.
pub async fn grouped(
    connection: &mut PgConnection,
    scope: Scope,
    group_by: GroupBy,
) -> Result<Vec<GroupRow>, SalesError> {
    let (key, label, rate, join, order) = match group_by {
        GroupBy::Day => ("l.day::text", "l.day::text", "null::numeric", "", "key asc"),
        GroupBy::Product => (
            "l.product_id::text",
            "max(l.name)",
            "null::numeric",
            "",
            "net_sales desc, key asc",
        ),
        GroupBy::Cashier => (
            "l.user_id::text",
            "max(l.username)",
            "null::numeric",
            "",
            "net_sales desc, key asc",
        ),
        GroupBy::Salesman => (
            "coalesce(l.salesman_id::text, '')",
            "coalesce(max(s.name), '')",
            "max(s.commission_rate)",
            "left join sales.salesmen s on s.id = l.salesman_id",
            "net_sales desc, key asc",
        ),
    };
    let statement = format!(
        "{ledger} select {key} as key, {label} as label, {rate} as commission_rate, {SUMS} \
         from ledger l {join} group by {key} order by {order}",
        ledger = ledger(),
    );
    Ok(
        sqlx::query_as::<_, GroupRow>(sqlx::AssertSqlSafe(statement))
            .bind(scope.shift())
            .bind(scope.start())
            .bind(scope.end())
            .fetch_all(connection)
            .await?,
    )
}

/// The products with the most units sold (net of refunds) in a scope.
pub async fn top_products(
    connection: &mut PgConnection,
    scope: Scope,
    limit: i64,
) -> Result<Vec<ProductRow>, SalesError> {
    let statement = format!(
        "{} select product_id, max(sku) as sku, max(name) as name, \
           coalesce(sum(quantity), 0)::bigint as quantity, coalesce(sum(net), 0) as net_sales \
         from ledger group by product_id \
         order by quantity desc, net_sales desc, product_id limit $4",
        ledger()
    );
    Ok(
        sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(statement))
            .bind(scope.shift())
            .bind(scope.start())
            .bind(scope.end())
            .bind(limit)
            .fetch_all(connection)
            .await?,
    )
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProductRow {
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub net_sales: Decimal,
}

/// Money kept per method in a scope: tendered on sold invoices (cash less the change
/// given) less the refunds paid out that way. Every method appears, in the order cash,
/// card, other.
pub async fn payments_by_method(
    connection: &mut PgConnection,
    scope: Scope,
) -> Result<Vec<(String, Decimal)>, SalesError> {
    let statement = format!(
        "with moves as ( \
           select p.method, p.amount from sales.payments p \
             join sales.invoices i on i.id = p.invoice_id where {invoices} \
           union all \
           select 'cash', -i.change_due from sales.invoices i \
             where {invoices} and i.change_due <> 0 \
           union all \
           select r.method, -r.amount from sales.refunds r where {refunds} \
         ) \
         select m.method, coalesce(sum(moves.amount), 0) as amount \
         from (values ('cash', 1), ('card', 2), ('other', 3)) as m(method, position) \
           left join moves on moves.method = m.method \
         group by m.method, m.position order by m.position",
        invoices = invoice_filter("i"),
        refunds = refund_filter("r"),
    );
    Ok(
        sqlx::query_as::<_, (String, Decimal)>(sqlx::AssertSqlSafe(statement))
            .bind(scope.shift())
            .bind(scope.start())
            .bind(scope.end())
            .fetch_all(connection)
            .await?,
    )
}

/// Σ expenses dated `day`.
pub async fn expenses_on(
    connection: &mut PgConnection,
    day: NaiveDate,
) -> Result<Decimal, SalesError> {
    Ok(
        sqlx::query_scalar("select coalesce(sum(amount), 0) from sales.expenses where date = $1")
            .bind(day)
            .fetch_one(connection)
            .await?,
    )
}
