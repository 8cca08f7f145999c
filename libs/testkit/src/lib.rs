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
mod redis_process;

pub use api::{ADMIN_PASSWORD, ADMIN_USERNAME, Session, TestUser};
pub use database::TestDatabase;
pub use http_client::{HttpClient, TestResponse};
pub use redis_process::{RedisProcess, free_port};

use std::{collections::HashMap, time::Duration};

use regal_authz::{Role, TokenCodec};
use regal_config::Settings;
use tokio::task::JoinSet;
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

/// The running suite. Dropping it stops every part and drops the database.
pub struct TestSuite {
    pub settings: Settings,
    ports: HashMap<Part, u16>,
    shutdown: CancellationToken,
    tasks: JoinSet<anyhow::Result<()>>,
    /// The audit service runs apart, so a test can stop and start it alone.
    audit_settings: Settings,
    audit_shutdown: CancellationToken,
    audit_task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
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

impl TestSuite {
    /// Starts all four services and the gateway against a fresh database, and waits
    /// until the gateway reports ready.
    pub async fn start() -> Self {
        Self::start_with(|_, _| {}, WaitFor::Ready).await
    }

    /// Like [`TestSuite::start`], letting the test adjust each part's settings first.
    pub async fn start_with(customize: impl Fn(Part, &mut Settings), wait_for: WaitFor) -> Self {
        regal_telemetry::init_for_tests();
        let database = TestDatabase::create().await;
        let settings = test_settings(database.url());
        let shutdown = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let mut ports = HashMap::new();

        let part_settings = |part: Part| {
            let mut settings = settings.clone();
            customize(part, &mut settings);
            settings
        };
        let auth = regal_auth::Application::build(part_settings(Part::Auth))
            .await
            .expect("auth binds");
        ports.insert(Part::Auth, auth.port());
        tasks.spawn(auth.run_until_stopped(shutdown.clone()));
        let catalog = regal_catalog::Application::build(part_settings(Part::Catalog))
            .await
            .expect("catalog binds");
        ports.insert(Part::Catalog, catalog.port());
        tasks.spawn(catalog.run_until_stopped(shutdown.clone()));

        let mut sales_settings = part_settings(Part::Sales);
        sales_settings.network.catalog_url = format!("http://127.0.0.1:{}", ports[&Part::Catalog]);
        sales_settings.network.auth_url = format!("http://127.0.0.1:{}", ports[&Part::Auth]);
        let sales = regal_sales::Application::build(sales_settings)
            .await
            .expect("sales binds");
        ports.insert(Part::Sales, sales.port());
        tasks.spawn(sales.run_until_stopped(shutdown.clone()));
        let mut audit_settings = part_settings(Part::Audit);
        let url = |part: Part| format!("http://127.0.0.1:{}", ports[&part]);
        audit_settings.network.auth_url = url(Part::Auth);
        audit_settings.network.catalog_url = url(Part::Catalog);
        audit_settings.network.sales_url = url(Part::Sales);
        let audit = regal_audit::Application::build(audit_settings.clone())
            .await
            .expect("audit binds");
        ports.insert(Part::Audit, audit.port());
        audit_settings.network.audit_port = audit.port();
        let audit_shutdown = shutdown.child_token();
        let audit_task = tokio::spawn(audit.run_until_stopped(audit_shutdown.clone()));

        let mut gateway_settings = part_settings(Part::Gateway);
        let url = |part: Part| format!("http://127.0.0.1:{}", ports[&part]);
        gateway_settings.network.auth_url = url(Part::Auth);
        gateway_settings.network.catalog_url = url(Part::Catalog);
        gateway_settings.network.sales_url = url(Part::Sales);
        gateway_settings.network.audit_url = url(Part::Audit);
        let gateway = regal_gateway::Application::build(gateway_settings)
            .await
            .expect("gateway binds");
        ports.insert(Part::Gateway, gateway.port());
        tasks.spawn(gateway.run_until_stopped(shutdown.clone()));

        let suite = Self {
            http: HttpClient::new(format!("http://127.0.0.1:{}", ports[&Part::Gateway])),
            settings,
            ports,
            shutdown,
            tasks,
            audit_settings,
            audit_shutdown,
            audit_task: Some(audit_task),
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

    /// The settings the audit service runs with (its producers' addresses filled in).
    pub fn audit_settings(&self) -> &Settings {
        &self.audit_settings
    }

    /// Stops the audit service alone (gracefully), leaving the rest running.
    pub async fn stop_audit(&mut self) {
        self.audit_shutdown.cancel();
        if let Some(task) = self.audit_task.take() {
            task.await
                .expect("audit task joins")
                .expect("audit stops cleanly");
        }
    }

    /// Starts the audit service again on its port, after [`TestSuite::stop_audit`].
    pub async fn start_audit(&mut self) {
        assert!(self.audit_task.is_none(), "the audit service is running");
        let application = regal_audit::Application::build(self.audit_settings.clone())
            .await
            .expect("audit binds its port again");
        self.audit_shutdown = self.shutdown.child_token();
        self.audit_task = Some(tokio::spawn(
            application.run_until_stopped(self.audit_shutdown.clone()),
        ));
    }

    /// Starts another replica of the audit service (its own port and consumer name); it
    /// runs until the returned token is cancelled or the suite stops.
    pub async fn start_audit_replica(
        &self,
        consumer_name: &str,
    ) -> (
        CancellationToken,
        tokio::task::JoinHandle<anyhow::Result<()>>,
    ) {
        let mut settings = self.audit_settings.clone();
        settings.network.audit_port = 0;
        settings.audit.consumer_name = consumer_name.to_owned();
        let application = regal_audit::Application::build(settings)
            .await
            .expect("audit replica binds");
        let shutdown = self.shutdown.child_token();
        let task = tokio::spawn(application.run_until_stopped(shutdown.clone()));
        (shutdown, task)
    }

    /// Stops every part gracefully and reports the first error a part returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        if let Some(task) = self.audit_task.take() {
            task.await??;
        }
        while let Some(result) = self.tasks.join_next().await {
            result??;
        }
        Ok(())
    }
}

impl Drop for TestSuite {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
