//! One WebSocket connection: a send task that owns the socket's sink, and
//! a worker that reads requests, answers them and turns changesets into
//! deliveries. Subscription logic lives in `subscription.rs`; this file
//! only moves messages.
//!
//! Backpressure: the worker hands messages to the send task through a
//! bounded queue. Responses wait for room (they only slow down their own
//! client). Deliveries never wait: when the queue is full the subscription
//! is marked stale and, once the queue has drained, caught up with one
//! query from its own revision (coalesced changes, or a snapshot when too
//! much changed). The shared change feed is a broadcast channel, so a slow
//! connection never holds up ingestion or other connections.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tinyvex_protocol::{
    codes, method, Delivery, Notification, ResnapshotReason, Response, RpcError,
};
use tinyvex_store::ChangeSet;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use crate::rpc::{self, Subscriptions};
use crate::state::{AppState, ServerEvent};
use crate::subscription::{self, Step, Target};

/// Messages waiting for the socket, per connection.
pub const OUT_QUEUE: usize = 256;

/// Bytes of messages waiting for the socket, per connection: past this,
/// deliveries are not queued and the subscription is caught up later.
pub const OUT_QUEUE_BYTES: usize = 4 << 20;

/// Close code sent when the server stops (RFC 6455 "going away").
const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code for a malformed frame.
const CLOSE_PROTOCOL_ERROR: u16 = 1002;
/// Close code for a message over [`crate::MAX_MESSAGE_BYTES`].
const CLOSE_TOO_BIG: u16 = 1009;

/// Smallest interval between two status pushes to one subscription.
const STATUS_INTERVAL: Duration = Duration::from_millis(250);

/// Serve one upgraded socket until the client leaves or the server stops.
pub(crate) async fn serve(socket: WebSocket, state: Arc<AppState>) {
    state.clients.fetch_add(1, Ordering::Relaxed);
    // Subscribe to the feed before any snapshot is read, so that no commit
    // falls between a snapshot and the first changeset seen.
    let changes = state.changes.subscribe();
    let events = state.events.subscribe();
    let (mut sink, mut stream) = socket.split();
    let (out, mut queue) = mpsc::channel::<Message>(OUT_QUEUE);
    let queued = Arc::new(AtomicUsize::new(0));
    let sent = Arc::clone(&queued);
    let sender = tokio::spawn(async move {
        while let Some(message) = queue.recv().await {
            let closing = matches!(message, Message::Close(_));
            // Only text messages are counted when queued.
            let len = match &message {
                Message::Text(t) => t.len(),
                _ => 0,
            };
            let failed = sink.send(message).await.is_err();
            sent.fetch_sub(len, Ordering::Relaxed);
            if failed || closing {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let mut worker = Worker {
        state: Arc::clone(&state),
        subs: Subscriptions::new(),
        out,
        queued,
        stale: false,
        status_dirty: false,
    };
    worker.run(&mut stream, changes, events).await;
    drop(worker);
    let _ = sender.await;
    state.clients.fetch_sub(1, Ordering::Relaxed);
}

struct Worker {
    state: Arc<AppState>,
    subs: Subscriptions,
    out: mpsc::Sender<Message>,
    /// Bytes in `out` not yet written to the socket.
    queued: Arc<AtomicUsize>,
    /// Some subscription missed deliveries and waits for a catch-up.
    stale: bool,
    /// A status subscription should get a fresh document.
    status_dirty: bool,
}

impl Worker {
    async fn run(
        &mut self,
        stream: &mut futures_util::stream::SplitStream<WebSocket>,
        mut changes: tokio::sync::broadcast::Receiver<Arc<ChangeSet>>,
        mut events: tokio::sync::broadcast::Receiver<ServerEvent>,
    ) {
        let mut shutdown = self.state.shutdown.clone();
        let mut tick = tokio::time::interval(STATUS_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = async { shutdown.wait_for(|stop| *stop).await.map(|_| ()) } => {
                    let _ = self.out.send(Message::Close(Some(CloseFrame {
                        code: CLOSE_GOING_AWAY,
                        reason: Utf8Bytes::from_static("server shutting down"),
                    }))).await;
                    return;
                }
                message = stream.next() => {
                    let keep_going = match message {
                        Some(Ok(message)) => self.on_message(message).await,
                        Some(Err(e)) => {
                            self.close_after_error(&e.to_string()).await;
                            false
                        }
                        None => false,
                    };
                    if !keep_going {
                        return;
                    }
                }
                received = changes.recv() => match received {
                    Ok(cs) => self.on_changes(&cs).await,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "connection fell behind the change feed; catching up");
                        self.mark_all_stale();
                    }
                    Err(RecvError::Closed) => return,
                },
                received = events.recv() => match received {
                    Ok(ServerEvent::Job(progress)) => {
                        self.status_dirty = true;
                        self.notify(method::JOB, &progress);
                    }
                    Err(RecvError::Lagged(_)) => self.status_dirty = true,
                    Err(RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    if self.stale
                        && self.out.capacity() >= OUT_QUEUE / 2
                        && self.queued.load(Ordering::Relaxed) <= OUT_QUEUE_BYTES / 2
                    {
                        self.catch_up_stale().await;
                    }
                    if self.status_dirty {
                        self.push_status().await;
                    }
                }
            }
        }
    }

    /// The socket failed to read a message: say why in a close frame (the
    /// peer may already be gone, then this is a no-op).
    async fn close_after_error(&self, error: &str) {
        tracing::debug!("connection ended: {error}");
        // tungstenite reports an oversized message as a capacity error
        // ("Space limit exceeded: Message too long: ...").
        let (code, reason) = if error.contains("too long") || error.contains("Space limit") {
            (CLOSE_TOO_BIG, "message too big")
        } else {
            (CLOSE_PROTOCOL_ERROR, "invalid WebSocket frame")
        };
        let _ = self
            .out
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            })))
            .await;
    }

    /// Handle one client message; false ends the connection.
    async fn on_message(&mut self, message: Message) -> bool {
        let replies = match message {
            Message::Text(text) => rpc::handle(&self.state, &mut self.subs, text.as_str()).await,
            Message::Binary(_) => vec![serde_json::to_string(&Response::err(
                None,
                RpcError::new(
                    codes::INVALID_REQUEST,
                    "binary messages are not supported: send JSON-RPC requests as text",
                ),
            ))
            .expect("serializes")],
            Message::Close(_) => return false,
            // axum answers pings itself.
            Message::Ping(_) | Message::Pong(_) => Vec::new(),
        };
        for text in replies {
            if !self.send(text).await {
                return false;
            }
        }
        true
    }

    async fn on_changes(&mut self, changes: &ChangeSet) {
        let mut catch_up = Vec::new();
        let ids: Vec<u64> = self.subs.keys().copied().collect();
        for id in ids {
            let Some(sub) = self.subs.get(&id) else {
                continue;
            };
            if sub.stale {
                continue;
            }
            match sub.step(changes) {
                Step::Nothing => self.advance(id, changes.to.0),
                Step::Deliver(delivery) => self.deliver(*delivery),
                Step::CatchUp => catch_up.push(id),
                Step::StatusDirty => self.status_dirty = true,
            }
        }
        for id in catch_up {
            self.catch_up(id, ResnapshotReason::TooManyChanges).await;
        }
    }

    fn advance(&mut self, id: u64, revision: u64) {
        if let Some(sub) = self.subs.get_mut(&id) {
            sub.revision = sub.revision.max(revision);
        }
    }

    /// Queue a delivery (in parts when large) without waiting; a full
    /// queue makes the subscription stale, and it is caught up from its
    /// revision later (parts already queued are then sent again: identical
    /// upserts, never a gap).
    fn deliver(&mut self, delivery: Delivery) {
        let (id, revision) = (delivery.subscription, delivery.revision);
        for part in subscription::split(delivery, rpc::DELIVERY_BUDGET) {
            if !self.notify(method::CHANGES, &part) {
                if let Some(sub) = self.subs.get_mut(&id) {
                    sub.stale = true;
                    self.stale = true;
                }
                return;
            }
        }
        self.advance(id, revision);
    }

    /// Queue a notification if there is room; false when the queue is full
    /// (in messages or bytes).
    fn notify<T: serde::Serialize>(&self, method: &str, params: &T) -> bool {
        let text = serde_json::to_string(&Notification::new(method, params)).expect("serializes");
        let len = text.len();
        if self.queued.load(Ordering::Relaxed) + len > OUT_QUEUE_BYTES {
            return false;
        }
        self.queued.fetch_add(len, Ordering::Relaxed);
        if self.out.try_send(Message::Text(text.into())).is_err() {
            self.queued.fetch_sub(len, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Queue a message, waiting for room (responses, catch-ups); false
    /// when the connection is gone.
    async fn send(&self, text: String) -> bool {
        let len = text.len();
        self.queued.fetch_add(len, Ordering::Relaxed);
        if self.out.send(Message::Text(text.into())).await.is_err() {
            self.queued.fetch_sub(len, Ordering::Relaxed);
            return false;
        }
        true
    }

    fn mark_all_stale(&mut self) {
        for sub in self.subs.values_mut() {
            if sub.target != Target::Status {
                sub.stale = true;
                self.stale = true;
            }
        }
        self.status_dirty = true;
    }

    async fn catch_up_stale(&mut self) {
        self.stale = false;
        let stale: Vec<u64> = self
            .subs
            .iter()
            .filter(|(_, s)| s.stale)
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            self.state.slow_catch_ups.fetch_add(1, Ordering::Relaxed);
            self.catch_up(id, ResnapshotReason::SlowClient).await;
        }
    }

    /// Query what `id` missed since its revision and queue it (waiting for
    /// room: the queue was checked to have drained).
    async fn catch_up(&mut self, id: u64, reason: ResnapshotReason) {
        let Some(sub) = self.subs.get(&id).cloned() else {
            return;
        };
        if sub.target == Target::Status {
            // A status document is always whole: just push a fresh one.
            if let Some(sub) = self.subs.get_mut(&id) {
                sub.stale = false;
            }
            self.status_dirty = true;
            return;
        }
        let store = self.state.store.clone();
        let read = tokio::task::spawn_blocking(move || {
            let reader = store.read()?;
            subscription::catch_up(&reader, &sub, reason)
        })
        .await;
        match read {
            Ok(Ok(delivery)) => {
                let revision = delivery.revision;
                let nothing_new = !delivery.snapshot
                    && delivery.thread.is_none()
                    && delivery.threads.as_ref().is_none_or(Vec::is_empty)
                    && delivery.items.as_ref().is_none_or(Vec::is_empty)
                    && delivery.hits.as_ref().is_none_or(Vec::is_empty);
                if !nothing_new {
                    for part in subscription::split(delivery, rpc::DELIVERY_BUDGET) {
                        let text =
                            serde_json::to_string(&Notification::new(method::CHANGES, &part))
                                .expect("serializes");
                        if !self.send(text).await {
                            return;
                        }
                    }
                }
                if let Some(sub) = self.subs.get_mut(&id) {
                    sub.stale = false;
                    sub.revision = sub.revision.max(revision);
                }
            }
            Ok(Err(e)) => {
                tracing::warn!("catch-up of subscription {id} failed: {e}; retrying");
                self.stale = true;
                if let Some(sub) = self.subs.get_mut(&id) {
                    sub.stale = true;
                }
            }
            Err(e) => tracing::error!("catch-up task failed: {e}"),
        }
    }

    async fn push_status(&mut self) {
        let ids: Vec<u64> = self
            .subs
            .iter()
            .filter(|(_, s)| s.target == Target::Status)
            .map(|(id, _)| *id)
            .collect();
        self.status_dirty = false;
        if ids.is_empty() {
            return;
        }
        let state = Arc::clone(&self.state);
        let Ok(Ok(status)) = tokio::task::spawn_blocking(move || state.status()).await else {
            self.status_dirty = true;
            return;
        };
        for id in ids {
            self.deliver(Delivery {
                subscription: id,
                revision: status.revision,
                snapshot: true,
                status: Some(status.clone()),
                ..Delivery::default()
            });
        }
    }
}
