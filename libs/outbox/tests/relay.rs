//! The relay against real Postgres and a private Redis that is down, then up.

use std::time::Duration;

use redis::{AsyncCommands, streams::StreamRangeReply};
use regal_outbox::{EventContext, NewEvent, Outbox, Relay};
use regal_testkit::{RedisProcess, TestDatabase, free_port, test_settings};
use serde_json::json;
use tokio_util::sync::CancellationToken;

async fn record_events(pool: &sqlx::PgPool, outbox: &Outbox, count: usize) {
    for index in 0..count {
        let mut transaction = pool.begin().await.unwrap();
        outbox
            .record(
                &mut transaction,
                &EventContext::default(),
                NewEvent {
                    entity: "product",
                    entity_id: format!("p-{index}"),
                    action: "create",
                    changes: json!({"after": {"index": index}}),
                },
            )
            .await
            .unwrap();
        transaction.commit().await.unwrap();
    }
}

async fn published_count(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from demo.outbox where published_at is not null")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn events_wait_while_redis_is_down_and_arrive_in_sequence_when_it_is_back() {
    let database = TestDatabase::create().await;
    let mut settings = test_settings(database.url());
    let redis_port = free_port();
    settings.redis.url = format!("redis://127.0.0.1:{redis_port}").into();
    settings.redis.command_timeout = Duration::from_millis(200);
    let pool = sqlx::PgPool::connect(database.url()).await.unwrap();
    let outbox = Outbox::new("demo");
    outbox.migrate(&pool).await.unwrap();
    record_events(&pool, &outbox, 5).await;

    let redis = regal_db::redis_connection::connect_lazy(&settings.redis).unwrap();
    let relay = Relay::new(
        &outbox,
        pool.clone(),
        redis,
        &settings.redis,
        settings.outbox.clone(),
    );
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(relay.run(shutdown.clone()));

    // Redis is down: the events are numbered but stay unpublished, and the relay lives on.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(published_count(&pool).await, 0);
    assert!(!running.is_finished());
    let numbered: Vec<i64> = sqlx::query_scalar("select seq from demo.outbox order by seq")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(numbered, vec![1, 2, 3, 4, 5]);

    let redis_server = RedisProcess::start_on(redis_port).await;
    record_events(&pool, &outbox, 2).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while published_count(&pool).await < 7 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "events were not published after Redis came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let client = redis::Client::open(redis_server.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let entries: StreamRangeReply = connection
        .xrange_all(&settings.redis.audit_stream)
        .await
        .unwrap();
    let sequence: Vec<i64> = entries
        .ids
        .iter()
        .map(|entry| entry.get::<i64>("seq").unwrap())
        .collect();
    assert_eq!(sequence, vec![1, 2, 3, 4, 5, 6, 7]);
    let first: serde_json::Value =
        serde_json::from_str(&entries.ids[0].get::<String>("event").unwrap()).unwrap();
    assert_eq!(first["service"], "demo");
    assert_eq!(first["entity_id"], "p-0");

    shutdown.cancel();
    running.await.unwrap();
}

#[tokio::test]
async fn a_full_stream_makes_events_wait_in_the_outbox_instead_of_trimming_unread_ones() {
    let database = TestDatabase::create().await;
    let mut settings = test_settings(database.url());
    let redis_server = RedisProcess::start().await;
    settings.redis.url = redis_server.url().into();
    settings.redis.audit_stream_max_len = 3;
    let pool = sqlx::PgPool::connect(database.url()).await.unwrap();
    let outbox = Outbox::new("demo");
    outbox.migrate(&pool).await.unwrap();
    record_events(&pool, &outbox, 5).await;

    let redis = regal_db::redis_connection::connect_lazy(&settings.redis).unwrap();
    let mut relay = Relay::new(
        &outbox,
        pool.clone(),
        redis,
        &settings.redis,
        settings.outbox.clone(),
    );
    assert_eq!(relay.publish_once().await.unwrap(), 3);
    assert_eq!(relay.publish_once().await.unwrap(), 0, "the stream is full");
    assert_eq!(published_count(&pool).await, 3);

    // Once the audit service has trimmed what it acknowledged, the rest follows.
    let client = redis::Client::open(redis_server.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let _: i64 = redis::cmd("XTRIM")
        .arg(&settings.redis.audit_stream)
        .arg("MAXLEN")
        .arg(0)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(relay.publish_once().await.unwrap(), 2);
    assert_eq!(published_count(&pool).await, 5);

    // Every event can also be read back by sequence number, as the audit service does.
    let listed = outbox.list_after(&pool, 2, 10).await.unwrap();
    let seqs: Vec<i64> = listed.iter().map(|event| event.seq).collect();
    assert_eq!(seqs, vec![3, 4, 5]);
}
