//! Helpers shared by the audit tests: waiting for events to reach the audit log, and what
//! the log and the outboxes hold.

use std::{collections::BTreeSet, future::Future, time::Duration};

use regal_testkit::TestSuite;
use uuid::Uuid;

/// Polls `check` every 100 ms until it holds, or fails the test after `timeout`.
pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Event ids in `schema`'s outbox.
pub async fn outbox_ids(suite: &TestSuite, schema: &str) -> BTreeSet<Uuid> {
    let mut connection = suite.database().connect().await;
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select event_id from {schema}.outbox"
    )))
    .fetch_all(&mut connection)
    .await
    .expect("outbox is readable")
    .into_iter()
    .collect()
}

/// Event ids of `service` in the audit log (each once: the ids are checked unique).
pub async fn audited_ids(suite: &TestSuite, service: &str) -> BTreeSet<Uuid> {
    let mut connection = suite.database().connect().await;
    let ids: Vec<Uuid> = sqlx::query_scalar("select id from audit.audit_log where service = $1")
        .bind(service)
        .fetch_all(&mut connection)
        .await
        .unwrap_or_default();
    let unique: BTreeSet<Uuid> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "an event was stored twice");
    unique
}

/// Waits until every event in the outboxes of `schemas` is in the audit log.
pub async fn wait_until_audited(suite: &TestSuite, schemas: &[&str], timeout: Duration) {
    wait_for("every outbox event in the audit log", timeout, || async {
        for schema in schemas {
            let expected = outbox_ids(suite, schema).await;
            let audited = audited_ids(suite, schema).await;
            if !expected.is_subset(&audited) {
                return false;
            }
        }
        true
    })
    .await;
}

/// Rows in the audit log with this id.
pub async fn stored_copies(suite: &TestSuite, id: Uuid) -> i64 {
    let mut connection = suite.database().connect().await;
    sqlx::query_scalar("select count(*) from audit.audit_log where id = $1")
        .bind(id)
        .fetch_one(&mut connection)
        .await
        .expect("audit log is readable")
}
