//! Nothing is lost: the counting tests. Each runs its own Redis on a free port so it can
//! kill it (`kill -9`: whatever Redis held in memory is gone).

use std::time::Duration;

use redis::AsyncCommands;
use regal_config::ExposeSecret;
use regal_testkit::{Part, RedisProcess, TestSuite, WaitFor};
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
    let _replica = suite
        .start_replica(Part::Audit, |settings| {
            settings.audit.consumer_name = "second-replica".to_owned();
        })
        .await;
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
    suite.stop_part(Part::Audit).await;
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
    suite.start_part(Part::Audit).await;

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
            suite.stop_part(Part::Audit).await;
        }
        create_product_with(
            &suite,
            &admin.access_token,
            json!({"name": format!("Waiting {index}")}),
        )
        .await;
    }
    suite.start_part(Part::Audit).await;

    wait_until_audited(&suite, &["auth", "catalog"], RECOVERY_TIMEOUT).await;
    assert_eq!(audited_product_creations(&suite).await, ACTIONS);
    assert_chain_verifies(&suite, &admin.access_token).await;
}

async fn wait_until_published(suite: &TestSuite) {
    let mut connection = suite.database().connect().await;
    let deadline = tokio::time::Instant::now() + RECOVERY_TIMEOUT;
    loop {
        let waiting: i64 =
            sqlx::query_scalar("select count(*) from catalog.outbox where published_at is null")
                .fetch_one(&mut connection)
                .await
                .unwrap();
        if waiting == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "relay did not publish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn contiguous_seq(suite: &TestSuite, service: &str) -> i64 {
    let mut connection = suite.database().connect().await;
    sqlx::query_scalar("select contiguous_seq from audit.producer_progress where service = $1")
        .bind(service)
        .fetch_optional(&mut connection)
        .await
        .unwrap()
        .unwrap_or(0)
}

#[tokio::test]
async fn an_event_missing_from_the_middle_of_the_stream_is_fetched_from_its_producer() {
    let mut suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    suite.stop_part(Part::Audit).await;
    for index in 0..5 {
        create_product_with(
            &suite,
            &admin.access_token,
            json!({"name": format!("Gap {index}")}),
        )
        .await;
    }
    wait_until_published(&suite).await;
    // Redis loses one entry in the middle (as an un-synced write would be lost).
    let client = redis::Client::open(suite.settings.redis.url.expose_secret()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let stream = suite.settings.redis.audit_stream.clone();
    let entries: redis::streams::StreamRangeReply = redis.xrange_all(&stream).await.unwrap();
    let catalog_entries: Vec<&redis::streams::StreamId> = entries
        .ids
        .iter()
        .filter(|entry| entry.get::<String>("service").as_deref() == Some("catalog"))
        .collect();
    assert!(catalog_entries.len() >= 5);
    let lost = catalog_entries[2];
    let lost_event_id: uuid::Uuid = lost.get::<String>("event_id").unwrap().parse().unwrap();
    let _: i64 = redis.xdel(&stream, &[&lost.id]).await.unwrap();

    suite.start_part(Part::Audit).await;
    wait_until_audited(&suite, &["auth", "catalog"], RECOVERY_TIMEOUT).await;
    assert!(
        audited_ids(&suite, "catalog")
            .await
            .contains(&lost_event_id)
    );
    let highest: i64 = {
        let mut connection = suite.database().connect().await;
        sqlx::query_scalar("select max(seq) from catalog.outbox")
            .fetch_one(&mut connection)
            .await
            .unwrap()
    };
    crate::audit_support::wait_for(
        "the contiguous seq to reach the end",
        RECOVERY_TIMEOUT,
        || async { contiguous_seq(&suite, "catalog").await == highest },
    )
    .await;
}

#[tokio::test]
async fn events_that_expired_from_an_outbox_before_arriving_are_recorded_as_lost_not_skipped_silently()
 {
    let mut suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    suite.stop_part(Part::Audit).await;
    for index in 0..4 {
        create_product_with(
            &suite,
            &admin.access_token,
            json!({"name": format!("Expired {index}")}),
        )
        .await;
    }
    wait_until_published(&suite).await;
    // The stream is gone, and the two oldest catalog events expired from the outbox (as
    // after OUTBOX_RETENTION_HOURS).
    let client = redis::Client::open(suite.settings.redis.url.expose_secret()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let _: i64 = redis.del(&suite.settings.redis.audit_stream).await.unwrap();
    let mut connection = suite.database().connect().await;
    let first_seq: i64 = sqlx::query_scalar(
        "select min(seq) from catalog.outbox o where not exists \
         (select 1 from audit.audit_log a where a.id = o.event_id)",
    )
    .fetch_one(&mut connection)
    .await
    .unwrap();
    sqlx::query("delete from catalog.outbox where seq in ($1, $1 + 1)")
        .bind(first_seq)
        .execute(&mut connection)
        .await
        .unwrap();

    suite.start_part(Part::Audit).await;
    wait_until_audited(&suite, &["auth", "catalog"], RECOVERY_TIMEOUT).await;
    let lost: (i64, i64) = sqlx::query_as(
        "select first_seq, last_seq from audit.lost_ranges where service = 'catalog'",
    )
    .fetch_one(&mut connection)
    .await
    .unwrap();
    assert_eq!(lost, (first_seq, first_seq + 1));
    assert_eq!(audited_product_creations(&suite).await, 2);
}
