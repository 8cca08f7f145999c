//! `regal healthcheck <part>`: asks a running part on this host whether it is healthy, for
//! container health checks (the runtime image has no curl or grpcurl). A service is asked
//! over `grpc.health.v1` (`Check` of the server as a whole, `""`) on its configured port;
//! the gateway answers `GET /health`. Healthy means SERVING or HTTP 200, within a few
//! seconds.

use std::{
    io::{Read, Write},
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream},
    time::Duration,
};

use regal_config::Settings;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// Bound of one check: connecting and answering. Below the usual probe timeouts.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// What to ask, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A gRPC service on this port: `grpc.health.v1.Health/Check`.
    Grpc { name: &'static str, port: u16 },
    /// The gateway on this port: `GET /health`.
    Http { name: &'static str, port: u16 },
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Self::Grpc { name, .. } | Self::Http { name, .. } => name,
        }
    }
}

/// Checks every target in turn and reports each failure on stderr; true when all pass.
pub fn run(settings: &Settings, targets: &[Target]) -> bool {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("regal healthcheck: cannot start a runtime: {error}");
            return false;
        }
    };
    let mut all_healthy = true;
    for target in targets {
        let outcome = match *target {
            Target::Grpc { port, .. } => {
                runtime.block_on(check_grpc(probe_address(settings.network.host, port)))
            }
            Target::Http { port, .. } => check_http(probe_address(settings.network.host, port)),
        };
        if let Err(reason) = outcome {
            eprintln!(
                "regal healthcheck: {} is unhealthy: {reason}",
                target.name()
            );
            all_healthy = false;
        }
    }
    all_healthy
}

/// Where to reach a part bound to `host`: a wildcard bind (0.0.0.0 in containers) is
/// reached on the loopback address of the same family.
fn probe_address(host: IpAddr, port: u16) -> SocketAddr {
    let address = match host {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    };
    SocketAddr::new(address, port)
}

async fn check_grpc(address: SocketAddr) -> Result<(), String> {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .map_err(|error| error.to_string())?
        .connect_timeout(CHECK_TIMEOUT)
        .timeout(CHECK_TIMEOUT);
    let channel = endpoint
        .connect()
        .await
        .map_err(|error| format!("cannot connect to {address}: {error}"))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .map_err(|status| format!("health check at {address} failed: {status}"))?;
    let status = response.into_inner().status();
    if status == ServingStatus::Serving {
        Ok(())
    } else {
        Err(format!("{address} reports {}", status.as_str_name()))
    }
}

fn check_http(address: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(&address, CHECK_TIMEOUT)
        .map_err(|error| format!("cannot connect to {address}: {error}"))?;
    let io_error = |error: std::io::Error| format!("GET /health at {address} failed: {error}");
    stream
        .set_read_timeout(Some(CHECK_TIMEOUT))
        .map_err(io_error)?;
    stream
        .set_write_timeout(Some(CHECK_TIMEOUT))
        .map_err(io_error)?;
    let request = format!(
        "GET /health HTTP/1.1\r\nHost: {address}\r\nUser-Agent: regal-healthcheck\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(io_error)?;
    // Only the status line matters; it fits in the first read or two.
    let mut head = Vec::with_capacity(256);
    let mut buffer = [0_u8; 256];
    while !head.contains(&b'\n') && head.len() < 4096 {
        let read = stream.read(&mut buffer).map_err(io_error)?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let status_line = String::from_utf8_lossy(&head);
    let status_line = status_line.lines().next().unwrap_or_default();
    match parse_status_code(status_line) {
        Some(200) => Ok(()),
        Some(code) => Err(format!("GET /health at {address} answered {code}")),
        None => Err(format!(
            "GET /health at {address} gave no HTTP status line: {status_line:?}"
        )),
    }
}

/// The status code of an HTTP/1.x status line (`HTTP/1.1 200 OK` → 200).
fn parse_status_code(status_line: &str) -> Option<u16> {
    let mut words = status_line.split_ascii_whitespace();
    let version = words.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    words.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_bind_is_probed_on_loopback() {
        let any_v4 = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let any_v6 = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        assert_eq!(
            probe_address(any_v4, 8000),
            SocketAddr::from(([127, 0, 0, 1], 8000))
        );
        assert_eq!(
            probe_address(any_v6, 50051),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 50051)
        );
        let specific = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
        assert_eq!(probe_address(specific, 1).ip(), specific);
    }

    #[test]
    fn status_codes_are_read_from_http_1_status_lines_only() {
        assert_eq!(parse_status_code("HTTP/1.1 200 OK"), Some(200));
        assert_eq!(
            parse_status_code("HTTP/1.0 503 Service Unavailable"),
            Some(503)
        );
        assert_eq!(parse_status_code("SSH-2.0-OpenSSH"), None);
        assert_eq!(parse_status_code(""), None);
    }

    #[test]
    fn a_port_where_nothing_listens_is_unhealthy() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let port = listener.local_addr().expect("local address").port();
        drop(listener);
        let settings = Settings::from_map(&Default::default()).expect("development settings");
        assert!(!run(
            &settings,
            &[Target::Http {
                name: "gateway",
                port
            }]
        ));
        assert!(!run(&settings, &[Target::Grpc { name: "auth", port }]));
    }

    #[test]
    fn a_gateway_answering_200_is_healthy_and_503_is_not() {
        for (answer, healthy) in [
            ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", true),
            (
                "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n",
                false,
            ),
        ] {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
            let port = listener.local_addr().expect("local address").port();
            let server = std::thread::spawn(move || {
                let (mut connection, _) = listener.accept().expect("accept the probe");
                let mut request = [0_u8; 512];
                let read = connection.read(&mut request).expect("read the request");
                connection.write_all(answer.as_bytes()).expect("answer");
                String::from_utf8_lossy(&request[..read]).into_owned()
            });
            let settings = Settings::from_map(&Default::default()).expect("development settings");
            assert_eq!(
                run(
                    &settings,
                    &[Target::Http {
                        name: "gateway",
                        port
                    }]
                ),
                healthy
            );
            let request = server.join().expect("server thread");
            assert!(request.starts_with("GET /health HTTP/1.1\r\n"));
        }
    }
}
