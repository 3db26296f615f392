//! Wire types of the Tinyvex live-query protocol, defined once here and
//! documented message by message in `docs/protocol.md`.
//!
//! The transport is JSON-RPC 2.0 over a WebSocket (`/ws`), one JSON object
//! per text message. The client sends [`Request`]s; the server answers each
//! with a [`Response`] carrying the same `id`, and pushes
//! [`Notification`]s (no `id`) for subscriptions ([`method::CHANGES`]) and
//! background jobs ([`method::JOB`]).
//!
//! Rows (threads, items, provider figures) are the store's serializable row
//! types, re-exported here so a client needs only this crate.
#![deny(missing_docs)]

mod envelope;
mod messages;

pub use envelope::{codes, Id, Notification, Request, Response, RpcError};
pub use messages::*;
pub use tinyvex_export::mirror::MirrorStats;
pub use tinyvex_ingest::{JobKind, JobProgress, JobState, ProviderWatchStats};
pub use tinyvex_store::{ItemRow, ProviderStatus, SearchHit, ThreadRow};

/// Version of the protocol described here; bumped on incompatible changes.
pub const PROTOCOL_VERSION: u32 = 1;

/// The WebSocket subprotocol a browser offers (with the token entry, see
/// [`TOKEN_SUBPROTOCOL_PREFIX`]); the server selects it.
pub const SUBPROTOCOL: &str = "tinyvex.v1";

/// Browsers cannot set an `Authorization` header on a WebSocket; they offer
/// a second subprotocol entry `tinyvex.token.<token>` instead.
pub const TOKEN_SUBPROTOCOL_PREFIX: &str = "tinyvex.token.";

/// Method names, requests and notifications.
pub mod method {
    /// Server identity, protocol version, store id and revision.
    pub const HELLO: &str = "hello";
    /// One page of threads.
    pub const THREADS_LIST: &str = "threads.list";
    /// One thread by id, alias, session id or unique prefix.
    pub const THREADS_GET: &str = "threads.get";
    /// Items of a thread: tail, range or changes since a revision.
    pub const ITEMS_LIST: &str = "items.list";
    /// One item (typically a tool call) with its full content.
    pub const ITEMS_GET: &str = "items.get";
    /// The tool calls of a thread.
    pub const TOOLS_LIST: &str = "tools.list";
    /// Full-text search.
    pub const SEARCH: &str = "search";
    /// Per-provider figures, jobs and settings.
    pub const STATUS: &str = "status";
    /// Start a live query.
    pub const SUBSCRIBE: &str = "subscribe";
    /// Stop a live query.
    pub const UNSUBSCRIBE: &str = "unsubscribe";
    /// Map a client's own thread id to a stored thread.
    pub const ALIASES_SET: &str = "aliases.set";
    /// Remove an alias.
    pub const ALIASES_REMOVE: &str = "aliases.remove";
    /// Enable or disable a provider (persisted).
    pub const CONTROL_PROVIDER: &str = "control.provider";
    /// Turn the two-way mirror on or off (persisted; takes effect at once).
    pub const CONTROL_TWO_WAY: &str = "control.two_way";
    /// Run a cheap pass over every enabled provider now.
    pub const CONTROL_RESCAN: &str = "control.rescan";
    /// Re-read every source file from the start, in chunks, with progress.
    pub const CONTROL_BACKFILL: &str = "control.backfill";
    /// Notification: a subscription's changes.
    pub const CHANGES: &str = "changes";
    /// Notification: progress of a background job.
    pub const JOB: &str = "job";
}
