//! The cash drawer and shifts. Each use case owns its transaction and writes its audit
//! events through the outbox inside it.
//!
//! A cashier's shift starts when they open a drawer and ends at shift close; each shift has
//! exactly one drawer session. Closing the drawer does not end the shift (sales may still be
//! counted against it until shift close), and a new drawer can only be opened once the shift
//! is closed (a conflict otherwise).

use regal_outbox::{NewEvent, Outbox};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    domain::{
        drawer::{CashMovement, CloseDrawer, CloseShift, OpenDrawer},
        sale::request_digest,
    },
    error::SalesError,
    reporting::{self, ShiftReport},
    rpc::Caller,
    selling::idempotency::{Claim, Key},
    store::{
        drawers::{self, DrawerRow, MovementRow, ShiftRow},
        idempotency as keys,
    },
};

pub const DRAWER_ENTITY: &str = "cash_drawer";
pub const SHIFT_ENTITY: &str = "shift";

fn no_open_drawer() -> SalesError {
    SalesError::Conflict("No open cash drawer".to_owned())
}

async fn record(
    outbox: &Outbox,
    transaction: &mut PgConnection,
    caller: &Caller,
    event: NewEvent<'_>,
) -> Result<(), SalesError> {
    outbox.record(transaction, &caller.context, event).await?;
    Ok(())
}

/// Opens the caller's drawer with its float, starting a shift.
pub async fn open_drawer(
    pool: &PgPool,
    outbox: &Outbox,
    caller: &Caller,
    open: OpenDrawer,
) -> Result<(ShiftRow, DrawerRow), SalesError> {
    let cashier_id = caller.principal.user_id;
    let mut transaction = pool.begin().await?;
    if let Some(open_shift) = drawers::lock_open_shift(&mut transaction, cashier_id).await? {
        let drawer_open = drawers::drawer_of_shift(&mut transaction, open_shift.id)
            .await?
            .is_some_and(|drawer| drawer.closed_at.is_none());
        return Err(SalesError::Conflict(if drawer_open {
            "Cash drawer is already open".to_owned()
        } else {
            "Your shift is still open: close it (POST /pos/shift-close) before opening a new \
             cash drawer"
                .to_owned()
        }));
    }
    // Two opens at once both get past the check above; the unique indexes on the open
    // shift and the open drawer let only one of them commit (the other is a conflict).
    let shift = drawers::insert_shift(
        &mut transaction,
        Uuid::now_v7(),
        cashier_id,
        &caller.principal.username,
    )
    .await?;
    let drawer = drawers::insert_drawer(&mut transaction, Uuid::now_v7(), &shift, &open).await?;
    record(
        outbox,
        &mut transaction,
        caller,
        NewEvent {
            entity: DRAWER_ENTITY,
            entity_id: drawer.id.to_string(),
            action: "open",
            changes: json!({"after": drawer.audit_json(), "cashier": shift.cashier}),
        },
    )
    .await?;
    transaction.commit().await?;
    Ok((shift, drawer))
}

/// Puts petty cash into, or takes it out of, the caller's open drawer; idempotent per
/// (caller, key): a retry whose first attempt committed gets that movement back.
pub async fn record_movement(
    pool: &PgPool,
    outbox: &Outbox,
    caller: &Caller,
    movement: CashMovement,
) -> Result<MovementRow, SalesError> {
    let Some(key) = movement.idempotency_key.clone() else {
        return record_movement_once(pool, outbox, caller, &movement).await;
    };
    let key = Key {
        user_id: caller.principal.user_id,
        key,
        operation: movement.kind.as_str(),
        request_hash: request_digest(
            movement.kind.as_str(),
            &json!({"amount": regal_domain::money::to_text(movement.amount), "reason": movement.reason}),
        ),
    };
    match key.claim(pool, None).await? {
        Claim::Done(movement_id) => {
            let mut connection = pool.acquire().await?;
            drawers::movement(&mut connection, movement_id)
                .await?
                .ok_or_else(|| SalesError::not_found("Cash movement"))
        }
        Claim::Fresh => {
            let result = record_movement_once(pool, outbox, caller, &movement).await;
            if result.is_err() {
                key.release(pool).await;
            }
            result
        }
    }
}

async fn record_movement_once(
    pool: &PgPool,
    outbox: &Outbox,
    caller: &Caller,
    movement: &CashMovement,
) -> Result<MovementRow, SalesError> {
    let mut transaction = pool.begin().await?;
    let drawer = drawers::lock_open_drawer(&mut transaction, caller.principal.user_id)
        .await?
        .ok_or_else(no_open_drawer)?;
    let row = drawers::insert_movement(&mut transaction, Uuid::now_v7(), &drawer, movement).await?;
    if let Some(key) = &movement.idempotency_key {
        keys::complete(&mut transaction, caller.principal.user_id, key, row.id).await?;
    }
    record(
        outbox,
        &mut transaction,
        caller,
        NewEvent {
            entity: DRAWER_ENTITY,
            entity_id: drawer.id.to_string(),
            action: movement.kind.as_str(),
            changes: json!({
                "movement_id": row.id, "drawer_id": row.drawer_id, "shift_id": row.shift_id, "kind": row.kind,
                "amount": regal_domain::money::to_text(row.amount), "reason": row.reason,
            }),
        },
    )
    .await?;
    transaction.commit().await?;
    Ok(row)
}

/// Closes a drawer in the caller's transaction: the expected cash computed by
/// [`drawers::shift_cash`], the count (when given) and the variance.
async fn close_drawer_in(
    outbox: &Outbox,
    transaction: &mut PgConnection,
    caller: &Caller,
    drawer: &DrawerRow,
    count: Option<&CloseDrawer>,
) -> Result<DrawerRow, SalesError> {
    let cash = drawers::shift_cash(transaction, drawer.shift_id).await?;
    let closed = drawers::close_drawer(transaction, drawer.id, cash.expected, count).await?;
    record(
        outbox,
        transaction,
        caller,
        NewEvent {
            entity: DRAWER_ENTITY,
            entity_id: closed.id.to_string(),
            action: "close",
            changes: json!({"before": drawer.audit_json(), "after": closed.audit_json()}),
        },
    )
    .await?;
    Ok(closed)
}

/// Closes the caller's drawer with the counted cash.
pub async fn close_drawer(
    pool: &PgPool,
    outbox: &Outbox,
    caller: &Caller,
    count: CloseDrawer,
) -> Result<DrawerRow, SalesError> {
    let mut transaction = pool.begin().await?;
    // The shift row first: sales and refunds hold it shared until they commit, so the
    // expected cash below sees every one of them that carries this shift.
    drawers::lock_open_shift(&mut transaction, caller.principal.user_id).await?;
    let drawer = drawers::lock_open_drawer(&mut transaction, caller.principal.user_id)
        .await?
        .ok_or_else(no_open_drawer)?;
    let closed = close_drawer_in(outbox, &mut transaction, caller, &drawer, Some(&count)).await?;
    transaction.commit().await?;
    Ok(closed)
}

/// Ends the caller's shift, closing its drawer first when still open, and returns the
/// Z-report.
pub async fn close_shift(
    pool: &PgPool,
    outbox: &Outbox,
    caller: &Caller,
    close: CloseShift,
) -> Result<ShiftReport, SalesError> {
    let mut transaction = pool.begin().await?;
    let shift = drawers::lock_open_shift(&mut transaction, caller.principal.user_id)
        .await?
        .ok_or_else(|| SalesError::Conflict("No open shift".to_owned()))?;
    let drawer = match drawers::drawer_of_shift(&mut transaction, shift.id).await? {
        Some(drawer) if drawer.closed_at.is_none() => {
            let count = close.actual_amount.map(|actual_amount| CloseDrawer {
                actual_amount,
                terminal_expected: None,
                note: None,
            });
            Some(close_drawer_in(outbox, &mut transaction, caller, &drawer, count.as_ref()).await?)
        }
        other => other,
    };
    // The shift concludes what its drawer concluded, recomputing the expected cash in case
    // something was sold or refunded on the shift after an earlier drawer close.
    let cash = drawers::shift_cash(&mut transaction, shift.id).await?;
    let counted = drawer.and_then(|drawer| drawer.actual_amount);
    let closed = drawers::close_shift(&mut transaction, shift.id, cash.expected, counted).await?;
    record(
        outbox,
        &mut transaction,
        caller,
        NewEvent {
            entity: SHIFT_ENTITY,
            entity_id: closed.id.to_string(),
            action: "close",
            changes: json!({"before": shift.audit_json(), "after": closed.audit_json()}),
        },
    )
    .await?;
    let report = reporting::shift_report(&mut transaction, closed).await?;
    transaction.commit().await?;
    Ok(report)
}
