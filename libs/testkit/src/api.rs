//! Typed helpers for the calls most tests make.

use serde_json::{Value, json};

use crate::{TestResponse, TestSuite};

/// A signed-in session.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
}

/// A user created for a test, with the password it signs in with.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub username: String,
    pub password: String,
}

pub const ADMIN_USERNAME: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin123";

impl TestSuite {
    /// `POST /auth/login` with JSON.
    pub async fn login_response(&self, username: &str, password: &str) -> TestResponse {
        self.http()
            .post("/auth/login")
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
    }

    /// Signs in and panics unless it works.
    pub async fn login(&self, username: &str, password: &str) -> Session {
        let response = self.login_response(username, password).await;
        assert_eq!(
            response.status,
            200,
            "login of {username} failed: {}",
            response.text()
        );
        let body = response.json();
        Session {
            access_token: body["access_token"]
                .as_str()
                .expect("access token")
                .to_owned(),
            refresh_token: body["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_owned(),
        }
    }

    /// Signs in as the default admin.
    pub async fn login_admin(&self) -> Session {
        self.login(ADMIN_USERNAME, ADMIN_PASSWORD).await
    }

    /// Creates a user with `role` through `POST /users` as the admin.
    pub async fn create_user(&self, admin: &Session, role: &str) -> TestUser {
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..10];
        let username = format!("{role}_{suffix}");
        let password = format!("pw-{suffix}-long");
        let response = self
            .http()
            .post("/users")
            .bearer(&admin.access_token)
            .json(&json!({
                "full_name": format!("Test {role}"),
                "email": format!("{username}@shop.example"),
                "username": username,
                "password": password,
                "role": role,
            }))
            .send()
            .await;
        assert_eq!(
            response.status,
            201,
            "creating a {role} failed: {}",
            response.text()
        );
        TestUser {
            id: response.json()["id"].as_str().expect("user id").to_owned(),
            username,
            password,
        }
    }

    /// Creates a user with `role` and signs in as them.
    pub async fn session_as(&self, role: &str) -> (TestUser, Session) {
        let admin = self.login_admin().await;
        let user = self.create_user(&admin, role).await;
        let session = self.login(&user.username, &user.password).await;
        (user, session)
    }

    /// The audit events a service's outbox holds for `action`, oldest first.
    pub async fn outbox_events(&self, schema: &str, action: &str) -> Vec<Value> {
        let mut connection = self.database().connect().await;
        let statement = format!(
            "select to_jsonb(o) - 'published_at' from {schema}.outbox o where action = $1 order by occurred_at, event_id"
        );
        sqlx::query_scalar(sqlx::AssertSqlSafe(statement))
            .bind(action)
            .fetch_all(&mut connection)
            .await
            .expect("outbox is readable")
    }
}
