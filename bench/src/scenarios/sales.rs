//! Quick-sell through the gateway (REST, the admin's real JWT, a fresh `Idempotency-Key`
//! and random products on every request): 1 and 3 lines closed loop at the throughput
//! concurrency against its pgbench script, then open loop at half the closed-loop maximum.
//!
//! A first quick-sell is tried, and while it does not answer `201` (sales not there yet)
//! the scenario is reported as not measured. The baselines are
//! `bench/pgbench/quick_sell_1_line.sql` and `quick_sell_3_lines.sql`: the SQL one
//! quick-sell runs, captured from the sales service, to re-check against
//! what lands; they run on the baseline copy of the database.

use std::path::Path;

use super::{BaselineData, Bench, operations};
use crate::{
    load::{RequestContext, Rng},
    pgbench,
    report::{Check, Row},
    seed::OPENING_STOCK,
};

/// The two shapes of sale measured, with the pgbench script each is compared with.
const SHAPES: [(usize, &str); 2] = [(1, "quick_sell_1_line.sql"), (3, "quick_sell_3_lines.sql")];

pub async fn quick_sell(bench: &mut Bench) -> anyhow::Result<()> {
    if let Err(reason) = available(bench).await {
        bench.not_measured("quick-sell", &reason);
        return Ok(());
    }
    let concurrency = bench.settings.concurrency;
    for (lines, script) in SHAPES {
        let label = format!(
            "REST POST /pos/quick-sell {lines} line{}",
            if lines > 1 { "s" } else { "" }
        );
        let operation = operations::quick_sell_rest(
            bench.clients.http1.clone(),
            bench.fixtures.bearer.clone(),
            bench.fixtures.product_ids.clone(),
            lines,
        );
        let closed = bench.closed(&operation, concurrency).await?;
        let mut row = Row::from_load("quick-sell", &label, &closed);
        let p99 = row.p99_ms;
        row = row.check(Check::at_most("p99 ≤ 60 ms (closed)", p99, 60.0, " ms"));
        if pgbench::scripts_dir().join(script).is_file() {
            if let Some(run) = bench
                .baseline(script, concurrency, BaselineData::Copy)
                .await?
            {
                let stem = Path::new(script)
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy();
                bench.push(Row::from_pgbench("pgbench-quick-sell", &run));
                row = row.compared_with(&format!("pgbench {stem}"), run.tps);
                let ratio = row.baseline_ratio.unwrap_or_default() * 100.0;
                row = row.check(Check::at_least(
                    "≥ 50% of its pgbench script",
                    ratio,
                    50.0,
                    "%",
                ));
            }
        } else {
            bench.not_measured(
                &format!("pgbench {script}"),
                "the script is not written yet (needs the sales service's SQL)",
            );
        }
        let max = closed.throughput();
        bench.push(row);

        if max > 0.0 {
            let open = bench.open(&operation, max / 2.0).await?;
            let row = Row::from_load("quick-sell", &label, &open);
            let p99 = row.p99_ms;
            bench.push(row.check(Check::at_most(
                "p99 ≤ 20 ms (open, half max)",
                p99,
                20.0,
                " ms",
            )));
        }
    }
    verify_stock(bench).await
}

/// Whether quick-sell works (one is tried, once per run): the other scenarios add it to
/// their load when it does.
pub async fn available(bench: &mut Bench) -> Result<(), String> {
    if let Some(known) = &bench.quick_sell {
        return known.clone();
    }
    let outcome = probe(bench).await;
    bench.quick_sell = Some(outcome.clone());
    outcome
}

async fn probe(bench: &Bench) -> Result<(), String> {
    let operation = operations::quick_sell_rest(
        bench.clients.http1.clone(),
        bench.fixtures.bearer.clone(),
        bench.fixtures.product_ids.clone(),
        1,
    );
    let mut context = RequestContext {
        sequence: 0,
        rng: Rng::new(1),
    };
    operation(&mut context).await.map_err(|error| {
        format!(
            "POST /pos/quick-sell does not answer 201 yet ({}: {})",
            error.kind,
            error.detail.chars().take(120).collect::<String>()
        )
    })
}

/// No oversell, no duplicate, checked on the data once the load is over (read only):
/// - every product's stock level equals the sum of its ledger, and its opening stock
///   minus the units of the invoices sold (every bench product opens with
///   [`OPENING_STOCK`] and only quick-sells move it);
/// - every sold invoice is the result of exactly one `Idempotency-Key` (every bench
///   quick-sell sends a fresh one).
async fn verify_stock(bench: &mut Bench) -> anyhow::Result<()> {
    let mut connection = bench.suite.database.connect().await?;
    let off_ledger: i64 = sqlx::query_scalar(
        "select count(*) from catalog.products p \
          where p.stock_level <> (select coalesce(sum(e.delta), 0) from catalog.stock_entries e \
                                   where e.product_id = p.id)",
    )
    .fetch_one(&mut connection)
    .await?;
    let off_invoices: i64 = sqlx::query_scalar(
        "with sold as ( \
             select i.product_id, sum(i.quantity) as units \
               from sales.invoice_items i join sales.invoices v on v.id = i.invoice_id \
              where v.status not in ('draft', 'cancelled') \
              group by i.product_id) \
         select count(*) from catalog.products p left join sold s on s.product_id = p.id \
          where p.stock_level <> $1 - coalesce(s.units, 0)",
    )
    .bind(OPENING_STOCK)
    .fetch_one(&mut connection)
    .await?;
    let (invoices, keyed): (i64, i64) = sqlx::query_as(
        "select (select count(*) from sales.invoices where status <> 'draft'), \
                (select count(distinct resource_id) from sales.idempotency_keys \
                  where resource_id is not null and operation = 'quick_sell')",
    )
    .fetch_one(&mut connection)
    .await?;
    bench.report.figures.insert(
        "quick-sell invoices sold in the run".to_owned(),
        invoices as f64,
    );
    let mut row = Row::check_only("quick-sell", "stock and invoices after the load");
    row = row
        .check(Check::at_most(
            "0 products with stock ≠ ledger",
            off_ledger as f64,
            0.0,
            "",
        ))
        .check(Check::at_most(
            "0 products with stock ≠ opening − sold (oversold)",
            off_invoices as f64,
            0.0,
            "",
        ))
        .check(Check::at_most(
            "0 invoices beyond one per key (duplicates)",
            (invoices - keyed).abs() as f64,
            0.0,
            "",
        ));
    bench.report.rows.push(row);
    Ok(())
}
