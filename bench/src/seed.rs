//! Seeding through the catalog's own API: products created by concurrent gRPC
//! `CreateProduct` calls as the admin, each with a large opening stock (an `IN` entry),
//! so every row, ledger entry and audit event is the one the service itself writes.
//!
//! The only thing written directly is the pgbench baseline's own schema, `bench`, which
//! no service owns: `bench.product_ids (n, id)` numbers the seeded products 1..=N so a
//! pgbench script can pick one at random.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use regal_proto::{
    catalog::v1::{CreateProductRequest, catalog_service_client::CatalogServiceClient},
    common::v1::Decimal,
};
use tonic::transport::Channel;

use crate::{clients::authorized, suite::BenchDatabase};

/// Opening stock of every seeded product: the most the catalog accepts, so no run sells
/// out.
pub const OPENING_STOCK: i64 = 1_000_000_000;

const CATEGORIES: [&str; 12] = [
    "beverages",
    "bakery",
    "dairy",
    "produce",
    "frozen",
    "snacks",
    "household",
    "personal care",
    "pet",
    "baby",
    "pantry",
    "deli",
];

/// Creates `count` products with `concurrency` concurrent calls; returns their ids, in
/// creation order.
pub async fn products(
    channel: Channel,
    admin_token: &str,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<String>> {
    let token = crate::clients::grpc_bearer(admin_token);
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let mut client = CatalogServiceClient::new(channel.clone());
            let token = token.clone();
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                let mut created = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= count {
                        return Ok::<_, anyhow::Error>(created);
                    }
                    let response = client
                        .create_product(authorized(product(index), &token))
                        .await
                        .with_context(|| format!("creating product {index}"))?;
                    let id = response
                        .into_inner()
                        .product
                        .context("CreateProduct answered without a product")?
                        .id;
                    created.push((index, id));
                }
            })
        })
        .collect();
    let mut all = Vec::with_capacity(count);
    for worker in workers {
        all.extend(worker.await??);
    }
    all.sort_unstable_by_key(|(index, _)| *index);
    Ok(all.into_iter().map(|(_, id)| id).collect())
}

fn decimal(value: String) -> Option<Decimal> {
    Some(Decimal { value })
}

/// The `index`-th product: unique sku and barcode, varied price and category.
pub fn product(index: usize) -> CreateProductRequest {
    let cents = 99 + (index * 37) % 9_900;
    CreateProductRequest {
        sku: format!("BENCH-{index:06}"),
        name: format!("Bench product {index}"),
        desc: format!("Seeded by regal-bench (#{index})"),
        unit_price: decimal(format!("{}.{:02}", cents / 100, cents % 100)),
        cost_price: decimal(format!("{}.{:02}", cents / 200, (cents / 2) % 100)),
        tax_rate: decimal("16.00".to_owned()),
        discount: decimal("0.00".to_owned()),
        vendor_id: None,
        stock_level: OPENING_STOCK,
        barcode: Some(format!("20{index:010}")),
        category: CATEGORIES[index % CATEGORIES.len()].to_owned(),
        branch: "main".to_owned(),
        attributes: None,
        is_active: Some(true),
    }
}

/// Writes `bench.product_ids` for the pgbench scripts (the bench's own schema).
pub async fn product_id_table(database: &BenchDatabase, ids: &[String]) -> anyhow::Result<()> {
    let mut connection = database.connect().await?;
    sqlx::query("create schema if not exists bench")
        .execute(&mut connection)
        .await?;
    sqlx::query(
        "create table if not exists bench.product_ids (n integer primary key, id uuid not null)",
    )
    .execute(&mut connection)
    .await?;
    let numbers: Vec<i32> = (1..=ids.len() as i32).collect();
    sqlx::query(
        "insert into bench.product_ids (n, id) \
         select n, id::uuid from unnest($1::integer[], $2::text[]) as t(n, id)",
    )
    .bind(&numbers)
    .bind(ids)
    .execute(&mut connection)
    .await?;
    sqlx::query("analyze bench.product_ids")
        .execute(&mut connection)
        .await?;
    Ok(())
}

/// Waits until the outboxes of `schemas` hold no unpublished event (read only), so the
/// seeding's audit events do not weigh on the first measurements. Returns how long it took.
pub async fn wait_outboxes_drained(
    database: &BenchDatabase,
    schemas: &[&str],
    timeout: Duration,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut connection = database.connect().await?;
    loop {
        let mut pending = 0i64;
        for schema in schemas {
            let statement =
                format!("select count(*) from {schema}.outbox where published_at is null");
            pending += sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(statement))
                .fetch_one(&mut connection)
                .await
                .unwrap_or(0);
        }
        if pending == 0 || started.elapsed() > timeout {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
