//! A Postgres database created for one test and dropped after it.

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh, empty database. Dropped (with its connections) when the value is dropped.
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let admin_url = admin_url();
        let name = format!("regal_test_{}", Uuid::new_v4().simple());
        let mut connection = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|error| {
                panic!("cannot reach Postgres at TEST_DATABASE_URL ({admin_url}): {error}")
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&mut connection)
            .await
            .expect("test database is created");
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("TEST_DATABASE_URL must name a database"),
        };
        Self { name, url }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A new connection to this database, for assertions on what was stored.
    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .expect("test database answers")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run inside or outside a runtime (and during a panic): use a thread
        // with its own small runtime.
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(mut connection) = PgConnection::connect(&admin_url()).await {
                        let statement = format!("drop database if exists {name} with (force)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(statement))
                            .execute(&mut connection)
                            .await;
                    }
                });
            }
        });
        let _ = dropper.join();
    }
}
