//! Builds and runs the gateway.

use std::{future::IntoFuture, net::SocketAddr};

use axum::serve::ListenerExt;
use regal_config::Settings;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;

use crate::{grpc, routes, state::AppState};

/// The gateway, bound to its port and ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Binds `HOST:GATEWAY_PORT` (port 0 picks a free one). Nothing is connected yet: the
    /// gateway starts even while the services, Postgres or Redis are down.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let address = SocketAddr::new(settings.network.host, settings.network.gateway_port);
        let listener = TcpListener::bind(address).await?;
        let state = AppState::new(settings)?;
        Ok(Self { listener, state })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|address| address.port())
            .unwrap_or_default()
    }

    /// Serves until `shutdown` is cancelled, then finishes in-flight requests.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter
            .set_service_status("", ServingStatus::Serving)
            .await;
        let grpc_router = grpc::router(self.state.clone(), health_service)?;
        let app = routes::app(self.state.clone(), grpc_router);

        let mirror = tokio::spawn(grpc::mirror_upstream_health(
            self.state.clone(),
            health_reporter,
            self.state.settings().health_check_interval,
            shutdown.clone(),
        ));
        tracing::info!(
            port = self.port(),
            "gateway listening (REST, gRPC-web, gRPC)"
        );
        // Small responses go out at once (no Nagle delay waiting for the peer's ACK).
        let listener = self.listener.tap_io(|connection| {
            if let Err(error) = connection.set_nodelay(true) {
                tracing::debug!(error = %error, "could not set TCP_NODELAY");
            }
        });
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned());
        // In-flight requests get the same bounded drain as the services'.
        tokio::select! {
            result = server.into_future() => result?,
            () = async {
                shutdown.cancelled().await;
                tokio::time::sleep(regal_server::DRAIN_TIMEOUT).await;
            } => tracing::warn!("in-flight requests did not finish in time"),
        }
        shutdown.cancel();
        mirror.await?;
        tracing::info!("gateway stopped");
        Ok(())
    }
}
