//! The SQL of the sales service: plain functions over a connection or transaction. The
//! use cases own `begin()` / `commit()`.

pub mod custom_orders;
pub mod customers;
pub mod dashboard;
pub mod drawers;
pub mod expenses;
pub(crate) mod idempotency;
pub(crate) mod invoices;
pub(crate) mod pending;
pub(crate) mod refunds;
pub mod reports;
pub mod salesmen;
pub mod settings;

use sqlx::{PgConnection, Postgres, QueryBuilder, postgres::PgRow};

use crate::error::SalesError;

/// A page of `select {columns} from {table}`, newest first (`created_at desc, id desc`),
/// narrowed by the conditions `filters` appends (each starting with ` and `), with the
/// number of rows matching them.
pub async fn newest_first<Row>(
    connection: &mut PgConnection,
    columns: &str,
    table: &str,
    filters: impl Fn(&mut QueryBuilder<Postgres>),
    offset: i64,
    limit: i64,
) -> Result<(Vec<Row>, i64), SalesError>
where
    Row: for<'row> sqlx::FromRow<'row, PgRow> + Send + Unpin,
{
    let mut count =
        QueryBuilder::<Postgres>::new(format!("select count(*) from {table} where true"));
    filters(&mut count);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *connection)
        .await?;
    let mut page =
        QueryBuilder::<Postgres>::new(format!("select {columns} from {table} where true"));
    filters(&mut page);
    page.push(" order by created_at desc, id desc offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let rows = page
        .build_query_as::<Row>()
        .fetch_all(&mut *connection)
        .await?;
    Ok((rows, total))
}
