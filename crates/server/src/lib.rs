//! The Tinyvex live sync server.
//!
//! [`Server::start`] opens the store, starts the single writer, the source
//! watcher (filesystem events plus a periodic cheap rescan) and the change
//! feed, and serves a WebSocket endpoint `/ws` speaking JSON-RPC 2.0
//! (`docs/protocol.md`, types in `tinyvex-protocol`), and the web UI at `/`
//! (embedded static files, `docs/web-ui.md`).
//!
//! ```text
//!  source files ─▶ watcher ─▶ writer ─▶ SQLite ─▶ change feed ─▶ connections ─▶ clients
//!                  (notify,    (group     (WAL)    (one query     (filter per
//!                   rescan)     commit)             per commit)    subscription)
//! ```
//!
//! * **Auth** happens before the upgrade ([`Token`], constant-time compare).
//! * **Live queries**: a subscription is answered by a snapshot, or with
//!   `since` by exactly the changes after it, then by `changes`
//!   notifications each tagged with the revision it brings the client to.
//! * **Backpressure**: bounded per-connection queues; a slow client is
//!   caught up by query (coalesced), never slowing the others.
//! * **Two-way**: while the setting `two_way` is on, the mirror
//!   (`tinyvex_export::mirror`) writes every changed thread of another
//!   agent into Codex's sessions folder; `control.two_way` switches it.
//! * **Shutdown**: [`Server::shutdown`] stops accepting, closes every
//!   connection with a reason, stops the watcher and the mirror and
//!   flushes the writer.
#![deny(missing_docs)]

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{State, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tinyvex_protocol::SUBPROTOCOL;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

mod auth;
mod connection;
mod feed;
mod rpc;
mod state;
mod subscription;
mod token;
mod web;

pub use connection::OUT_QUEUE;
pub use rpc::{MAX_REQUEST_BYTES, MAX_SUBSCRIPTIONS};
pub use state::ServerConfig;
pub use token::{token_path, Token, TOKEN_FILE};

use state::AppState;

/// Largest WebSocket message the transport accepts; a larger one closes
/// the connection with code 1009 ("message too big").
pub const MAX_MESSAGE_BYTES: usize = 8 << 20;

/// The default listening address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// Everything that stops the server from starting or stopping cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store could not be opened or written.
    #[error(transparent)]
    Store(#[from] tinyvex_store::Error),
    /// The watcher could not start.
    #[error(transparent)]
    Ingest(#[from] tinyvex_ingest::Error),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}\nhint: is another `tinyvex serve` running? pass --listen 127.0.0.1:0 for any free port")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The token could not be created or read.
    #[error("token: {0}")]
    Token(String),
    /// The HTTP server failed.
    #[error("server: {0}")]
    Serve(String),
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: watch::Sender<bool>,
    http: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Open the store, start ingestion and listen. Returns once the socket
    /// accepts connections; the first pass over the sources runs in the
    /// background (its progress is a `job` notification).
    pub async fn start(config: ServerConfig) -> Result<Server, Error> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "listening on a non-loopback address: anyone who can reach it and holds the token can read every session");
        }
        let (stop, stopped) = watch::channel(false);
        // Opening the store and starting threads blocks: off the async workers.
        let shutdown = stopped.clone();
        let state = tokio::task::spawn_blocking(move || AppState::start(config, shutdown))
            .await
            .map_err(|e| Error::Serve(format!("startup task failed: {e}")))??;
        let app = router(Arc::clone(&state));
        let mut signal = stopped;
        let http = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = signal.wait_for(|s| *s).await;
                })
                .await
        });
        Ok(Server {
            addr,
            state,
            stop,
            http,
        })
    }

    /// The address it listens on (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Open WebSocket connections.
    pub fn clients(&self) -> u64 {
        self.state.clients.load(Ordering::Relaxed)
    }

    /// Stop accepting, close every connection with a reason ("server
    /// shutting down", code 1001), stop the watcher, commit what is queued
    /// and stop the writer.
    pub async fn shutdown(self) -> Result<(), Error> {
        let _ = self.stop.send(true);
        match tokio::time::timeout(Duration::from_secs(5), self.http).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!("server ended with an error: {e}"),
            Ok(Err(e)) => tracing::warn!("server task failed: {e}"),
            Err(_) => tracing::warn!("server did not stop within 5 s"),
        }
        // Upgraded sockets are not tracked by the HTTP server's shutdown:
        // give them a moment to send their close frames.
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.state.clients.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let watch = self.state.watch.clone();
        let mirror = self.state.mirror.clone();
        let writer = self.state.writer.clone();
        tokio::task::spawn_blocking(move || {
            watch.shutdown();
            // Saves its cursor through the writer: before the writer stops.
            mirror.stop();
            writer.shutdown()
        })
        .await
        .map_err(|e| Error::Serve(e.to_string()))??;
        Ok(())
    }
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/ws", get(websocket))
        .route("/healthz", get(|| async { "ok" }))
        .route("/auth/check", get(auth_check))
        .fallback(web::serve)
        .with_state(state)
}

/// Lets a page check a token (sent in the `Authorization` header, never in
/// the URL) before it stores it: 204, or the 401/403 the WebSocket would get.
async fn auth_check(_auth: auth::Authorized) -> StatusCode {
    StatusCode::NO_CONTENT
}

/// `Authorized` comes first: a request without the right token is refused
/// (401) before the upgrade is even looked at.
async fn websocket(
    _auth: auth::Authorized,
    State(state): State<Arc<AppState>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols([SUBPROTOCOL])
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_failed_upgrade(|e| tracing::debug!("WebSocket upgrade failed: {e}"))
        .on_upgrade(move |socket| connection::serve(socket, state))
        .into_response()
}
