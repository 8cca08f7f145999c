//! The reservation api the sales service calls (gRPC, straight to the catalog): all or
//! nothing, idempotent by the caller's id, never oversold, never deadlocked.

use std::time::Duration;

use regal_authz::Role;
use regal_proto::catalog::v1::{
    ReleaseStockRequest, RestockForRefundRequest, ReverseRefundRestockRequest,
};
use regal_testkit::{Part, TestSuite, WaitFor};
use serde_json::json;
use tonic::Code;
use tonic_types::StatusExt;
use uuid::Uuid;

use crate::catalog_support::{
    XorShift, authorized, catalog, create_product, create_product_with, level_and_ledger_sum, line,
    products_out_of_balance, reserve, stock_level,
};

/// A suite whose catalog has room for many concurrent callers: enough connections that
/// callers wait on row locks (what is being tested) rather than on the pool.
async fn roomy_suite() -> TestSuite {
    TestSuite::start_with(
        |part, settings| {
            if part == Part::Catalog {
                settings.database.max_connections = 20;
                settings.database.acquire_timeout = Duration::from_secs(60);
            }
        },
        WaitFor::Ready,
    )
    .await
}

#[tokio::test]
async fn a_reservation_takes_every_line_with_the_catalogs_prices_and_a_retry_changes_nothing() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let tea = create_product_with(
        &suite,
        token,
        json!({"stock_level": 10, "unit_price": "2.50", "cost_price": "1.10", "tax_rate": "16", "discount": "5"}),
    )
    .await;
    let mug = create_product(&suite, token, 3).await;
    let (tea_id, mug_id) = (tea["id"].as_str().unwrap(), mug["id"].as_str().unwrap());
    let sale_id = Uuid::now_v7();
    let request = || {
        reserve(
            sale_id,
            vec![line(mug_id, 1), line(tea_id, 2), line(mug_id, 1)],
        )
    };
    let mut client = catalog(&suite);

    let first = client
        .reserve_stock(authorized(&suite, Role::Cashier, request()))
        .await
        .expect("reserved")
        .into_inner();
    assert_eq!(first.sale_id, sale_id.to_string());
    let lines: Vec<(&str, i64)> = first
        .lines
        .iter()
        .map(|line| (line.product_id.as_str(), line.quantity))
        .collect();
    assert_eq!(
        lines,
        [(mug_id, 2), (tea_id, 2)],
        "merged, in first-appearance order"
    );
    let tea_line = &first.lines[1];
    assert_eq!(tea_line.sku, tea["sku"].as_str().unwrap());
    assert_eq!(tea_line.unit_price.as_ref().unwrap().value, "2.50");
    assert_eq!(tea_line.cost_price.as_ref().unwrap().value, "1.10");
    assert_eq!(tea_line.tax_rate.as_ref().unwrap().value, "16.00");
    assert_eq!(tea_line.discount.as_ref().unwrap().value, "5.00");
    assert_eq!(stock_level(&suite, token, tea_id).await, 8);
    assert_eq!(stock_level(&suite, token, mug_id).await, 1);

    // The price changes; a retry still answers with the price the sale was made at.
    suite
        .http()
        .put(&format!("/products/{tea_id}"))
        .bearer(token)
        .json(&json!({"unit_price": "9.99"}))
        .send()
        .await;
    let retry = client
        .reserve_stock(authorized(&suite, Role::Cashier, request()))
        .await
        .expect("retry answered")
        .into_inner();
    assert_eq!(retry, first);
    assert_eq!(stock_level(&suite, token, tea_id).await, 8);
    assert_eq!(stock_level(&suite, token, mug_id).await, 1);

    let other_lines = client
        .reserve_stock(authorized(
            &suite,
            Role::Cashier,
            reserve(sale_id, vec![line(tea_id, 1)]),
        ))
        .await
        .expect_err("same id, other lines");
    assert_eq!(other_lines.code(), Code::AlreadyExists);

    let sales = suite
        .http()
        .get(&format!("/stock?product_id={tea_id}&type=SALE"))
        .bearer(token)
        .send()
        .await
        .json();
    assert_eq!(sales.as_array().unwrap().len(), 1);
    assert_eq!(sales[0]["type"], "OUT");
    assert_eq!(sales[0]["ledger_type"], "SALE");
    assert_eq!(sales[0]["ref"], sale_id.to_string());
    let audited = suite.outbox_events("catalog", "create").await;
    assert!(audited.iter().any(|event| event["entity"] == "stock_entry"
        && event["changes"]["after"]["sale_id"] == sale_id.to_string()));
}

#[tokio::test]
async fn a_sale_short_of_stock_on_one_line_takes_nothing_and_names_the_product() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let plenty = create_product(&suite, token, 50).await;
    let scarce = create_product(&suite, token, 2).await;
    let (plenty_id, scarce_id) = (
        plenty["id"].as_str().unwrap(),
        scarce["id"].as_str().unwrap(),
    );
    let mut client = catalog(&suite);

    let short = client
        .reserve_stock(authorized(
            &suite,
            Role::Cashier,
            reserve(Uuid::now_v7(), vec![line(plenty_id, 5), line(scarce_id, 3)]),
        ))
        .await
        .expect_err("not enough stock");
    assert_eq!(short.code(), Code::FailedPrecondition);
    let info = short.get_details_error_info().expect("error info");
    assert_eq!(info.reason, "INSUFFICIENT_STOCK");
    assert_eq!(info.metadata["product_id"], scarce_id);
    assert_eq!(info.metadata["available"], "2");
    assert_eq!(info.metadata["requested"], "3");
    assert_eq!(stock_level(&suite, token, plenty_id).await, 50);

    let unknown = client
        .reserve_stock(authorized(
            &suite,
            Role::Cashier,
            reserve(
                Uuid::now_v7(),
                vec![line(plenty_id, 1), line(&Uuid::now_v7().to_string(), 1)],
            ),
        ))
        .await
        .expect_err("unknown product");
    assert_eq!(unknown.code(), Code::NotFound);

    suite
        .http()
        .delete(&format!("/products/{scarce_id}"))
        .bearer(token)
        .send()
        .await;
    let archived = client
        .reserve_stock(authorized(
            &suite,
            Role::Cashier,
            reserve(Uuid::now_v7(), vec![line(scarce_id, 1)]),
        ))
        .await
        .expect_err("archived product");
    assert_eq!(archived.code(), Code::NotFound);
    assert_eq!(stock_level(&suite, token, scarce_id).await, 2);
    assert_eq!(stock_level(&suite, token, plenty_id).await, 50);

    for bad in [
        reserve(Uuid::now_v7(), vec![]),
        reserve(Uuid::now_v7(), vec![line(plenty_id, 0)]),
        regal_proto::catalog::v1::ReserveStockRequest {
            sale_id: "not-a-uuid".to_owned(),
            lines: vec![line(plenty_id, 1)],
        },
    ] {
        let status = client
            .reserve_stock(authorized(&suite, Role::Cashier, bad))
            .await
            .expect_err("invalid");
        assert_eq!(status.code(), Code::InvalidArgument);
    }
    let employee = client
        .reserve_stock(authorized(
            &suite,
            Role::Employee,
            reserve(Uuid::now_v7(), vec![line(plenty_id, 1)]),
        ))
        .await
        .expect_err("employees do not sell");
    assert_eq!(employee.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_release_gives_the_stock_back_once_and_a_late_reservation_takes_nothing() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let product = create_product(&suite, token, 10).await;
    let id = product["id"].as_str().unwrap();
    let mut client = catalog(&suite);
    let release = |sale_id: Uuid| {
        authorized(
            &suite,
            Role::Cashier,
            ReleaseStockRequest {
                sale_id: sale_id.to_string(),
            },
        )
    };

    let sale_id = Uuid::now_v7();
    client
        .reserve_stock(authorized(
            &suite,
            Role::Cashier,
            reserve(sale_id, vec![line(id, 4)]),
        ))
        .await
        .expect("reserved");
    assert_eq!(stock_level(&suite, token, id).await, 6);
    assert!(
        client
            .release_stock(release(sale_id))
            .await
            .unwrap()
            .into_inner()
            .released
    );
    assert_eq!(stock_level(&suite, token, id).await, 10);
    assert!(
        !client
            .release_stock(release(sale_id))
            .await
            .unwrap()
            .into_inner()
            .released
    );
    assert_eq!(stock_level(&suite, token, id).await, 10);
    let after_release = client
        .reserve_stock(authorized(
            &suite,
            Role::Cashier,
            reserve(sale_id, vec![line(id, 4)]),
        ))
        .await
        .expect_err("released sale");
    assert_eq!(after_release.code(), Code::AlreadyExists);

    // A release that overtakes its reservation (the sale timed out and gave up) leaves a
    // tombstone: the reservation arriving later takes nothing.
    let overtaken = Uuid::now_v7();
    assert!(
        !client
            .release_stock(release(overtaken))
            .await
            .unwrap()
            .into_inner()
            .released
    );
    let late = client
        .reserve_stock(authorized(
            &suite,
            Role::Cashier,
            reserve(overtaken, vec![line(id, 1)]),
        ))
        .await
        .expect_err("late reservation");
    assert_eq!(late.code(), Code::AlreadyExists);
    assert_eq!(level_and_ledger_sum(&suite, id).await, (10, 10));
}

#[tokio::test]
async fn a_refund_restocks_once_and_its_reversal_never_takes_stock_below_zero() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let token = &admin.access_token;
    let product = create_product(&suite, token, 0).await;
    let id = product["id"].as_str().unwrap();
    let mut client = catalog(&suite);
    let refund_id = Uuid::now_v7();
    let restock = || {
        authorized(
            &suite,
            Role::Cashier,
            RestockForRefundRequest {
                refund_id: refund_id.to_string(),
                lines: vec![line(id, 3)],
            },
        )
    };
    let first = client
        .restock_for_refund(restock())
        .await
        .unwrap()
        .into_inner();
    let retry = client
        .restock_for_refund(restock())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, retry);
    assert_eq!(first.lines, vec![line(id, 3)]);
    assert_eq!(stock_level(&suite, token, id).await, 3);

    // Two of the three units are sold again; the refund cannot be taken back out now.
    assert_eq!(
        crate::catalog_support::post_entry(&suite, token, id, "OUT", 2)
            .await
            .status,
        201
    );
    let reverse = || {
        authorized(
            &suite,
            Role::Cashier,
            ReverseRefundRestockRequest {
                refund_id: refund_id.to_string(),
            },
        )
    };
    let short = client
        .reverse_refund_restock(reverse())
        .await
        .expect_err("only 1 left");
    assert_eq!(short.code(), Code::FailedPrecondition);
    assert_eq!(stock_level(&suite, token, id).await, 1);

    assert_eq!(
        crate::catalog_support::post_entry(&suite, token, id, "IN", 5)
            .await
            .status,
        201
    );
    assert!(
        client
            .reverse_refund_restock(reverse())
            .await
            .unwrap()
            .into_inner()
            .reversed
    );
    assert!(
        !client
            .reverse_refund_restock(reverse())
            .await
            .unwrap()
            .into_inner()
            .reversed
    );
    assert_eq!(level_and_ledger_sum(&suite, id).await, (3, 3));
}

#[tokio::test]
async fn a_hundred_concurrent_single_unit_sales_of_thirty_units_sell_exactly_thirty() {
    let suite = roomy_suite().await;
    let admin = suite.login_admin().await;
    let product = create_product(&suite, &admin.access_token, 30).await;
    let id = product["id"].as_str().unwrap().to_owned();

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let mut client = catalog(&suite);
        let request = authorized(
            &suite,
            Role::Cashier,
            reserve(Uuid::now_v7(), vec![line(&id, 1)]),
        );
        tasks.spawn(async move { client.reserve_stock(request).await });
    }
    let (mut sold, mut refused) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.expect("task ran") {
            Ok(_) => sold += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                refused += 1;
            }
        }
    }
    assert_eq!((sold, refused), (30, 70));
    assert_eq!(level_and_ledger_sum(&suite, &id).await, (0, 0));
    let sales = suite
        .http()
        .get(&format!("/stock?product_id={id}&type=SALE&limit=1"))
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(sales.header("x-total-count"), Some("30"));
}

#[tokio::test]
async fn concurrent_multi_line_sales_over_the_same_products_in_any_order_never_deadlock() {
    let suite = roomy_suite().await;
    let admin = suite.login_admin().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let product = create_product(&suite, &admin.access_token, 1000).await;
        ids.push(product["id"].as_str().unwrap().to_owned());
    }
    let mut random = XorShift::new(42);
    let mut tasks = tokio::task::JoinSet::new();
    let mut taken = vec![0_i64; ids.len()];
    for sale in 0..60 {
        // Every sale touches every product, each in its own shuffled order, and some
        // sales are released again at once.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        for index in (1..order.len()).rev() {
            order.swap(index, random.between(0, index as i64) as usize);
        }
        let lines: Vec<_> = order
            .iter()
            .map(|&index| {
                let quantity = random.between(1, 3);
                taken[index] += quantity;
                line(&ids[index], quantity)
            })
            .collect();
        let release_at_once = sale % 4 == 0;
        if release_at_once {
            for (index, quantity) in order.iter().zip(&lines) {
                taken[*index] -= quantity.quantity;
            }
        }
        let mut client = catalog(&suite);
        let sale_id = Uuid::now_v7();
        let reserve_request = authorized(&suite, Role::Cashier, reserve(sale_id, lines));
        let release_request = authorized(
            &suite,
            Role::Cashier,
            ReleaseStockRequest {
                sale_id: sale_id.to_string(),
            },
        );
        tasks.spawn(async move {
            client.reserve_stock(reserve_request).await?;
            if release_at_once {
                client.release_stock(release_request).await?;
            }
            Ok::<_, tonic::Status>(())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result
            .expect("task ran")
            .expect("no sale fails: no deadlock, no shortage");
    }
    for (index, id) in ids.iter().enumerate() {
        assert_eq!(
            level_and_ledger_sum(&suite, id).await,
            (1000 - taken[index], 1000 - taken[index])
        );
    }
    assert_eq!(products_out_of_balance(&suite).await, vec![]);
}
