//! `sales.shifts`, `sales.cash_drawers`, `sales.cash_movements`, and the one computation of
//! the cash a drawer should hold.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::drawer::{CashMovement, CloseDrawer, OpenDrawer},
    error::SalesError,
};
use regal_domain::money::to_text;

/// The invoice statuses that count as sold (the ledger of every report and of the cash).
pub const SOLD_STATUSES: &str = "('issued', 'paid', 'partially_refunded', 'refunded')";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShiftRow {
    pub id: Uuid,
    pub cashier_id: Uuid,
    pub cashier: String,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub counted_cash: Option<Decimal>,
    pub expected_cash: Option<Decimal>,
    pub variance: Option<Decimal>,
}

impl ShiftRow {
    pub fn audit_json(&self) -> Value {
        json!({
            "id": self.id, "cashier_id": self.cashier_id, "cashier": self.cashier,
            "opened_at": self.opened_at, "closed_at": self.closed_at,
            "expected_cash": self.expected_cash.map(to_text),
            "counted_cash": self.counted_cash.map(to_text),
            "variance": self.variance.map(to_text),
        })
    }
}

const SHIFT_COLUMNS: &str =
    "id, cashier_id, cashier, opened_at, closed_at, counted_cash, expected_cash, variance";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DrawerRow {
    pub id: Uuid,
    pub shift_id: Uuid,
    pub cashier_id: Uuid,
    pub opening_float: Decimal,
    pub open_note: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub expected_amount: Option<Decimal>,
    pub actual_amount: Option<Decimal>,
    pub variance: Option<Decimal>,
    pub terminal_expected_amount: Option<Decimal>,
    pub close_note: Option<String>,
}

impl DrawerRow {
    pub fn audit_json(&self) -> Value {
        json!({
            "id": self.id, "shift_id": self.shift_id, "cashier_id": self.cashier_id,
            "opening_float": to_text(self.opening_float), "open_note": self.open_note,
            "opened_at": self.opened_at, "closed_at": self.closed_at,
            "expected_amount": self.expected_amount.map(to_text),
            "actual_amount": self.actual_amount.map(to_text),
            "variance": self.variance.map(to_text),
            "terminal_expected_amount": self.terminal_expected_amount.map(to_text),
            "close_note": self.close_note,
        })
    }
}

const DRAWER_COLUMNS: &str = "id, shift_id, cashier_id, opening_float, open_note, opened_at, \
     closed_at, expected_amount, actual_amount, variance, terminal_expected_amount, close_note";

const MOVEMENT_COLUMNS: &str = "id, shift_id, drawer_id, kind, amount, reason, created_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MovementRow {
    pub id: Uuid,
    pub shift_id: Uuid,
    pub drawer_id: Uuid,
    pub kind: String,
    pub amount: Decimal,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// The cash of a shift's drawer, every term of
/// expected = opening float + cash tendered − change given − cash refunds + pay-ins − pay-outs.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ShiftCash {
    pub opening_float: Decimal,
    pub cash_tendered: Decimal,
    pub change_given: Decimal,
    pub cash_refunds: Decimal,
    pub pay_ins: Decimal,
    pub pay_outs: Decimal,
    pub expected: Decimal,
}

/// The one computation of a drawer's expected cash, used by the drawer close, the X-report
/// and the Z-report: over the sold invoices, the cash refunds (not voided) and the petty
/// cash movements that carry the shift's id.
pub async fn shift_cash(
    connection: &mut PgConnection,
    shift_id: Uuid,
) -> Result<ShiftCash, SalesError> {
    let statement = format!(
        "with terms as ( \
           select \
             coalesce((select opening_float from sales.cash_drawers where shift_id = $1), 0) \
               as opening_float, \
             coalesce((select sum(p.amount) from sales.payments p \
                       join sales.invoices i on i.id = p.invoice_id \
                       where i.shift_id = $1 and i.status in {SOLD_STATUSES} \
                         and p.method = 'cash'), 0) as cash_tendered, \
             coalesce((select sum(i.change_due) from sales.invoices i \
                       where i.shift_id = $1 and i.status in {SOLD_STATUSES}), 0) \
               as change_given, \
             coalesce((select sum(r.amount) from sales.refunds r \
                       where r.shift_id = $1 and r.voided_at is null and r.method = 'cash'), 0) \
               as cash_refunds, \
             coalesce((select sum(amount) from sales.cash_movements \
                       where shift_id = $1 and kind = 'pay_in'), 0) as pay_ins, \
             coalesce((select sum(amount) from sales.cash_movements \
                       where shift_id = $1 and kind = 'pay_out'), 0) as pay_outs \
         ) \
         select opening_float, cash_tendered, change_given, cash_refunds, pay_ins, pay_outs, \
                opening_float + cash_tendered - change_given - cash_refunds + pay_ins - pay_outs \
                  as expected \
         from terms"
    );
    Ok(
        sqlx::query_as::<_, ShiftCash>(sqlx::AssertSqlSafe(statement))
            .bind(shift_id)
            .fetch_one(connection)
            .await?,
    )
}

pub async fn find_shift(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ShiftRow>, SalesError> {
    let statement = format!("select {SHIFT_COLUMNS} from sales.shifts where id = $1");
    Ok(
        sqlx::query_as::<_, ShiftRow>(sqlx::AssertSqlSafe(statement))
            .bind(id)
            .fetch_optional(connection)
            .await?,
    )
}

/// The cashier's open shift, else their latest one.
pub async fn current_or_last_shift(
    connection: &mut PgConnection,
    cashier_id: Uuid,
) -> Result<Option<ShiftRow>, SalesError> {
    let statement = format!(
        "select {SHIFT_COLUMNS} from sales.shifts where cashier_id = $1 \
         order by closed_at is null desc, opened_at desc, id desc limit 1"
    );
    Ok(
        sqlx::query_as::<_, ShiftRow>(sqlx::AssertSqlSafe(statement))
            .bind(cashier_id)
            .fetch_optional(connection)
            .await?,
    )
}

/// The cashier's open shift, locked for the caller's transaction.
pub async fn lock_open_shift(
    connection: &mut PgConnection,
    cashier_id: Uuid,
) -> Result<Option<ShiftRow>, SalesError> {
    let statement = format!(
        "select {SHIFT_COLUMNS} from sales.shifts \
         where cashier_id = $1 and closed_at is null for update"
    );
    Ok(
        sqlx::query_as::<_, ShiftRow>(sqlx::AssertSqlSafe(statement))
            .bind(cashier_id)
            .fetch_optional(connection)
            .await?,
    )
}

/// The cashier's open drawer, locked for the caller's transaction.
pub async fn lock_open_drawer(
    connection: &mut PgConnection,
    cashier_id: Uuid,
) -> Result<Option<DrawerRow>, SalesError> {
    let statement = format!(
        "select {DRAWER_COLUMNS} from sales.cash_drawers \
         where cashier_id = $1 and closed_at is null for update"
    );
    Ok(
        sqlx::query_as::<_, DrawerRow>(sqlx::AssertSqlSafe(statement))
            .bind(cashier_id)
            .fetch_optional(connection)
            .await?,
    )
}

/// The drawer of a shift (each shift has at most one).
pub async fn drawer_of_shift(
    connection: &mut PgConnection,
    shift_id: Uuid,
) -> Result<Option<DrawerRow>, SalesError> {
    let statement = format!("select {DRAWER_COLUMNS} from sales.cash_drawers where shift_id = $1");
    Ok(
        sqlx::query_as::<_, DrawerRow>(sqlx::AssertSqlSafe(statement))
            .bind(shift_id)
            .fetch_optional(connection)
            .await?,
    )
}

/// Starts a shift. A second open shift of the same cashier violates
/// `shifts_one_open_per_cashier` (a conflict), which also settles concurrent opens.
pub async fn insert_shift(
    connection: &mut PgConnection,
    id: Uuid,
    cashier_id: Uuid,
    cashier: &str,
) -> Result<ShiftRow, SalesError> {
    let statement = format!(
        "insert into sales.shifts (id, cashier_id, cashier) values ($1, $2, $3) \
         returning {SHIFT_COLUMNS}"
    );
    Ok(
        sqlx::query_as::<_, ShiftRow>(sqlx::AssertSqlSafe(statement))
            .bind(id)
            .bind(cashier_id)
            .bind(cashier)
            .fetch_one(connection)
            .await?,
    )
}

pub async fn insert_drawer(
    connection: &mut PgConnection,
    id: Uuid,
    shift: &ShiftRow,
    open: &OpenDrawer,
) -> Result<DrawerRow, SalesError> {
    let statement = format!(
        "insert into sales.cash_drawers (id, shift_id, cashier_id, opening_float, open_note, \
           opened_at) values ($1, $2, $3, $4, $5, $6) returning {DRAWER_COLUMNS}"
    );
    Ok(
        sqlx::query_as::<_, DrawerRow>(sqlx::AssertSqlSafe(statement))
            .bind(id)
            .bind(shift.id)
            .bind(shift.cashier_id)
            .bind(open.opening_float)
            .bind(open.note.as_deref())
            .bind(shift.opened_at)
            .fetch_one(connection)
            .await?,
    )
}

pub async fn insert_movement(
    connection: &mut PgConnection,
    id: Uuid,
    drawer: &DrawerRow,
    movement: &CashMovement,
) -> Result<MovementRow, SalesError> {
    let statement = format!(
        "insert into sales.cash_movements (id, shift_id, drawer_id, kind, amount, reason, \
           cashier_id) values ($1, $2, $3, $4, $5, $6, $7) returning {MOVEMENT_COLUMNS}"
    );
    Ok(
        sqlx::query_as::<_, MovementRow>(sqlx::AssertSqlSafe(statement))
            .bind(id)
            .bind(drawer.shift_id)
            .bind(drawer.id)
            .bind(movement.kind.as_str())
            .bind(movement.amount)
            .bind(&movement.reason)
            .bind(drawer.cashier_id)
            .fetch_one(connection)
            .await?,
    )
}

/// One petty-cash movement by id.
pub async fn movement(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<MovementRow>, SalesError> {
    let statement = format!("select {MOVEMENT_COLUMNS} from sales.cash_movements where id = $1");
    Ok(
        sqlx::query_as::<_, MovementRow>(sqlx::AssertSqlSafe(statement))
            .bind(id)
            .fetch_optional(connection)
            .await?,
    )
}

/// Closes a drawer with what the server expected and, when counted, what was counted.
pub async fn close_drawer(
    connection: &mut PgConnection,
    drawer_id: Uuid,
    expected: Decimal,
    count: Option<&CloseDrawer>,
) -> Result<DrawerRow, SalesError> {
    let actual = count.map(|count| count.actual_amount);
    let statement = format!(
        "update sales.cash_drawers set closed_at = greatest(now(), opened_at), \
           expected_amount = $2, actual_amount = $3, variance = $3 - $2, \
           terminal_expected_amount = $4, close_note = $5 \
         where id = $1 returning {DRAWER_COLUMNS}"
    );
    Ok(
        sqlx::query_as::<_, DrawerRow>(sqlx::AssertSqlSafe(statement))
            .bind(drawer_id)
            .bind(expected)
            .bind(actual)
            .bind(count.and_then(|count| count.terminal_expected))
            .bind(count.and_then(|count| count.note.as_deref()))
            .fetch_one(connection)
            .await?,
    )
}

/// Ends a shift with the cash concluded at its close.
pub async fn close_shift(
    connection: &mut PgConnection,
    shift_id: Uuid,
    expected: Decimal,
    counted: Option<Decimal>,
) -> Result<ShiftRow, SalesError> {
    let statement = format!(
        "update sales.shifts set closed_at = greatest(now(), opened_at), expected_cash = $2, \
           counted_cash = $3, variance = $3 - $2 \
         where id = $1 returning {SHIFT_COLUMNS}"
    );
    Ok(
        sqlx::query_as::<_, ShiftRow>(sqlx::AssertSqlSafe(statement))
            .bind(shift_id)
            .bind(expected)
            .bind(counted)
            .fetch_one(connection)
            .await?,
    )
}
