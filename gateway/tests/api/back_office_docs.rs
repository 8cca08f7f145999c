//! The OpenAPI document lists the back-office paths.

use regal_testkit::TestSuite;

#[tokio::test]
async fn the_openapi_document_lists_customers_salesmen_expenses_and_custom_orders() {
    let suite = TestSuite::start().await;
    let document = suite.http().get("/openapi.json").send().await.json();
    let paths = &document["paths"];
    for (path, methods) in [
        ("/customers", &["get", "post"][..]),
        ("/customers/{id}", &["get", "put", "delete"][..]),
        ("/salesman", &["get", "post"][..]),
        ("/salesman/{id}", &["get", "put", "delete"][..]),
        ("/salesmen", &["get", "post"][..]),
        ("/salesmen/{id}", &["get", "put", "delete"][..]),
        ("/expenses", &["get", "post"][..]),
        ("/expenses/{id}", &["get", "put", "delete"][..]),
        ("/custom-orders", &["get", "post"][..]),
        ("/custom-orders/{id}", &["get", "put", "delete"][..]),
    ] {
        for method in methods {
            assert!(
                paths[path][method].is_object(),
                "{method} {path} is documented"
            );
        }
    }
}
