//! Test kit: a fresh Postgres database per test, and the whole suite (four services and
//! the gateway) started in-process on free ports against it, with typed helpers to call
//! it over REST, gRPC-web and gRPC.
//!
//! Postgres and Redis come from `TEST_DATABASE_URL` (an administrative connection used to
//! create and drop the per-test database; default `postgres://postgres@127.0.0.1:5432/postgres`)
//! and `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). Each suite uses its own Redis
//! key prefix and audit stream name, so tests run in parallel without seeing each other.

mod api;
mod database;
mod http_client;
mod proxy;
mod redis_process;

pub use api::{ADMIN_PASSWORD, ADMIN_USERNAME, Session, TestUser};
pub use database::TestDatabase;
pub use http_client::{HttpClient, TestResponse};
pub use proxy::{LinkState, TcpProxy};
pub use redis_process::{RedisProcess, free_port};

use std::{collections::HashMap, time::Duration};

use regal_authz::{Role, TokenCodec};
use regal_config::{ExposeSecret, Settings};
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};
use uuid::Uuid;

/// How long [`TestSuite::start`] waits for `/health/ready` before giving up.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// One part of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Auth,
    Catalog,
    Sales,
    Audit,
    Gateway,
}

impl Part {
    pub const SERVICES: [Part; 4] = [Part::Auth, Part::Catalog, Part::Sales, Part::Audit];

    /// The fully qualified gRPC service name of a service part.
    pub fn grpc_service_name(self) -> &'static str {
        use regal_proto::service_names;
        match self {
            Part::Auth => service_names::AUTH,
            Part::Catalog => service_names::CATALOG,
            Part::Sales => service_names::SALES,
            Part::Audit => service_names::AUDIT,
            Part::Gateway => "",
        }
    }
}

/// Settings for a test: free ports, fast health checks, a private Redis namespace.
pub fn test_settings(database_url: &str) -> Settings {
    let namespace = format!("test-{}", Uuid::new_v4().simple());
    let redis_url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let values: HashMap<String, String> = [
        ("APP_ENV", "development"),
        ("DATABASE_URL", database_url),
        ("REDIS_URL", redis_url.as_str()),
        ("REDIS_KEY_PREFIX", &format!("{namespace}:")),
        ("AUDIT_STREAM", &format!("{namespace}.audit")),
        ("GATEWAY_PORT", "0"),
        ("AUTH_PORT", "0"),
        ("CATALOG_PORT", "0"),
        ("SALES_PORT", "0"),
        ("AUDIT_PORT", "0"),
        ("HEALTH_CHECK_INTERVAL_MS", "200"),
        ("UPSTREAM_REFRESH_INTERVAL_MS", "200"),
        ("OUTBOX_POLL_INTERVAL_MS", "50"),
        ("AUDIT_GAP_CHECK_INTERVAL_MS", "500"),
        ("AUDIT_CLAIM_IDLE_MS", "500"),
        ("DB_MAX_CONNECTIONS", "5"),
        ("DB_ACQUIRE_TIMEOUT_MS", "2000"),
        ("LOG_FORMAT", "pretty"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    Settings::from_map(&values).expect("test settings are valid")
}

/// A link of one part to a dependency, which a test may route through a [`TcpProxy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    /// The part's `DATABASE_URL`.
    Database,
    /// The part's `REDIS_URL`.
    Redis,
    /// The part's URL of another part (e.g. sales → catalog).
    Upstream(Part),
}

/// A part (or a replica of one) running in-process.
struct Running {
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.task.await?
    }
}

/// Another replica of a part, started by [`TestSuite::start_replica`]; it stops when
/// [`Replica::stop`] is called, when it is dropped, or when the suite stops.
pub struct Replica {
    port: u16,
    running: Option<Running>,
}

impl Replica {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the replica gracefully and reports what it returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        match self.running.take() {
            Some(running) => running.stop().await,
            None => Ok(()),
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(running) = &self.running {
            running.shutdown.cancel();
        }
    }
}

/// The running suite. Dropping it stops every part and drops the database.
pub struct TestSuite {
    pub settings: Settings,
    ports: HashMap<Part, u16>,
    /// The settings each part runs with (its port and upstream URLs filled in), to start
    /// it again or a replica of it.
    part_settings: HashMap<Part, Settings>,
    running: HashMap<Part, Running>,
    proxies: HashMap<(Part, Link), TcpProxy>,
    shutdown: CancellationToken,
    http: HttpClient,
    // Declared last: dropped after the parts have been told to stop.
    database: TestDatabase,
}

/// How [`TestSuite::start_with`] knows the suite is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
    /// `/health/ready` answers 200: every service SERVING, Postgres and Redis up.
    Ready,
    /// Only that every part is listening (for tests of broken dependencies).
    Listening,
}

/// The order parts start in: each one's upstreams are up before it.
const START_ORDER: [Part; 5] = [
    Part::Auth,
    Part::Catalog,
    Part::Sales,
    Part::Audit,
    Part::Gateway,
];

/// The parts a part calls.
fn upstreams_of(part: Part) -> &'static [Part] {
    match part {
        Part::Auth | Part::Catalog => &[],
        Part::Sales => &[Part::Catalog, Part::Auth],
        Part::Audit => &[Part::Auth, Part::Catalog, Part::Sales],
        Part::Gateway => &[Part::Auth, Part::Catalog, Part::Sales, Part::Audit],
    }
}

fn set_port(settings: &mut Settings, part: Part, port: u16) {
    let network = &mut settings.network;
    match part {
        Part::Auth => network.auth_port = port,
        Part::Catalog => network.catalog_port = port,
        Part::Sales => network.sales_port = port,
        Part::Audit => network.audit_port = port,
        Part::Gateway => network.gateway_port = port,
    }
}

fn set_upstream_url(settings: &mut Settings, part: Part, url: String) {
    let network = &mut settings.network;
    match part {
        Part::Auth => network.auth_url = url,
        Part::Catalog => network.catalog_url = url,
        Part::Sales => network.sales_url = url,
        Part::Audit => network.audit_url = url,
        Part::Gateway => {}
    }
}

/// Binds `part` with `settings` (port 0: a free one) and runs it until the returned token
/// is cancelled.
async fn launch(part: Part, settings: Settings, shutdown: CancellationToken) -> (u16, Running) {
    macro_rules! run {
        ($application:path) => {{
            let application = <$application>::build(settings)
                .await
                .unwrap_or_else(|error| panic!("{part:?} binds: {error:#}"));
            let port = application.port();
            (
                port,
                tokio::spawn(application.run_until_stopped(shutdown.clone())),
            )
        }};
    }
    let (port, task) = match part {
        Part::Auth => run!(regal_auth::Application),
        Part::Catalog => run!(regal_catalog::Application),
        Part::Sales => run!(regal_sales::Application),
        Part::Audit => run!(regal_audit::Application),
        Part::Gateway => run!(regal_gateway::Application),
    };
    (port, Running { shutdown, task })
}

impl TestSuite {
    /// Starts all four services and the gateway against a fresh database, and waits
    /// until the gateway reports ready.
    pub async fn start() -> Self {
        Self::start_with(|_, _| {}, WaitFor::Ready).await
    }

    /// Like [`TestSuite::start`], letting the test adjust each part's settings first.
    pub async fn start_with(customize: impl Fn(Part, &mut Settings), wait_for: WaitFor) -> Self {
        Self::start_with_proxies(customize, wait_for, &[]).await
    }

    /// Like [`TestSuite::start_with`], routing each `(part, link)` through its own
    /// [`TcpProxy`] (see [`TestSuite::proxy`]) so a test can cut, stall or slow it.
    pub async fn start_with_proxies(
        customize: impl Fn(Part, &mut Settings),
        wait_for: WaitFor,
        proxied: &[(Part, Link)],
    ) -> Self {
        regal_telemetry::init_for_tests();
        let database = TestDatabase::create().await;
        let settings = test_settings(database.url());
        let shutdown = CancellationToken::new();
        let mut ports = HashMap::new();
        let mut part_settings = HashMap::new();
        let mut running = HashMap::new();
        let mut proxies = HashMap::new();

        for part in START_ORDER {
            let mut own = settings.clone();
            customize(part, &mut own);
            for &upstream in upstreams_of(part) {
                let url = format!("http://127.0.0.1:{}", ports[&upstream]);
                set_upstream_url(&mut own, upstream, url);
            }
            for &(proxied_part, link) in proxied.iter().filter(|(p, _)| *p == part) {
                let url = match link {
                    Link::Database => own.database.url.expose_secret().to_owned(),
                    Link::Redis => own.redis.url.expose_secret().to_owned(),
                    Link::Upstream(upstream) => {
                        format!("http://127.0.0.1:{}", ports[&upstream])
                    }
                };
                let (proxy, through) = TcpProxy::in_front_of(&url).await;
                match link {
                    Link::Database => own.database.url = through.into(),
                    Link::Redis => own.redis.url = through.into(),
                    Link::Upstream(upstream) => set_upstream_url(&mut own, upstream, through),
                }
                proxies.insert((proxied_part, link), proxy);
            }
            let (port, part_running) = launch(part, own.clone(), shutdown.child_token()).await;
            set_port(&mut own, part, port);
            ports.insert(part, port);
            part_settings.insert(part, own);
            running.insert(part, part_running);
        }

        let suite = Self {
            http: HttpClient::new(format!("http://127.0.0.1:{}", ports[&Part::Gateway])),
            settings,
            ports,
            part_settings,
            running,
            proxies,
            shutdown,
            database,
        };
        if wait_for == WaitFor::Ready {
            suite.wait_until_ready().await;
        }
        suite
    }

    async fn wait_until_ready(&self) {
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            let response = self.http.get("/health/ready").send().await;
            if response.status == 200 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "suite not ready after {READY_TIMEOUT:?}: {}",
                response.text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn port(&self, part: Part) -> u16 {
        self.ports[&part]
    }

    /// REST client for the gateway.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub fn database(&self) -> &TestDatabase {
        &self.database
    }

    /// The proxy a `(part, link)` was routed through at start.
    pub fn proxy(&self, part: Part, link: Link) -> &TcpProxy {
        self.proxies
            .get(&(part, link))
            .unwrap_or_else(|| panic!("{part:?} → {link:?} was not started behind a proxy"))
    }

    /// A gRPC (HTTP/2) channel to a part's port.
    pub fn channel(&self, part: Part) -> Channel {
        Endpoint::from_shared(format!("http://127.0.0.1:{}", self.port(part)))
            .expect("valid endpoint")
            .connect_lazy()
    }

    /// A valid access token for a user who may not exist in the database.
    pub fn access_token(&self, role: Role) -> String {
        let codec = TokenCodec::access(&self.settings.tokens);
        codec
            .issue_access(Uuid::now_v7(), &format!("test-{role}"), role)
            .expect("token signs")
            .0
    }

    /// The settings a part runs with (its port and upstream URLs filled in).
    pub fn part_settings(&self, part: Part) -> &Settings {
        &self.part_settings[&part]
    }

    /// Stops one part gracefully (health NOT_SERVING, drain, last outbox pass), leaving
    /// the rest running.
    pub async fn stop_part(&mut self, part: Part) {
        let running = self
            .running
            .remove(&part)
            .unwrap_or_else(|| panic!("{part:?} is not running"));
        running
            .stop()
            .await
            .unwrap_or_else(|error| panic!("{part:?} stops cleanly: {error:#}"));
    }

    /// Starts a part again on its port, after [`TestSuite::stop_part`].
    pub async fn start_part(&mut self, part: Part) {
        assert!(!self.running.contains_key(&part), "{part:?} is running");
        let settings = self.part_settings[&part].clone();
        let (_, running) = launch(part, settings, self.shutdown.child_token()).await;
        self.running.insert(part, running);
    }

    /// Starts another replica of `part` on a free port, with the part's settings adjusted
    /// by `customize` (e.g. its own audit consumer name, or a gateway's upstream URLs).
    pub async fn start_replica(
        &self,
        part: Part,
        customize: impl FnOnce(&mut Settings),
    ) -> Replica {
        let mut settings = self.part_settings[&part].clone();
        set_port(&mut settings, part, 0);
        customize(&mut settings);
        let (port, running) = launch(part, settings, self.shutdown.child_token()).await;
        Replica {
            port,
            running: Some(running),
        }
    }

    /// Stops every part gracefully and reports the first error a part returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let mut first_error = None;
        for part in START_ORDER.into_iter().rev() {
            if let Some(running) = self.running.remove(&part)
                && let Err(error) = running.stop().await
            {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for TestSuite {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
