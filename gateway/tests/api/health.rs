use regal_testkit::{Part, TestSuite, WaitFor};
use serde_json::json;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

async fn check(suite: &TestSuite, part: Part, service: &str) -> ServingStatus {
    let mut client = HealthClient::new(suite.channel(part));
    client
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .expect("health check answers")
        .into_inner()
        .status()
}

#[tokio::test]
async fn root_and_liveness_answer_as_the_original_backend_did() {
    let suite = TestSuite::start().await;

    let root = suite.http().get("/").send().await;
    assert_eq!(root.status, 200);
    assert_eq!(
        root.json(),
        json!({"message": "Welcome to Regal POS Backend API"})
    );

    let health = suite.http().get("/health").send().await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "healthy");
    assert_eq!(health.json()["service"], "regal-pos-gateway");
}

#[tokio::test]
async fn readiness_and_database_health_report_every_dependency_when_all_are_up() {
    let suite = TestSuite::start().await;

    let ready = suite.http().get("/health/ready").send().await;
    assert_eq!(ready.status, 200);
    assert_eq!(
        ready.json(),
        json!({"status": "ready", "checks": {
            "auth": "serving", "catalog": "serving", "sales": "serving", "audit": "serving",
            "postgres": "ok", "redis": "ok"
        }})
    );

    let database = suite.http().get("/health/db").send().await;
    assert_eq!(database.status, 200);
    assert_eq!(database.json()["status"], "healthy");
    assert_eq!(database.json()["database"], "connected");
}

#[tokio::test]
async fn every_service_reports_serving_on_grpc_health() {
    let suite = TestSuite::start().await;
    for part in Part::SERVICES {
        assert_eq!(
            check(&suite, part, "").await,
            ServingStatus::Serving,
            "{part:?} overall"
        );
        assert_eq!(
            check(&suite, part, part.grpc_service_name()).await,
            ServingStatus::Serving,
            "{part:?} by name"
        );
    }
}

#[tokio::test]
async fn an_unknown_service_name_is_not_found_on_grpc_health() {
    let suite = TestSuite::start().await;
    let mut client = HealthClient::new(suite.channel(Part::Catalog));
    let status = client
        .check(HealthCheckRequest {
            service: "regal.nothing.v1.Nothing".to_owned(),
        })
        .await
        .expect_err("unknown service is an error");
    assert_eq!(status.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn a_service_whose_database_is_unreachable_is_not_serving_and_the_gateway_is_not_ready() {
    let suite = TestSuite::start_with(
        |part, settings| {
            if part == Part::Catalog {
                settings.database.url = "postgres://postgres@127.0.0.1:1/unreachable"
                    .to_owned()
                    .into();
            }
        },
        WaitFor::Listening,
    )
    .await;

    assert_eq!(
        check(&suite, Part::Catalog, "").await,
        ServingStatus::NotServing
    );
    assert_eq!(
        check(&suite, Part::Catalog, Part::Catalog.grpc_service_name()).await,
        ServingStatus::NotServing
    );

    let ready = suite.http().get("/health/ready").send().await;
    assert_eq!(ready.status, 503);
    let body = ready.json();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["catalog"], "not_serving");
    assert_eq!(body["checks"]["redis"], "ok");

    let database = suite.http().get("/health/db").send().await;
    assert_eq!(database.status, 503);
    assert_eq!(database.json()["status"], "unhealthy");
}
