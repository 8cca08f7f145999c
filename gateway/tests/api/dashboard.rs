//! The web dashboard at `/dashboard`, served from `DASHBOARD_DIR`.

use std::path::PathBuf;

use regal_testkit::{TestSuite, WaitFor};

/// A built dashboard in a directory of its own, removed when dropped.
struct BuiltDashboard {
    directory: PathBuf,
}

impl BuiltDashboard {
    fn new() -> Self {
        let directory =
            std::env::temp_dir().join(format!("regal-dashboard-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(directory.join("assets")).expect("dashboard directory");
        std::fs::write(
            directory.join("index.html"),
            "<!doctype html><title>Regal POS</title><div id=app></div>",
        )
        .expect("index.html");
        std::fs::write(
            directory.join("assets").join("app-ABC123.js"),
            "console.log('regal');",
        )
        .expect("bundle");
        std::fs::write(directory.join("secret.txt"), "not an asset").expect("secret");
        Self { directory }
    }
}

impl Drop for BuiltDashboard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

async fn suite_serving(directory: PathBuf) -> TestSuite {
    TestSuite::start_with(
        move |_, settings| settings.gateway.dashboard_dir = directory.clone(),
        WaitFor::Listening,
    )
    .await
}

#[tokio::test]
async fn the_dashboard_and_its_client_side_routes_get_the_app_page_never_cached() {
    let dashboard = BuiltDashboard::new();
    let suite = suite_serving(dashboard.directory.clone()).await;

    for path in [
        "/dashboard",
        "/dashboard/",
        "/dashboard/counter",
        "/dashboard/reports/daily",
    ] {
        let response = suite.http().get(path).send().await;
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{path}"
        );
        assert!(response.text().contains("<div id=app>"), "{path}");
        assert_eq!(response.header("cache-control"), Some("no-cache"), "{path}");
        let policy = response
            .header("content-security-policy")
            .unwrap_or_default();
        assert!(policy.contains("script-src 'self'"), "{policy}");
        assert!(policy.contains("connect-src 'self'"), "{policy}");
    }
}

#[tokio::test]
async fn a_hashed_asset_is_served_with_its_type_and_cached_for_good() {
    let dashboard = BuiltDashboard::new();
    let suite = suite_serving(dashboard.directory.clone()).await;

    let response = suite
        .http()
        .get("/dashboard/assets/app-ABC123.js")
        .send()
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(response.text(), "console.log('regal');");
}

#[tokio::test]
async fn a_missing_asset_or_a_path_out_of_the_assets_is_a_404() {
    let dashboard = BuiltDashboard::new();
    let suite = suite_serving(dashboard.directory.clone()).await;

    for path in [
        "/dashboard/assets/app-missing.js",
        "/dashboard/assets/..%2Fsecret.txt",
        "/dashboard/assets/%2E%2E%2Fsecret.txt",
        "/dashboard/assets/..%2F..%2FCargo.toml",
    ] {
        let response = suite.http().get(path).send().await;
        assert_eq!(response.status, 404, "{path}: {}", response.text());
        assert!(!response.text().contains("not an asset"), "{path}");
    }
}

#[tokio::test]
async fn without_a_built_dashboard_it_says_how_to_build_one_and_the_api_still_works() {
    let missing = std::env::temp_dir().join(format!("regal-no-dashboard-{}", uuid::Uuid::new_v4()));
    let suite = suite_serving(missing).await;

    let response = suite.http().get("/dashboard/counter").send().await;
    assert_eq!(response.status, 503);
    let detail = response.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(detail.contains("make dashboard"), "{detail}");
    assert_eq!(suite.http().get("/health").send().await.status, 200);
}
