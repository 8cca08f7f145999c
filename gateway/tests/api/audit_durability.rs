//! Nothing is lost: the counting tests. Each runs its own Redis on a free port so it can
//! kill it (`kill -9`: whatever Redis held in memory is gone).

use std::time::Duration;

use regal_testkit::{RedisProcess, TestSuite, WaitFor};
use serde_json::json;

use crate::{
    audit_support::{audited_ids, outbox_ids, wait_until_audited},
    catalog_support::create_product_with,
};

const ACTIONS: usize = 200;
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(60);

async fn suite_on(redis: &RedisProcess) -> TestSuite {
    let url = redis.url();
    TestSuite::start_with(
        move |_, settings| {
            settings.redis.url = url.clone().into();
            settings.redis.command_timeout = Duration::from_millis(300);
        },
        WaitFor::Ready,
    )
    .await
}

async fn audited_product_creations(suite: &TestSuite) -> usize {
    let mut connection = suite.database().connect().await;
    let count: i64 = sqlx::query_scalar(
        "select count(*) from audit.audit_log where entity = 'product' and action = 'create'",
    )
    .fetch_one(&mut connection)
    .await
    .unwrap();
    count as usize
}

async fn assert_chain_verifies(suite: &TestSuite, token: &str) {
    let verify = suite.http().get("/audit/verify").bearer(token).send().await;
    assert_eq!(verify.status, 200);
    assert_eq!(verify.json()["ok"], true, "{}", verify.text());
}

#[tokio::test]
async fn all_200_events_arrive_when_redis_is_killed_mid_way_and_comes_back_empty() {
    let mut redis = RedisProcess::start().await;
    let port = redis.port();
    let suite = suite_on(&redis).await;
    // Two replicas consume the same group and append to the same chain.
    let (_replica_shutdown, _replica) = suite.start_audit_replica("second-replica").await;
    let admin = suite.login_admin().await;

    for index in 0..ACTIONS {
        if index == 60 {
            redis.kill();
        }
        if index == 140 {
            redis = RedisProcess::start_on(port).await;
        }
        // Selling goes on while Redis is away.
        create_product_with(
            &suite,
            &admin.access_token,
            json!({"name": format!("Kept {index}")}),
        )
        .await;
    }

    wait_until_audited(&suite, &["auth", "catalog"], RECOVERY_TIMEOUT).await;
    assert_eq!(audited_product_creations(&suite).await, ACTIONS);
    assert_eq!(
        audited_ids(&suite, "catalog").await,
        outbox_ids(&suite, "catalog").await
    );
    assert_chain_verifies(&suite, &admin.access_token).await;
    drop(redis);
}

#[tokio::test]
async fn a_lost_tail_is_fetched_from_the_outbox_when_redis_restarts_empty() {
    // The audit service is down while the events are published, then Redis dies with all
    // of them: nothing comes after them in the stream, so only asking the producer for
    // what follows the last contiguous seq can find them.
    let mut redis = RedisProcess::start().await;
    let port = redis.port();
    let mut suite = suite_on(&redis).await;
    let admin = suite.login_admin().await;
    suite.stop_audit().await;
    for index in 0..ACTIONS {
        create_product_with(
            &suite,
            &admin.access_token,
            json!({"name": format!("Tail {index}")}),
        )
        .await;
    }
    let mut connection = suite.database().connect().await;
    let deadline = tokio::time::Instant::now() + RECOVERY_TIMEOUT;
    loop {
        let waiting: i64 =
            sqlx::query_scalar("select count(*) from catalog.outbox where published_at is null")
                .fetch_one(&mut connection)
                .await
                .unwrap();
        if waiting == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "relay did not publish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    redis.kill();
    let _redis = RedisProcess::start_on(port).await;
    suite.start_audit().await;

    wait_until_audited(&suite, &["auth", "catalog"], RECOVERY_TIMEOUT).await;
    assert_eq!(audited_product_creations(&suite).await, ACTIONS);
    assert_chain_verifies(&suite, &admin.access_token).await;
}

#[tokio::test]
async fn all_200_events_arrive_when_the_audit_service_was_down_during_the_actions() {
    let redis = RedisProcess::start().await;
    let mut suite = suite_on(&redis).await;
    let admin = suite.login_admin().await;
    for index in 0..ACTIONS {
        if index == 50 {
            suite.stop_audit().await;
        }
        create_product_with(
            &suite,
            &admin.access_token,
            json!({"name": format!("Waiting {index}")}),
        )
        .await;
    }
    suite.start_audit().await;

    wait_until_audited(&suite, &["auth", "catalog"], RECOVERY_TIMEOUT).await;
    assert_eq!(audited_product_creations(&suite).await, ACTIONS);
    assert_chain_verifies(&suite, &admin.access_token).await;
}
