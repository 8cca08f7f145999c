//! The reports: a shift's X/Z-report, the daily report and the sales report. Each reads
//! one consistent snapshot (a read-only, repeatable-read transaction), so its figures
//! agree with each other to the cent.

use chrono::NaiveDate;
use regal_authz::Permission;
use regal_domain::money::round_cents;
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::{
    domain::report::{Days, GroupBy, SalesReportQuery, ShiftSelector},
    error::SalesError,
    rpc::Caller,
    store::{
        drawers::{self, ShiftCash, ShiftRow},
        reports::{self, Figures, GroupRow, ProductRow, Scope},
    },
};

/// How many products the daily report lists.
pub const TOP_PRODUCTS: i64 = 10;

/// A shift's report: the X-report while open, the Z-report once closed.
#[derive(Debug, Clone)]
pub struct ShiftReport {
    pub shift: ShiftRow,
    pub cash: ShiftCash,
    pub expected_cash: Decimal,
    pub counted_cash: Option<Decimal>,
    pub variance: Option<Decimal>,
    pub figures: Figures,
    pub payments: Vec<(String, Decimal)>,
}

#[derive(Debug, Clone)]
pub struct DailyReport {
    pub day: NaiveDate,
    pub figures: Figures,
    pub payments: Vec<(String, Decimal)>,
    pub by_cashier: Vec<GroupRow>,
    pub top_products: Vec<ProductRow>,
    pub expenses: Decimal,
}

/// One row of the sales report, with the commission due on salesman rows.
#[derive(Debug, Clone)]
pub struct SalesReportRow {
    pub group: GroupRow,
    pub commission: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub struct SalesReport {
    pub query: SalesReportQuery,
    pub rows: Vec<SalesReportRow>,
    pub totals: Figures,
    pub commission: Option<Decimal>,
}

async fn snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>, SalesError> {
    let mut transaction = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *transaction)
        .await?;
    Ok(transaction)
}

/// The report of `shift`, from the ledger and the drawer, in the caller's transaction.
/// A closed shift shows the cash concluded at its close; an open one the cash expected now
/// and, when its drawer was already counted, that count.
pub async fn shift_report(
    connection: &mut PgConnection,
    shift: ShiftRow,
) -> Result<ShiftReport, SalesError> {
    let cash = drawers::shift_cash(connection, shift.id).await?;
    let scope = Scope::Shift(shift.id);
    let figures = reports::figures(connection, scope).await?;
    let payments = reports::payments_by_method(connection, scope).await?;
    let (expected_cash, counted_cash, variance) = if shift.closed_at.is_some() {
        (
            shift.expected_cash.unwrap_or(cash.expected),
            shift.counted_cash,
            shift.variance,
        )
    } else {
        let counted = drawers::drawer_of_shift(connection, shift.id)
            .await?
            .and_then(|drawer| drawer.actual_amount);
        (
            cash.expected,
            counted,
            counted.map(|counted| counted - cash.expected),
        )
    };
    Ok(ShiftReport {
        shift,
        cash,
        expected_cash,
        counted_cash,
        variance,
        figures,
        payments,
    })
}

/// The report of a shift the caller may see: their own (any role with a shift report
/// permission) or anyone's (with [`Permission::ShiftReportAny`]).
pub async fn get_shift_report(
    pool: &PgPool,
    caller: &Caller,
    selector: ShiftSelector,
) -> Result<ShiftReport, SalesError> {
    let mut transaction = snapshot(pool).await?;
    let shift = match selector {
        ShiftSelector::Mine => {
            drawers::current_or_last_shift(&mut transaction, caller.principal.user_id)
                .await?
                .ok_or_else(|| SalesError::NotFound("You have no shift yet".to_owned()))?
        }
        ShiftSelector::Id(id) => drawers::find_shift(&mut transaction, id)
            .await?
            .ok_or_else(|| SalesError::not_found("Shift"))?,
    };
    if shift.cashier_id != caller.principal.user_id
        && !caller.principal.role.allows(Permission::ShiftReportAny)
    {
        return Err(SalesError::PermissionDenied(
            "Cashiers may only see their own shifts".to_owned(),
        ));
    }
    let report = shift_report(&mut transaction, shift).await?;
    transaction.commit().await?;
    Ok(report)
}

/// The figures of `days` (money kept from sales = net_sales + taxes), for the dashboard.
pub async fn figures_of(pool: &PgPool, days: Days) -> Result<Figures, SalesError> {
    let mut connection = pool.acquire().await?;
    reports::figures(&mut connection, period(days)).await
}

fn period(days: Days) -> Scope {
    Scope::Period {
        start: days.start(),
        end: days.end(),
    }
}

pub async fn daily_report(pool: &PgPool, day: NaiveDate) -> Result<DailyReport, SalesError> {
    let mut transaction = snapshot(pool).await?;
    let scope = period(Days::one(day));
    let report = DailyReport {
        day,
        figures: reports::figures(&mut transaction, scope).await?,
        payments: reports::payments_by_method(&mut transaction, scope).await?,
        by_cashier: reports::grouped(&mut transaction, scope, GroupBy::Cashier).await?,
        top_products: reports::top_products(&mut transaction, scope, TOP_PRODUCTS).await?,
        expenses: reports::expenses_on(&mut transaction, day).await?,
    };
    transaction.commit().await?;
    Ok(report)
}

/// Commission due on `net_sales` at `rate` percent, rounded to the cent half away from
/// zero.
pub fn commission(net_sales: Decimal, rate: Decimal) -> Decimal {
    round_cents(net_sales * rate / Decimal::ONE_HUNDRED)
}

pub async fn sales_report(
    pool: &PgPool,
    query: SalesReportQuery,
) -> Result<SalesReport, SalesError> {
    let mut transaction = snapshot(pool).await?;
    let scope = period(query.days);
    let groups = reports::grouped(&mut transaction, scope, query.group_by).await?;
    let totals = reports::figures(&mut transaction, scope).await?;
    transaction.commit().await?;
    let by_salesman = query.group_by == GroupBy::Salesman;
    let rows: Vec<SalesReportRow> = groups
        .into_iter()
        .map(|group| SalesReportRow {
            commission: by_salesman.then(|| {
                commission(
                    group.figures.net_sales,
                    group.commission_rate.unwrap_or_default(),
                )
            }),
            group,
        })
        .collect();
    let commission_total = by_salesman.then(|| {
        rows.iter()
            .filter_map(|row| row.commission)
            .sum::<Decimal>()
    });
    Ok(SalesReport {
        query,
        rows,
        totals,
        commission: commission_total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commission_is_rounded_half_away_from_zero() {
        let amount = |text: &str| text.parse::<Decimal>().unwrap();
        assert_eq!(commission(amount("10.10"), amount("2.50")), amount("0.25"));
        assert_eq!(commission(amount("10.60"), amount("2.50")), amount("0.27"));
        assert_eq!(
            commission(amount("-10.60"), amount("2.50")),
            amount("-0.27")
        );
        assert_eq!(commission(amount("0"), amount("7")), amount("0.00"));
    }
}
