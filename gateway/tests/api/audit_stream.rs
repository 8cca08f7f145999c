//! The audit stream as the audit service consumes it: duplicates stored once, malformed
//! entries set aside without holding up the ones behind them.

use std::time::Duration;

use redis::AsyncCommands;
use regal_config::ExposeSecret;
use regal_testkit::{TestSuite, WaitFor};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    audit::AUDIT_TIMEOUT,
    audit_support::{stored_copies, wait_for, wait_until_audited},
    catalog_support::create_product_with,
};

#[tokio::test]
async fn an_event_delivered_twice_is_stored_once() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    create_product_with(&suite, &admin.access_token, json!({})).await;
    wait_until_audited(&suite, &["auth", "catalog"], AUDIT_TIMEOUT).await;
    let events = suite.outbox_events("catalog", "create").await;
    let event = events.last().unwrap().clone();
    let event_id: Uuid = event["event_id"].as_str().unwrap().parse().unwrap();

    let client = redis::Client::open(suite.settings.redis.url.expose_secret()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let stream = &suite.settings.redis.audit_stream;
    let payload = event.to_string();
    for _ in 0..2 {
        let _: String = redis
            .xadd(
                stream,
                "*",
                &[
                    ("event_id", event_id.to_string()),
                    ("service", "catalog".into()),
                    ("seq", event["seq"].to_string()),
                    ("event", payload.clone()),
                ],
            )
            .await
            .unwrap();
    }
    wait_for("the copies to be acknowledged", AUDIT_TIMEOUT, || {
        let mut redis = redis.clone();
        async move { group_is_idle(&mut redis, stream).await }
    })
    .await;
    assert_eq!(stored_copies(&suite, event_id).await, 1);
}

/// Every entry of the stream delivered to the group and acknowledged.
async fn group_is_idle(redis: &mut redis::aio::MultiplexedConnection, stream: &str) -> bool {
    let groups: redis::streams::StreamInfoGroupsReply = match redis.xinfo_groups(stream).await {
        Ok(groups) => groups,
        Err(_) => return false,
    };
    groups
        .groups
        .iter()
        .all(|group| group.pending == 0 && group.lag == Some(0))
}

#[tokio::test]
async fn a_malformed_entry_is_set_aside_without_holding_up_the_events_behind_it() {
    // Only the stream delivers here (no gap repair), so the valid event can only come
    // through the entries behind the malformed one.
    let suite = TestSuite::start_with(
        |_, settings| {
            settings.audit.gap_check_interval = Duration::from_secs(3600);
            settings.audit.claim_idle = Duration::from_millis(200);
        },
        WaitFor::Ready,
    )
    .await;
    let client = redis::Client::open(suite.settings.redis.url.expose_secret()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let stream = suite.settings.redis.audit_stream.clone();
    let bad_id: String = redis
        .xadd(
            &stream,
            "*",
            &[
                ("event_id", "x"),
                ("service", "catalog"),
                ("seq", "1"),
                ("event", "{not json"),
            ],
        )
        .await
        .unwrap();
    let admin = suite.login_admin().await;
    let product = create_product_with(&suite, &admin.access_token, json!({})).await;

    let mut connection = suite.database().connect().await;
    let product_id = product["id"].as_str().unwrap().to_owned();
    wait_for(
        "the product's event behind the bad entry",
        AUDIT_TIMEOUT,
        || {
            let product_id = product_id.clone();
            let url = suite.database().url().to_owned();
            async move {
                let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                    .await
                    .unwrap();
                sqlx::query_scalar::<_, i64>(
                    "select count(*) from audit.audit_log where entity_id = $1",
                )
                .bind(product_id)
                .fetch_one(&mut connection)
                .await
                .unwrap_or(0)
                    == 1
            }
        },
    )
    .await;
    wait_for("the bad entry to be set aside", AUDIT_TIMEOUT, || {
        let url = suite.database().url().to_owned();
        async move {
            let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            sqlx::query_scalar::<_, i64>("select count(*) from audit.dead_letters")
                .fetch_one(&mut connection)
                .await
                .unwrap_or(0)
                == 1
        }
    })
    .await;
    let (stream_id, deliveries, fields): (String, i64, Value) =
        sqlx::query_as("select stream_id, deliveries, fields from audit.dead_letters")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    assert_eq!(stream_id, bad_id);
    assert!(deliveries >= 3, "set aside after {deliveries} deliveries");
    assert_eq!(fields["event"], "{not json");
    wait_for("nothing pending", AUDIT_TIMEOUT, || {
        let mut redis = redis.clone();
        let stream = stream.clone();
        async move { group_is_idle(&mut redis, &stream).await }
    })
    .await;
}
