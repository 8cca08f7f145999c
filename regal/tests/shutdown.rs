//! Graceful shutdown of the real `regal` binary: on SIGTERM (or SIGINT) a part turns
//! NOT_SERVING first, finishes the calls in flight, lets its outbox relay publish what
//! they committed, and exits 0.

use std::{
    collections::{HashMap, HashSet},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use redis::AsyncCommands;
use regal_testkit::{HttpClient, RedisProcess, TcpProxy, TestDatabase, free_port};
use serde_json::json;
use tokio_stream::StreamExt;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// The environment every part of one test runs with.
struct Environment {
    variables: HashMap<&'static str, String>,
}

impl Environment {
    fn new(database_url: &str, redis_url: &str) -> Self {
        let mut variables = HashMap::new();
        for (name, value) in [
            ("APP_ENV", "development".to_owned()),
            ("HOST", "127.0.0.1".to_owned()),
            ("DATABASE_URL", database_url.to_owned()),
            ("REDIS_URL", redis_url.to_owned()),
            ("AUDIT_STREAM", "shutdown-test.audit".to_owned()),
            ("GATEWAY_PORT", free_port().to_string()),
            ("AUTH_PORT", free_port().to_string()),
            ("CATALOG_PORT", free_port().to_string()),
            ("SALES_PORT", free_port().to_string()),
            ("AUDIT_PORT", free_port().to_string()),
            ("HEALTH_CHECK_INTERVAL_MS", "200".to_owned()),
            ("OUTBOX_POLL_INTERVAL_MS", "50".to_owned()),
            ("LOG_FORMAT", "pretty".to_owned()),
            ("RUST_LOG", "warn".to_owned()),
        ] {
            variables.insert(name, value);
        }
        Self { variables }
    }

    fn port(&self, name: &str) -> u16 {
        self.variables[name].parse().expect("a port")
    }

    /// Starts `regal serve <part>`, with `overrides` on top of the shared environment.
    fn serve(&self, part: &str, overrides: &[(&str, &str)]) -> Part {
        let mut command = Command::new(env!("CARGO_BIN_EXE_regal"));
        command
            .args(["serve", part])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&self.variables)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (name, value) in overrides {
            command.env(name, value);
        }
        Part {
            child: command.spawn().expect("regal starts"),
        }
    }
}

/// A `regal serve` process, killed if the test ends before it exits.
struct Part {
    child: Child,
}

impl Part {
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal}");
    }

    async fn exit_status(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be waited on") {
                return status;
            }
            assert!(Instant::now() < deadline, "did not exit within {within:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn health_watch(
    port: u16,
) -> (
    HealthClient<tonic::transport::Channel>,
    tonic::Streaming<tonic_health::pb::HealthCheckResponse>,
) {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("endpoint")
        .connect_lazy();
    let mut client = HealthClient::new(channel);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client
            .watch(HealthCheckRequest {
                service: String::new(),
            })
            .await
        {
            let mut stream = response.into_inner();
            // Wait for SERVING (migrations done, database answering).
            while let Some(Ok(message)) = stream.next().await {
                if message.status() == ServingStatus::Serving {
                    return (client, stream);
                }
            }
        }
        assert!(Instant::now() < deadline, "the part never turned SERVING");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sigterm_turns_sales_not_serving_finishes_its_in_flight_sales_flushes_the_outbox_and_exits_zero()
 {
    let database = TestDatabase::create().await;
    let redis = RedisProcess::start().await;
    // Sales reaches Postgres through a proxy the test slows down, so its sales are still
    // in flight when the signal arrives.
    let (proxy, sales_database_url) = TcpProxy::in_front_of(database.url()).await;
    let environment = Environment::new(database.url(), &redis.url());
    let _auth = environment.serve("auth", &[]);
    let _catalog = environment.serve("catalog", &[]);
    let mut sales = environment.serve("sales", &[("DATABASE_URL", &sales_database_url)]);
    let _gateway = environment.serve("gateway", &[]);
    let http = HttpClient::new(format!(
        "http://127.0.0.1:{}",
        environment.port("GATEWAY_PORT")
    ));
    // No audit service: the events stay on the stream for the test to read.
    for service in ["AUTH_PORT", "CATALOG_PORT"] {
        drop(health_watch(environment.port(service)).await);
    }
    let (client, mut sales_health) = health_watch(environment.port("SALES_PORT")).await;
    wait_listening(environment.port("GATEWAY_PORT")).await;

    let login = http
        .post("/auth/login")
        .json(&json!({"username": "admin", "password": "admin123"}))
        .send()
        .await;
    assert_eq!(login.status, 200, "{}", login.text());
    let token = login.json()["access_token"].as_str().unwrap().to_owned();
    let product = http
        .post("/products")
        .bearer(&token)
        .json(
            &json!({"sku": "SHUT-1", "name": "Shutdown", "unit_price": "2.00",
                      "cost_price": "1.00", "tax_rate": "0", "stock_level": 100}),
        )
        .send()
        .await;
    assert_eq!(product.status, 201, "{}", product.text());
    let product_id = product.json()["id"].as_str().unwrap().to_owned();

    proxy.slow(Duration::from_millis(25));
    let mut in_flight = tokio::task::JoinSet::new();
    for index in 0..2 {
        let http = http.clone();
        let token = token.clone();
        let body = json!({"items": [{"product_id": product_id, "quantity": 1}]});
        in_flight.spawn(async move {
            http.post("/pos/quick-sell")
                .bearer(&token)
                .header("Idempotency-Key", &format!("in-flight-{index}"))
                .json(&body)
                .send()
                .await
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    sales.signal("TERM");

    // NOT_SERVING is the first thing a watcher hears.
    let first = tokio::time::timeout(Duration::from_secs(2), sales_health.next())
        .await
        .expect("health changes at once")
        .expect("the watch is still open")
        .expect("a health message");
    assert_eq!(first.status(), ServingStatus::NotServing);
    // A watch never ends by itself: let it go, so the drain waits only on the sales.
    drop(sales_health);
    drop(client);

    let mut sold = 0;
    while let Some(response) = in_flight.join_next().await {
        let response = response.unwrap();
        assert_eq!(response.status, 201, "{}", response.text());
        sold += 1;
    }
    let status = sales.exit_status(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_eq!(sold, 2);

    // Every event the drained sales committed was published before the process exited.
    let mut connection = database.connect().await;
    let events: Vec<(uuid::Uuid, Option<chrono::DateTime<chrono::Utc>>)> =
        sqlx::query_as("select event_id, published_at from sales.outbox")
            .fetch_all(&mut connection)
            .await
            .unwrap();
    let sells: i64 = sqlx::query_scalar("select count(*) from sales.outbox where action = 'sell'")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(sells, 2);
    assert!(
        events.iter().all(|(_, published)| published.is_some()),
        "unpublished events left behind: {events:?}"
    );
    let mut redis = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let entries: redis::streams::StreamRangeReply =
        redis.xrange_all("shutdown-test.audit").await.unwrap();
    let in_stream: Vec<String> = entries
        .ids
        .iter()
        .filter_map(|entry| entry.get::<String>("event_id"))
        .collect();
    let unique: HashSet<&String> = in_stream.iter().collect();
    assert_eq!(
        unique.len(),
        in_stream.len(),
        "an event was published twice"
    );
    for (event_id, _) in &events {
        assert!(
            unique.contains(&event_id.to_string()),
            "event {event_id} is not on the stream"
        );
    }
}

#[tokio::test]
async fn sigint_stops_a_part_cleanly_too() {
    let database = TestDatabase::create().await;
    let redis = RedisProcess::start().await;
    let environment = Environment::new(database.url(), &redis.url());
    let mut catalog = environment.serve("catalog", &[]);
    let (client, mut health) = health_watch(environment.port("CATALOG_PORT")).await;

    catalog.signal("INT");

    let first = tokio::time::timeout(Duration::from_secs(2), health.next())
        .await
        .expect("health changes at once")
        .expect("the watch is still open")
        .expect("a health message");
    assert_eq!(first.status(), ServingStatus::NotServing);
    drop(health);
    drop(client);
    let status = catalog.exit_status(Duration::from_secs(15)).await;
    assert_eq!(status.code(), Some(0), "{status:?}");
    // It no longer accepts.
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", environment.port("CATALOG_PORT")))
            .await
            .is_err()
    );
}
