//! Faults between the parts (issue 10): a stopped service, a stalled or cut database, a
//! dead replica. Faults are made with the test kit's TCP proxy and with parts the test
//! stops itself, never with the machine's shared Postgres or Redis.

use std::time::{Duration, Instant};

use regal_testkit::{HttpClient, Link, Part, Session, TcpProxy, TestSuite, WaitFor};
use serde_json::json;
use tokio_stream::StreamExt;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::{
    catalog_support::{create_product_with, products_out_of_balance, stock_level},
    sales_support::{invoice_count, quick_sell},
};

/// Polls `condition` every 50 ms until it holds or `within` passes; answers whether it held.
async fn eventually<F, Fut>(within: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if condition().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `count_sql` (a `select count(*)`) on one connection until it answers 0 or
/// `within` passes; answers whether it reached 0. One connection for the whole wait: the
/// shared Postgres of a busy machine may have none to spare for a new one each poll.
async fn reaches_zero(suite: &TestSuite, count_sql: &'static str, within: Duration) -> bool {
    let mut connection = suite.database().connect().await;
    let deadline = Instant::now() + within;
    loop {
        let count: i64 = sqlx::query_scalar(count_sql)
            .fetch_one(&mut connection)
            .await
            .expect("the count is readable");
        if count == 0 {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const PENDING_SALES: &str = "select count(*) from sales.pending_sales";

/// `n` concurrent `GET /customers` through `http`; the statuses, in no order.
async fn concurrent_customer_lists(http: &HttpClient, token: &str, n: usize) -> Vec<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let http = http.clone();
        let token = token.to_owned();
        tasks.spawn(async move { http.get("/customers").bearer(&token).send().await.status });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.expect("request task"));
    }
    statuses
}

#[tokio::test]
async fn with_catalog_stopped_a_quick_sell_answers_503_within_2_s_and_moves_no_stock() {
    let mut suite = TestSuite::start_with(
        |part, settings| {
            if part == Part::Sales {
                settings.sales.pending_sale_timeout = Duration::from_millis(500);
                settings.sales.sweep_interval = Duration::from_millis(100);
            }
        },
        WaitFor::Ready,
    )
    .await;
    let admin = suite.login_admin().await;
    let product = create_product_with(&suite, &admin.access_token, json!({"stock_level": 5})).await;
    let product_id = product["id"].as_str().unwrap().to_owned();

    suite.stop_part(Part::Catalog).await;
    let started = Instant::now();
    let refused = quick_sell(
        &suite,
        &admin.access_token,
        &json!({"items": [{"product_id": product_id, "quantity": 2}]}),
        Some("while-catalog-is-down"),
    )
    .await;
    let took = started.elapsed();

    assert_eq!(refused.status, 503, "{}", refused.text());
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    assert!(refused.json()["detail"].is_string(), "{}", refused.text());

    suite.start_part(Part::Catalog).await;
    let swept = reaches_zero(&suite, PENDING_SALES, Duration::from_secs(10)).await;
    assert!(
        swept,
        "the sweeper released the pending sale once catalog was back"
    );
    assert_eq!(
        stock_level(&suite, &admin.access_token, &product_id).await,
        5
    );
    assert_eq!(invoice_count(&suite).await, 0);
    assert!(products_out_of_balance(&suite).await.is_empty());
}

#[tokio::test]
async fn with_the_sales_database_stalled_calls_fail_within_their_deadline_and_all_succeed_again_soon_after_it_resumes()
 {
    let suite = TestSuite::start_with_proxies(
        |part, settings| {
            if part == Part::Sales {
                settings.request_timeout = Duration::from_secs(3);
            }
        },
        WaitFor::Ready,
        &[(Part::Sales, Link::Database)],
    )
    .await;
    let admin = suite.login_admin().await;
    let token = admin.access_token.clone();
    // The pool holds open connections (through the proxy) when the stall comes.
    let warm = eventually(Duration::from_secs(10), || async {
        concurrent_customer_lists(suite.http(), &token, 5)
            .await
            .iter()
            .all(|status| *status == 200)
    })
    .await;
    assert!(warm);

    let proxy = suite.proxy(Part::Sales, Link::Database);
    proxy.stall();
    let started = Instant::now();
    let stalled = concurrent_customer_lists(suite.http(), &token, 8).await;
    let took = started.elapsed();
    assert!(stalled.iter().all(|status| *status == 503), "{stalled:?}");
    // The pool's acquire timeout (2 s) or the service's own deadline (3 s), well before
    // the gateway's (10 s).
    assert!(
        took < Duration::from_millis(4500),
        "answered after {took:?}"
    );

    proxy.restore();
    let restored = Instant::now();
    // More concurrent calls than the pool has connections: they all get one, so none of
    // the connections caught mid-query by the stall was lost.
    let recovered = eventually(Duration::from_secs(5), || async {
        concurrent_customer_lists(suite.http(), &token, 20)
            .await
            .iter()
            .all(|status| *status == 200)
    })
    .await;
    assert!(
        recovered,
        "not every call succeeded within 5 s of the database resuming"
    );
    assert!(restored.elapsed() < Duration::from_secs(6));

    let mut connection = suite.database().connect().await;
    let (connections, in_transaction): (i64, i64) = sqlx::query_as(
        "select count(*), count(*) filter (where state like 'idle in transaction%' \
                                            and state_change < now() - interval '2 seconds') \
         from pg_stat_activity where datname = current_database() and application_name = 'regal-sales'",
    )
    .fetch_one(&mut connection)
    .await
    .unwrap();
    assert!(
        connections <= i64::from(suite.part_settings(Part::Sales).database.max_connections),
        "{connections} connections"
    );
    assert_eq!(
        in_transaction, 0,
        "no connection was left inside a transaction"
    );
}

#[tokio::test]
async fn a_quick_sell_caught_by_a_stalled_database_is_sold_at_most_once_when_retried_with_its_key()
{
    let suite = TestSuite::start_with_proxies(
        |part, settings| {
            if part == Part::Sales {
                settings.request_timeout = Duration::from_millis(1500);
                settings.database.acquire_timeout = Duration::from_millis(1000);
                settings.sales.pending_sale_timeout = Duration::from_millis(500);
                settings.sales.sweep_interval = Duration::from_millis(100);
            }
        },
        WaitFor::Ready,
        &[(Part::Sales, Link::Database)],
    )
    .await;
    let admin = suite.login_admin().await;
    let product = create_product_with(&suite, &admin.access_token, json!({"stock_level": 5})).await;
    let product_id = product["id"].as_str().unwrap().to_owned();
    let body = json!({"items": [{"product_id": product_id, "quantity": 2}]});

    let proxy = suite.proxy(Part::Sales, Link::Database);
    proxy.stall();
    let refused = quick_sell(&suite, &admin.access_token, &body, Some("stalled-sale")).await;
    assert_eq!(refused.status, 503, "{}", refused.text());
    proxy.restore();

    // The client retries with its key until it gets an answer other than "try again".
    let deadline = Instant::now() + Duration::from_secs(40);
    let retried = loop {
        let response = quick_sell(&suite, &admin.access_token, &body, Some("stalled-sale")).await;
        if (response.status != 503 && response.status != 409) || Instant::now() >= deadline {
            break response;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(retried.status, 201, "{}", retried.text());
    let settled = reaches_zero(&suite, PENDING_SALES, Duration::from_secs(10)).await;
    assert!(settled);
    assert_eq!(invoice_count(&suite).await, 1, "sold exactly once");
    assert_eq!(
        stock_level(&suite, &admin.access_token, &product_id).await,
        3
    );
    assert!(products_out_of_balance(&suite).await.is_empty());
}

async fn next_status(
    stream: &mut tonic::Streaming<tonic_health::pb::HealthCheckResponse>,
    within: Duration,
) -> ServingStatus {
    tokio::time::timeout(within, stream.next())
        .await
        .expect("a health change arrives in time")
        .expect("the watch stream is open")
        .expect("a health message")
        .status()
}

#[tokio::test]
async fn health_follows_the_database_within_one_probe_period_and_watch_streams_each_change() {
    let suite = TestSuite::start_with_proxies(
        |part, settings| {
            if part == Part::Catalog {
                settings.health_check_interval = Duration::from_secs(1);
            }
        },
        WaitFor::Ready,
        &[(Part::Catalog, Link::Database)],
    )
    .await;
    let period = suite.part_settings(Part::Catalog).health_check_interval;
    // The check running when the fault comes may still pass; the next one (a period
    // later, given at most a period to answer) fails. Plus slack for a busy machine.
    let bound = period * 2 + Duration::from_millis(500);
    let mut health = HealthClient::new(suite.channel(Part::Catalog));
    let mut watch = health
        .watch(HealthCheckRequest {
            service: Part::Catalog.grpc_service_name().to_owned(),
        })
        .await
        .expect("watch starts")
        .into_inner();
    assert_eq!(
        next_status(&mut watch, Duration::from_secs(1)).await,
        ServingStatus::Serving
    );

    let proxy = suite.proxy(Part::Catalog, Link::Database);
    for (fault, name) in [
        (TcpProxy::cut as fn(&TcpProxy), "cut"),
        (TcpProxy::stall, "stall"),
    ] {
        let started = Instant::now();
        fault(proxy);
        assert_eq!(
            next_status(&mut watch, bound).await,
            ServingStatus::NotServing,
            "{name}"
        );
        assert!(
            started.elapsed() <= bound,
            "{name}: {:?}",
            started.elapsed()
        );
        let checked = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("health answers while the database is away")
            .into_inner()
            .status();
        assert_eq!(checked, ServingStatus::NotServing, "{name}");

        proxy.restore();
        assert_eq!(
            next_status(&mut watch, bound + Duration::from_secs(1)).await,
            ServingStatus::Serving,
            "{name} restored"
        );
    }
}

/// Waits until a replica answers SERVING on gRPC health.
async fn wait_serving(replica: &regal_testkit::Replica) {
    let health = HealthClient::new(
        tonic::transport::Endpoint::from_shared(replica.url())
            .unwrap()
            .connect_lazy(),
    );
    let serving = eventually(Duration::from_secs(30), || {
        let mut health = health.clone();
        async move {
            matches!(
                health.check(HealthCheckRequest { service: String::new() }).await,
                Ok(response) if response.get_ref().status() == ServingStatus::Serving
            )
        }
    })
    .await;
    assert!(serving, "the replica got ready");
}

/// A gateway of its own whose sales URL lists two replicas, each behind a proxy so the
/// test sees which one calls reach.
struct TwoSalesReplicas {
    primary: TcpProxy,
    second: TcpProxy,
    _replica: regal_testkit::Replica,
    _gateway: regal_testkit::Replica,
    gateway: HttpClient,
}

async fn two_sales_replicas(suite: &TestSuite, refresh: Duration) -> TwoSalesReplicas {
    let replica = suite.start_replica(Part::Sales, |_| {}).await;
    wait_serving(&replica).await;
    let primary = TcpProxy::start(format!("127.0.0.1:{}", suite.port(Part::Sales))).await;
    let second = TcpProxy::start(format!("127.0.0.1:{}", replica.port())).await;
    let sales_url = format!("http://{},http://{}", primary.address(), second.address());
    let gateway = suite
        .start_replica(Part::Gateway, |settings| {
            settings.network.sales_url = sales_url;
            settings.network.upstream_refresh_interval = refresh;
        })
        .await;
    let http = HttpClient::new(gateway.url());
    TwoSalesReplicas {
        primary,
        second,
        _replica: replica,
        _gateway: gateway,
        gateway: http,
    }
}

async fn all_succeed(http: &HttpClient, admin: &Session, n: usize) -> bool {
    concurrent_customer_lists(http, &admin.access_token, n)
        .await
        .iter()
        .all(|status| *status == 200)
}

#[tokio::test]
async fn calls_from_the_gateway_are_balanced_across_two_sales_replicas() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    // Replicas are probed once at start only, so what the proxies see afterwards is calls.
    let replicas = two_sales_replicas(&suite, Duration::from_secs(3600)).await;
    assert!(
        eventually(Duration::from_secs(10), || all_succeed(
            &replicas.gateway,
            &admin,
            8
        ))
        .await
    );

    let before = (
        replicas.primary.bytes_forwarded(),
        replicas.second.bytes_forwarded(),
    );
    for _ in 0..5 {
        let statuses = concurrent_customer_lists(&replicas.gateway, &admin.access_token, 8).await;
        assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");
    }
    let after = (
        replicas.primary.bytes_forwarded(),
        replicas.second.bytes_forwarded(),
    );

    assert!(after.0 > before.0, "the first replica took calls");
    assert!(after.1 > before.1, "the second replica took calls");
}

#[tokio::test]
async fn a_dead_sales_replica_leaves_the_rotation_and_selling_goes_on() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let refresh = suite
        .part_settings(Part::Gateway)
        .network
        .upstream_refresh_interval;
    let replicas = two_sales_replicas(&suite, refresh).await;
    let product =
        create_product_with(&suite, &admin.access_token, json!({"stock_level": 50})).await;
    let product_id = product["id"].as_str().unwrap().to_owned();
    assert!(
        eventually(Duration::from_secs(10), || all_succeed(
            &replicas.gateway,
            &admin,
            4
        ))
        .await
    );

    // The second replica dies: its connections drop and nothing answers there any more.
    replicas.second.cut();
    tokio::time::sleep(refresh * 3).await;

    let mut sold = 0;
    for index in 0..10 {
        let response = replicas
            .gateway
            .post("/pos/quick-sell")
            .bearer(&admin.access_token)
            .header("Idempotency-Key", &format!("after-death-{index}"))
            .json(&json!({"items": [{"product_id": product_id, "quantity": 1}]}))
            .send()
            .await;
        assert_eq!(response.status, 201, "{}", response.text());
        sold += 1;
    }
    assert!(all_succeed(&replicas.gateway, &admin, 10).await);
    assert_eq!(
        stock_level(&suite, &admin.access_token, &product_id).await,
        50 - sold
    );

    // Back again: it rejoins, and calls keep succeeding.
    replicas.second.restore();
    tokio::time::sleep(refresh * 3).await;
    assert!(all_succeed(&replicas.gateway, &admin, 16).await);
}

#[tokio::test]
async fn two_sales_replicas_on_one_database_sweep_an_abandoned_sale_once_and_publish_each_event_once_in_order()
 {
    let mut suite = TestSuite::start_with(
        |part, settings| {
            if part == Part::Sales {
                settings.sales.pending_sale_timeout = Duration::from_millis(500);
                settings.sales.sweep_interval = Duration::from_millis(50);
            }
        },
        WaitFor::Ready,
    )
    .await;
    // Nobody consumes (and so trims) the stream: the test reads all of it.
    suite.stop_part(Part::Audit).await;
    let admin = suite.login_admin().await;
    let replicas = two_sales_replicas(&suite, Duration::from_millis(200)).await;
    let product = create_product_with(&suite, &admin.access_token, json!({"stock_level": 5})).await;
    let product_id = product["id"].as_str().unwrap().to_owned();

    // A sale that dies after reserving: both replicas' sweepers race to release it.
    let crashed = quick_sell(
        &suite,
        &admin.access_token,
        &json!({"items": [{"product_id": product_id, "quantity": 2}]}),
        Some(regal_sales::testing::CRASH_AFTER_RESERVE_KEY),
    )
    .await;
    assert_eq!(crashed.status, 503, "{}", crashed.text());
    let released = reaches_zero(&suite, PENDING_SALES, Duration::from_secs(10)).await;
    assert!(released);
    assert_eq!(
        stock_level(&suite, &admin.access_token, &product_id).await,
        5
    );
    assert!(products_out_of_balance(&suite).await.is_empty());

    // Events made on both replicas at once; both relays run.
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..40 {
        let http = replicas.gateway.clone();
        let token = admin.access_token.clone();
        tasks.spawn(async move {
            http.post("/customers")
                .bearer(&token)
                .json(&json!({"name": format!("Customer {index}")}))
                .send()
                .await
                .status
        });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), 201);
    }
    let mut connection = suite.database().connect().await;
    let published = reaches_zero(
        &suite,
        "select count(*) from sales.outbox where published_at is null",
        Duration::from_secs(10),
    )
    .await;
    assert!(published);
    let stored: i64 = sqlx::query_scalar("select count(*) from sales.outbox")
        .fetch_one(&mut connection)
        .await
        .unwrap();

    let redis_url = regal_config::ExposeSecret::expose_secret(&suite.settings.redis.url).to_owned();
    let mut redis = redis::Client::open(redis_url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let entries: redis::streams::StreamRangeReply =
        redis::AsyncCommands::xrange_all(&mut redis, &suite.settings.redis.audit_stream)
            .await
            .unwrap();
    let sales_seqs: Vec<i64> = entries
        .ids
        .iter()
        .filter(|entry| entry.get::<String>("service").as_deref() == Some("sales"))
        .filter_map(|entry| entry.get::<i64>("seq"))
        .collect();
    assert_eq!(sales_seqs.len() as i64, stored, "each event once");
    assert!(
        sales_seqs.windows(2).all(|pair| pair[0] < pair[1]),
        "in sequence order: {sales_seqs:?}"
    );
    assert_eq!(sales_seqs.first(), Some(&1));
    assert_eq!(sales_seqs.last(), Some(&stored));
}

#[tokio::test]
async fn sales_balances_its_reservations_over_two_catalog_replicas_and_they_never_oversell() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let catalog_replica = suite.start_replica(Part::Catalog, |_| {}).await;
    wait_serving(&catalog_replica).await;
    let primary = TcpProxy::start(format!("127.0.0.1:{}", suite.port(Part::Catalog))).await;
    let second = TcpProxy::start(format!("127.0.0.1:{}", catalog_replica.port())).await;
    let catalog_url = format!("http://{},http://{}", primary.address(), second.address());
    // A sales replica that reserves through both catalogs, and a gateway in front of it.
    // Replicas are probed once at start only, so what the proxies see afterwards is calls.
    let sales = suite
        .start_replica(Part::Sales, |settings| {
            settings.network.catalog_url = catalog_url;
            settings.network.upstream_refresh_interval = Duration::from_secs(3600);
        })
        .await;
    wait_serving(&sales).await;
    let sales_url = sales.url();
    let gateway = suite
        .start_replica(Part::Gateway, |settings| {
            settings.network.sales_url = sales_url;
        })
        .await;
    let http = HttpClient::new(gateway.url());
    let product =
        create_product_with(&suite, &admin.access_token, json!({"stock_level": 10})).await;
    let product_id = product["id"].as_str().unwrap().to_owned();
    // Both catalogs SERVING and in the sales replica's rotation.
    tokio::time::sleep(
        suite
            .part_settings(Part::Sales)
            .network
            .upstream_refresh_interval
            * 5,
    )
    .await;
    let before = (primary.bytes_forwarded(), second.bytes_forwarded());

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let http = http.clone();
        let token = cashier.access_token.clone();
        let body = json!({"items": [{"product_id": product_id, "quantity": 1}]});
        tasks.spawn(async move {
            http.post("/pos/quick-sell")
                .bearer(&token)
                .json(&body)
                .send()
                .await
                .status
        });
    }
    let (mut created, mut conflicts) = (0, 0);
    while let Some(status) = tasks.join_next().await {
        match status.unwrap() {
            201 => created += 1,
            409 => conflicts += 1,
            other => panic!("unexpected {other}"),
        }
    }

    assert_eq!((created, conflicts), (10, 20));
    assert_eq!(
        stock_level(&suite, &admin.access_token, &product_id).await,
        0
    );
    assert!(products_out_of_balance(&suite).await.is_empty());
    assert!(
        primary.bytes_forwarded() > before.0,
        "the first catalog reserved"
    );
    assert!(
        second.bytes_forwarded() > before.1,
        "the second catalog reserved"
    );
}
