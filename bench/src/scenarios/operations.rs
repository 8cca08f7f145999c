//! The requests the scenarios send, as [`Operation`]s: each call builds a fresh request
//! (a random seeded product, a fresh `Idempotency-Key`, …).

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use regal_proto::catalog::v1::{
    GetProductRequest, GetProductResponse, catalog_service_client::CatalogServiceClient,
};

use crate::{
    clients::{Channels, Rest, authorized, grpc_bearer},
    load::{Operation, RequestContext, RequestError, operation},
};

pub const GET_PRODUCT_METHOD: &str = "/regal.catalog.v1.CatalogService/GetProduct";

/// `GET /products/{id}` of a random seeded product over REST.
pub fn get_product_rest(rest: Rest, bearer: HeaderValue, ids: Arc<Vec<String>>) -> Operation {
    operation(move |context: &mut RequestContext| {
        let path = format!("/products/{}", context.rng.pick(&ids));
        let rest = rest.clone();
        let bearer = bearer.clone();
        async move { rest.get(&path, &bearer).await.map(drop) }
    })
}

/// `GetProduct` of a random seeded product over gRPC-web (HTTP/1.1, hand-framed).
pub fn get_product_grpc_web(rest: Rest, bearer: HeaderValue, ids: Arc<Vec<String>>) -> Operation {
    operation(move |context: &mut RequestContext| {
        let request = GetProductRequest {
            id: context.rng.pick(&ids).clone(),
        };
        let rest = rest.clone();
        let bearer = bearer.clone();
        async move {
            let answer: GetProductResponse =
                rest.grpc_web(GET_PRODUCT_METHOD, &bearer, &request).await?;
            answer
                .product
                .map(drop)
                .ok_or_else(|| RequestError::unexpected("GetProduct without a product"))
        }
    })
}

/// `GetProduct` of a random seeded product over gRPC (to the gateway or to catalog), on
/// one of `channels` picked at random.
pub fn get_product_grpc(channels: Channels, token: &str, ids: Arc<Vec<String>>) -> Operation {
    let token = grpc_bearer(token);
    operation(move |context: &mut RequestContext| {
        let request = authorized(
            GetProductRequest {
                id: context.rng.pick(&ids).clone(),
            },
            &token,
        );
        let mut client = CatalogServiceClient::new(channels.pick(&mut context.rng));
        async move {
            let answer = client
                .get_product(request)
                .await
                .map_err(|status| RequestError::grpc(status.code(), status.message()))?;
            answer
                .into_inner()
                .product
                .map(drop)
                .ok_or_else(|| RequestError::unexpected("GetProduct without a product"))
        }
    })
}

/// `CreateProduct` over gRPC of a new product each time (numbered from `first`): a
/// write with an audit event, for the audit pipeline while quick-sell is not there.
pub fn create_product_grpc(channels: Channels, token: &str, first: usize) -> Operation {
    let token = grpc_bearer(token);
    let next = Arc::new(AtomicUsize::new(first));
    operation(move |context: &mut RequestContext| {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let request = authorized(crate::seed::product(index), &token);
        let mut client = CatalogServiceClient::new(channels.pick(&mut context.rng));
        async move {
            client
                .create_product(request)
                .await
                .map(drop)
                .map_err(|status| RequestError::grpc(status.code(), status.message()))
        }
    })
}

/// `GET /products?limit=50` (the first page, as a till opening its product list).
pub fn list_products_rest(rest: Rest, bearer: HeaderValue) -> Operation {
    operation(move |_: &mut RequestContext| {
        let rest = rest.clone();
        let bearer = bearer.clone();
        async move { rest.get("/products?limit=50", &bearer).await.map(drop) }
    })
}

/// `GET /auth/me` (token check, a call to auth, a Postgres read).
pub fn me_rest(rest: Rest, bearer: HeaderValue) -> Operation {
    operation(move |_: &mut RequestContext| {
        let rest = rest.clone();
        let bearer = bearer.clone();
        async move { rest.get("/auth/me", &bearer).await.map(drop) }
    })
}

/// `POST /auth/login` (argon2id verification on every one).
pub fn login_rest(rest: Rest, username: String, password: String) -> Operation {
    let body = Bytes::from(
        serde_json::to_vec(&serde_json::json!({"username": username, "password": password}))
            .expect("JSON serialises"),
    );
    operation(move |_: &mut RequestContext| {
        let request = rest.request(
            Method::POST,
            "/auth/login",
            None,
            Some(("application/json", body.clone())),
        );
        let rest = rest.clone();
        async move { rest.expect(request, StatusCode::OK).await.map(drop) }
    })
}

/// `POST /pos/quick-sell` of `lines` distinct random products, one unit each (a random
/// quantity of 1 to 3 on the first line), with a fresh `Idempotency-Key` every time.
pub fn quick_sell_rest(
    rest: Rest,
    bearer: HeaderValue,
    ids: Arc<Vec<String>>,
    lines: usize,
) -> Operation {
    operation(move |context: &mut RequestContext| {
        let mut items = Vec::with_capacity(lines);
        while items.len() < lines.min(ids.len()) {
            let id = context.rng.pick(&ids);
            if items
                .iter()
                .all(|item: &serde_json::Value| item["product_id"] != id.as_str())
            {
                let quantity = if items.is_empty() {
                    1 + context.rng.below(3)
                } else {
                    1
                };
                items.push(serde_json::json!({"product_id": id, "quantity": quantity}));
            }
        }
        let body = Bytes::from(
            serde_json::to_vec(&serde_json::json!({ "items": items })).expect("JSON serialises"),
        );
        let mut request = rest.request(
            Method::POST,
            "/pos/quick-sell",
            Some(&bearer),
            Some(("application/json", body)),
        );
        let key = uuid::Uuid::new_v4().to_string();
        request.headers_mut().insert(
            "idempotency-key",
            HeaderValue::from_str(&key).expect("a uuid is a valid header"),
        );
        let rest = rest.clone();
        async move { rest.expect(request, StatusCode::CREATED).await.map(drop) }
    })
}
