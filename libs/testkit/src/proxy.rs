//! A small TCP proxy for fault tests: placed between a part and Postgres, Redis or another
//! part, it forwards bytes both ways until a test cuts, stalls or slows the link (never the
//! machine's shared servers themselves).
//!
//! - [`TcpProxy::cut`]: every open connection is dropped and new ones are refused (closed
//!   as soon as they are accepted), like a server that went away.
//! - [`TcpProxy::stall`]: connections stay open but no byte moves either way (queued bytes
//!   wait), like a network partition or a frozen server.
//! - [`TcpProxy::slow`]: every chunk is delayed by the given latency.
//! - [`TcpProxy::restore`]: back to plain forwarding; stalled bytes flow on.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
};
use tokio_util::sync::CancellationToken;

/// What the proxy does with the bytes it sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Forward,
    /// Forward, each chunk after this delay.
    Slow(Duration),
    /// Hold every byte; keep the sockets.
    Stall,
    /// Drop every connection; close new ones at once.
    Cut,
}

/// A proxy listening on a free local port and forwarding to `target`. Dropping it closes
/// the listener and every connection.
pub struct TcpProxy {
    address: SocketAddr,
    state: Arc<watch::Sender<LinkState>>,
    stop: CancellationToken,
    /// Bytes passed from clients to the target.
    forwarded: Arc<AtomicU64>,
}

impl TcpProxy {
    /// Starts a proxy to `target` (`host:port`).
    pub async fn start(target: impl Into<String>) -> Self {
        Self::start_on(0, target).await
    }

    /// Starts a proxy on a given local port (0: a free one) to `target`.
    pub async fn start_on(port: u16, target: impl Into<String>) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the proxy binds a local port");
        let address = listener.local_addr().expect("the proxy has an address");
        let (state, _) = watch::channel(LinkState::Forward);
        let state = Arc::new(state);
        let stop = CancellationToken::new();
        let forwarded = Arc::new(AtomicU64::new(0));
        tokio::spawn(accept_loop(
            listener,
            target.into(),
            Arc::clone(&state),
            stop.clone(),
            Arc::clone(&forwarded),
        ));
        Self {
            address,
            state,
            stop,
            forwarded,
        }
    }

    /// A proxy in front of the host and port of `url` (`postgres://…`, `redis://…`,
    /// `http://…`), and `url` rewritten to go through it.
    pub async fn in_front_of(url: &str) -> (Self, String) {
        let (scheme, rest) = url.split_once("://").expect("the url has a scheme");
        let (credentials, rest) = match rest.rsplit_once('@') {
            Some((credentials, rest)) => (Some(credentials), rest),
            None => (None, rest),
        };
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let proxy = Self::start(authority.to_owned()).await;
        let credentials = credentials.map(|c| format!("{c}@")).unwrap_or_default();
        let proxied = format!("{scheme}://{credentials}{}{tail}", proxy.address());
        (proxy, proxied)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn cut(&self) {
        self.state.send_replace(LinkState::Cut);
    }

    pub fn stall(&self) {
        self.state.send_replace(LinkState::Stall);
    }

    pub fn slow(&self, latency: Duration) {
        self.state.send_replace(LinkState::Slow(latency));
    }

    pub fn restore(&self) {
        self.state.send_replace(LinkState::Forward);
    }

    pub fn state(&self) -> LinkState {
        *self.state.borrow()
    }

    /// How many bytes clients have sent through the proxy so far (to see which of several
    /// replicas calls reach).
    pub fn bytes_forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::Relaxed)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: String,
    state: Arc<watch::Sender<LinkState>>,
    stop: CancellationToken,
    forwarded: Arc<AtomicU64>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => return,
        };
        let Ok((client, _)) = accepted else {
            continue;
        };
        if *state.borrow() == LinkState::Cut {
            drop(client);
            continue;
        }
        let _ = client.set_nodelay(true);
        let target = target.clone();
        let state = state.subscribe();
        let stop = stop.clone();
        let forwarded = Arc::clone(&forwarded);
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(&target).await else {
                return;
            };
            let _ = server.set_nodelay(true);
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            let connection = stop.child_token();
            let upstream = pump(
                client_read,
                server_write,
                state.clone(),
                connection.clone(),
                Some(forwarded),
            );
            let downstream = pump(server_read, client_write, state, connection.clone(), None);
            // Either direction ending (EOF, error, cut) ends the connection both ways.
            tokio::select! {
                () = upstream => {}
                () = downstream => {}
            }
            connection.cancel();
        });
    }
}

/// Copies `from` to `to` chunk by chunk, obeying the link state before each write.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut state: watch::Receiver<LinkState>,
    stop: CancellationToken,
    counter: Option<Arc<AtomicU64>>,
) {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        // While stalled, read nothing either: bytes queue up in the kernel buffers.
        loop {
            let current = *state.borrow_and_update();
            match current {
                LinkState::Cut => return,
                LinkState::Stall => {
                    tokio::select! {
                        changed = state.changed() => if changed.is_err() { return },
                        () = stop.cancelled() => return,
                    }
                }
                LinkState::Forward | LinkState::Slow(_) => break,
            }
        }
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            () = stop.cancelled() => return,
            changed = state.changed() => {
                if changed.is_err() { return }
                continue;
            }
        };
        let count = match read {
            Ok(0) | Err(_) => return,
            Ok(count) => count,
        };
        // The state may have changed while the read was pending: a stalled or cut link
        // must not pass the chunk it just read.
        loop {
            let current = *state.borrow_and_update();
            match current {
                LinkState::Cut => return,
                LinkState::Stall => {
                    tokio::select! {
                        changed = state.changed() => if changed.is_err() { return },
                        () = stop.cancelled() => return,
                    }
                }
                LinkState::Slow(latency) => {
                    tokio::select! {
                        () = tokio::time::sleep(latency) => {}
                        () = stop.cancelled() => return,
                    }
                    break;
                }
                LinkState::Forward => break,
            }
        }
        if to.write_all(&buffer[..count]).await.is_err() {
            return;
        }
        if let Some(counter) = &counter {
            counter.fetch_add(count as u64, Ordering::Relaxed);
        }
    }
}
