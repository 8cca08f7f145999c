//! Step 4 of the saga for many sales at once: sales whose stock is reserved and whose
//! money is computed queue here, and one task writes whatever has queued in one
//! transaction, then answers each.
//!
//! Why: invoice numbers are gap-free, so each sale locks the one counter row from its
//! numbering to the end of its COMMIT, WAL flush included; one sale per transaction makes
//! the busiest hour a queue on that row, and each sale pays about ten round trips and a
//! flush of its own. A batch takes its numbers with one lock and one flush and writes each
//! kind of row (lines, payments, invoices, keys, audit events) with one statement, however
//! many sales it holds.
//!
//! A batch holds up to [`MAX_BATCH`] sales, numbered in the order they queued; up to
//! [`WRITERS`] batches are written at once (they queue only at the counter). A sale the sweeper abandoned, or whose customer's credit refuses it,
//! fails alone. If the transaction fails (a deadlock, a constraint, the database gone),
//! each of its sales is tried again in a transaction of its own, so that one bad sale never
//! fails the others and each gets its own error. A sale whose caller has gone (its deadline
//! passed) before its batch starts is left out: its pending row stays for the sweeper, which
//! releases its stock.

use std::{collections::HashMap, sync::Arc};

use regal_outbox::{EventContext, NewEvent, Outbox};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::Instrument;
use uuid::Uuid;

use super::saga;
use crate::{
    domain::{
        pricing::{Priced, Settlement},
        sale::PaymentIn,
    },
    error::SalesError,
    store::{
        idempotency as keys,
        invoices::{self, FullInvoice, NewInvoiceRow},
        pending,
    },
};

/// Most sales written by one transaction.
const MAX_BATCH: usize = 64;

/// Sales that may wait for a batch before senders wait for room.
const QUEUE: usize = 1024;

/// Batches written at once. They wait for each other only at the invoice counter (taken
/// last, held through COMMIT); their other statements overlap, so a sale does not wait for
/// a whole batch's round trips before its own begin.
const WRITERS: usize = 4;

/// A sale ready to be written: reserved, priced and settled.
pub(crate) struct ReadySale {
    pub id: Uuid,
    pub status: &'static str,
    pub customer_id: Option<Uuid>,
    pub salesman_id: Option<Uuid>,
    pub cashier_id: Uuid,
    pub cashier: String,
    pub invoice_discount: Decimal,
    pub priced: Priced,
    pub payments: Vec<PaymentIn>,
    pub settlement: Settlement,
    /// The caller's `Idempotency-Key`, completed with the sale.
    pub idempotency_key: Option<String>,
    /// Who sold it, for the audit events.
    pub context: EventContext,
}

impl ReadySale {
    /// What the sale puts on its customer's account (see [`saga::owed_on_account`]).
    fn owed(&self) -> Option<(Uuid, Decimal)> {
        saga::owed_on_account(
            self.customer_id,
            self.status,
            self.priced.totals.total,
            self.settlement,
        )
    }
}

struct Job {
    sale: ReadySale,
    answer: oneshot::Sender<Result<FullInvoice, SalesError>>,
}

/// The queue of sales to write; cloning shares it.
#[derive(Clone)]
pub(crate) struct Committer {
    jobs: mpsc::Sender<Job>,
}

impl Committer {
    /// Starts the task that writes the batches; it ends when the last clone is dropped,
    /// after the sales queued by then are written.
    pub fn start(pool: PgPool, outbox: Outbox) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(pool, outbox, queue));
        Self { jobs }
    }

    /// Writes `sale` with the others queued meanwhile; returns its invoice as stored.
    pub async fn commit(&self, sale: ReadySale) -> Result<FullInvoice, SalesError> {
        let (answer, answered) = oneshot::channel();
        self.jobs
            .send(Job { sale, answer })
            .await
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

fn stopped() -> SalesError {
    SalesError::Service(regal_errors::ServiceError::Unavailable(
        "The sales service is stopping; nothing was sold, try again".to_owned(),
    ))
}

/// The error of a sale the sweeper released before it could be written.
pub(crate) fn abandoned() -> SalesError {
    SalesError::Service(regal_errors::ServiceError::Unavailable(
        "The sale took too long and was abandoned; nothing was sold, try again".to_owned(),
    ))
}

async fn write_batches(pool: PgPool, outbox: Outbox, mut queue: mpsc::Receiver<Job>) {
    let writers = Arc::new(Semaphore::new(WRITERS));
    loop {
        let Ok(writer) = Arc::clone(&writers).acquire_owned().await else {
            return;
        };
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        if queue.recv_many(&mut jobs, MAX_BATCH).await == 0 {
            // Every sender is gone: wait for the batches in flight, then stop.
            drop(writer);
            let _ = writers.acquire_many(WRITERS as u32).await;
            return;
        }
        jobs.retain(|job| !job.answer.is_closed());
        if jobs.is_empty() {
            continue;
        }
        let span = tracing::info_span!(
            "db.transaction",
            otel.name = "sales: commit sales",
            regal.service = "regal-sales",
            db.system = "postgresql",
            sales = jobs.len(),
        );
        let (pool, outbox) = (pool.clone(), outbox.clone());
        tokio::spawn(
            async move {
                answer_all(&pool, &outbox, jobs).await;
                drop(writer);
            }
            .instrument(span),
        );
    }
}

async fn answer_all(pool: &PgPool, outbox: &Outbox, jobs: Vec<Job>) {
    let sales: Vec<&ReadySale> = jobs.iter().map(|job| &job.sale).collect();
    match write(pool, outbox, &sales).await {
        Ok(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                let _ = job.answer.send(outcome);
            }
        }
        Err(error) if jobs.len() == 1 => {
            if let Some(job) = jobs.into_iter().next() {
                let _ = job.answer.send(Err(error));
            }
        }
        Err(error) => {
            tracing::warn!(sales = jobs.len(), error = %error,
                "a batch of sales failed; writing each on its own");
            for job in jobs {
                let outcome = match write(pool, outbox, &[&job.sale]).await {
                    Ok(mut outcomes) => outcomes.pop().unwrap_or_else(|| Err(stopped())),
                    Err(error) => Err(error),
                };
                let _ = job.answer.send(outcome);
            }
        }
    }
}

/// Writes `sales` in one transaction. `Err` when the transaction failed (nothing
/// written); otherwise each sale's outcome, in order.
async fn write(
    pool: &PgPool,
    outbox: &Outbox,
    sales: &[&ReadySale],
) -> Result<Vec<Result<FullInvoice, SalesError>>, SalesError> {
    let mut transaction = pool.begin().await?;
    let refused = take_pending(&mut transaction, sales).await?;
    let kept: Vec<&ReadySale> = sales
        .iter()
        .zip(&refused)
        .filter(|(_, refusal)| refusal.is_none())
        .map(|(sale, _)| *sale)
        .collect();
    let mut written = write_kept(&mut transaction, outbox, &kept).await?;
    transaction.commit().await?;
    for invoice in written.values() {
        tracing::info!(sale_id = %invoice.row.id, invoice_no = ?invoice.row.invoice_no,
            "sale committed");
    }
    Ok(sales
        .iter()
        .zip(refused)
        .map(|(sale, refusal)| match refusal {
            Some(error) => Err(error),
            None => written.remove(&sale.id).ok_or_else(stopped),
        })
        .collect())
}

/// Takes the pending rows of the sales that can be written and charges their customers;
/// returns the refusal of each sale that cannot (`None` for the others). Nothing of a
/// refused sale is changed: its pending row stays for the caller's compensation.
async fn take_pending(
    connection: &mut PgConnection,
    sales: &[&ReadySale],
) -> Result<Vec<Option<SalesError>>, SalesError> {
    let ids: Vec<Uuid> = sales.iter().map(|sale| sale.id).collect();
    let mut charges: Vec<(usize, Uuid, Decimal)> = sales
        .iter()
        .enumerate()
        .filter_map(|(index, sale)| sale.owed().map(|(customer, owed)| (index, customer, owed)))
        .collect();
    if charges.is_empty() {
        let taken = pending::take_all(&mut *connection, &ids).await?;
        return Ok(ids
            .iter()
            .map(|id| (!taken.contains(id)).then(abandoned))
            .collect());
    }
    // Credit can refuse a sale after its row is found: the rows are locked first and
    // taken once the refusals are known.
    let present = pending::lock_all(&mut *connection, &ids).await?;
    let mut refused: Vec<Option<SalesError>> = ids
        .iter()
        .map(|id| (!present.contains(id)).then(abandoned))
        .collect();
    // Customers in one order, so two batches never wait for each other's.
    charges.sort_by_key(|(_, customer, _)| *customer);
    for (index, customer, owed) in charges {
        if refused[index].is_some() {
            continue;
        }
        if !invoices::move_customer_balance(&mut *connection, customer, owed).await? {
            refused[index] = Some(saga::credit_refused());
        }
    }
    let kept: Vec<Uuid> = ids
        .iter()
        .zip(&refused)
        .filter(|(_, refusal)| refusal.is_none())
        .map(|(id, _)| *id)
        .collect();
    pending::take_all(connection, &kept).await?;
    Ok(refused)
}

/// Writes the kept sales: keys, lines, payments, then the numbered rows and the audit
/// events, last before COMMIT (the counter stays locked from its statement on).
async fn write_kept(
    connection: &mut PgConnection,
    outbox: &Outbox,
    sales: &[&ReadySale],
) -> Result<HashMap<Uuid, FullInvoice>, SalesError> {
    if sales.is_empty() {
        return Ok(HashMap::new());
    }
    let mut cashier_ids: Vec<Uuid> = sales.iter().map(|sale| sale.cashier_id).collect();
    cashier_ids.sort_unstable();
    cashier_ids.dedup();
    let shifts = invoices::open_shifts_of(&mut *connection, &cashier_ids).await?;
    let completed: Vec<(Uuid, &str, Uuid)> = sales
        .iter()
        .filter_map(|sale| {
            let key = sale.idempotency_key.as_deref()?;
            Some((sale.cashier_id, key, sale.id))
        })
        .collect();
    keys::complete_all(&mut *connection, &completed).await?;
    let lines: Vec<(Uuid, &[_])> = sales
        .iter()
        .map(|sale| (sale.id, sale.priced.lines.as_slice()))
        .collect();
    let mut items = invoices::insert_items_of(&mut *connection, &lines).await?;
    let payments: Vec<(Uuid, &[PaymentIn])> = sales
        .iter()
        .map(|sale| (sale.id, sale.payments.as_slice()))
        .collect();
    let mut payments = invoices::insert_payments_of(&mut *connection, &payments).await?;
    let rows: Vec<NewInvoiceRow<'_>> = sales
        .iter()
        .map(|sale| NewInvoiceRow {
            id: sale.id,
            status: sale.status,
            customer_id: sale.customer_id,
            salesman_id: sale.salesman_id,
            cashier_id: sale.cashier_id,
            cashier: &sale.cashier,
            shift_id: shifts.get(&sale.cashier_id).copied(),
            invoice_discount: sale.invoice_discount,
            priced: &sale.priced,
            settlement: sale.settlement,
        })
        .collect();
    let rows = invoices::insert_numbered(&mut *connection, &rows).await?;
    let invoices: Vec<FullInvoice> = rows
        .into_iter()
        .map(|row| FullInvoice {
            items: items.remove(&row.id).unwrap_or_default(),
            payments: payments.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect();
    let events: Vec<(&EventContext, NewEvent<'_>)> = sales
        .iter()
        .zip(&invoices)
        .flat_map(|(sale, invoice)| {
            saga::sold_events(invoice)
                .into_iter()
                .map(move |event| (&sale.context, event))
        })
        .collect();
    outbox.record_each(connection, events).await?;
    Ok(invoices
        .into_iter()
        .map(|invoice| (invoice.row.id, invoice))
        .collect())
}
