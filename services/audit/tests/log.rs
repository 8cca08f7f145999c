//! The audit log's storage against real Postgres (and a private Redis for trimming):
//! chained appends from concurrent writers, idempotency, retention with a checkpoint, and
//! trimming the stream only below what the group acknowledged.

use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::{AsyncCommands, streams::StreamRangeReply};
use regal_audit::{
    domain::IncomingEvent,
    retention::{self, RetentionOutcome},
    store::{log::AuditLog, progress},
    stream::trim_acknowledged,
};
use regal_outbox::PublishedEvent;
use regal_testkit::{RedisProcess, TestDatabase, test_settings};
use serde_json::json;
use uuid::Uuid;

async fn migrated_log() -> (TestDatabase, AuditLog) {
    let database = TestDatabase::create().await;
    let settings = test_settings(database.url());
    regal_audit::migrate(&settings)
        .await
        .expect("audit migrates");
    let pool = sqlx::PgPool::connect(database.url()).await.unwrap();
    (database, AuditLog::new(pool))
}

fn event(service: &str, seq: i64, occurred_at: DateTime<Utc>) -> IncomingEvent {
    IncomingEvent::parse(PublishedEvent {
        event_id: Uuid::now_v7(),
        seq,
        service: service.to_owned(),
        occurred_at,
        entity: "product".to_owned(),
        entity_id: format!("p-{seq}"),
        action: "update".to_owned(),
        actor_id: Some(Uuid::now_v7()),
        actor_role: Some("admin".to_owned()),
        request_id: Some(format!("req-{seq}")),
        client_addr: Some("10.0.0.7".to_owned()),
        trace_context: None,
        changes: json!({"before": {"price": "1.00", "ratio": 0.1}, "after": {"price": "1.50", "tags": ["a", 2]}}),
    })
    .expect("a valid event")
}

async fn count(log: &AuditLog) -> i64 {
    sqlx::query_scalar("select count(*) from audit.audit_log")
        .fetch_one(log.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn concurrent_appenders_build_one_unbroken_chain_and_store_each_event_once() {
    let (_database, log) = migrated_log().await;
    let events: Vec<IncomingEvent> = (1..=120)
        .map(|seq| event("catalog", seq, Utc::now()))
        .collect();
    // Four writers (as two replicas with the stream and gap repair would be), each given
    // overlapping halves of the same events.
    let mut writers = Vec::new();
    for writer in 0..4 {
        let log = log.clone();
        let share: Vec<IncomingEvent> = if writer % 2 == 0 {
            events[..80].to_vec()
        } else {
            events[40..].to_vec()
        };
        writers.push(tokio::spawn(async move {
            for chunk in share.chunks(7) {
                log.append(chunk).await.expect("append");
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(count(&log).await, 120);
    let verification = log.verify().await.unwrap();
    assert!(verification.ok, "{verification:?}");
    assert_eq!(verification.checked, 120);
    assert_eq!(progress::advance(log.pool(), "catalog").await.unwrap(), 120);
}

#[tokio::test]
async fn the_contiguous_sequence_stops_at_the_first_gap() {
    let (_database, log) = migrated_log().await;
    let events: Vec<IncomingEvent> = [1, 2, 3, 5, 6]
        .into_iter()
        .map(|seq| event("auth", seq, Utc::now()))
        .collect();
    log.append(&events).await.unwrap();
    assert_eq!(progress::advance(log.pool(), "auth").await.unwrap(), 3);
    log.append(&[event("auth", 4, Utc::now())]).await.unwrap();
    assert_eq!(progress::advance(log.pool(), "auth").await.unwrap(), 6);
}

#[tokio::test]
async fn retention_drops_old_partitions_and_the_rest_of_the_chain_still_verifies() {
    let (_database, log) = migrated_log().await;
    let now = Utc::now();
    let days_ago = |days: i64| now - chrono::Duration::days(days);
    // Back-dated rows, recorded 120 and 90 days ago, then rows recorded now.
    log.append_recorded_at(
        &[
            event("catalog", 1, days_ago(120)),
            event("catalog", 2, days_ago(120)),
        ],
        Some(days_ago(120)),
    )
    .await
    .unwrap();
    log.append_recorded_at(&[event("catalog", 3, days_ago(90))], Some(days_ago(90)))
        .await
        .unwrap();
    log.append(&[event("catalog", 4, now), event("catalog", 5, now)])
        .await
        .unwrap();
    assert_eq!(count(&log).await, 5);

    // Another replica holds the job: this one skips.
    let mut holder = log.pool().begin().await.unwrap();
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(0x7265_6761_6c02_i64)
        .execute(&mut *holder)
        .await
        .unwrap();
    assert_eq!(
        retention::run_once(&log, 60, now).await.unwrap(),
        RetentionOutcome::Skipped
    );
    holder.rollback().await.unwrap();

    let outcome = retention::run_once(&log, 60, now).await.unwrap();
    let RetentionOutcome::Done { dropped } = outcome else {
        panic!("retention did not run");
    };
    assert!(!dropped.is_empty());
    assert_eq!(count(&log).await, 2, "only the rows recorded now remain");
    let verification = log.verify().await.unwrap();
    assert!(verification.ok, "{verification:?}");
    assert_eq!(verification.checked, 2);
    // The chain goes on from the cut.
    log.append(&[event("catalog", 6, now)]).await.unwrap();
    assert!(log.verify().await.unwrap().ok);
    // A second run finds nothing more to drop.
    assert_eq!(
        retention::run_once(&log, 60, now).await.unwrap(),
        RetentionOutcome::Done {
            dropped: Vec::new()
        }
    );
}

#[tokio::test]
async fn the_stream_is_trimmed_only_below_what_the_group_acknowledged() {
    let redis_server = RedisProcess::start().await;
    let client = redis::Client::open(redis_server.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let mut settings = test_settings("postgres://unused@127.0.0.1/unused");
    settings.redis.url = redis_server.url().into();
    let mut manager = regal_db::redis_connection::connect_lazy(&settings.redis).unwrap();
    let stream = "trim.test";
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg("g")
        .arg("0")
        .arg("MKSTREAM")
        .query_async(&mut connection)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for index in 0..10 {
        let id: String = connection.xadd(stream, "*", &[("n", index)]).await.unwrap();
        ids.push(id);
    }
    // The group reads six; acknowledges all of them but the fourth. Four are unread.
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("g")
        .arg("c")
        .arg("COUNT")
        .arg(6)
        .arg("STREAMS")
        .arg(stream)
        .arg(">")
        .query_async(&mut connection)
        .await
        .unwrap();
    let acknowledged: Vec<&String> = ids[..6]
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != 3)
        .map(|(_, id)| id)
        .collect();
    let _: i64 = connection.xack(stream, "g", &acknowledged).await.unwrap();

    let removed = trim_acknowledged(&mut manager, stream, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(removed, 3);
    let left: StreamRangeReply = connection.xrange_all(stream).await.unwrap();
    let left: Vec<String> = left.ids.into_iter().map(|entry| entry.id).collect();
    assert_eq!(
        left,
        ids[3..].to_vec(),
        "the pending entry and everything after it stay"
    );

    // Once it is acknowledged too, trimming goes up to the last delivered entry; the
    // four never read stay.
    let _: i64 = connection.xack(stream, "g", &[&ids[3]]).await.unwrap();
    trim_acknowledged(&mut manager, stream, Duration::from_secs(1))
        .await
        .unwrap();
    let left: StreamRangeReply = connection.xrange_all(stream).await.unwrap();
    assert!(
        left.ids.len() >= 4 && left.ids.len() <= 5,
        "{}",
        left.ids.len()
    );
    assert_eq!(left.ids.last().unwrap().id, ids[9]);
    assert!(left.ids.iter().all(|entry| entry.id >= ids[5]));
}
