//! Channels to other parts of the suite, balanced across their replicas on the client side.
//!
//! An upstream URL names one address (`http://10.0.0.7:50052`, a plain channel), or a host
//! that resolves to several (a headless Kubernetes Service: one A record per ready pod), or
//! a comma-separated list of either (`http://127.0.0.1:50053,http://127.0.0.1:50063`).
//! Unless it is a single IP address, a task re-resolves every host each
//! `UPSTREAM_REFRESH_INTERVAL_MS`, asks every address for its gRPC health, and keeps tonic's
//! balancer (power of two choices) on the replicas that answer SERVING: a replica that
//! stops, dies or loses its database leaves the rotation within one refresh, a new one
//! joins within one refresh. When no replica is SERVING every resolved address is kept, so
//! calls fail fast with the replicas' own answers instead of waiting for one to appear.

use std::{
    collections::{BTreeSet, HashMap},
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use tokio::sync::mpsc::Sender;
use tonic::transport::{Channel, Endpoint, channel::Change};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// How many endpoint changes may wait for the balancer.
const CHANGE_CAPACITY: usize = 64;
/// Longest a DNS lookup or a health probe of one replica may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// An HTTP/2 channel to another part of the suite that connects on first use, reconnects by
/// itself and balances across the part's replicas (see the module docs); `deadline` bounds
/// every call made on it, `refresh` is how often replicas are looked up and probed.
pub fn lazy_channel(url: &str, deadline: Duration, refresh: Duration) -> anyhow::Result<Channel> {
    let targets = parse_targets(url)?;
    if let [target] = targets.as_slice()
        && target.host.parse::<IpAddr>().is_ok()
    {
        return Ok(endpoint(&target.url, deadline)?.connect_lazy());
    }
    let (channel, changes) = Channel::balance_channel(CHANGE_CAPACITY);
    tokio::spawn(follow_replicas(targets, deadline, refresh, changes));
    Ok(channel)
}

/// One entry of an upstream URL list.
#[derive(Debug, Clone)]
struct Target {
    url: String,
    scheme: String,
    host: String,
    port: u16,
}

fn parse_targets(list: &str) -> anyhow::Result<Vec<Target>> {
    let targets = list
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(|url| {
            let uri: http::Uri = url.parse()?;
            let scheme = uri.scheme_str().unwrap_or("http").to_owned();
            let host = uri
                .host()
                .ok_or_else(|| anyhow::anyhow!("upstream URL {url} has no host"))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            let port = uri
                .port_u16()
                .unwrap_or(if scheme == "https" { 443 } else { 80 });
            Ok(Target {
                url: url.to_owned(),
                scheme,
                host,
                port,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!targets.is_empty(), "upstream URL list {list:?} is empty");
    Ok(targets)
}

fn endpoint(url: &str, deadline: Duration) -> anyhow::Result<Endpoint> {
    Ok(Endpoint::from_shared(url.to_owned())?
        .connect_timeout(Duration::from_secs(1))
        .timeout(deadline)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true))
}

fn address_url(scheme: &str, address: SocketAddr) -> String {
    format!("{scheme}://{address}")
}

/// Keeps the balancer's endpoints in step with the replicas that resolve and answer
/// SERVING, until the channel is dropped.
async fn follow_replicas(
    targets: Vec<Target>,
    deadline: Duration,
    refresh: Duration,
    changes: Sender<Change<SocketAddr, Endpoint>>,
) {
    let probe_timeout = PROBE_TIMEOUT.min(refresh);
    let mut probes: HashMap<SocketAddr, (String, HealthClient<Channel>)> = HashMap::new();
    let mut in_rotation: BTreeSet<SocketAddr> = BTreeSet::new();
    loop {
        let mut resolved = BTreeSet::new();
        for target in &targets {
            let lookup = tokio::net::lookup_host((target.host.as_str(), target.port));
            match tokio::time::timeout(probe_timeout, lookup).await {
                Ok(Ok(addresses)) => {
                    for address in addresses {
                        if let std::collections::hash_map::Entry::Vacant(entry) =
                            probes.entry(address)
                        {
                            let url = address_url(&target.scheme, address);
                            match Endpoint::from_shared(url.clone()) {
                                Ok(probe) => {
                                    let probe = probe
                                        .connect_timeout(probe_timeout)
                                        .timeout(probe_timeout)
                                        .connect_lazy();
                                    entry.insert((url, HealthClient::new(probe)));
                                }
                                Err(error) => {
                                    tracing::warn!(%address, error = %error, "upstream replica address unusable");
                                    continue;
                                }
                            }
                        }
                        resolved.insert(address);
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(host = %target.host, error = %error, "upstream host does not resolve")
                }
                Err(_) => tracing::warn!(host = %target.host, "upstream host lookup timed out"),
            }
        }
        // A failed lookup keeps the replicas last known rather than leaving none.
        if resolved.is_empty() {
            resolved = in_rotation.clone();
        }
        probes.retain(|address, _| resolved.contains(address));

        let mut checks = tokio::task::JoinSet::new();
        for (&address, (_, client)) in &probes {
            let mut client = client.clone();
            checks.spawn(async move {
                let request = HealthCheckRequest {
                    service: String::new(),
                };
                let serving = matches!(
                    tokio::time::timeout(probe_timeout, client.check(request)).await,
                    Ok(Ok(response)) if response.get_ref().status() == ServingStatus::Serving
                );
                (address, serving)
            });
        }
        let mut serving = BTreeSet::new();
        while let Some(result) = checks.join_next().await {
            if let Ok((address, true)) = result {
                serving.insert(address);
            }
        }
        let wanted = if serving.is_empty() {
            resolved
        } else {
            serving
        };

        for &address in in_rotation.difference(&wanted) {
            tracing::info!(%address, "upstream replica leaves the rotation");
            if changes.send(Change::Remove(address)).await.is_err() {
                return;
            }
        }
        for &address in wanted.difference(&in_rotation) {
            let Some((url, _)) = probes.get(&address) else {
                continue;
            };
            let Ok(endpoint) = endpoint(url, deadline) else {
                continue;
            };
            tracing::info!(%address, "upstream replica joins the rotation");
            if changes
                .send(Change::Insert(address, endpoint))
                .await
                .is_err()
            {
                return;
            }
        }
        in_rotation = wanted;

        tokio::select! {
            () = tokio::time::sleep(refresh) => {}
            () = changes.closed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_urls_is_split_into_hosts_and_ports() {
        let targets =
            parse_targets("http://127.0.0.1:50053, http://regal-sales:50063,https://[::1]")
                .expect("valid list");
        let parts: Vec<_> = targets
            .iter()
            .map(|target| (target.scheme.as_str(), target.host.as_str(), target.port))
            .collect();
        assert_eq!(
            parts,
            vec![
                ("http", "127.0.0.1", 50053),
                ("http", "regal-sales", 50063),
                ("https", "::1", 443)
            ]
        );
        assert!(parse_targets(" , ").is_err());
        assert!(parse_targets("http://").is_err());
    }
}
