use bytes::{Buf, BufMut, Bytes, BytesMut};
use prost::Message;
use regal_authz::Role;
use regal_proto::catalog::v1::{GetProductRequest, catalog_service_client::CatalogServiceClient};
use regal_testkit::{Part, TestSuite};
use tonic::{Code, Request, metadata::MetadataValue};
use tonic_health::pb::{
    HealthCheckRequest, HealthCheckResponse, health_check_response::ServingStatus,
};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

async fn listed_services(suite: &TestSuite, part: Part) -> Vec<String> {
    let mut client = ServerReflectionClient::new(suite.channel(part));
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection answers")
        .into_inner();
    let response = responses
        .message()
        .await
        .expect("a reflection response")
        .expect("not empty");
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => list
            .service
            .into_iter()
            .map(|service| service.name)
            .collect(),
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

fn get_product_request(token: Option<&str>) -> Request<GetProductRequest> {
    let mut request = Request::new(GetProductRequest {
        id: "0193a0b4-0000-7000-8000-000000000001".to_owned(),
    });
    if let Some(token) = token {
        let value: MetadataValue<_> = format!("Bearer {token}").parse().expect("ascii");
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// Frames one gRPC-web message: flag 0, big-endian length, payload.
fn grpc_web_frame(message: &impl Message) -> Bytes {
    let payload = message.encode_to_vec();
    let mut frame = BytesMut::with_capacity(5 + payload.len());
    frame.put_u8(0);
    frame.put_u32(payload.len() as u32);
    frame.put_slice(&payload);
    frame.freeze()
}

/// Splits a gRPC-web response body into its data frames and its trailer block.
fn parse_grpc_web_body(mut body: Bytes) -> (Vec<Bytes>, String) {
    let mut messages = Vec::new();
    let mut trailers = String::new();
    while body.remaining() >= 5 {
        let flag = body.get_u8();
        let length = body.get_u32() as usize;
        let frame = body.split_to(length);
        if flag & 0x80 != 0 {
            trailers.push_str(&String::from_utf8_lossy(&frame));
        } else {
            messages.push(frame);
        }
    }
    (messages, trailers)
}

#[tokio::test]
async fn reflection_lists_each_service_on_its_own_port_and_all_of_them_at_the_gateway() {
    let suite = TestSuite::start().await;
    for part in Part::SERVICES {
        let services = listed_services(&suite, part).await;
        assert!(
            services.contains(&part.grpc_service_name().to_owned()),
            "{part:?}: {services:?}"
        );
        assert!(
            services.contains(&"grpc.health.v1.Health".to_owned()),
            "{part:?}: {services:?}"
        );
    }
    let at_gateway = listed_services(&suite, Part::Gateway).await;
    for part in Part::SERVICES {
        assert!(
            at_gateway.contains(&part.grpc_service_name().to_owned()),
            "{at_gateway:?}"
        );
    }
}

#[tokio::test]
async fn a_grpc_web_health_check_through_the_gateway_reports_the_service_serving() {
    let suite = TestSuite::start().await;
    let request = HealthCheckRequest {
        service: Part::Catalog.grpc_service_name().to_owned(),
    };

    // The gateway mirrors the services' health a moment after start: poll briefly.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let response = suite
            .http()
            .post("/grpc.health.v1.Health/Check")
            .header("x-grpc-web", "1")
            .body("application/grpc-web+proto", grpc_web_frame(&request))
            .send()
            .await;
        assert_eq!(response.status, 200);
        assert!(
            response
                .header("content-type")
                .unwrap()
                .starts_with("application/grpc-web")
        );
        let (messages, trailers) = parse_grpc_web_body(response.body.clone());
        assert!(trailers.contains("grpc-status:0"), "trailers: {trailers}");
        let answer = HealthCheckResponse::decode(messages[0].clone()).expect("a health response");
        if answer.status() == ServingStatus::Serving {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "catalog never SERVING via gRPC-web"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_regal_call_without_a_token_is_unauthenticated_at_the_gateway_and_at_the_service() {
    let suite = TestSuite::start().await;
    for part in [Part::Gateway, Part::Catalog] {
        let mut client = CatalogServiceClient::new(suite.channel(part));
        let status = client
            .get_product(get_product_request(None))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated, "{part:?}: {status:?}");
    }
}

#[tokio::test]
async fn a_regal_grpc_web_call_without_a_token_is_unauthenticated() {
    let suite = TestSuite::start().await;
    let response = suite
        .http()
        .post("/regal.catalog.v1.CatalogService/GetProduct")
        .body(
            "application/grpc-web+proto",
            grpc_web_frame(&get_product_request(None).into_inner()),
        )
        .send()
        .await;
    assert_eq!(response.status, 200);
    let grpc_status = response
        .header("grpc-status")
        .map(str::to_owned)
        .unwrap_or_else(|| parse_grpc_web_body(response.body.clone()).1);
    assert!(grpc_status.contains("16"), "grpc-status: {grpc_status}");
}

#[tokio::test]
async fn a_forged_token_is_unauthenticated_at_the_gateway_and_at_the_service() {
    let suite = TestSuite::start().await;
    let valid = suite.access_token(Role::Admin);
    let (head, rest) = valid.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let forged_payload = "eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0";
    let forged = format!("{head}.{forged_payload}.{signature}");
    for part in [Part::Gateway, Part::Catalog] {
        let mut client = CatalogServiceClient::new(suite.channel(part));
        let status = client
            .get_product(get_product_request(Some(&forged)))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated, "{part:?}");
    }
}

#[tokio::test]
async fn an_authenticated_call_is_forwarded_to_the_owning_service() {
    let suite = TestSuite::start().await;
    let token = suite.access_token(Role::Admin);
    let mut via_gateway = CatalogServiceClient::new(suite.channel(Part::Gateway));
    let mut direct = CatalogServiceClient::new(suite.channel(Part::Catalog));

    let forwarded = via_gateway
        .get_product(get_product_request(Some(&token)))
        .await;
    let served = direct.get_product(get_product_request(Some(&token))).await;

    // Both reach the catalog service itself and get its answer (the same code).
    let forwarded_code = forwarded
        .map(|_| Code::Ok)
        .unwrap_or_else(|status| status.code());
    let served_code = served
        .map(|_| Code::Ok)
        .unwrap_or_else(|status| status.code());
    assert_eq!(forwarded_code, served_code);
    assert_ne!(forwarded_code, Code::Unauthenticated);
    assert_ne!(forwarded_code, Code::Unavailable);
}
