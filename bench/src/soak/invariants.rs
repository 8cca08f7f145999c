//! The books after the soak: SQL over the run's database (every schema lives in it) and
//! the REST API where the API is the truth (the audit chain). Each check prints its
//! figures; any problem fails it.

use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, Instant},
};

use rust_decimal::Decimal;
use sqlx::{PgConnection, Row};

use crate::soak::{
    client::KeyRecord,
    workload::{Product, ShiftRecord, SoldInvoice},
};

/// Invoice statuses that hold sold stock.
const SOLD: &str = "('issued', 'paid', 'partially_refunded', 'refunded')";
/// The schemas whose outbox feeds the audit log.
const PRODUCERS: [&str; 3] = ["auth", "catalog", "sales"];
/// At most this many offenders are printed per check.
const SHOWN: usize = 5;

/// One invariant's result.
pub struct Check {
    pub name: &'static str,
    pub figures: String,
    pub problems: Vec<String>,
}

impl Check {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            figures: String::new(),
            problems: Vec::new(),
        }
    }

    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn print(&self) {
        println!(
            "{} {}: {}",
            if self.passed() { "PASS" } else { "FAIL" },
            self.name,
            self.figures
        );
        for problem in self.problems.iter().take(SHOWN) {
            println!("       {problem}");
        }
        if self.problems.len() > SHOWN {
            println!("       … and {} more", self.problems.len() - SHOWN);
        }
    }
}

/// What the work left to finish after the load (the sweeper, the relays, the audit
/// consumer and the refund restocks); zero everywhere is quiescence.
pub async fn backlog(connection: &mut PgConnection) -> anyhow::Result<BTreeMap<&'static str, i64>> {
    let mut backlog = BTreeMap::new();
    let pending: i64 = sqlx::query_scalar("select count(*) from sales.pending_sales")
        .fetch_one(&mut *connection)
        .await?;
    backlog.insert("pending sales", pending);
    let restocks: i64 = sqlx::query_scalar(
        "select count(*) from sales.refunds where restocked_at is null and voided_at is null",
    )
    .fetch_one(&mut *connection)
    .await?;
    backlog.insert("refunds not restocked", restocks);
    let mut unpublished = 0i64;
    let mut not_in_audit = 0i64;
    for schema in PRODUCERS {
        unpublished += sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
            "select count(*) from {schema}.outbox where published_at is null"
        )))
        .fetch_one(&mut *connection)
        .await?;
        not_in_audit += sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
            "select count(*) from {schema}.outbox o \
             where not exists (select 1 from audit.audit_log a where a.id = o.event_id)"
        )))
        .fetch_one(&mut *connection)
        .await?;
    }
    backlog.insert("outbox events unpublished", unpublished);
    backlog.insert("outbox events not in the audit log", not_in_audit);
    Ok(backlog)
}

/// Waits until [`backlog`] is all zero, at most `timeout`; returns the last backlog.
pub async fn wait_quiescent(
    connection: &mut PgConnection,
    timeout: Duration,
) -> anyhow::Result<(Duration, BTreeMap<&'static str, i64>)> {
    let started = Instant::now();
    loop {
        let left = backlog(connection).await?;
        if left.values().all(|count| *count == 0) || started.elapsed() > timeout {
            return Ok((started.elapsed(), left));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// opening + received − sold + refunded ± adjustments = level ≥ 0 for every product,
/// the level equal to its ledger, and the ledger's sales and refunds equal to the sales
/// service's invoice and refund lines.
pub async fn stock(connection: &mut PgConnection, products: &[Product]) -> anyhow::Result<Check> {
    let mut check = Check::new("stock balances");
    let rows = sqlx::query(
        "with e as ( \
           select e.product_id, e.type, e.delta, r.type as reversed_type \
           from catalog.stock_entries e \
           left join catalog.stock_entries r on r.id = e.reverses) \
         select p.id::text as id, p.stock_level, \
           coalesce(sum(e.delta), 0)::bigint as ledger, \
           coalesce(sum(e.delta) filter (where e.type = 'IN'), 0)::bigint as received_in, \
           coalesce(-sum(e.delta) filter (where e.type = 'SALE' or e.reversed_type = 'SALE'), 0)::bigint as sold, \
           coalesce(sum(e.delta) filter (where e.type = 'REFUND' or e.reversed_type = 'REFUND'), 0)::bigint as refunded, \
           coalesce(sum(e.delta) filter (where e.type in ('OUT', 'ADJUST') \
                                          or e.reversed_type in ('IN', 'OUT', 'ADJUST')), 0)::bigint as adjustments \
         from catalog.products p left join e on e.product_id = p.id \
         group by p.id, p.stock_level",
    )
    .fetch_all(&mut *connection)
    .await?;
    let sales_sold: HashMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(format!(
            "select ii.product_id::text, sum(ii.quantity)::bigint from sales.invoice_items ii \
             join sales.invoices i on i.id = ii.invoice_id where i.status in {SOLD} group by 1"
        )))
        .fetch_all(&mut *connection)
        .await?
        .into_iter()
        .collect();
    let sales_refunded: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "select ri.product_id::text, sum(ri.quantity)::bigint from sales.refund_items ri \
         join sales.refunds r on r.id = ri.refund_id where r.voided_at is null group by 1",
    )
    .fetch_all(&mut *connection)
    .await?
    .into_iter()
    .collect();
    let openings: HashMap<&str, i64> = products
        .iter()
        .map(|product| (product.id.as_str(), product.opening))
        .collect();
    let (mut opening_sum, mut received_sum, mut sold_sum, mut refunded_sum, mut adjusted_sum) =
        (0i64, 0i64, 0i64, 0i64, 0i64);
    let mut level_sum = 0i64;
    let mut out_of_stock = 0usize;
    for row in &rows {
        let id: String = row.try_get("id")?;
        let level: i64 = row.try_get("stock_level")?;
        let ledger: i64 = row.try_get("ledger")?;
        let received_in: i64 = row.try_get("received_in")?;
        let sold: i64 = row.try_get("sold")?;
        let refunded: i64 = row.try_get("refunded")?;
        let adjustments: i64 = row.try_get("adjustments")?;
        let Some(opening) = openings.get(id.as_str()).copied() else {
            check
                .problems
                .push(format!("product {id} was not seeded by the soak"));
            continue;
        };
        let received = received_in - opening;
        opening_sum += opening;
        received_sum += received;
        sold_sum += sold;
        refunded_sum += refunded;
        adjusted_sum += adjustments;
        level_sum += level;
        if level == 0 {
            out_of_stock += 1;
        }
        let computed = opening + received - sold + refunded + adjustments;
        if received < 0 {
            check.problems.push(format!(
                "product {id}: IN entries {received_in} < opening {opening}"
            ));
        }
        if computed != level || ledger != level || level < 0 {
            check.problems.push(format!(
                "product {id}: {opening} + {received} − {sold} + {refunded} {adjustments:+} = \
                 {computed}, ledger {ledger}, level {level}"
            ));
        }
        let invoiced = sales_sold.get(&id).copied().unwrap_or_default();
        if invoiced != sold {
            check.problems.push(format!(
                "product {id}: catalog's ledger sold {sold}, the sold invoices hold {invoiced}"
            ));
        }
        let refund_lines = sales_refunded.get(&id).copied().unwrap_or_default();
        if refund_lines != refunded {
            check.problems.push(format!(
                "product {id}: catalog's ledger restocked {refunded}, the refunds hold {refund_lines}"
            ));
        }
    }
    if rows.len() != products.len() {
        check.problems.push(format!(
            "{} products in catalog, {} seeded",
            rows.len(),
            products.len()
        ));
    }
    check.figures = format!(
        "{} products: opening {opening_sum} + received {received_sum} − sold {sold_sum} + \
         refunded {refunded_sum} {adjusted_sum:+} adjustments = {level_sum} on hand \
         ({out_of_stock} sold out); sold and refunded match the invoice and refund lines",
        rows.len()
    );
    Ok(check)
}

/// Every sale the API acknowledged is stored, sold, with the total the counter was told.
pub async fn acknowledged_sales(
    connection: &mut PgConnection,
    sold: &[SoldInvoice],
) -> anyhow::Result<Check> {
    let mut check = Check::new("acknowledged sales are kept");
    let stored: HashMap<String, (String, Decimal)> =
        sqlx::query_as::<_, (String, String, Decimal)>(
            "select id::text, status, total from sales.invoices",
        )
        .fetch_all(&mut *connection)
        .await?
        .into_iter()
        .map(|(id, status, total)| (id, (status, total)))
        .collect();
    let mut total = Decimal::ZERO;
    for invoice in sold {
        total += invoice.total;
        match stored.get(&invoice.id) {
            None => check.problems.push(format!(
                "invoice {} was acknowledged and is gone",
                invoice.id
            )),
            Some((status, stored_total)) => {
                if !["paid", "partially_refunded", "refunded"].contains(&status.as_str()) {
                    check.problems.push(format!(
                        "invoice {} acknowledged paid is {status}",
                        invoice.id
                    ));
                }
                if *stored_total != invoice.total {
                    check.problems.push(format!(
                        "invoice {}: answered total {}, stored {stored_total}",
                        invoice.id, invoice.total
                    ));
                }
            }
        }
    }
    check.figures = format!(
        "{} sales acknowledged ({total} in total), {} invoices stored",
        sold.len(),
        stored.len()
    );
    Ok(check)
}

/// Every sold invoice and refund has its audit event, once; every outbox event reached
/// the audit log exactly once; no sequence gap was given up on, no entry set aside.
pub async fn audit(connection: &mut PgConnection) -> anyhow::Result<Check> {
    let mut check = Check::new("audit events");
    let unaudited_sales: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select i.id::text from sales.invoices i where i.status in {SOLD} and not exists ( \
           select 1 from audit.audit_log a \
           where a.entity = 'invoice' and a.entity_id = i.id::text and a.action = 'sell')"
    )))
    .fetch_all(&mut *connection)
    .await?;
    for id in &unaudited_sales {
        check
            .problems
            .push(format!("sold invoice {id} has no audit event"));
    }
    let unaudited_refunds: Vec<String> = sqlx::query_scalar(
        "select r.id::text from sales.refunds r where not exists ( \
           select 1 from audit.audit_log a where a.entity = 'refund' and a.entity_id = r.id::text)",
    )
    .fetch_all(&mut *connection)
    .await?;
    for id in &unaudited_refunds {
        check
            .problems
            .push(format!("refund {id} has no audit event"));
    }
    let twice_sold: Vec<(String, i64)> = sqlx::query_as(
        "select entity_id, count(*) from audit.audit_log \
         where entity = 'invoice' and action = 'sell' group by entity_id having count(*) > 1",
    )
    .fetch_all(&mut *connection)
    .await?;
    for (id, count) in &twice_sold {
        check
            .problems
            .push(format!("invoice {id} has {count} sell events"));
    }
    let duplicate_ids: Vec<(String, i64)> = sqlx::query_as(
        "select id::text, count(*) from audit.audit_log group by id having count(*) > 1",
    )
    .fetch_all(&mut *connection)
    .await?;
    for (id, count) in &duplicate_ids {
        check
            .problems
            .push(format!("audit event {id} is stored {count} times"));
    }
    let duplicate_seqs: Vec<(String, i64, i64)> = sqlx::query_as(
        "select service, seq, count(*) from audit.audit_log group by service, seq having count(*) > 1",
    )
    .fetch_all(&mut *connection)
    .await?;
    for (service, seq, count) in &duplicate_seqs {
        check
            .problems
            .push(format!("{service} seq {seq} is stored {count} times"));
    }
    let mut outbox_events = 0i64;
    for schema in PRODUCERS {
        outbox_events += sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
            "select count(*) from {schema}.outbox"
        )))
        .fetch_one(&mut *connection)
        .await?;
        let missing: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select o.event_id::text || ' (' || o.entity || ' ' || o.action || ')' \
             from {schema}.outbox o \
             where not exists (select 1 from audit.audit_log a where a.id = o.event_id)"
        )))
        .fetch_all(&mut *connection)
        .await?;
        for event in missing {
            check.problems.push(format!(
                "{schema} outbox event {event} never reached the audit log"
            ));
        }
    }
    let stored: i64 = sqlx::query_scalar("select count(*) from audit.audit_log")
        .fetch_one(&mut *connection)
        .await?;
    let lost: Vec<(String, i64, i64)> =
        sqlx::query_as("select service, first_seq, last_seq from audit.lost_ranges")
            .fetch_all(&mut *connection)
            .await?;
    for (service, first, last) in &lost {
        check
            .problems
            .push(format!("audit gave up on {service} seq {first}..={last}"));
    }
    let dead: i64 = sqlx::query_scalar("select count(*) from audit.dead_letters")
        .fetch_all(&mut *connection)
        .await?
        .first()
        .copied()
        .unwrap_or_default();
    if dead > 0 {
        check
            .problems
            .push(format!("{dead} stream entries set aside as dead letters"));
    }
    let sold_count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from sales.invoices where status in {SOLD}"
    )))
    .fetch_one(&mut *connection)
    .await?;
    check.figures = format!(
        "{stored} audit events for {outbox_events} outbox events; {sold_count} sold invoices \
         audited once each; {} duplicates, {} lost ranges, {dead} dead letters",
        duplicate_ids.len() + duplicate_seqs.len(),
        lost.len()
    );
    Ok(check)
}

/// Every `Idempotency-Key` the client used maps to at most one resource, every key that
/// got a 2xx to exactly the one it was answered with, and every sale, refund and soak
/// stock entry was made under exactly one key.
pub async fn idempotency(
    connection: &mut PgConnection,
    keys: &[KeyRecord],
) -> anyhow::Result<Check> {
    let mut check = Check::new("idempotency keys");
    let sales_keys: HashMap<(String, String), Option<String>> =
        sqlx::query_as::<_, (String, String, Option<String>)>(
            "select user_id::text, key, resource_id::text from sales.idempotency_keys",
        )
        .fetch_all(&mut *connection)
        .await?
        .into_iter()
        .map(|(user, key, resource)| ((user, key), resource))
        .collect();
    let stock_keys: HashMap<(String, String), Option<String>> =
        sqlx::query_as::<_, (String, String, Option<String>)>(
            "select user_id::text, key, entry_id::text from catalog.stock_entry_idempotency",
        )
        .fetch_all(&mut *connection)
        .await?
        .into_iter()
        .map(|(user, key, entry)| ((user, key), entry))
        .collect();
    let (mut answered, mut gave_up, mut refused, mut retried) = (0usize, 0usize, 0usize, 0usize);
    for record in keys {
        if record.attempts > 1 {
            retried += 1;
        }
        let table = if record.operation == "stock" {
            &stock_keys
        } else {
            &sales_keys
        };
        let stored = table
            .get(&(record.user_id.clone(), record.key.clone()))
            .cloned()
            .flatten();
        if record.ids_seen.len() > 1 {
            check.problems.push(format!(
                "{} key {} was answered with {} different ids: {:?}",
                record.operation,
                record.key,
                record.ids_seen.len(),
                record.ids_seen
            ));
        }
        match (&record.answered_id, record.final_status) {
            (Some(id), _) => {
                answered += 1;
                if stored.as_deref() != Some(id.as_str()) {
                    check.problems.push(format!(
                        "{} key {} was answered {id}, the server maps it to {stored:?}",
                        record.operation, record.key
                    ));
                }
            }
            (None, None) => gave_up += 1,
            (None, Some(_)) => {
                refused += 1;
                if let Some(resource) = stored {
                    check.problems.push(format!(
                        "{} key {} was refused, yet maps to {resource}",
                        record.operation, record.key
                    ));
                }
            }
        }
    }
    // Every soak record of these kinds is the result of exactly one key: (kind, its rows as
    // `r`, the key table and its column naming the record).
    let keyed = [
        (
            "sale",
            format!("sales.invoices r where r.status in {SOLD}"),
            "sales.idempotency_keys k where k.resource_id",
        ),
        (
            "refund",
            "sales.refunds r".to_owned(),
            "sales.idempotency_keys k where k.resource_id",
        ),
        (
            "pay-in/out",
            "sales.cash_movements r".to_owned(),
            "sales.idempotency_keys k where k.resource_id",
        ),
        (
            "stock entry",
            "catalog.stock_entries r where r.ref like 'soak %'".to_owned(),
            "catalog.stock_entry_idempotency k where k.entry_id",
        ),
    ];
    for (kind, rows, keys) in keyed {
        let unkeyed: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select id, keys from (select r.id::text as id, \
                                          (select count(*) from {keys} = r.id) as keys \
                                     from {rows}) as counted \
              where keys <> 1"
        )))
        .fetch_all(&mut *connection)
        .await?;
        for (id, count) in &unkeyed {
            check
                .problems
                .push(format!("{kind} {id} is the result of {count} keys"));
        }
    }
    let unfinished: i64 =
        sqlx::query_scalar("select count(*) from sales.idempotency_keys where resource_id is null")
            .fetch_one(&mut *connection)
            .await?;
    let resolved_sales_keys = sales_keys
        .values()
        .filter(|resource| resource.is_some())
        .count();
    check.figures = format!(
        "{} keys used ({answered} answered 2xx, {refused} refused, {gave_up} given up; \
         {retried} needed more than one attempt); the server holds {resolved_sales_keys} sale, \
         refund and pay-in/out keys with a result ({unfinished} claimed without one) and {} \
         stock keys; every sold invoice, refund, pay-in/out and soak stock entry made under \
         exactly one key",
        keys.len(),
        stock_keys.len()
    );
    Ok(check)
}

/// No sale left pending, no stock reserved for a sale that did not happen, no sold
/// invoice without its stock taken, no refund waiting for its restock, no shift open.
pub async fn nothing_pending(connection: &mut PgConnection) -> anyhow::Result<Check> {
    let mut check = Check::new("nothing left pending");
    let pending: Vec<(String, String)> =
        sqlx::query_as("select id::text, kind from sales.pending_sales")
            .fetch_all(&mut *connection)
            .await?;
    for (id, kind) in &pending {
        check.problems.push(format!("pending {kind} {id} left"));
    }
    let orphan_reservations: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select r.id::text from catalog.reservations r \
         where r.kind = 'sale' and r.undone_at is null and jsonb_array_length(r.lines) > 0 \
           and not exists (select 1 from sales.invoices i \
                           where coalesce(i.reservation_id, i.id) = r.id and i.status in {SOLD})"
    )))
    .fetch_all(&mut *connection)
    .await?;
    for id in &orphan_reservations {
        check.problems.push(format!(
            "stock reserved for sale {id}, which is not a sold invoice"
        ));
    }
    let unreserved: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select i.id::text from sales.invoices i where i.status in {SOLD} \
           and not exists (select 1 from catalog.reservations r \
                           where r.kind = 'sale' and r.id = coalesce(i.reservation_id, i.id) \
                             and r.undone_at is null)"
    )))
    .fetch_all(&mut *connection)
    .await?;
    for id in &unreserved {
        check.problems.push(format!(
            "sold invoice {id} has no stock reservation in catalog"
        ));
    }
    let restocks: i64 = sqlx::query_scalar(
        "select count(*) from sales.refunds where restocked_at is null and voided_at is null",
    )
    .fetch_one(&mut *connection)
    .await?;
    if restocks > 0 {
        check
            .problems
            .push(format!("{restocks} refunds not restocked"));
    }
    let open_shifts: i64 =
        sqlx::query_scalar("select count(*) from sales.shifts where closed_at is null")
            .fetch_one(&mut *connection)
            .await?;
    if open_shifts > 0 {
        check
            .problems
            .push(format!("{open_shifts} shifts still open after the load"));
    }
    let reservations: i64 = sqlx::query_scalar("select count(*) from catalog.reservations")
        .fetch_one(&mut *connection)
        .await?;
    let released: i64 = sqlx::query_scalar(
        "select count(*) from catalog.reservations where kind = 'sale' and undone_at is not null",
    )
    .fetch_one(&mut *connection)
    .await?;
    check.figures = format!(
        "{} pending sales, {reservations} reservations ({released} sales released), {} orphan \
         reservations, {} sold invoices without one, {restocks} restocks waiting, {open_shifts} \
         open shifts",
        pending.len(),
        orphan_reservations.len(),
        unreserved.len()
    );
    Ok(check)
}

/// Every closed drawer's expected cash, stored at its close, equals the invoices,
/// refunds and cash movements of its shift recomputed now (so nothing landed in a shift
/// after its drawer closed), and equals what the counter tracked from the answers when
/// every request of the shift had a known outcome.
pub async fn drawers(
    connection: &mut PgConnection,
    shifts: &[ShiftRecord],
) -> anyhow::Result<Check> {
    let mut check = Check::new("drawers reconcile");
    let rows: Vec<(String, Option<Decimal>, Decimal, Option<Decimal>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select d.shift_id::text, d.expected_amount, \
               d.opening_float \
               + coalesce((select sum(p.amount) from sales.payments p \
                           join sales.invoices i on i.id = p.invoice_id \
                           where i.shift_id = d.shift_id and i.status in {SOLD} \
                             and p.method = 'cash'), 0) \
               - coalesce((select sum(i.change_due) from sales.invoices i \
                           where i.shift_id = d.shift_id and i.status in {SOLD}), 0) \
               - coalesce((select sum(r.amount) from sales.refunds r \
                           where r.shift_id = d.shift_id and r.voided_at is null \
                             and r.method = 'cash'), 0) \
               + coalesce((select sum(m.amount) from sales.cash_movements m \
                           where m.drawer_id = d.id and m.kind = 'pay_in'), 0) \
               - coalesce((select sum(m.amount) from sales.cash_movements m \
                           where m.drawer_id = d.id and m.kind = 'pay_out'), 0) as recomputed, \
               s.expected_cash \
             from sales.cash_drawers d join sales.shifts s on s.id = d.shift_id"
        )))
        .fetch_all(&mut *connection)
        .await?;
    let server: HashMap<&str, (Option<Decimal>, Decimal, Option<Decimal>)> = rows
        .iter()
        .map(|(shift, stored, recomputed, shift_expected)| {
            (shift.as_str(), (*stored, *recomputed, *shift_expected))
        })
        .collect();
    let mut closed = 0usize;
    for (shift, stored, recomputed, shift_expected) in &rows {
        let Some(stored) = stored else {
            check
                .problems
                .push(format!("shift {shift}: drawer never closed"));
            continue;
        };
        closed += 1;
        if stored != recomputed {
            check.problems.push(format!(
                "shift {shift}: drawer closed expecting {stored}, its invoices, refunds and \
                 movements now add up to {recomputed}"
            ));
        }
        if shift_expected.is_some_and(|expected| expected != *stored) {
            check.problems.push(format!(
                "shift {shift}: Z-report expected {shift_expected:?}, drawer {stored}"
            ));
        }
    }
    let (mut certain, mut compared) = (0usize, 0usize);
    for record in shifts {
        for mismatch in &record.x_report_mismatches {
            check.problems.push(format!(
                "shift {} ({}): {mismatch}",
                record.shift_id, record.cashier
            ));
        }
        if !record.certain {
            continue;
        }
        certain += 1;
        let Some((stored, _, _)) = server.get(record.shift_id.as_str()) else {
            check.problems.push(format!(
                "shift {} the counter worked is not stored",
                record.shift_id
            ));
            continue;
        };
        compared += 1;
        // The close's answer may have been lost (its retry answered 409): then only the
        // stored figure is compared.
        if *stored != Some(record.client_expected)
            || record
                .server_expected
                .is_some_and(|answered| Some(answered) != *stored)
        {
            check.problems.push(format!(
                "shift {} ({}): the counter tracked {}, the close answered {:?}, stored {stored:?}",
                record.shift_id, record.cashier, record.client_expected, record.server_expected
            ));
        }
    }
    check.figures = format!(
        "{closed} drawers closed, each equal to its shift's invoices, refunds and movements; \
         {compared} of {} shifts (the {certain} with every outcome known) equal to the cash the \
         counter tracked",
        shifts.len()
    );
    Ok(check)
}
