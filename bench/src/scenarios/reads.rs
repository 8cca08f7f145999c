//! Product reads: the pgbench primary-key baseline, `GetProduct` over every transport,
//! the product list, and the gateway's own cost at concurrency 1.

use super::{BaselineData, Bench, operations};
use crate::{
    load::Operation,
    report::{Check, Row},
};

pub const PK_READ_SCRIPT: &str = "product_by_id.sql";
const PK_READ_BASELINE: &str = "pgbench product_by_id";

/// The pgbench primary-key read at the throughput concurrency.
pub async fn pgbench_product_read(bench: &mut Bench) -> anyhow::Result<()> {
    let clients = bench.settings.concurrency;
    if let Some(run) = bench
        .baseline(PK_READ_SCRIPT, clients, BaselineData::Live)
        .await?
    {
        bench.push(Row::from_pgbench("pgbench-pk-read", &run));
    }
    Ok(())
}

/// The transports of `GetProduct`, each with a label.
fn get_product_operations(bench: &Bench) -> Vec<(&'static str, Operation)> {
    let clients = &bench.clients;
    let fixtures = &bench.fixtures;
    let ids = &fixtures.product_ids;
    vec![
        (
            "gRPC direct GetProduct (catalog)",
            operations::get_product_grpc(
                clients.grpc_catalog.clone(),
                &fixtures.admin_token,
                ids.clone(),
            ),
        ),
        (
            "gRPC GetProduct via gateway",
            operations::get_product_grpc(
                clients.grpc_gateway.clone(),
                &fixtures.admin_token,
                ids.clone(),
            ),
        ),
        (
            "gRPC-web GetProduct",
            operations::get_product_grpc_web(
                clients.http1.clone(),
                fixtures.bearer.clone(),
                ids.clone(),
            ),
        ),
        (
            "REST h1 GET /products/{id}",
            operations::get_product_rest(
                clients.http1.clone(),
                fixtures.bearer.clone(),
                ids.clone(),
            ),
        ),
        (
            "REST h2c GET /products/{id}",
            operations::get_product_rest(
                clients.http2.clone(),
                fixtures.bearer.clone(),
                ids.clone(),
            ),
        ),
    ]
}

/// `GetProduct` at the throughput concurrency over each transport, compared with the
/// pgbench primary-key read; then REST open loop at half the closed-loop maximum.
pub async fn product_get(bench: &mut Bench) -> anyhow::Result<()> {
    let concurrency = bench.settings.concurrency;
    let baseline = bench
        .baseline(PK_READ_SCRIPT, concurrency, BaselineData::Live)
        .await?;
    let mut rest_max = None;
    for (label, operation) in get_product_operations(bench) {
        let result = bench.closed(&operation, concurrency).await?;
        let mut row = Row::from_load("product-get", label, &result);
        if let Some(run) = &baseline {
            row = row.compared_with(PK_READ_BASELINE, run.tps);
            if label.starts_with("gRPC direct") {
                let ratio = row.baseline_ratio.unwrap_or_default() * 100.0;
                row = row.check(Check::at_least(
                    "≥ 30% of pgbench PK read",
                    ratio,
                    30.0,
                    "%",
                ));
            }
        }
        if label.starts_with("REST h1") {
            rest_max = Some(result.throughput());
        }
        bench.push(row);
    }

    // Open loop at half the maximum: the latency a steady, sub-saturating load sees.
    if let Some(max) = rest_max.filter(|max| *max > 0.0) {
        let rate = max / 2.0;
        let operation = operations::get_product_rest(
            bench.clients.http1.clone(),
            bench.fixtures.bearer.clone(),
            bench.fixtures.product_ids.clone(),
        );
        let result = bench.open(&operation, rate).await?;
        bench.push(Row::from_load(
            "product-get",
            "REST h1 GET /products/{id}",
            &result,
        ));
    }
    Ok(())
}

/// `GET /products?limit=50` at the latency concurrency.
pub async fn products_list(bench: &mut Bench) -> anyhow::Result<()> {
    let concurrency = bench.settings.latency_concurrency;
    let operation =
        operations::list_products_rest(bench.clients.http1.clone(), bench.fixtures.bearer.clone());
    let result = bench.closed(&operation, concurrency).await?;
    let row = Row::from_load("products-list", "REST h1 GET /products?limit=50", &result);
    let p99 = row.p99_ms;
    bench.push(row.check(Check::at_most("p99 ≤ 15 ms", p99, 15.0, " ms")));
    Ok(())
}

/// `GetProduct` at c=1 through the gateway (REST, gRPC-web, gRPC) and straight to
/// catalog: the gateway's overhead is REST p50 − direct gRPC p50.
pub async fn gateway_overhead(bench: &mut Bench) -> anyhow::Result<()> {
    let mut results = Vec::new();
    for (label, operation) in get_product_operations(bench) {
        if label.starts_with("REST h2c") {
            continue;
        }
        let result = bench.closed(&operation, 1).await?;
        results.push((label, Row::from_load("gateway-overhead", label, &result)));
    }
    let p50 = |prefix: &str| {
        results
            .iter()
            .find(|(label, _)| label.starts_with(prefix))
            .map(|(_, row)| row.p50_ms)
            .unwrap_or_default()
    };
    let (direct, rest) = (p50("gRPC direct"), p50("REST h1"));
    for (label, mut row) in results {
        if label.starts_with("REST h1") {
            row = row.check(Check::at_most(
                "p50 − gRPC direct p50 ≤ 0.5 ms",
                rest - direct,
                0.5,
                " ms",
            ));
        }
        if label.starts_with("gRPC-web") {
            let ratio = row.p50_ms / rest.max(f64::MIN_POSITIVE);
            row = row.check(Check::at_most("p50 ≤ 1.2 × REST p50", ratio, 1.2, "×"));
        }
        bench.push(row);
    }
    Ok(())
}
