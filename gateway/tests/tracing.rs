//! Distributed tracing end to end: a quick-sell through the gateway exports one trace over
//! OTLP, with a span per part (gateway route, sales call, catalog reservation, database
//! transactions) linked parent to child, and the audit event names the trace.
//!
//! Its own test binary: it installs the process-wide subscriber with an OTLP exporter
//! before the suite starts, pointed at a fake collector served here.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::{KeyValue, any_value},
};
use regal_testkit::TestSuite;
use serde_json::json;
use tonic::{Request, Response, Status};

/// An OTLP trace receiver that keeps every export.
#[derive(Clone, Default)]
struct FakeCollector {
    exports: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
}

#[tonic::async_trait]
impl TraceService for FakeCollector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.exports.lock().unwrap().push(request.into_inner());
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// One received span, flattened.
#[derive(Debug, Clone)]
struct ReceivedSpan {
    name: String,
    span_id: String,
    parent_span_id: String,
    trace_id: String,
    service: String,
    resource_service: String,
}

fn text_attribute(attributes: &[KeyValue], key: &str) -> String {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| attribute.value.as_ref())
        .and_then(|value| match &value.value {
            Some(any_value::Value::StringValue(text)) => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl FakeCollector {
    fn spans(&self) -> Vec<ReceivedSpan> {
        let exports = self.exports.lock().unwrap();
        let mut spans = Vec::new();
        for export in exports.iter() {
            for resource_spans in &export.resource_spans {
                let resource_service = resource_spans
                    .resource
                    .as_ref()
                    .map(|resource| text_attribute(&resource.attributes, "service.name"))
                    .unwrap_or_default();
                for scope_spans in &resource_spans.scope_spans {
                    for span in &scope_spans.spans {
                        spans.push(ReceivedSpan {
                            name: span.name.clone(),
                            span_id: hex(&span.span_id),
                            parent_span_id: hex(&span.parent_span_id),
                            trace_id: hex(&span.trace_id),
                            service: text_attribute(&span.attributes, "regal.service"),
                            resource_service: resource_service.clone(),
                        });
                    }
                }
            }
        }
        spans
    }
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quick_sell_through_the_gateway_is_one_trace_across_the_parts() {
    let collector = FakeCollector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    regal_telemetry::init_for_tests_with_otlp(&format!("http://{address}")).unwrap();
    assert!(regal_telemetry::exporting());

    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let product = suite
        .http()
        .post("/products")
        .bearer(&admin.access_token)
        .json(
            &json!({"sku": "TRACE-1", "name": "Traced", "unit_price": "4.20",
                      "cost_price": "2.10", "tax_rate": "16", "stock_level": 5}),
        )
        .send()
        .await;
    assert_eq!(product.status, 201, "{}", product.text());
    let product_id = product.json()["id"].as_str().unwrap().to_owned();

    let sold = suite
        .http()
        .post("/pos/quick-sell")
        .bearer(&cashier.access_token)
        .header("traceparent", &format!("00-{TRACE_ID}-{CLIENT_SPAN_ID}-01"))
        .json(&json!({"items": [{"product_id": product_id, "quantity": 2}]}))
        .send()
        .await;
    assert_eq!(sold.status, 201, "{}", sold.text());

    // The batch exporter sends on its own thread: flush until the whole tree has arrived.
    let mut spans = Vec::new();
    for _ in 0..50 {
        tokio::task::spawn_blocking(regal_telemetry::flush)
            .await
            .unwrap();
        spans = collector
            .spans()
            .into_iter()
            .filter(|span| span.trace_id == TRACE_ID)
            .collect();
        let transactions = spans
            .iter()
            .filter(|span| span.name.contains("transaction") || span.name.contains(": "))
            .count();
        if transactions >= 2 && spans.iter().any(|span| span.service == "regal-gateway") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let by_id: HashMap<&str, &ReceivedSpan> = spans
        .iter()
        .map(|span| (span.span_id.as_str(), span))
        .collect();
    let find = |service: &str, name_part: &str| -> &ReceivedSpan {
        spans
            .iter()
            .find(|span| span.service == service && span.name.contains(name_part))
            .unwrap_or_else(|| panic!("no {service} span named *{name_part}* in {spans:#?}"))
    };
    // `descendant` sits below `ancestor` in the tree (directly or through spans of the
    // same part).
    let is_below = |descendant: &ReceivedSpan, ancestor: &ReceivedSpan| {
        let mut current = descendant;
        while let Some(parent) = by_id.get(current.parent_span_id.as_str()) {
            if parent.span_id == ancestor.span_id {
                return true;
            }
            current = parent;
        }
        false
    };

    let gateway = find("regal-gateway", "POST /pos/quick-sell");
    let sales_call = find("regal-sales", "QuickSell");
    let reservation_call = find("regal-sales", "catalog.ReserveStock");
    let catalog_call = find("regal-catalog", "ReserveStock");
    let catalog_transaction = find("regal-catalog", "catalog: reserve stock");
    let sales_transaction = find("regal-sales", "sales: commit sale");

    // The client's span is the root's parent; each part's span hangs below the caller's.
    assert_eq!(gateway.parent_span_id, CLIENT_SPAN_ID);
    assert_eq!(sales_call.parent_span_id, gateway.span_id);
    assert!(is_below(reservation_call, sales_call));
    assert_eq!(catalog_call.parent_span_id, reservation_call.span_id);
    assert!(is_below(catalog_transaction, catalog_call));
    assert!(is_below(sales_transaction, sales_call));
    // All parts run in this one process: the resource names the process, each span its part.
    for span in [gateway, sales_call, catalog_call, sales_transaction] {
        assert_eq!(span.resource_service, "regal", "{span:?}");
    }

    // The sale's audit event carries the trace context of the sales span that recorded it.
    let events = suite.outbox_events("sales", "sell").await;
    let event = events.last().expect("the sale was audited");
    let context = event["trace_context"].as_str().expect("a trace context");
    let parts: Vec<&str> = context.split('-').collect();
    assert_eq!(parts[1], TRACE_ID, "{context}");
    let recorder = by_id
        .get(parts[2])
        .expect("the event names an exported span");
    assert_eq!(recorder.service, "regal-sales");
}
