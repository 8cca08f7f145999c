//! Gap repair: Redis may lose entries (no persistence, a crash before fsync), so a
//! published outbox row is not yet a delivered event. Every `AUDIT_GAP_CHECK_INTERVAL_MS`
//! each producing service is asked, over `regal.outbox.v1.OutboxService`, for its events
//! after the highest contiguous sequence number stored. That fills holes in the middle and
//! a lost tail alike (the last events of a service, with nothing after them to reveal the
//! hole), and events still waiting in an outbox while Redis is down.

use std::time::Duration;

use regal_authz::{Role, TokenCodec};
use regal_config::Settings;
use regal_proto::outbox::v1::{
    ListOutboxEventsRequest, outbox_service_client::OutboxServiceClient,
};
use tokio_util::sync::CancellationToken;
use tonic::{Code, transport::Channel};
use uuid::Uuid;

use crate::{
    domain::IncomingEvent,
    store::{log::AuditLog, progress},
};

/// Pages fetched from one producer per round (a long backlog is worked off over rounds).
const MAX_PAGES_PER_ROUND: usize = 50;
/// The user name of the audit service's own calls.
const SYSTEM_USERNAME: &str = "system:audit";

/// A service whose outbox the audit log follows.
#[derive(Clone)]
pub struct Producer {
    pub service: &'static str,
    pub client: OutboxServiceClient<Channel>,
}

pub struct GapRepair {
    log: AuditLog,
    producers: Vec<Producer>,
    tokens: TokenCodec,
    page_size: i32,
    interval: Duration,
    call_timeout: Duration,
}

impl GapRepair {
    /// Follows auth, catalog and sales at their configured addresses.
    pub fn new(settings: &Settings, log: AuditLog) -> anyhow::Result<Self> {
        let network = &settings.network;
        let producer = |service, url: &str| -> anyhow::Result<Producer> {
            let channel = regal_server::lazy_channel(
                url,
                settings.gateway.upstream_timeout,
                network.upstream_refresh_interval,
            )?;
            Ok(Producer {
                service,
                client: OutboxServiceClient::new(channel),
            })
        };
        Ok(Self {
            log,
            producers: vec![
                producer("auth", &network.auth_url)?,
                producer("catalog", &network.catalog_url)?,
                producer("sales", &network.sales_url)?,
            ],
            tokens: TokenCodec::access(&settings.tokens),
            page_size: settings.audit.batch_size.clamp(1, 1000) as i32,
            interval: settings.audit.gap_check_interval,
            call_timeout: settings.gateway.upstream_timeout,
        })
    }

    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(self.interval) => {}
                () = shutdown.cancelled() => return,
            }
            for producer in &self.producers {
                if shutdown.is_cancelled() {
                    return;
                }
                if let Err(error) = self.repair(producer).await {
                    tracing::warn!(service = producer.service, error = %error, "audit gap check failed; will retry");
                }
            }
        }
    }

    /// Fetches and stores `producer`'s events after its contiguous sequence number.
    pub async fn repair(&self, producer: &Producer) -> anyhow::Result<usize> {
        let mut repaired = 0;
        for _ in 0..MAX_PAGES_PER_ROUND {
            let after_seq = progress::contiguous(self.log.pool(), producer.service).await?;
            let mut request = tonic::Request::new(ListOutboxEventsRequest {
                after_seq,
                limit: self.page_size,
            });
            let (token, _) = self
                .tokens
                .issue_access(Uuid::nil(), SYSTEM_USERNAME, Role::Admin)?;
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse()?);
            request.set_timeout(self.call_timeout);
            let mut client = producer.client.clone();
            let response =
                match tokio::time::timeout(self.call_timeout, client.list_outbox_events(request))
                    .await
                {
                    Err(_) => anyhow::bail!("ListOutboxEvents timed out"),
                    Ok(Err(status)) if status.code() == Code::Unimplemented => {
                        tracing::debug!(service = producer.service, "service serves no outbox yet");
                        return Ok(repaired);
                    }
                    Ok(Err(status)) => anyhow::bail!("ListOutboxEvents: {status}"),
                    Ok(Ok(response)) => response.into_inner(),
                };
            let Some(first) = response.events.first() else {
                return Ok(repaired);
            };
            if first.seq > after_seq + 1 {
                tracing::error!(
                    service = producer.service,
                    first_missing = after_seq + 1,
                    last_missing = first.seq - 1,
                    "audit events expired from the producer's outbox before they were stored"
                );
                progress::record_lost(
                    self.log.pool(),
                    producer.service,
                    after_seq + 1,
                    first.seq - 1,
                )
                .await?;
            }
            let fetched = response.events.len();
            let mut events = Vec::with_capacity(fetched);
            for message in response.events {
                let seq = message.seq;
                match IncomingEvent::from_outbox_message(message) {
                    Ok(event) if event.event().service == producer.service => events.push(event),
                    Ok(_) | Err(_) => {
                        tracing::error!(
                            service = producer.service,
                            seq,
                            "producer sent an event that cannot be stored"
                        );
                        progress::record_lost(self.log.pool(), producer.service, seq, seq).await?;
                    }
                }
            }
            let appended = self.log.append(&events).await?;
            repaired += appended.stored;
            if appended.stored > 0 {
                tracing::info!(
                    service = producer.service,
                    count = appended.stored,
                    "audit events missing from the stream fetched from the outbox"
                );
            }
            let reached = progress::advance(self.log.pool(), producer.service).await?;
            if fetched < self.page_size as usize || reached <= after_seq {
                return Ok(repaired);
            }
        }
        Ok(repaired)
    }
}
