//! The stock ledger through the gateway: entries move the level, never below zero; the
//! ledger is append-only; reversals; idempotency keys.

use regal_authz::Role;
use regal_proto::catalog::v1::{ReleaseStockRequest, RestockForRefundRequest};
use regal_testkit::TestSuite;
use serde_json::json;
use uuid::Uuid;

use crate::catalog_support::{
    XorShift, authorized, catalog, create_product, level_and_ledger_sum, line, post_entry,
    products_out_of_balance, reserve, stock_level,
};

#[tokio::test]
async fn in_out_and_adjust_move_the_level_and_an_overdraw_is_409_with_nothing_moved() {
    let suite = TestSuite::start().await;
    let (_, employee) = suite.session_as("employee").await;
    let token = &employee.access_token;
    let product = create_product(&suite, token, 5).await;
    let id = product["id"].as_str().unwrap();

    let received = post_entry(&suite, token, id, "IN", 10).await;
    assert_eq!(received.status, 201, "{}", received.text());
    let entry = received.json();
    assert_eq!(
        received.header("location"),
        Some(format!("/stock/{}", entry["id"].as_str().unwrap()).as_str())
    );
    assert_eq!(entry["type"], "IN");
    assert_eq!(entry["qty"], 10);
    assert_eq!(stock_level(&suite, token, id).await, 15);

    assert_eq!(post_entry(&suite, token, id, "out", 4).await.status, 201);
    assert_eq!(
        post_entry(&suite, token, id, "ADJUST", -1).await.status,
        201
    );
    assert_eq!(stock_level(&suite, token, id).await, 10);

    let overdraw = post_entry(&suite, token, id, "OUT", 11).await;
    assert_eq!(overdraw.status, 409);
    let message = overdraw.json()["detail"].as_str().unwrap().to_owned();
    assert!(message.contains("10 available"), "{message}");
    let negative_adjust = post_entry(&suite, token, id, "ADJUST", -11).await;
    assert_eq!(negative_adjust.status, 409);
    assert_eq!(stock_level(&suite, token, id).await, 10);
    assert_eq!(level_and_ledger_sum(&suite, id).await, (10, 10));

    let listed = suite
        .http()
        .get(&format!("/stock?product_id={id}"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(listed.header("x-total-count"), Some("4"));
    let types: Vec<&str> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| match entry["type"].as_str().unwrap() {
            "IN" => "IN",
            "OUT" => "OUT",
            _ => "ADJUST",
        })
        .collect();
    assert_eq!(types, ["ADJUST", "OUT", "IN", "IN"], "newest first");
}

#[tokio::test]
async fn bad_entries_are_422_and_unknown_products_404() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let product = create_product(&suite, token, 5).await;
    let id = product["id"].as_str().unwrap();
    for (entry_type, qty, field) in [
        ("IN", 0, "qty"),
        ("OUT", -3, "qty"),
        ("ADJUST", 0, "qty"),
        ("SALE", 1, "type"),
        ("GIFT", 1, "type"),
    ] {
        let response = post_entry(&suite, token, id, entry_type, qty).await;
        assert_eq!(response.status, 422, "{entry_type} {qty}");
        assert_eq!(response.json()["detail"][0]["loc"][1], field);
    }
    let bad_date = suite
        .http()
        .post("/stock")
        .bearer(token)
        .json(&json!({"product_id": id, "type": "IN", "qty": 1, "expiry": "31/12/2030"}))
        .send()
        .await;
    assert_eq!(bad_date.status, 422);
    let unknown = post_entry(&suite, token, &Uuid::now_v7().to_string(), "IN", 1).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(stock_level(&suite, token, id).await, 5);
}

#[tokio::test]
async fn an_entry_changes_only_its_descriptive_fields() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let product = create_product(&suite, token, 0).await;
    let id = product["id"].as_str().unwrap();
    let entry = suite
        .http()
        .post("/stock")
        .bearer(token)
        .json(
            &json!({"product_id": id, "type": "IN", "qty": 6, "location": "Shelf A",
                      "batch": "B-1", "expiry": "2030-01-31", "ref": "PO-7"}),
        )
        .send()
        .await
        .json();
    assert_eq!(entry["expiry"], "2030-01-31");
    let path = format!("/stock/{}", entry["id"].as_str().unwrap());
    let response = suite
        .http()
        .put(&path)
        .bearer(token)
        .json(&json!({"location": "<b>Back</b> room", "expiry": null, "qty": 600, "type": "OUT"}))
        .send()
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let updated = response.json();
    assert_eq!(updated["location"], "Back room");
    assert_eq!(updated["expiry"], json!(null));
    assert_eq!(updated["batch"], "B-1");
    assert_eq!(updated["ref"], "PO-7");
    assert_eq!(updated["qty"], 6);
    assert_eq!(updated["type"], "IN");
    assert_eq!(stock_level(&suite, token, id).await, 6);
    let fetched = suite.http().get(&path).bearer(token).send().await.json();
    assert_eq!(fetched, updated);
}

#[tokio::test]
async fn deleting_an_entry_posts_a_reversal_once_and_never_below_zero() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, employee) = suite.session_as("employee").await;
    let token = &admin.access_token;
    let product = create_product(&suite, token, 0).await;
    let id = product["id"].as_str().unwrap();
    let received = post_entry(&suite, token, id, "IN", 8).await.json();
    let received_path = format!("/stock/{}", received["id"].as_str().unwrap());
    let sold = post_entry(&suite, token, id, "OUT", 5).await.json();
    let sold_path = format!("/stock/{}", sold["id"].as_str().unwrap());

    let forbidden = suite
        .http()
        .delete(&sold_path)
        .bearer(&employee.access_token)
        .send()
        .await;
    assert_eq!(forbidden.status, 403);
    // Reversing the delivery of 8 would leave -5.
    let too_much = suite
        .http()
        .delete(&received_path)
        .bearer(token)
        .send()
        .await;
    assert_eq!(too_much.status, 409);
    assert_eq!(stock_level(&suite, token, id).await, 3);

    let reversed = suite.http().delete(&sold_path).bearer(token).send().await;
    assert_eq!(reversed.status, 200, "{}", reversed.text());
    assert_eq!(
        reversed.json(),
        json!({"message": "Stock entry deleted successfully"})
    );
    assert_eq!(stock_level(&suite, token, id).await, 8);
    let again = suite.http().delete(&sold_path).bearer(token).send().await;
    assert_eq!(again.status, 409);
    assert_eq!(
        again.json(),
        json!({"detail": "Stock entry is already reversed"})
    );
    assert_eq!(stock_level(&suite, token, id).await, 8);

    let original = suite.http().get(&sold_path).bearer(token).send().await;
    assert_eq!(
        original.status, 200,
        "the reversed entry stays in the ledger"
    );
    let reversals = suite
        .http()
        .get(&format!("/stock?product_id={id}&type=REVERSAL"))
        .bearer(token)
        .send()
        .await
        .json();
    assert_eq!(reversals[0]["type"], "ADJUST");
    assert_eq!(reversals[0]["ledger_type"], "REVERSAL");
    assert_eq!(reversals[0]["qty"], 5);
    assert_eq!(reversals[0]["ref"], sold["id"]);
    let reversal_path = format!("/stock/{}", reversals[0]["id"].as_str().unwrap());
    let reverse_reversal = suite
        .http()
        .delete(&reversal_path)
        .bearer(token)
        .send()
        .await;
    assert_eq!(reverse_reversal.status, 409);
    assert_eq!(level_and_ledger_sum(&suite, id).await, (8, 8));
}

#[tokio::test]
async fn the_same_idempotency_key_from_the_same_user_posts_once() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, employee) = suite.session_as("employee").await;
    let product = create_product(&suite, &admin.access_token, 0).await;
    let id = product["id"].as_str().unwrap();
    let post = |token: String, key: &'static str, qty: i64| {
        let suite = &suite;
        async move {
            suite
                .http()
                .post("/stock")
                .bearer(&token)
                .header("idempotency-key", key)
                .json(&json!({"product_id": id, "type": "IN", "qty": qty}))
                .send()
                .await
        }
    };
    let first = post(admin.access_token.clone(), "delivery-1", 4).await;
    let retry = post(admin.access_token.clone(), "delivery-1", 4).await;
    assert_eq!(first.status, 201);
    assert_eq!(retry.status, 201);
    assert_eq!(first.json()["id"], retry.json()["id"]);
    assert_eq!(stock_level(&suite, &admin.access_token, id).await, 4);

    let different_body = post(admin.access_token.clone(), "delivery-1", 5).await;
    assert_eq!(different_body.status, 409);
    let other_user = post(employee.access_token.clone(), "delivery-1", 4).await;
    assert_eq!(other_user.status, 201);
    assert_ne!(other_user.json()["id"], first.json()["id"]);
    assert_eq!(stock_level(&suite, &admin.access_token, id).await, 8);

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let http = suite.http().clone();
        let token = admin.access_token.clone();
        let body = json!({"product_id": id, "type": "IN", "qty": 1});
        tasks.spawn(async move {
            http.post("/stock")
                .bearer(&token)
                .header("idempotency-key", "delivery-2")
                .json(&body)
                .send()
                .await
        });
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(answer) = tasks.join_next().await {
        let answer = answer.expect("task ran");
        assert_eq!(answer.status, 201, "{}", answer.text());
        ids.insert(answer.json()["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(level_and_ledger_sum(&suite, id).await, (9, 9));
}

#[tokio::test]
async fn the_level_always_equals_the_sum_of_the_ledger_after_a_random_mix_of_operations() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let mut random = XorShift::new(0x5EED_CAFE);
    let mut products = Vec::new();
    for _ in 0..3 {
        let product = create_product(&suite, token, random.between(0, 20)).await;
        products.push(product["id"].as_str().unwrap().to_owned());
    }
    let mut entries: Vec<String> = Vec::new();
    let mut sales: Vec<Uuid> = Vec::new();
    let mut client = catalog(&suite);
    let mut refused = 0;
    for _ in 0..120 {
        let product = &products[random.between(0, 2) as usize];
        let outcome = match random.between(0, 7) {
            0 => {
                post_entry(&suite, token, product, "IN", random.between(1, 15))
                    .await
                    .status
            }
            1 => {
                post_entry(&suite, token, product, "OUT", random.between(1, 15))
                    .await
                    .status
            }
            2 => {
                let qty = random.between(-10, 10);
                let qty = if qty == 0 { 1 } else { qty };
                post_entry(&suite, token, product, "ADJUST", qty)
                    .await
                    .status
            }
            3 => {
                suite
                    .http()
                    .put(&format!("/products/{product}"))
                    .bearer(token)
                    .json(&json!({"stock_level": random.between(0, 30)}))
                    .send()
                    .await
                    .status
            }
            4 if !entries.is_empty() => {
                let entry = &entries[random.between(0, entries.len() as i64 - 1) as usize];
                suite
                    .http()
                    .delete(&format!("/stock/{entry}"))
                    .bearer(token)
                    .send()
                    .await
                    .status
            }
            5 => {
                let sale_id = Uuid::now_v7();
                let other = &products[random.between(0, 2) as usize];
                let request = reserve(
                    sale_id,
                    vec![
                        line(product, random.between(1, 5)),
                        line(other, random.between(1, 5)),
                    ],
                );
                match client
                    .reserve_stock(authorized(&suite, Role::Cashier, request))
                    .await
                {
                    Ok(_) => {
                        sales.push(sale_id);
                        201
                    }
                    Err(status) => {
                        assert_eq!(status.code(), tonic::Code::FailedPrecondition, "{status:?}");
                        409
                    }
                }
            }
            6 if !sales.is_empty() => {
                let sale_id = sales[random.between(0, sales.len() as i64 - 1) as usize];
                let request = ReleaseStockRequest {
                    sale_id: sale_id.to_string(),
                };
                client
                    .release_stock(authorized(&suite, Role::Cashier, request))
                    .await
                    .expect("release never fails");
                200
            }
            _ => {
                let request = RestockForRefundRequest {
                    refund_id: Uuid::now_v7().to_string(),
                    lines: vec![line(product, random.between(1, 3))],
                };
                client
                    .restock_for_refund(authorized(&suite, Role::Cashier, request))
                    .await
                    .expect("restock never fails");
                200
            }
        };
        assert!([200, 201, 409].contains(&outcome), "unexpected {outcome}");
        if outcome == 409 {
            refused += 1;
        }
        let listed = suite
            .http()
            .get(&format!("/stock?product_id={product}&limit=1"))
            .bearer(token)
            .send()
            .await
            .json();
        if let Some(entry) = listed.as_array().and_then(|entries| entries.first())
            && ["IN", "OUT", "ADJUST"].contains(&entry["ledger_type"].as_str().unwrap())
        {
            entries.push(entry["id"].as_str().unwrap().to_owned());
        }
    }
    assert!(
        refused > 0,
        "the mix should have tried to overdraw at least once"
    );
    assert_eq!(products_out_of_balance(&suite).await, vec![]);
    for product in &products {
        let (level, sum) = level_and_ledger_sum(&suite, product).await;
        assert!(level >= 0);
        assert_eq!(level, sum);
        // The REST view of the ledger sums to the level too (IN adds, OUT takes, ADJUST is signed).
        let all = suite
            .http()
            .get(&format!("/stock?product_id={product}&limit=200"))
            .bearer(token)
            .send()
            .await
            .json();
        let rest_sum: i64 = all
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| {
                let qty = entry["qty"].as_i64().unwrap();
                if entry["type"] == "OUT" { -qty } else { qty }
            })
            .sum();
        assert_eq!(rest_sum, level, "{product}");
        assert_eq!(stock_level(&suite, token, product).await, level);
    }
}
