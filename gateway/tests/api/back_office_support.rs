//! Helpers shared by the back-office tests (customers, salesmen, expenses, custom orders):
//! REST calls as a role, the permission matrix, the sales service's gRPC client, and the
//! audit events the sales outbox holds.

use regal_authz::Role;
use regal_proto::sales::v1::sales_service_client::SalesServiceClient;
use regal_testkit::{Part, TestResponse, TestSuite};
use serde_json::Value;
use tonic::transport::Channel;

pub use crate::catalog_support::authorized;

/// What a role may do with a resource: the expected status of create, list, get, update
/// and delete, in that order.
pub struct Expected {
    pub role: Role,
    pub statuses: [u16; 5],
}

pub const ALL: [u16; 5] = [201, 200, 200, 200, 200];
pub const NONE: [u16; 5] = [403, 403, 403, 403, 403];
pub const ALL_BUT_DELETE: [u16; 5] = [201, 200, 200, 200, 403];

/// Checks every REST operation of `path` for each role, with tokens signed for that role:
/// a record is first created by an admin, then each role creates, lists, reads, updates
/// and deletes it. Roles are checked in the order given (so put the admin, whose delete
/// succeeds, last). Also checks that each operation without a token is 401.
pub async fn check_role_matrix(
    suite: &TestSuite,
    path: &str,
    new_body: impl Fn() -> Value,
    update_body: Value,
    table: &[Expected],
) {
    let admin = suite.access_token(Role::Admin);
    let created = suite
        .http()
        .post(path)
        .bearer(&admin)
        .json(&new_body())
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let item = format!("{path}/{}", created.json()["id"].as_str().expect("id"));

    let anonymous = [
        suite.http().post(path).json(&new_body()).send().await,
        suite.http().get(path).send().await,
        suite.http().get(&item).send().await,
        suite.http().put(&item).json(&update_body).send().await,
        suite.http().delete(&item).send().await,
    ];
    for response in anonymous {
        assert_eq!(response.status, 401, "without a token: {}", response.text());
    }

    for Expected { role, statuses } in table {
        let token = suite.access_token(*role);
        let answers: [TestResponse; 5] = [
            suite
                .http()
                .post(path)
                .bearer(&token)
                .json(&new_body())
                .send()
                .await,
            suite.http().get(path).bearer(&token).send().await,
            suite.http().get(&item).bearer(&token).send().await,
            suite
                .http()
                .put(&item)
                .bearer(&token)
                .json(&update_body)
                .send()
                .await,
            suite.http().delete(&item).bearer(&token).send().await,
        ];
        let got: Vec<u16> = answers.iter().map(|answer| answer.status).collect();
        assert_eq!(
            got, statuses,
            "{role:?} on {path}: create, list, get, update, delete"
        );
        for answer in answers.iter().filter(|answer| answer.status == 403) {
            assert_eq!(answer.json()["detail"], "Not enough permissions");
        }
    }
}

/// The sales service's gRPC client, straight to the service (not through the gateway).
pub fn sales(suite: &TestSuite) -> SalesServiceClient<Channel> {
    SalesServiceClient::new(suite.channel(Part::Sales))
}

/// The sales outbox's events of `entity` with `action` about `entity_id`, oldest first.
pub async fn audit_events(
    suite: &TestSuite,
    entity: &str,
    action: &str,
    entity_id: &str,
) -> Vec<Value> {
    suite
        .outbox_events("sales", action)
        .await
        .into_iter()
        .filter(|event| event["entity"] == entity && event["entity_id"] == entity_id)
        .collect()
}

/// The locations named by a 422 answer's `detail`, in order, dotted (`body.name`).
pub fn invalid_fields(response: &TestResponse) -> Vec<String> {
    assert_eq!(response.status, 422, "{}", response.text());
    response.json()["detail"]
        .as_array()
        .expect("a list of violations")
        .iter()
        .map(|violation| {
            let location: Vec<&str> = violation["loc"]
                .as_array()
                .expect("loc")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            location.join(".")
        })
        .collect()
}
