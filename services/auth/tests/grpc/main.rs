//! Tests of the auth service through the real suite.

use std::time::Duration;

use regal_testkit::TestSuite;
use tokio_util::sync::CancellationToken;
use tonic::transport::Endpoint;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

#[tokio::test]
async fn the_default_admin_exists_after_the_first_start_with_a_hashed_password_and_an_audit_event()
{
    let suite = TestSuite::start().await;
    let mut connection = suite.database().connect().await;

    let (role, password_hash, is_active): (String, String, bool) = sqlx::query_as(
        "select role, password_hash, is_active from auth.users where username = 'admin'",
    )
    .fetch_one(&mut connection)
    .await
    .expect("the default admin exists");
    assert_eq!(role, "admin");
    assert!(is_active);
    assert!(password_hash.starts_with("$argon2id$"), "{password_hash}");
    assert!(!password_hash.contains("admin123"));

    let events: i64 = sqlx::query_scalar(
        "select count(*) from auth.outbox where entity = 'user' and action = 'create'",
    )
    .fetch_one(&mut connection)
    .await
    .expect("outbox is readable");
    assert_eq!(events, 1);
}

#[tokio::test]
async fn a_second_start_against_the_same_database_does_not_create_a_second_admin() {
    let suite = TestSuite::start().await;
    let mut settings = suite.settings.clone();
    settings.network.auth_port = 0;
    let replica = regal_auth::Application::build(settings)
        .await
        .expect("binds");
    let replica_port = replica.port();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(replica.run_until_stopped(shutdown.clone()));

    // SERVING means its preparation (migrations, then the default admin) has succeeded.
    let channel = Endpoint::from_shared(format!("http://127.0.0.1:{replica_port}"))
        .expect("valid endpoint")
        .connect_lazy();
    let mut health = HealthClient::new(channel);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let status = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map(|response| response.into_inner().status());
        if matches!(status, Ok(ServingStatus::Serving)) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "replica never became SERVING"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut connection = suite.database().connect().await;
    let admins: i64 =
        sqlx::query_scalar("select count(*) from auth.users where username = 'admin'")
            .fetch_one(&mut connection)
            .await
            .expect("users are readable");
    assert_eq!(admins, 1);

    shutdown.cancel();
    running
        .await
        .expect("replica task")
        .expect("replica stops cleanly");
}
