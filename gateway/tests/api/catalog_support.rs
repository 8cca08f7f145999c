//! Helpers shared by the catalog tests: products and entries through REST, the catalog's
//! gRPC client, and the ledger as the database holds it.

use regal_authz::Role;
use regal_proto::catalog::v1::{
    ReserveStockRequest, StockLine, catalog_service_client::CatalogServiceClient,
};
use regal_testkit::{Part, TestSuite};
use serde_json::{Value, json};
use tonic::{Request, transport::Channel};
use uuid::Uuid;

/// Creates a product through `POST /products` and returns it.
pub async fn create_product(suite: &TestSuite, token: &str, stock_level: i64) -> Value {
    create_product_with(suite, token, json!({"stock_level": stock_level})).await
}

/// Creates a product with a fresh sku, `fields` added to (or replacing) the defaults.
pub async fn create_product_with(suite: &TestSuite, token: &str, fields: Value) -> Value {
    let suffix = &Uuid::new_v4().simple().to_string()[..8];
    let mut body = json!({
        "sku": format!("SKU-{suffix}"), "name": format!("Product {suffix}"),
        "unit_price": "4.20", "cost_price": "2.10", "tax_rate": "16", "stock_level": 0,
    });
    for (key, value) in fields.as_object().expect("fields are an object") {
        body[key] = value.clone();
    }
    let response = suite
        .http()
        .post("/products")
        .bearer(token)
        .json(&body)
        .send()
        .await;
    assert_eq!(
        response.status,
        201,
        "creating a product: {}",
        response.text()
    );
    response.json()
}

/// The product's `stock_level` as `GET /products/{id}` reports it.
pub async fn stock_level(suite: &TestSuite, token: &str, product_id: &str) -> i64 {
    let response = suite
        .http()
        .get(&format!("/products/{product_id}"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["stock_level"]
        .as_i64()
        .expect("stock level")
}

/// Posts a manual entry through `POST /stock` and returns the response.
pub async fn post_entry(
    suite: &TestSuite,
    token: &str,
    product_id: &str,
    entry_type: &str,
    qty: i64,
) -> regal_testkit::TestResponse {
    suite
        .http()
        .post("/stock")
        .bearer(token)
        .json(&json!({"product_id": product_id, "type": entry_type, "qty": qty}))
        .send()
        .await
}

/// The level and the sum of the ledger of a product, straight from the database.
pub async fn level_and_ledger_sum(suite: &TestSuite, product_id: &str) -> (i64, i64) {
    let mut connection = suite.database().connect().await;
    let id = Uuid::parse_str(product_id).expect("uuid");
    sqlx::query_as::<_, (i64, i64)>(
        "select p.stock_level, coalesce((select sum(delta)::bigint from catalog.stock_entries e \
         where e.product_id = p.id), 0) from catalog.products p where p.id = $1",
    )
    .bind(id)
    .fetch_one(&mut connection)
    .await
    .expect("product exists")
}

/// Every product whose level differs from the sum of its ledger (should be none).
pub async fn products_out_of_balance(suite: &TestSuite) -> Vec<(Uuid, i64, i64)> {
    let mut connection = suite.database().connect().await;
    sqlx::query_as::<_, (Uuid, i64, i64)>(
        "select p.id, p.stock_level, coalesce(sum(e.delta), 0)::bigint \
         from catalog.products p left join catalog.stock_entries e on e.product_id = p.id \
         group by p.id having p.stock_level <> coalesce(sum(e.delta), 0)",
    )
    .fetch_all(&mut connection)
    .await
    .expect("ledger is readable")
}

/// The catalog's gRPC client, straight to the service.
pub fn catalog(suite: &TestSuite) -> CatalogServiceClient<Channel> {
    CatalogServiceClient::new(suite.channel(Part::Catalog))
}

/// A gRPC request carrying a token of `role`.
pub fn authorized<T>(suite: &TestSuite, role: Role, message: T) -> Request<T> {
    let mut request = Request::new(message);
    let token = suite.access_token(role);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii token"),
    );
    request
}

pub fn line(product_id: &str, quantity: i64) -> StockLine {
    StockLine {
        product_id: product_id.to_owned(),
        quantity,
    }
}

pub fn reserve(sale_id: Uuid, lines: Vec<StockLine>) -> ReserveStockRequest {
    ReserveStockRequest {
        sale_id: sale_id.to_string(),
        lines,
    }
}

/// A small deterministic generator for the randomised tests (no dependency needed, and
/// a failure replays with the same seed).
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1) as u64) as i64
    }
}
