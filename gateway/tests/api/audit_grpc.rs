//! The audit contracts over gRPC: `regal.outbox.v1` on every producer (what gap repair
//! calls) and `regal.audit.v1` on the audit service.

use regal_testkit::TestSuite;
use serde_json::json;

use crate::{
    audit::AUDIT_TIMEOUT, audit_support::wait_until_audited, catalog_support::create_product_with,
};

fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

#[tokio::test]
async fn every_producer_serves_its_outbox_by_sequence_number_to_admins_only() {
    use regal_proto::outbox::v1::{
        ListOutboxEventsRequest, outbox_service_client::OutboxServiceClient,
    };
    use regal_testkit::Part;
    use tonic::Code;

    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    create_product_with(&suite, &admin.access_token, json!({})).await;
    wait_until_audited(&suite, &["auth", "catalog"], AUDIT_TIMEOUT).await;
    let list = |after_seq: i64, limit: i32| ListOutboxEventsRequest { after_seq, limit };

    for (part, service, at_least) in [
        (Part::Auth, "auth", 2),
        (Part::Catalog, "catalog", 1),
        (Part::Sales, "sales", 0),
    ] {
        let mut client = OutboxServiceClient::new(suite.channel(part));
        let response = client
            .list_outbox_events(with_token(list(0, 0), &admin.access_token))
            .await
            .unwrap_or_else(|status| panic!("{service}: {status}"))
            .into_inner();
        assert!(response.events.len() >= at_least, "{service}");
        let seqs: Vec<i64> = response.events.iter().map(|event| event.seq).collect();
        let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
        assert_eq!(seqs, expected, "{service}: dense and in order");
        assert!(response.events.iter().all(|event| event.service == service));
        assert_eq!(response.last_seq, seqs.last().copied().unwrap_or(0));
        let after_the_end = client
            .list_outbox_events(with_token(list(response.last_seq, 10), &admin.access_token))
            .await
            .unwrap()
            .into_inner();
        assert!(after_the_end.events.is_empty());
        assert_eq!(after_the_end.last_seq, response.last_seq);
    }

    let mut catalog = OutboxServiceClient::new(suite.channel(Part::Catalog));
    let one = catalog
        .list_outbox_events(with_token(list(0, 1), &admin.access_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.events.len(), 1);
    let (_, cashier) = suite.session_as("cashier").await;
    let denied = catalog
        .list_outbox_events(with_token(list(0, 0), &cashier.access_token))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let anonymous = catalog
        .list_outbox_events(tonic::Request::new(list(0, 0)))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let negative = catalog
        .list_outbox_events(with_token(list(-1, 0), &admin.access_token))
        .await
        .unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
    // The audit service produces no events of its own.
    let mut audit = OutboxServiceClient::new(suite.channel(Part::Audit));
    let none = audit
        .list_outbox_events(with_token(list(0, 0), &admin.access_token))
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::Unimplemented);
}

#[tokio::test]
async fn the_grpc_api_lists_and_verifies_for_admins() {
    use regal_proto::audit::v1::{
        ListAuditEventsRequest, VerifyChainRequest, audit_service_client::AuditServiceClient,
    };
    use regal_testkit::Part;

    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    wait_until_audited(&suite, &["auth"], AUDIT_TIMEOUT).await;
    let mut client = AuditServiceClient::new(suite.channel(Part::Audit));
    let page = client
        .list_audit_events(with_token(
            ListAuditEventsRequest {
                action: Some("login".to_owned()),
                limit: 1,
                ..Default::default()
            },
            &admin.access_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].service, "auth");
    let verified = client
        .verify_chain(with_token(VerifyChainRequest {}, &admin.access_token))
        .await
        .unwrap()
        .into_inner();
    assert!(verified.ok);
    assert!(verified.first_bad_id.is_none());
    let (_, employee) = suite.session_as("employee").await;
    let denied = client
        .verify_chain(with_token(VerifyChainRequest {}, &employee.access_token))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
}
