//! Configuration of every Regal POS part, read once from the environment (the variable
//! names of the original backend) and passed down as a typed value. Nothing here is global.
//!
//! In production a missing or short secret, or the default admin password, is a start-up
//! error that names the variable; in development safe-to-publish defaults are used so that
//! `make run` works on a fresh machine.

use std::{collections::HashMap, net::IpAddr, str::FromStr, time::Duration};

pub use secrecy::{ExposeSecret, SecretString};

/// Shortest secret accepted in production, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;
/// The default admin password of development; refused in production.
pub const DEFAULT_ADMIN_PASSWORD: &str = "admin123";

const DEV_ACCESS_SECRET: &str = "dev-only-access-secret-change-me-0123456789";
const DEV_REFRESH_SECRET: &str = "dev-only-refresh-secret-change-me-0123456789";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name} is required in production")]
    Missing { name: &'static str },
    #[error("{name} must be at least {MIN_SECRET_BYTES} bytes long in production (got {length})")]
    SecretTooShort { name: &'static str, length: usize },
    #[error("{name} must not be the default password in production; set a strong one")]
    DefaultPassword { name: &'static str },
    #[error("{name}={value:?} is not valid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

/// `APP_ENV`: development (the default) or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

impl FromStr for Environment {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" | "local" => Ok(Self::Development),
            "production" | "prod" => Ok(Self::Production),
            _ => Err("expected development or production".to_owned()),
        }
    }
}

/// `LOG_FORMAT`: JSON lines (production default) or readable text (development default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "pretty" | "text" => Ok(Self::Pretty),
            _ => Err("expected json or pretty".to_owned()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    pub debug: bool,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub tokens: TokenSettings,
    pub admin: AdminSettings,
    pub pagination: PaginationSettings,
    pub network: NetworkSettings,
    pub gateway: GatewaySettings,
    pub telemetry: TelemetrySettings,
    pub outbox: OutboxSettings,
    pub login: LoginSettings,
    pub sales: SalesSettings,
    pub audit: AuditSettings,
    /// How often each service checks its database for its gRPC health status.
    pub health_check_interval: Duration,
    /// The longest a service works on one call before answering DEADLINE_EXCEEDED (shorter
    /// than `UPSTREAM_TIMEOUT_MS`, so the gateway hears the service's answer).
    pub request_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`
    pub url: SecretString,
    /// `DB_MAX_CONNECTIONS` (per service)
    pub max_connections: u32,
    /// `DB_ACQUIRE_TIMEOUT_MS`: how long a request waits for a pooled connection.
    pub acquire_timeout: Duration,
    /// `DB_STATEMENT_TIMEOUT_MS`: the server-side bound of any one statement.
    pub statement_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `REDIS_URL`
    pub url: SecretString,
    /// `REDIS_KEY_PREFIX`: prefix of every key this suite writes (rate limits, denylist).
    pub key_prefix: String,
    /// `AUDIT_STREAM`: the stream the outbox relays publish to.
    pub audit_stream: String,
    /// `REDIS_TIMEOUT_MS`: bound of one Redis command.
    pub command_timeout: Duration,
    /// `AUDIT_STREAM_MAXLEN`: the most entries the audit stream may hold. A relay that finds
    /// it full publishes nothing (its events wait in Postgres) rather than trimming entries
    /// nobody has read; the audit service trims only what its group has acknowledged.
    pub audit_stream_max_len: u64,
}

#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// `ACCESS_TOKEN_SECRET_KEY`
    pub access_secret: SecretString,
    /// `REFRESH_TOKEN_SECRET_KEY`
    pub refresh_secret: SecretString,
    /// `ACCESS_TOKEN_EXPIRE_MINUTES`
    pub access_ttl: Duration,
    /// `REFRESH_TOKEN_EXPIRE_DAYS`
    pub refresh_ttl: Duration,
    /// `JWT_ISSUER`
    pub issuer: String,
    /// `JWT_AUDIENCE`
    pub audience: String,
}

#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// `ADMIN_USERNAME`
    pub username: String,
    /// `ADMIN_PASSWORD`
    pub password: SecretString,
    /// `ADMIN_EMAIL`
    pub email: String,
}

#[derive(Debug, Clone, Copy)]
pub struct PaginationSettings {
    /// `DEFAULT_PAGE_SIZE`
    pub default_page_size: i64,
    /// `MAX_PAGE_SIZE`
    pub max_page_size: i64,
}

/// Where each part listens and where the others find it.
#[derive(Debug, Clone)]
pub struct NetworkSettings {
    /// `HOST`: the address every part binds (127.0.0.1 unless configured).
    pub host: IpAddr,
    pub gateway_port: u16,
    pub auth_port: u16,
    pub catalog_port: u16,
    pub sales_port: u16,
    pub audit_port: u16,
    /// `AUTH_SERVICE_URL` etc.: where the gateway (and sales → catalog) call the services.
    /// One URL, or several separated by commas; a host name may resolve to several
    /// replicas (a headless Service), and calls are balanced across them.
    pub auth_url: String,
    pub catalog_url: String,
    pub sales_url: String,
    pub audit_url: String,
    /// How often the replicas behind a service URL are looked up again and probed.
    pub upstream_refresh_interval: Duration,
}

#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// `CORS_ORIGINS`: comma separated origins allowed to call with credentials.
    pub cors_origins: Vec<String>,
    /// `MAX_BODY_BYTES` (1 MiB)
    pub max_body_bytes: usize,
    /// `UPSTREAM_TIMEOUT_MS`: bound of one call from the gateway to a service.
    pub upstream_timeout: Duration,
    /// `DASHBOARD_DIR`: the built web dashboard (`make dashboard` writes `dashboard/dist`),
    /// served at `/dashboard`; relative paths are from the working directory.
    pub dashboard_dir: std::path::PathBuf,
}

#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    /// `LOG_FORMAT`
    pub log_format: LogFormat,
    /// `RUST_LOG`
    pub log_filter: String,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: where spans are exported over OTLP/gRPC; no export
    /// (and no exporter) when unset.
    pub otlp_endpoint: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OutboxSettings {
    /// `OUTBOX_POLL_INTERVAL_MS`: how often a relay looks for unpublished events when idle.
    pub poll_interval: Duration,
    /// `OUTBOX_BATCH_SIZE`
    pub batch_size: i64,
    /// `OUTBOX_RETENTION_HOURS`: how long published events stay available for re-fetching.
    pub retention: Duration,
}

/// The sale saga's recovery: how long a sale may stay between its stock reservation and
/// its commit before the sweeper gives the stock back, and how often the sweeper looks.
#[derive(Debug, Clone, Copy)]
pub struct SalesSettings {
    /// `SALES_PENDING_SALE_TIMEOUT_MS` (60000): age after which a pending sale counts as
    /// abandoned (its reservation is released) and an unfinished refund restock is redone.
    pub pending_sale_timeout: Duration,
    /// `SALES_SWEEP_INTERVAL_MS` (10000): how often the sweeper runs.
    pub sweep_interval: Duration,
}

/// The audit service: its consumer group on the audit stream, gap repair and retention.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// `AUDIT_CONSUMER_NAME`: this replica's name in the group (default `HOSTNAME`, the
    /// pod's name in Kubernetes, else `audit-<random>`). Entries a dead consumer left
    /// pending are claimed by the others after `AUDIT_CLAIM_IDLE_MS`.
    pub consumer_name: String,
    /// `AUDIT_CONSUMER_GROUP` (`regal-audit`)
    pub consumer_group: String,
    /// `AUDIT_BATCH_SIZE` (250): entries read, claimed or fetched per call.
    pub batch_size: usize,
    /// `AUDIT_CLAIM_IDLE_MS` (30000): how long an entry stays pending with a consumer
    /// before another one claims it (`XAUTOCLAIM`).
    pub claim_idle: Duration,
    /// `AUDIT_RETENTION_DAYS` (2557, seven years): partitions older than this are dropped.
    pub retention_days: u32,
    /// `AUDIT_GAP_CHECK_INTERVAL_MS` (10000): how often each producing service is asked for
    /// events after the last contiguous sequence number stored (repairs gaps and lost tails).
    pub gap_check_interval: Duration,
}

/// Login rate limits: failed attempts counted per username and per client address.
#[derive(Debug, Clone)]
pub struct LoginSettings {
    /// `LOGIN_MAX_FAILURES_PER_USERNAME` (5)
    pub max_failures_per_username: u32,
    /// `LOGIN_MAX_FAILURES_PER_ADDRESS` (50)
    pub max_failures_per_address: u32,
    /// `LOGIN_FAILURE_WINDOW_MINUTES` (15)
    pub failure_window: Duration,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings from a map, for tests and tools (no process-wide state touched).
    pub fn from_map(values: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| values.get(name).cloned())
    }

    /// Reads settings through `lookup`, which returns the value of a variable if set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let source = Source { lookup: &lookup };
        let environment: Environment = source.parse_or("APP_ENV", Environment::Development)?;
        let production = environment == Environment::Production;

        let access_secret =
            source.secret("ACCESS_TOKEN_SECRET_KEY", production, DEV_ACCESS_SECRET)?;
        let refresh_secret =
            source.secret("REFRESH_TOKEN_SECRET_KEY", production, DEV_REFRESH_SECRET)?;
        if production && access_secret.expose_secret() == refresh_secret.expose_secret() {
            return Err(ConfigError::Invalid {
                name: "REFRESH_TOKEN_SECRET_KEY",
                value: "<secret>".to_owned(),
                reason: "must differ from ACCESS_TOKEN_SECRET_KEY".to_owned(),
            });
        }

        let admin_password = source
            .text("ADMIN_PASSWORD")
            .unwrap_or_else(|| DEFAULT_ADMIN_PASSWORD.to_owned());
        if production && admin_password == DEFAULT_ADMIN_PASSWORD {
            return Err(ConfigError::DefaultPassword {
                name: "ADMIN_PASSWORD",
            });
        }

        let database_url = match source.text("DATABASE_URL") {
            Some(url) => url,
            None if production => {
                return Err(ConfigError::Missing {
                    name: "DATABASE_URL",
                });
            }
            None => "postgres://postgres@127.0.0.1:5432/regal".to_owned(),
        };
        let redis_url = match source.text("REDIS_URL") {
            Some(url) => url,
            None if production => return Err(ConfigError::Missing { name: "REDIS_URL" }),
            None => "redis://127.0.0.1:6379/0".to_owned(),
        };

        let host: IpAddr = source.parse_or("HOST", IpAddr::from([127, 0, 0, 1]))?;
        let gateway_port = source.parse_or("GATEWAY_PORT", 8000)?;
        let auth_port = source.parse_or("AUTH_PORT", 50051)?;
        let catalog_port = source.parse_or("CATALOG_PORT", 50052)?;
        let sales_port = source.parse_or("SALES_PORT", 50053)?;
        let audit_port = source.parse_or("AUDIT_PORT", 50054)?;
        let service_url = |name: &'static str, port: u16| {
            source
                .text(name)
                .unwrap_or_else(|| format!("http://127.0.0.1:{port}"))
        };

        let default_page_size: i64 = source.parse_or("DEFAULT_PAGE_SIZE", 50)?;
        let max_page_size: i64 = source.parse_or("MAX_PAGE_SIZE", 200)?;
        if default_page_size < 1 || max_page_size < default_page_size {
            return Err(ConfigError::Invalid {
                name: "MAX_PAGE_SIZE",
                value: max_page_size.to_string(),
                reason: format!(
                    "need 1 <= DEFAULT_PAGE_SIZE ({default_page_size}) <= MAX_PAGE_SIZE"
                ),
            });
        }

        let access_minutes: u64 = source.parse_or("ACCESS_TOKEN_EXPIRE_MINUTES", 15)?;
        let refresh_days: u64 = source.parse_or("REFRESH_TOKEN_EXPIRE_DAYS", 30)?;
        if access_minutes == 0 || refresh_days == 0 {
            return Err(ConfigError::Invalid {
                name: "ACCESS_TOKEN_EXPIRE_MINUTES",
                value: access_minutes.to_string(),
                reason: "token lifetimes must be positive".to_owned(),
            });
        }

        let default_log_format = if production {
            LogFormat::Json
        } else {
            LogFormat::Pretty
        };

        Ok(Self {
            environment,
            debug: source.parse_or("DEBUG", false)?,
            database: DatabaseSettings {
                url: SecretString::from(database_url),
                max_connections: source.parse_or("DB_MAX_CONNECTIONS", 10)?,
                acquire_timeout: source.millis_or("DB_ACQUIRE_TIMEOUT_MS", 3_000)?,
                statement_timeout: source.millis_or("DB_STATEMENT_TIMEOUT_MS", 10_000)?,
            },
            redis: RedisSettings {
                url: SecretString::from(redis_url),
                key_prefix: source
                    .text("REDIS_KEY_PREFIX")
                    .unwrap_or_else(|| "regal:".to_owned()),
                audit_stream: source
                    .text("AUDIT_STREAM")
                    .unwrap_or_else(|| "regal.audit".to_owned()),
                command_timeout: source.millis_or("REDIS_TIMEOUT_MS", 1_000)?,
                audit_stream_max_len: source.parse_or("AUDIT_STREAM_MAXLEN", 1_000_000)?,
            },
            tokens: TokenSettings {
                access_secret,
                refresh_secret,
                access_ttl: Duration::from_secs(access_minutes * 60),
                refresh_ttl: Duration::from_secs(refresh_days * 24 * 3600),
                issuer: source
                    .text("JWT_ISSUER")
                    .unwrap_or_else(|| "regal-pos".to_owned()),
                audience: source
                    .text("JWT_AUDIENCE")
                    .unwrap_or_else(|| "regal-pos-api".to_owned()),
            },
            admin: AdminSettings {
                username: source
                    .text("ADMIN_USERNAME")
                    .unwrap_or_else(|| "admin".to_owned()),
                password: SecretString::from(admin_password),
                email: source
                    .text("ADMIN_EMAIL")
                    .unwrap_or_else(|| "admin@regalpos.local".to_owned()),
            },
            pagination: PaginationSettings {
                default_page_size,
                max_page_size,
            },
            network: NetworkSettings {
                host,
                gateway_port,
                auth_port,
                catalog_port,
                sales_port,
                audit_port,
                auth_url: service_url("AUTH_SERVICE_URL", auth_port),
                catalog_url: service_url("CATALOG_SERVICE_URL", catalog_port),
                sales_url: service_url("SALES_SERVICE_URL", sales_port),
                audit_url: service_url("AUDIT_SERVICE_URL", audit_port),
                upstream_refresh_interval: source
                    .millis_or("UPSTREAM_REFRESH_INTERVAL_MS", 2_000)?,
            },
            gateway: GatewaySettings {
                cors_origins: source
                    .text("CORS_ORIGINS")
                    .map(|origins| {
                        origins
                            .split(',')
                            .map(str::trim)
                            .filter(|origin| !origin.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_else(|| {
                        if production {
                            Vec::new()
                        } else {
                            vec![
                                "http://localhost:3000".to_owned(),
                                "http://localhost:8000".to_owned(),
                                "http://127.0.0.1:8000".to_owned(),
                            ]
                        }
                    }),
                max_body_bytes: source.parse_or("MAX_BODY_BYTES", 1024 * 1024)?,
                upstream_timeout: source.millis_or("UPSTREAM_TIMEOUT_MS", 10_000)?,
                dashboard_dir: source
                    .text("DASHBOARD_DIR")
                    .unwrap_or_else(|| "dashboard/dist".to_owned())
                    .into(),
            },
            telemetry: TelemetrySettings {
                log_format: source.parse_or("LOG_FORMAT", default_log_format)?,
                log_filter: source
                    .text("RUST_LOG")
                    .unwrap_or_else(|| "info,sqlx::postgres::notice=warn".to_owned()),
                otlp_endpoint: source.text("OTEL_EXPORTER_OTLP_ENDPOINT"),
            },
            outbox: OutboxSettings {
                poll_interval: source.millis_or("OUTBOX_POLL_INTERVAL_MS", 200)?,
                batch_size: source.parse_or("OUTBOX_BATCH_SIZE", 500)?,
                retention: Duration::from_secs(
                    source.parse_or::<u64>("OUTBOX_RETENTION_HOURS", 24 * 7)? * 3600,
                ),
            },
            login: LoginSettings {
                max_failures_per_username: source.parse_or("LOGIN_MAX_FAILURES_PER_USERNAME", 5)?,
                max_failures_per_address: source.parse_or("LOGIN_MAX_FAILURES_PER_ADDRESS", 50)?,
                failure_window: Duration::from_secs(
                    source
                        .parse_or::<u64>("LOGIN_FAILURE_WINDOW_MINUTES", 15)?
                        .max(1)
                        * 60,
                ),
            },
            sales: SalesSettings {
                pending_sale_timeout: source.millis_or("SALES_PENDING_SALE_TIMEOUT_MS", 60_000)?,
                sweep_interval: source.millis_or("SALES_SWEEP_INTERVAL_MS", 10_000)?,
            },
            audit: AuditSettings {
                consumer_name: source
                    .text("AUDIT_CONSUMER_NAME")
                    .or_else(|| source.text("HOSTNAME"))
                    .unwrap_or_else(random_consumer_name),
                consumer_group: source
                    .text("AUDIT_CONSUMER_GROUP")
                    .unwrap_or_else(|| "regal-audit".to_owned()),
                batch_size: source.parse_or::<usize>("AUDIT_BATCH_SIZE", 250)?.max(1),
                claim_idle: source.millis_or("AUDIT_CLAIM_IDLE_MS", 30_000)?,
                retention_days: source.parse_or("AUDIT_RETENTION_DAYS", 2557)?,
                gap_check_interval: source.millis_or("AUDIT_GAP_CHECK_INTERVAL_MS", 10_000)?,
            },
            health_check_interval: source.millis_or("HEALTH_CHECK_INTERVAL_MS", 2_000)?,
            request_timeout: source.millis_or("REQUEST_TIMEOUT_MS", 8_000)?,
        })
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Clamps a requested page size to the configured bounds (0 means "the default").
    pub fn page_limit(&self, requested: i64) -> i64 {
        if requested <= 0 {
            self.pagination.default_page_size
        } else {
            requested.min(self.pagination.max_page_size)
        }
    }
}

/// `audit-<hex>`: unique enough per process (time and process id), no RNG needed.
fn random_consumer_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    format!("audit-{:x}-{:x}", std::process::id(), nanos & 0xffff_ffff)
}

struct Source<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Source<'_> {
    /// The trimmed value of a variable, or `None` when unset or blank.
    fn text(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    fn parse_or<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match self.text(name) {
            None => Ok(default),
            Some(value) => parse_value(name, &value),
        }
    }

    fn millis_or(&self, name: &'static str, default_millis: u64) -> Result<Duration, ConfigError> {
        self.parse_or(name, default_millis)
            .map(Duration::from_millis)
    }

    fn secret(
        &self,
        name: &'static str,
        production: bool,
        development_default: &str,
    ) -> Result<SecretString, ConfigError> {
        match self.text(name) {
            Some(value) if production && value.len() < MIN_SECRET_BYTES => {
                Err(ConfigError::SecretTooShort {
                    name,
                    length: value.len(),
                })
            }
            Some(value) => Ok(SecretString::from(value)),
            None if production => Err(ConfigError::Missing { name }),
            None => Ok(SecretString::from(development_default.to_owned())),
        }
    }
}

fn parse_value<T>(name: &'static str, value: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    // Booleans accept the spellings pydantic accepted in the original backend.
    let normalised = match value.to_ascii_lowercase().as_str() {
        "1" | "yes" | "on" if std::any::type_name::<T>() == "bool" => "true".to_owned(),
        "0" | "no" | "off" if std::any::type_name::<T>() == "bool" => "false".to_owned(),
        other if std::any::type_name::<T>() == "bool" => other.to_owned(),
        _ => value.to_owned(),
    };
    normalised
        .parse()
        .map_err(|error: T::Err| ConfigError::Invalid {
            name,
            value: value.to_owned(),
            reason: error.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Settings::from_map(&map)
    }

    const STRONG: &str = "0123456789abcdef0123456789abcdef-strong";
    const STRONG_2: &str = "fedcba9876543210fedcba9876543210-strong";

    #[test]
    fn development_runs_with_no_variables_at_all() {
        let settings = settings(&[]).expect("development defaults");
        assert_eq!(settings.environment, Environment::Development);
        assert_eq!(settings.network.gateway_port, 8000);
        assert_eq!(settings.network.catalog_url, "http://127.0.0.1:50052");
        assert_eq!(settings.tokens.access_ttl, Duration::from_secs(15 * 60));
        assert_eq!(settings.pagination.default_page_size, 50);
        assert_eq!(settings.redis.audit_stream, "regal.audit");
        assert_eq!(settings.audit.retention_days, 2557);
        assert_eq!(settings.audit.consumer_group, "regal-audit");
        assert_eq!(
            settings.network.upstream_refresh_interval,
            Duration::from_secs(2)
        );
        // A service gives up on a call before the gateway gives up on the service, so the
        // caller hears the service's own answer.
        assert!(settings.request_timeout < settings.gateway.upstream_timeout);
        assert_eq!(
            settings.gateway.dashboard_dir,
            std::path::PathBuf::from("dashboard/dist")
        );
    }

    #[test]
    fn production_refuses_a_missing_secret_by_name() {
        let error = settings(&[("APP_ENV", "production")]).unwrap_err();
        assert_eq!(
            error,
            ConfigError::Missing {
                name: "ACCESS_TOKEN_SECRET_KEY"
            }
        );
    }

    #[test]
    fn production_refuses_a_short_secret() {
        let error = settings(&[
            ("APP_ENV", "production"),
            ("ACCESS_TOKEN_SECRET_KEY", "short"),
        ])
        .unwrap_err();
        assert_eq!(
            error,
            ConfigError::SecretTooShort {
                name: "ACCESS_TOKEN_SECRET_KEY",
                length: 5
            }
        );
        assert!(error.to_string().contains("at least 32 bytes"));
    }

    #[test]
    fn production_refuses_the_default_admin_password() {
        let error = settings(&[
            ("APP_ENV", "production"),
            ("ACCESS_TOKEN_SECRET_KEY", STRONG),
            ("REFRESH_TOKEN_SECRET_KEY", STRONG_2),
        ])
        .unwrap_err();
        assert_eq!(
            error,
            ConfigError::DefaultPassword {
                name: "ADMIN_PASSWORD"
            }
        );
    }

    #[test]
    fn production_accepts_strong_settings() {
        let settings = settings(&[
            ("APP_ENV", "production"),
            ("ACCESS_TOKEN_SECRET_KEY", STRONG),
            ("REFRESH_TOKEN_SECRET_KEY", STRONG_2),
            ("ADMIN_PASSWORD", "a-long-and-unguessable-password"),
            ("DATABASE_URL", "postgres://regal@db/regal"),
            ("REDIS_URL", "redis://cache:6379"),
        ])
        .expect("valid production settings");
        assert!(settings.is_production());
        assert_eq!(settings.telemetry.log_format, LogFormat::Json);
        assert!(settings.gateway.cors_origins.is_empty());
    }

    #[test]
    fn a_malformed_number_names_its_variable() {
        let error = settings(&[("GATEWAY_PORT", "eighty")]).unwrap_err();
        assert!(error.to_string().starts_with("GATEWAY_PORT=\"eighty\""));
    }

    #[test]
    fn debug_accepts_common_boolean_spellings() {
        assert!(settings(&[("DEBUG", "1")]).unwrap().debug);
        assert!(settings(&[("DEBUG", "True")]).unwrap().debug);
        assert!(!settings(&[("DEBUG", "off")]).unwrap().debug);
    }

    #[test]
    fn page_limit_defaults_and_caps() {
        let settings = settings(&[("MAX_PAGE_SIZE", "100")]).unwrap();
        assert_eq!(settings.page_limit(0), 50);
        assert_eq!(settings.page_limit(70), 70);
        assert_eq!(settings.page_limit(1000), 100);
    }
}
