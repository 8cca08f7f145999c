//! Products through the gateway: exact money, opening stock, uniqueness, roles, archiving,
//! filters and stocktakes.

use regal_testkit::TestSuite;
use serde_json::json;

use crate::catalog_support::{create_product, create_product_with, level_and_ledger_sum};

#[tokio::test]
async fn an_employee_creates_a_product_with_exact_money_and_its_opening_stock_in_the_ledger() {
    let suite = TestSuite::start().await;
    let (employee, session) = suite.session_as("employee").await;
    let response = suite
        .http()
        .post("/products")
        .bearer(&session.access_token)
        .json(&json!({
            "sku": "  TEA-01 ", "name": "<b>Green</b> tea<script>x</script>",
            "desc": "Loose leaf", "unit_price": 12.5, "cost_price": "7.1",
            "tax_rate": 16, "discount": "0", "stock_level": 10, "barcode": "4006381333931",
            "category": "Drinks", "attributes": {"<i>size</i>": "<b>500 g</b>", "organic": true},
        }))
        .send()
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    let product = response.json();
    let id = product["id"].as_str().unwrap();
    assert_eq!(
        response.header("location"),
        Some(format!("/products/{id}").as_str())
    );
    assert_eq!(product["sku"], "TEA-01");
    assert_eq!(product["name"], "Green teax");
    assert_eq!(product["unit_price"], "12.50");
    assert_eq!(product["cost_price"], "7.10");
    assert_eq!(product["tax_rate"], "16.00");
    assert_eq!(product["discount"], "0.00");
    assert_eq!(product["stock_level"], 10);
    assert_eq!(product["vendor_id"], json!(null));
    assert_eq!(product["is_active"], true);
    assert_eq!(
        product["attributes"],
        json!({"size": "500 g", "organic": true})
    );
    for field in [
        "desc",
        "barcode",
        "category",
        "branch",
        "created_at",
        "updated_at",
    ] {
        assert!(product.get(field).is_some(), "missing {field}");
    }

    let entries = suite
        .http()
        .get(&format!("/stock?product_id={id}"))
        .bearer(&session.access_token)
        .send()
        .await;
    assert_eq!(entries.header("x-total-count"), Some("1"));
    let opening = &entries.json()[0];
    assert_eq!(opening["type"], "IN");
    assert_eq!(opening["qty"], 10);
    assert_eq!(opening["created_by"], employee.id.as_str());
    assert_eq!(level_and_ledger_sum(&suite, id).await, (10, 10));

    let created = suite.outbox_events("catalog", "create").await;
    let event = created
        .iter()
        .find(|event| event["entity"] == "product" && event["entity_id"] == id)
        .expect("product creation audited");
    assert_eq!(event["actor_id"], employee.id.as_str());
    assert_eq!(event["changes"]["after"]["unit_price"], "12.50");
    assert!(
        created.iter().any(|event| event["entity"] == "stock_entry"
            && event["changes"]["after"]["product_id"] == id)
    );
}

#[tokio::test]
async fn duplicate_skus_whatever_their_case_and_duplicate_barcodes_are_409() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    create_product_with(
        &suite,
        &admin.access_token,
        json!({"sku": "Mug-1", "barcode": "111"}),
    )
    .await;
    for (body, message) in [
        (
            json!({"sku": "MUG-1", "name": "Other", "unit_price": 1}),
            "SKU already exists",
        ),
        (
            json!({"sku": "MUG-2", "name": "Other", "unit_price": 1, "barcode": "111"}),
            "Barcode already exists",
        ),
    ] {
        let response = suite
            .http()
            .post("/products")
            .bearer(&admin.access_token)
            .json(&body)
            .send()
            .await;
        assert_eq!(response.status, 409, "{body}");
        assert_eq!(response.json(), json!({"detail": message}));
    }
    let count = suite
        .http()
        .get("/products")
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(count.header("x-total-count"), Some("1"));
}

#[tokio::test]
async fn invalid_products_are_422_with_every_bad_field_and_nothing_is_stored() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let response = suite
        .http()
        .post("/products")
        .bearer(&admin.access_token)
        .json(&json!({
            "sku": "x".repeat(51), "name": "<p></p>", "unit_price": "1.005",
            "cost_price": -1, "tax_rate": "120", "discount": "1e2", "stock_level": -3,
            "vendor_id": "not-a-uuid",
        }))
        .send()
        .await;
    assert_eq!(response.status, 422, "{}", response.text());
    let fields: Vec<String> = response.json()["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|violation| violation["loc"][1].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        fields,
        [
            "sku",
            "name",
            "unit_price",
            "cost_price",
            "tax_rate",
            "discount",
            "vendor_id",
            "stock_level"
        ]
    );

    for (body, field) in [
        (json!({"sku": "A", "name": "B"}), "unit_price"),
        (
            json!({"sku": "A", "name": "B", "unit_price": true}),
            "unit_price",
        ),
        (
            json!({"sku": "A", "name": "B", "unit_price": 1, "stock_level": 1.5}),
            "stock_level",
        ),
        (json!({"name": "B", "unit_price": 1}), "sku"),
    ] {
        let response = suite
            .http()
            .post("/products")
            .bearer(&admin.access_token)
            .json(&body)
            .send()
            .await;
        assert_eq!(response.status, 422, "{body}");
        assert_eq!(response.json()["detail"][0]["loc"][1], field, "{body}");
    }
    let list = suite
        .http()
        .get("/products?include_inactive=true")
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(list.json(), json!([]));
}

#[tokio::test]
async fn cashiers_only_read_products_and_only_admins_archive_them() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (_, cashier) = suite.session_as("cashier").await;
    let (_, employee) = suite.session_as("employee").await;
    let product = create_product(&suite, &employee.access_token, 3).await;
    let path = format!("/products/{}", product["id"].as_str().unwrap());

    let read = suite
        .http()
        .get(&path)
        .bearer(&cashier.access_token)
        .send()
        .await;
    assert_eq!(read.status, 200);
    // The permission is checked before the body: an invalid body still gets 403.
    let create = suite
        .http()
        .post("/products")
        .bearer(&cashier.access_token)
        .json(&json!({"sku": ""}))
        .send()
        .await;
    assert_eq!(create.status, 403);
    assert_eq!(create.json(), json!({"detail": "Not enough permissions"}));
    let update = suite
        .http()
        .put(&path)
        .bearer(&cashier.access_token)
        .json(&json!({"unit_price": 0}))
        .send()
        .await;
    assert_eq!(update.status, 403);
    for token in [&cashier.access_token, &employee.access_token] {
        let delete = suite.http().delete(&path).bearer(token).send().await;
        assert_eq!(delete.status, 403);
    }
    let anonymous = suite.http().get("/products").send().await;
    assert_eq!(anonymous.status, 401);

    let delete = suite
        .http()
        .delete(&path)
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(delete.status, 200);
    assert_eq!(
        delete.json(),
        json!({"message": "Product deleted successfully"})
    );

    let listed = suite
        .http()
        .get("/products")
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(listed.json(), json!([]));
    assert_eq!(listed.header("x-total-count"), Some("0"));
    let with_inactive = suite
        .http()
        .get("/products?include_inactive=true")
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(with_inactive.json()[0]["is_active"], false);
    let archived = suite
        .http()
        .get(&path)
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(archived.json()["is_active"], false);
    assert_eq!(archived.json()["stock_level"], 3);
    let events = suite.outbox_events("catalog", "delete").await;
    assert!(events.iter().any(
        |event| event["entity"] == "product" && event["changes"]["after"]["is_active"] == false
    ));
}

#[tokio::test]
async fn the_product_list_pages_newest_first_and_filters_by_search_category_barcode_and_sku() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let tea = create_product_with(
        &suite,
        token,
        json!({"sku": "TEA-1", "name": "Green tea", "category": "Drinks", "barcode": "500"}),
    )
    .await;
    let coffee = create_product_with(
        &suite,
        token,
        json!({"sku": "COF-1", "name": "Coffee 100%", "category": "Drinks"}),
    )
    .await;
    let bread = create_product_with(
        &suite,
        token,
        json!({"sku": "BRD-1", "name": "Bread", "category": "Bakery"}),
    )
    .await;

    let ids = |path: &str| {
        let path = path.to_owned();
        let suite = &suite;
        async move {
            let response = suite.http().get(&path).bearer(token).send().await;
            assert_eq!(response.status, 200, "{path}: {}", response.text());
            let ids: Vec<String> = response
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|product| product["id"].as_str().unwrap().to_owned())
                .collect();
            (ids, response.header("x-total-count").map(str::to_owned))
        }
    };
    let id = |product: &serde_json::Value| product["id"].as_str().unwrap().to_owned();

    assert_eq!(
        ids("/products").await,
        (
            vec![id(&bread), id(&coffee), id(&tea)],
            Some("3".to_owned())
        )
    );
    assert_eq!(
        ids("/products?skip=1&limit=1").await,
        (vec![id(&coffee)], Some("3".to_owned()))
    );
    assert_eq!(
        ids("/products?category=Drinks").await.0,
        vec![id(&coffee), id(&tea)]
    );
    assert_eq!(ids("/products?barcode=500").await.0, vec![id(&tea)]);
    assert_eq!(ids("/products?sku=brd-1").await.0, vec![id(&bread)]);
    assert_eq!(ids("/products?search=TEA").await.0, vec![id(&tea)]);
    // LIKE wildcards in a search are plain characters.
    assert_eq!(ids("/products?search=100%25").await.0, vec![id(&coffee)]);
    assert_eq!(ids("/products?search=_").await.0, Vec::<String>::new());

    for bad in ["/products?skip=-1", "/products?limit=x"] {
        let response = suite.http().get(bad).bearer(token).send().await;
        assert_eq!(response.status, 422, "{bad}");
    }
}

#[tokio::test]
async fn the_list_total_follows_new_archived_restored_and_recategorised_products() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let total = |path: &'static str| {
        let suite = &suite;
        async move {
            let response = suite.http().get(path).bearer(token).send().await;
            assert_eq!(response.status, 200, "{path}: {}", response.text());
            let listed = response.json().as_array().unwrap().len();
            let total: usize = response.header("x-total-count").unwrap().parse().unwrap();
            (listed, total)
        }
    };

    // Twelve products added at once, in two categories.
    let mut adds = tokio::task::JoinSet::new();
    for index in 0..12 {
        let (http, token) = (suite.http().clone(), token.clone());
        let category = if index % 3 == 0 { "Bakery" } else { "Drinks" };
        adds.spawn(async move {
            let suffix = format!(
                "{index}-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..6]
            );
            http.post("/products")
                .bearer(&token)
                .json(
                    &json!({"sku": format!("P-{suffix}"), "name": format!("Product {suffix}"),
                              "unit_price": "1.00", "category": category, "stock_level": 5}),
                )
                .send()
                .await
        });
    }
    let mut drinks = Vec::new();
    while let Some(created) = adds.join_next().await {
        let created = created.expect("a create task");
        assert_eq!(created.status, 201, "{}", created.text());
        if created.json()["category"] == "Drinks" {
            drinks.push(created.json()["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(total("/products?limit=5").await, (5, 12));
    assert_eq!(total("/products?category=Bakery").await, (4, 4));
    assert_eq!(total("/products?category=Drinks&skip=6").await, (2, 8));

    // Archive two drinks, move one to the bakery, sell from another: only the first
    // two change what is counted where.
    for id in &drinks[..2] {
        let archived = suite
            .http()
            .delete(&format!("/products/{id}"))
            .bearer(token)
            .send()
            .await;
        assert_eq!(archived.status, 200, "{}", archived.text());
    }
    let moved = suite
        .http()
        .put(&format!("/products/{}", drinks[2]))
        .bearer(token)
        .json(&json!({"category": "Bakery", "name": "Scone"}))
        .send()
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    let sold = suite
        .http()
        .post("/pos/quick-sell")
        .bearer(token)
        .json(&json!({"items": [{"product_id": drinks[3], "quantity": 5}]}))
        .send()
        .await;
    assert_eq!(sold.status, 201, "{}", sold.text());
    assert_eq!(total("/products").await, (10, 10));
    assert_eq!(total("/products?include_inactive=true").await, (12, 12));
    assert_eq!(total("/products?category=Drinks").await, (5, 5));
    assert_eq!(total("/products?category=Bakery").await, (5, 5));
    assert_eq!(
        total("/products?category=Drinks&include_inactive=true").await,
        (7, 7)
    );
    assert_eq!(total("/products?category=Tea").await, (0, 0));

    // Restored, it is counted again; a search still counts what it matches.
    let restored = suite
        .http()
        .put(&format!("/products/{}", drinks[0]))
        .bearer(token)
        .json(&json!({"is_active": true}))
        .send()
        .await;
    assert_eq!(restored.status, 200, "{}", restored.text());
    assert_eq!(total("/products?category=Drinks").await, (6, 6));
    assert_eq!(total("/products").await, (11, 11));
    assert_eq!(total("/products?search=scone").await, (1, 1));
}

#[tokio::test]
async fn an_update_changes_only_the_given_fields_and_a_stock_level_is_a_stocktake() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let product = create_product_with(
        &suite,
        token,
        json!({"stock_level": 10, "unit_price": "4.20", "barcode": "42"}),
    )
    .await;
    let id = product["id"].as_str().unwrap();
    let response = suite
        .http()
        .put(&format!("/products/{id}"))
        .bearer(token)
        .json(&json!({"unit_price": 4.5, "stock_level": 7, "barcode": null}))
        .send()
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let updated = response.json();
    assert_eq!(updated["unit_price"], "4.50");
    assert_eq!(updated["cost_price"], product["cost_price"]);
    assert_eq!(updated["name"], product["name"]);
    assert_eq!(updated["barcode"], json!(null));
    assert_eq!(updated["stock_level"], 7);
    assert_eq!(level_and_ledger_sum(&suite, id).await, (7, 7));

    let adjustments = suite
        .http()
        .get(&format!("/stock?product_id={id}&type=ADJUST"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(adjustments.json()[0]["qty"], -3);

    let events = suite.outbox_events("catalog", "update").await;
    let event = events
        .iter()
        .find(|event| event["entity"] == "product" && event["entity_id"] == id)
        .expect("update audited");
    assert_eq!(
        event["changes"]["price_changes"],
        json!({"unit_price": {"before": "4.20", "after": "4.50"}})
    );
    assert_eq!(event["changes"]["before"]["stock_level"], 10);
    assert_eq!(event["changes"]["after"]["stock_level"], 7);

    let negative = suite
        .http()
        .put(&format!("/products/{id}"))
        .bearer(token)
        .json(&json!({"stock_level": -1}))
        .send()
        .await;
    assert_eq!(negative.status, 422);
}

#[tokio::test]
async fn vendor_references_are_checked_and_products_keep_a_vendor_until_cleared() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let unknown = suite
        .http()
        .post("/products")
        .bearer(token)
        .json(
            &json!({"sku": "V-1", "name": "X", "unit_price": 1, "vendor_id": uuid::Uuid::now_v7()}),
        )
        .send()
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json(), json!({"detail": "Vendor not found"}));

    let vendor = suite
        .http()
        .post("/vendors")
        .bearer(token)
        .json(&json!({"name": "Acme"}))
        .send()
        .await
        .json();
    let vendor_id = vendor["id"].as_str().unwrap();
    let product = create_product_with(&suite, token, json!({"vendor_id": vendor_id})).await;
    assert_eq!(product["vendor_id"], vendor_id);
    let path = format!("/products/{}", product["id"].as_str().unwrap());

    suite
        .http()
        .delete(&format!("/vendors/{vendor_id}"))
        .bearer(token)
        .send()
        .await;
    let kept = suite.http().get(&path).bearer(token).send().await.json();
    assert_eq!(kept["vendor_id"], vendor_id);
    let archived_vendor =
        create_product_with_response(&suite, token, json!({"vendor_id": vendor_id})).await;
    assert_eq!(archived_vendor.status, 409);

    let cleared = suite
        .http()
        .put(&path)
        .bearer(token)
        .json(&json!({"vendor_id": null}))
        .send()
        .await
        .json();
    assert_eq!(cleared["vendor_id"], json!(null));
}

async fn create_product_with_response(
    suite: &TestSuite,
    token: &str,
    fields: serde_json::Value,
) -> regal_testkit::TestResponse {
    let mut body = json!({"sku": format!("S-{}", uuid::Uuid::now_v7().simple()), "name": "N", "unit_price": 1});
    for (key, value) in fields.as_object().unwrap() {
        body[key] = value.clone();
    }
    suite
        .http()
        .post("/products")
        .bearer(token)
        .json(&body)
        .send()
        .await
}

#[tokio::test]
async fn unknown_and_malformed_product_ids() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let unknown = suite
        .http()
        .get(&format!("/products/{}", uuid::Uuid::now_v7()))
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json(), json!({"detail": "Product not found"}));
    let malformed = suite
        .http()
        .put("/products/not-a-uuid")
        .bearer(&admin.access_token)
        .json(&json!({"name": "X"}))
        .send()
        .await;
    assert_eq!(malformed.status, 422);
    assert_eq!(malformed.json()["detail"][0]["loc"], json!(["path", "id"]));
}
