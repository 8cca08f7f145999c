//! A service that goes away in the middle of a call (killed, restarted: what the soak
//! does to every part) is a dependency being unavailable. The gateway answers 503, which
//! a till retries with the same `Idempotency-Key`, never 500. Found by the soak: every
//! SIGKILL of sales answered 500 to the sales in flight.

use std::time::Duration;

use regal_authz::{Role, TokenCodec};
use regal_testkit::{HttpClient, test_settings};
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// An HTTP/2 server that takes each call's start (the client preface and the request's
/// frames), answers the connection's SETTINGS so the call is under way, then hangs up
/// without answering it, as a process killed mid-call would.
async fn service_that_dies_mid_call() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let port = listener.local_addr().expect("has an address").port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                // An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
                let settings = [0u8, 0, 0, 4, 0, 0, 0, 0, 0];
                let mut answered_settings = false;
                while let Ok(Ok(read)) =
                    tokio::time::timeout(Duration::from_millis(300), socket.read(&mut buffer)).await
                {
                    if read == 0 {
                        break;
                    }
                    if !answered_settings {
                        answered_settings = true;
                        if socket.write_all(&settings).await.is_err() {
                            break;
                        }
                    }
                }
                // Dropping the socket closes the connection with the call unanswered.
            });
        }
    });
    port
}

#[tokio::test]
async fn a_sale_whose_sales_service_dies_mid_call_is_a_503_to_retry_never_a_500() {
    // Arrange: a gateway whose sales service dies in the middle of every call.
    let sales_port = service_that_dies_mid_call().await;
    let mut settings = test_settings("postgres://postgres@127.0.0.1:5432/postgres");
    settings.network.sales_url = format!("http://127.0.0.1:{sales_port}");
    let gateway = regal_gateway::Application::build(settings.clone())
        .await
        .expect("gateway binds");
    let http = HttpClient::new(format!("http://127.0.0.1:{}", gateway.port()));
    let shutdown = CancellationToken::new();
    let serving = tokio::spawn(gateway.run_until_stopped(shutdown.clone()));
    let (token, _) = TokenCodec::access(&settings.tokens)
        .issue_access(Uuid::now_v7(), "till-1", Role::Cashier)
        .expect("token signs");

    // Act
    let response = http
        .post("/pos/quick-sell")
        .bearer(&token)
        .header("Idempotency-Key", &Uuid::now_v7().to_string())
        .json(&json!({"items": [{"product_id": Uuid::now_v7().to_string(), "quantity": 1}]}))
        .send()
        .await;

    // Assert
    assert_eq!(response.status, 503, "{}", response.text());
    assert_eq!(
        response.json(),
        json!({"detail": "Service temporarily unavailable, try again"})
    );
    shutdown.cancel();
    let _ = serving.await;
}
