//! Starts the suite as it runs in production: the `regal` binary once per part
//! (`regal serve auth`, …, `regal serve gateway`), each a separate process on a free port,
//! against a database created for this run (dropped at the end) and a Redis namespace of
//! its own, so the CPU time and memory of each part can be read from `/proc`.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;
use sqlx::{Connection, PgConnection};

use crate::clients::{HttpVersion, Rest};

/// The parts, in the order they are started.
pub const PARTS: [&str; 5] = ["auth", "catalog", "sales", "audit", "gateway"];

/// How long the suite may take to report ready (migrations of a dev build included).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// The `regal` binary to run.
    pub regal_bin: PathBuf,
    /// An administrative Postgres URL (its database is only used to create and drop ours).
    pub admin_database_url: String,
    pub redis_url: String,
    /// Where each part's output goes (`<part>.log`).
    pub log_dir: PathBuf,
    /// `RUST_LOG` of the parts.
    pub rust_log: String,
}

/// A database created for this run; dropped (connections and all) when this is dropped.
pub struct BenchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl BenchDatabase {
    pub async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        Self::create_named(admin_url, &format!("regal_bench_{}", &suffix[..12])).await
    }

    pub async fn create_named(admin_url: &str, name: &str) -> anyhow::Result<Self> {
        let name = name.to_owned();
        let mut connection = PgConnection::connect(admin_url)
            .await
            .with_context(|| format!("cannot reach Postgres at {admin_url}"))?;
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&mut connection)
            .await
            .context("creating the bench database")?;
        let (server, _) = admin_url
            .rsplit_once('/')
            .context("the admin database URL must name a database")?;
        let url = format!("{server}/{name}");
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub async fn connect(&self) -> anyhow::Result<PgConnection> {
        Ok(PgConnection::connect(&self.url).await?)
    }

    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }
}

/// Applies every service's migrations to `database` with `regal migrate all` (the schema
/// the services would create, nothing served).
pub async fn migrate(regal_bin: &Path, database: &BenchDatabase) -> anyhow::Result<()> {
    let mut command = Command::new(regal_bin);
    command
        .args(["migrate", "all"])
        .env("APP_ENV", "development")
        .env("DATABASE_URL", database.url())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    let output = tokio::task::spawn_blocking(move || command.output()).await??;
    anyhow::ensure!(
        output.status.success(),
        "regal migrate all failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// Copies every row of `table` (`schema.name`) from one database to the same table of
/// another, through JSON (generated columns left to the target).
pub async fn copy_table(
    from: &BenchDatabase,
    to: &BenchDatabase,
    table: &str,
) -> anyhow::Result<u64> {
    let (schema, name) = table.split_once('.').context("a table is schema.name")?;
    let mut source = from.connect().await?;
    let columns: String = sqlx::query_scalar(
        "select string_agg(quote_ident(column_name), ', ' order by ordinal_position)            from information_schema.columns           where table_schema = $1 and table_name = $2 and is_generated = 'NEVER'",
    )
    .bind(schema)
    .bind(name)
    .fetch_one(&mut source)
    .await?;
    let rows: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select json_agg(t)::text from {table} t"
    )))
    .fetch_one(&mut source)
    .await?;
    let Some(rows) = rows else { return Ok(0) };
    let mut target = to.connect().await?;
    let copied = sqlx::query(sqlx::AssertSqlSafe(format!(
        "insert into {table} ({columns})          select {columns} from json_populate_recordset(null::{table}, $1::json)"
    )))
    .bind(rows)
    .execute(&mut target)
    .await?
    .rows_affected();
    Ok(copied)
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop may run inside a runtime: use a thread with its own small runtime.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut connection) = PgConnection::connect(&admin_url).await {
                    let statement = format!("drop database if exists {name} with (force)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(statement))
                        .execute(&mut connection)
                        .await;
                }
            });
        });
        let _ = dropper.join();
    }
}

/// One running part.
pub struct PartProcess {
    pub name: &'static str,
    pub port: u16,
    child: Child,
    log: PathBuf,
}

impl PartProcess {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The running suite. Dropping it kills the parts and drops the database.
pub struct Suite {
    pub parts: Vec<PartProcess>,
    pub redis_url: String,
    /// `REDIS_KEY_PREFIX` of this run (ends with `:`).
    pub key_prefix: String,
    /// `AUDIT_STREAM` of this run.
    pub audit_stream: String,
    /// What restarting a part needs: the binary, the environment every part got, the logs.
    regal_bin: PathBuf,
    environment: Vec<(String, String)>,
    log_dir: PathBuf,
    // Declared last: dropped after the parts are stopped.
    pub database: BenchDatabase,
}

impl Suite {
    pub async fn start(options: &SuiteOptions) -> anyhow::Result<Self> {
        Self::start_with(options, &[]).await
    }

    /// Starts the suite with `extra_environment` given to every part on top of (and
    /// overriding) the bench's own settings.
    pub async fn start_with(
        options: &SuiteOptions,
        extra_environment: &[(String, String)],
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            options.regal_bin.is_file(),
            "no regal binary at {} (build it: cargo build --release -p regal, or pass --regal-bin)",
            options.regal_bin.display()
        );
        std::fs::create_dir_all(&options.log_dir)?;
        let database = BenchDatabase::create(&options.admin_database_url).await?;
        let namespace = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let key_prefix = format!("{namespace}:");
        let audit_stream = format!("{namespace}.audit");

        // Hold every listener until all ports are known, so no two parts get the same one.
        let listeners: Vec<std::net::TcpListener> = PARTS
            .iter()
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
            .collect::<Result<_, _>>()?;
        let ports: Vec<(&'static str, u16)> = PARTS
            .iter()
            .zip(&listeners)
            .map(|(part, listener)| Ok((*part, listener.local_addr()?.port())))
            .collect::<anyhow::Result<_>>()?;
        drop(listeners);
        let port_of = |name: &str| {
            ports
                .iter()
                .find(|(part, _)| *part == name)
                .map(|(_, port)| *port)
                .expect("every part has a port")
        };
        let mut environment: Vec<(String, String)> = vec![
            ("APP_ENV".into(), "development".into()),
            ("DATABASE_URL".into(), database.url().to_owned()),
            ("REDIS_URL".into(), options.redis_url.clone()),
            ("REDIS_KEY_PREFIX".into(), key_prefix.clone()),
            ("AUDIT_STREAM".into(), audit_stream.clone()),
            ("HOST".into(), "127.0.0.1".into()),
            // Long enough for the longest run: the tokens are signed in once.
            ("ACCESS_TOKEN_EXPIRE_MINUTES".into(), "240".into()),
            ("HEALTH_CHECK_INTERVAL_MS".into(), "500".into()),
            ("LOG_FORMAT".into(), "json".into()),
            ("RUST_LOG".into(), options.rust_log.clone()),
        ];
        for part in PARTS {
            let upper = part.to_ascii_uppercase();
            environment.push((format!("{upper}_PORT"), port_of(part).to_string()));
            if part != "gateway" {
                environment.push((
                    format!("{upper}_SERVICE_URL"),
                    format!("http://127.0.0.1:{}", port_of(part)),
                ));
            }
        }

        environment.extend(extra_environment.iter().cloned());

        let mut suite = Self {
            parts: Vec::new(),
            redis_url: options.redis_url.clone(),
            key_prefix,
            audit_stream,
            regal_bin: options.regal_bin.clone(),
            environment,
            log_dir: options.log_dir.clone(),
            database,
        };
        for (name, port) in ports {
            let log = options.log_dir.join(format!("{name}.log"));
            let output =
                File::create(&log).with_context(|| format!("creating {}", log.display()))?;
            let child = suite.spawn_part(name, output)?;
            suite.parts.push(PartProcess {
                name,
                port,
                child,
                log,
            });
        }
        suite.wait_until_ready(READY_TIMEOUT).await?;
        Ok(suite)
    }

    fn spawn_part(&self, name: &str, output: File) -> anyhow::Result<Child> {
        Command::new(&self.regal_bin)
            .args(["serve", name])
            .envs(self.environment.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn()
            .with_context(|| format!("starting {}", self.regal_bin.display()))
    }

    /// Sends `signal` (`TERM`, `KILL`, …) to one part.
    pub fn signal(&self, name: &str, signal: &str) -> anyhow::Result<()> {
        let part = self.part(name)?;
        let status = Command::new("kill")
            .args([format!("-{signal}"), part.pid().to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -{signal} {name} failed ({status})");
        Ok(())
    }

    /// Waits up to `timeout` for a part to exit; `None` when it is still running.
    pub async fn wait_exit(
        &mut self,
        name: &str,
        timeout: Duration,
    ) -> anyhow::Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        let part = self
            .parts
            .iter_mut()
            .find(|part| part.name == name)
            .with_context(|| format!("no part {name}"))?;
        loop {
            if let Some(status) = part.child.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts an exited part again, on its port, with the same environment; its output
    /// is appended to its log.
    pub fn restart(&mut self, name: &str) -> anyhow::Result<()> {
        let log = self.log_dir.join(format!("{name}.log"));
        let output = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("opening {}", log.display()))?;
        let index = self
            .parts
            .iter()
            .position(|part| part.name == name)
            .with_context(|| format!("no part {name}"))?;
        anyhow::ensure!(
            self.parts[index].child.try_wait()?.is_some(),
            "{name} is still running: it cannot be restarted"
        );
        let child = self.spawn_part(name, output)?;
        self.parts[index].child = child;
        Ok(())
    }

    fn part(&self, name: &str) -> anyhow::Result<&PartProcess> {
        self.parts
            .iter()
            .find(|part| part.name == name)
            .with_context(|| format!("no part {name}"))
    }

    /// Polls the gateway's `/health/ready` (every service SERVING, Postgres and Redis up)
    /// for at most `timeout`.
    pub async fn wait_until_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let client = Rest::new(self.url("gateway"), HttpVersion::Http1);
        let started = Instant::now();
        loop {
            self.check_running()?;
            let request = client.request(http::Method::GET, "/health/ready", None, None);
            if let Ok(answer) = client.exchange(request).await
                && answer.status == http::StatusCode::OK
            {
                return Ok(());
            }
            anyhow::ensure!(
                started.elapsed() < timeout,
                "the suite was not ready after {timeout:?} (logs in {})",
                self.parts[0]
                    .log
                    .parent()
                    .unwrap_or(Path::new("."))
                    .display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fails, with the tail of its log, if a part has exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        for part in &mut self.parts {
            if let Some(status) = part.child.try_wait()? {
                let log = std::fs::read_to_string(&part.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                anyhow::bail!(
                    "{} exited ({status}); the end of {}:\n{}",
                    part.name,
                    part.log.display(),
                    tail.join("\n")
                );
            }
        }
        Ok(())
    }

    pub fn port(&self, name: &str) -> u16 {
        self.parts
            .iter()
            .find(|part| part.name == name)
            .map(|part| part.port)
            .unwrap_or_else(|| panic!("no part {name}"))
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}", self.port(name))
    }

    /// Each part's name and process id.
    pub fn processes(&self) -> Vec<(String, u32)> {
        self.parts
            .iter()
            .map(|part| (part.name.to_owned(), part.pid()))
            .collect()
    }

    /// Stops the parts (SIGTERM, then SIGKILL after 10 s), removes this run's Redis keys
    /// and stream, and drops the database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        for part in &self.parts {
            let _ = Command::new("kill")
                .args(["-TERM", &part.pid().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for part in &mut self.parts {
            while part.child.try_wait()?.is_none() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        if let Err(error) = self.clean_redis().await {
            eprintln!("warning: this run's Redis keys were not removed: {error:#}");
        }
        Ok(())
        // Drop kills what is left and drops the database.
    }

    async fn clean_redis(&self) -> anyhow::Result<()> {
        let client = redis::Client::open(self.redis_url.as_str())?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}*", self.key_prefix))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut connection)
                .await?;
            if !keys.is_empty() {
                let _: () = redis::cmd("DEL")
                    .arg(&keys)
                    .query_async(&mut connection)
                    .await?;
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let _: () = redis::cmd("DEL")
            .arg(&self.audit_stream)
            .query_async(&mut connection)
            .await?;
        Ok(())
    }
}

impl Drop for Suite {
    fn drop(&mut self) {
        for part in &mut self.parts {
            if let Ok(None) = part.child.try_wait() {
                let _ = part.child.kill();
                let _ = part.child.wait();
            }
        }
    }
}
