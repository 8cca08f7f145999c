//! Signing in, tokens, sessions and the login limit, through the gateway.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use regal_config::ExposeSecret;
use regal_testkit::{ADMIN_PASSWORD, ADMIN_USERNAME, Part, RedisProcess, TestSuite, WaitFor};
use serde_json::{Value, json};
use tonic::{Code, Request};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("json")
}

/// Tokens a client might forge from a valid one.
fn forged_tokens(suite: &TestSuite, valid: &str) -> Vec<(&'static str, String)> {
    let claims = claims_of(valid);
    let secret = suite
        .settings
        .tokens
        .access_secret
        .expose_secret()
        .as_bytes()
        .to_vec();
    let encode = |header: Header, claims: &Value, key: &[u8]| {
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key)).expect("signs")
    };

    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let alg_none = format!("{none_header}.{none_payload}.");

    let other_algorithm = encode(Header::new(Algorithm::HS384), &claims, &secret);

    let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    let mut edited_claims = claims.clone();
    edited_claims["role"] = json!("admin");
    edited_claims["sub"] = json!(uuid::Uuid::now_v7().to_string());
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&edited_claims).unwrap());
    let edited_payload = parts.join(".");

    let wrong_key = encode(
        Header::new(Algorithm::HS256),
        &claims,
        b"not-the-key-not-the-key-not-the-key!",
    );

    let mut expired_claims = claims.clone();
    let now = chrono::Utc::now().timestamp();
    expired_claims["iat"] = json!(now - 3600);
    expired_claims["exp"] = json!(now - 60);
    let expired = encode(Header::new(Algorithm::HS256), &expired_claims, &secret);

    vec![
        ("alg none", alg_none),
        ("another algorithm", other_algorithm),
        ("edited payload", edited_payload),
        ("wrong key", wrong_key),
        ("expired", expired),
    ]
}

fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

#[tokio::test]
async fn login_with_json_or_a_form_returns_a_bearer_pair_and_me_shows_the_user_without_secrets() {
    let suite = TestSuite::start().await;

    let json_login = suite.login_response(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(json_login.status, 200);
    let body = json_login.json();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    let claims = claims_of(body["access_token"].as_str().unwrap());
    for claim in ["sub", "jti", "iat", "exp", "iss", "aud", "role", "username"] {
        assert!(claims.get(claim).is_some(), "missing claim {claim}");
    }

    let form_login = suite
        .http()
        .post("/auth/login")
        .body(
            "application/x-www-form-urlencoded",
            "grant_type=password&username=admin&password=admin123",
        )
        .send()
        .await;
    assert_eq!(form_login.status, 200, "{}", form_login.text());

    let me = suite
        .http()
        .get("/auth/me")
        .bearer(body["access_token"].as_str().unwrap())
        .send()
        .await;
    assert_eq!(me.status, 200);
    let user = me.json();
    assert_eq!(user["username"], "admin");
    assert_eq!(user["role"], "admin");
    assert_eq!(user["is_active"], true);
    assert!(!me.text().contains("password") && !me.text().contains("argon2"));
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_are_indistinguishable() {
    let suite = TestSuite::start().await;
    let wrong_password = suite
        .login_response(ADMIN_USERNAME, "not-the-password")
        .await;
    let unknown_user = suite
        .login_response("nobody-here", "not-the-password")
        .await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(unknown_user.status, 401);
    assert_eq!(wrong_password.body, unknown_user.body);
    assert_eq!(
        wrong_password.json(),
        json!({"detail": "Incorrect username or password"})
    );
    assert_eq!(wrong_password.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn login_needs_both_fields() {
    let suite = TestSuite::start().await;
    let response = suite
        .http()
        .post("/auth/login")
        .json(&json!({"username": "admin"}))
        .send()
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(
        response.json()["detail"][0]["loc"],
        json!(["body", "password"])
    );
    let malformed = suite
        .http()
        .post("/auth/login")
        .body("application/json", "{\"username\":")
        .send()
        .await;
    assert_eq!(malformed.status, 400);
}

#[tokio::test]
async fn forged_and_expired_tokens_are_401_at_the_gateway_and_unauthenticated_at_every_service() {
    let suite = TestSuite::start().await;
    let session = suite.login_admin().await;
    for (attack, token) in forged_tokens(&suite, &session.access_token) {
        let response = suite.http().get("/auth/me").bearer(&token).send().await;
        assert_eq!(response.status, 401, "{attack} at the gateway");
        assert_eq!(
            response.header("www-authenticate"),
            Some("Bearer"),
            "{attack}"
        );

        let mut auth = regal_proto::auth::v1::auth_service_client::AuthServiceClient::new(
            suite.channel(Part::Auth),
        );
        let status = auth
            .get_me(with_token(regal_proto::auth::v1::GetMeRequest {}, &token))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated, "{attack} at auth");

        let mut catalog =
            regal_proto::catalog::v1::catalog_service_client::CatalogServiceClient::new(
                suite.channel(Part::Catalog),
            );
        let status = catalog
            .get_product(with_token(
                regal_proto::catalog::v1::GetProductRequest { id: String::new() },
                &token,
            ))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated, "{attack} at catalog");

        let mut sales = regal_proto::sales::v1::sales_service_client::SalesServiceClient::new(
            suite.channel(Part::Sales),
        );
        let status = sales
            .get_settings(with_token(
                regal_proto::sales::v1::GetSettingsRequest::default(),
                &token,
            ))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated, "{attack} at sales");

        let mut audit = regal_proto::audit::v1::audit_service_client::AuditServiceClient::new(
            suite.channel(Part::Audit),
        );
        let status = audit
            .verify_chain(with_token(
                regal_proto::audit::v1::VerifyChainRequest::default(),
                &token,
            ))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated, "{attack} at audit");
    }
    // The genuine token still works.
    let me = suite
        .http()
        .get("/auth/me")
        .bearer(&session.access_token)
        .send()
        .await;
    assert_eq!(me.status, 200);
}

#[tokio::test]
async fn a_refresh_rotates_the_pair_and_reusing_a_spent_token_revokes_the_whole_family() {
    let suite = TestSuite::start().await;
    let first = suite.login_admin().await;

    let rotated = suite
        .http()
        .post("/auth/refresh")
        .json(&json!({"refresh_token": first.refresh_token}))
        .send()
        .await;
    assert_eq!(rotated.status, 200);
    let second_refresh = rotated.json()["refresh_token"].as_str().unwrap().to_owned();
    let second_access = rotated.json()["access_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first.refresh_token);
    assert_eq!(
        suite
            .http()
            .get("/auth/me")
            .bearer(&second_access)
            .send()
            .await
            .status,
        200
    );

    let reuse = suite
        .http()
        .post("/auth/refresh")
        .json(&json!({"refresh_token": first.refresh_token}))
        .send()
        .await;
    assert_eq!(reuse.status, 401);

    // The whole family is gone: the newest refresh token and the session's access tokens.
    let after_reuse = suite
        .http()
        .post("/auth/refresh")
        .json(&json!({"refresh_token": second_refresh}))
        .send()
        .await;
    assert_eq!(after_reuse.status, 401);
    assert_eq!(
        suite
            .http()
            .get("/auth/me")
            .bearer(&second_access)
            .send()
            .await
            .status,
        401
    );
    assert_eq!(
        suite
            .http()
            .get("/auth/me")
            .bearer(&first.access_token)
            .send()
            .await
            .status,
        401
    );

    let detected = suite.outbox_events("auth", "refresh_reuse_detected").await;
    assert_eq!(detected.len(), 1);
}

#[tokio::test]
async fn an_access_token_presented_as_a_refresh_token_is_refused() {
    let suite = TestSuite::start().await;
    let session = suite.login_admin().await;
    let response = suite
        .http()
        .post("/auth/refresh")
        .json(&json!({"refresh_token": session.access_token}))
        .send()
        .await;
    assert_eq!(response.status, 401);
}

#[tokio::test]
async fn logout_stops_the_access_token_and_the_refresh_family_at_once() {
    let suite = TestSuite::start().await;
    let session = suite.login_admin().await;
    let other_session = suite.login_admin().await;

    let logout = suite
        .http()
        .post("/auth/logout")
        .bearer(&session.access_token)
        .json(&json!({"refresh_token": session.refresh_token}))
        .send()
        .await;
    assert_eq!(logout.status, 200);
    assert_eq!(logout.json(), json!({"message": "Successfully logged out"}));

    assert_eq!(
        suite
            .http()
            .get("/auth/me")
            .bearer(&session.access_token)
            .send()
            .await
            .status,
        401
    );
    let refresh = suite
        .http()
        .post("/auth/refresh")
        .json(&json!({"refresh_token": session.refresh_token}))
        .send()
        .await;
    assert_eq!(refresh.status, 401);
    // Through gRPC at the gateway too.
    let mut auth = regal_proto::auth::v1::auth_service_client::AuthServiceClient::new(
        suite.channel(Part::Gateway),
    );
    let status = auth
        .get_me(with_token(
            regal_proto::auth::v1::GetMeRequest {},
            &session.access_token,
        ))
        .await
        .expect_err("revoked");
    assert_eq!(status.code(), Code::Unauthenticated);

    // Another session of the same user is untouched.
    assert_eq!(
        suite
            .http()
            .get("/auth/me")
            .bearer(&other_session.access_token)
            .send()
            .await
            .status,
        200
    );
    assert_eq!(suite.outbox_events("auth", "logout").await.len(), 1);
}

#[tokio::test]
async fn logout_without_a_body_ends_the_session_of_the_access_token() {
    let suite = TestSuite::start().await;
    let session = suite.login_admin().await;
    let logout = suite
        .http()
        .post("/auth/logout")
        .bearer(&session.access_token)
        .send()
        .await;
    assert_eq!(logout.status, 200);
    let refresh = suite
        .http()
        .post("/auth/refresh")
        .json(&json!({"refresh_token": session.refresh_token}))
        .send()
        .await;
    assert_eq!(refresh.status, 401);
}

#[tokio::test]
async fn deactivating_a_user_ends_their_sessions_at_once() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (cashier, session) = suite.session_as("cashier").await;
    assert_eq!(
        suite
            .http()
            .get("/auth/me")
            .bearer(&session.access_token)
            .send()
            .await
            .status,
        200
    );

    let delete = suite
        .http()
        .delete(&format!("/users/{}", cashier.id))
        .bearer(&admin.access_token)
        .send()
        .await;
    assert_eq!(delete.status, 200);
    assert_eq!(
        delete.json(),
        json!({"message": "User deleted successfully"})
    );

    assert_eq!(
        suite
            .http()
            .get("/auth/me")
            .bearer(&session.access_token)
            .send()
            .await
            .status,
        401
    );
    let refresh = suite
        .http()
        .post("/auth/refresh")
        .json(&json!({"refresh_token": session.refresh_token}))
        .send()
        .await;
    assert_eq!(refresh.status, 401);
    assert_eq!(
        suite
            .login_response(&cashier.username, &cashier.password)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn changing_a_password_ends_all_sessions_and_only_the_new_password_works() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let (employee, session) = suite.session_as("employee").await;

    let update = suite
        .http()
        .put(&format!("/users/{}", employee.id))
        .bearer(&admin.access_token)
        .json(&json!({"password": "a-brand-new-password"}))
        .send()
        .await;
    assert_eq!(update.status, 200);

    assert_eq!(
        suite
            .http()
            .get("/auth/me")
            .bearer(&session.access_token)
            .send()
            .await
            .status,
        401
    );
    assert_eq!(
        suite
            .login_response(&employee.username, &employee.password)
            .await
            .status,
        401
    );
    assert_eq!(
        suite
            .login_response(&employee.username, "a-brand-new-password")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn five_failures_lock_a_username_even_for_the_right_password_with_retry_after() {
    let suite = TestSuite::start().await;
    let admin = suite.login_admin().await;
    let cashier = suite.create_user(&admin, "cashier").await;
    for attempt in 0..5 {
        let response = suite.login_response(ADMIN_USERNAME, "wrong-password").await;
        assert_eq!(response.status, 401, "attempt {attempt}");
    }
    let limited = suite.login_response(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(limited.status, 429);
    let retry_after: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    // Another user is not affected by this username's failures.
    let other = suite
        .login_response(&cashier.username, &cashier.password)
        .await;
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn failures_from_one_address_lock_that_address_across_usernames() {
    let suite = TestSuite::start_with(
        |_, settings| settings.login.max_failures_per_address = 3,
        WaitFor::Ready,
    )
    .await;
    for name in ["ann", "bob", "cid"] {
        assert_eq!(
            suite.login_response(name, "wrong-password").await.status,
            401
        );
    }
    let limited = suite.login_response(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
}

#[tokio::test]
async fn every_session_event_is_written_to_the_outbox() {
    let suite = TestSuite::start().await;
    let session = suite.login_admin().await;
    suite.login_response(ADMIN_USERNAME, "wrong-password").await;
    suite
        .http()
        .post("/auth/logout")
        .bearer(&session.access_token)
        .send()
        .await;

    let logins = suite.outbox_events("auth", "login").await;
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0]["entity"], "user");
    assert!(
        logins[0]["client_addr"]
            .as_str()
            .is_some_and(|address| address == "127.0.0.1")
    );
    let failures = suite.outbox_events("auth", "login_failed").await;
    assert_eq!(failures.len(), 1);
    assert!(
        !failures[0].to_string().contains("wrong-password"),
        "passwords never reach the log"
    );
    assert_eq!(suite.outbox_events("auth", "logout").await.len(), 1);
}

#[tokio::test]
async fn login_works_over_grpc_through_the_gateway_without_a_token() {
    let suite = TestSuite::start().await;
    let mut auth = regal_proto::auth::v1::auth_service_client::AuthServiceClient::new(
        suite.channel(Part::Gateway),
    );
    let response = auth
        .login(regal_proto::auth::v1::LoginRequest {
            username: ADMIN_USERNAME.to_owned(),
            password: ADMIN_PASSWORD.to_owned(),
        })
        .await
        .expect("login over gRPC")
        .into_inner();
    let tokens = response.tokens.expect("tokens");
    let me = auth
        .get_me(with_token(
            regal_proto::auth::v1::GetMeRequest {},
            &tokens.access_token,
        ))
        .await
        .expect("me over gRPC")
        .into_inner();
    assert_eq!(me.user.unwrap().username, "admin");
}

#[tokio::test]
async fn with_redis_down_signed_in_users_keep_working_and_can_still_sign_in_and_out() {
    let mut redis = RedisProcess::start().await;
    let redis_url = redis.url();
    let suite = TestSuite::start_with(
        move |_, settings| {
            settings.redis.url = redis_url.clone().into();
            settings.redis.command_timeout = std::time::Duration::from_millis(300);
        },
        WaitFor::Ready,
    )
    .await;
    let session = suite.login_admin().await;
    redis.kill();

    // Tokens are checked on their signature alone while the denylist cannot be read.
    assert_eq!(
        suite
            .http()
            .get("/auth/me")
            .bearer(&session.access_token)
            .send()
            .await
            .status,
        200
    );
    // The login limiter lets attempts through; passwords are still checked.
    assert_eq!(
        suite
            .login_response(ADMIN_USERNAME, "wrong-password")
            .await
            .status,
        401
    );
    let second = suite.login_admin().await;
    // Logout still ends the refresh family (in Postgres)...
    let logout = suite
        .http()
        .post("/auth/logout")
        .bearer(&second.access_token)
        .send()
        .await;
    assert_eq!(logout.status, 200);
    let refresh = suite
        .http()
        .post("/auth/refresh")
        .json(&json!({"refresh_token": second.refresh_token}))
        .send()
        .await;
    assert_eq!(refresh.status, 401);
    // ...but the access token cannot be denylisted: it lives until it expires.
    assert_eq!(
        suite
            .http()
            .get("/auth/me")
            .bearer(&second.access_token)
            .send()
            .await
            .status,
        200
    );
    // The gateway says it is not ready.
    assert_eq!(suite.http().get("/health/ready").send().await.status, 503);
}
