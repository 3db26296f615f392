//! Params and results of each method, and the notification payloads.
//!
//! Params structs accept unknown fields (newer clients talking to an older
//! server degrade gracefully); every optional field has a documented default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tinyvex_export::mirror::MirrorStats;
use tinyvex_ingest::{JobProgress, ProviderWatchStats};
use tinyvex_store::{ItemRow, ProviderStatus, SearchHit, ThreadRow};

/// Result of `hello`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Hello {
    /// Always `"tinyvex"`.
    pub server: String,
    /// The server's version.
    pub version: String,
    /// [`crate::PROTOCOL_VERSION`].
    pub protocol: u32,
    /// Identity of the store; a client's revisions are only meaningful for
    /// the store that issued them.
    pub store_id: String,
    /// The store's current revision.
    pub revision: u64,
}

/// Params of `threads.list`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ThreadsListParams {
    /// Only threads of this provider (`codex`, `claude`, `opencode`, `gemini`).
    #[serde(default)]
    pub provider: Option<String>,
    /// Page size, default 50, at most 1000.
    #[serde(default)]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Only threads changed after this revision.
    #[serde(default)]
    pub since: Option<u64>,
}

/// Result of `threads.list`.
#[derive(Clone, Debug, Serialize)]
pub struct ThreadsList {
    /// The revision the page was read at.
    pub revision: u64,
    /// Newest first (`updated_at` descending, then id).
    pub threads: Vec<ThreadRow>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Params naming one thread: `threads.get`, `tools.list`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ThreadParams {
    /// Thread id, alias, provider session id or a unique id prefix.
    pub thread: String,
}

/// Result of `threads.get`.
#[derive(Clone, Debug, Serialize)]
pub struct ThreadGet {
    /// The revision the thread was read at.
    pub revision: u64,
    /// The thread.
    pub thread: ThreadRow,
    /// Client aliases that point at it.
    pub aliases: Vec<String>,
}

/// Params of `items.list`. At most one of `tail`, `from_seq`, `before_seq`
/// and `since`; none means the last 200 items.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ItemsListParams {
    /// Thread id, alias, session id or unique prefix.
    pub thread: String,
    /// The last `tail` items (at most 5000).
    #[serde(default)]
    pub tail: Option<usize>,
    /// Items from this sequence number on, `limit` of them.
    #[serde(default)]
    pub from_seq: Option<i64>,
    /// The last `limit` items with `seq < before_seq` (paging backwards).
    #[serde(default)]
    pub before_seq: Option<i64>,
    /// Page size for `from_seq` and `before_seq`, default 200, at most 5000.
    #[serde(default)]
    pub limit: Option<usize>,
    /// Items inserted or changed after this revision.
    #[serde(default)]
    pub since: Option<u64>,
}

/// Result of `items.list` and `tools.list`.
#[derive(Clone, Debug, Serialize)]
pub struct ItemsList {
    /// The revision the items were read at.
    pub revision: u64,
    /// Resolved thread id.
    pub thread_id: String,
    /// In `seq` order.
    pub items: Vec<ItemRow>,
}

/// Params of `items.get`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ItemParams {
    /// Item id (`<thread id>/<key>`).
    pub item: String,
}

/// Result of `items.get`.
#[derive(Clone, Debug, Serialize)]
pub struct ItemGet {
    /// The revision the item was read at.
    pub revision: u64,
    /// The item, with its full content.
    pub item: ItemRow,
}

/// What a subscription watches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Query {
    /// The thread list: the newest `limit` threads as a snapshot, then every
    /// changed thread (new, grown, retitled) as an upsert.
    Threads {
        /// Only this provider.
        #[serde(default)]
        provider: Option<String>,
        /// Snapshot size, default 100, at most 1000.
        #[serde(default)]
        limit: Option<usize>,
    },
    /// One thread: its row and last `tail` items as a snapshot, then every
    /// new or changed item and the changed row.
    Thread {
        /// Thread id, alias, session id or unique prefix.
        thread: String,
        /// Snapshot size, default 500, at most 5000.
        #[serde(default)]
        tail: Option<usize>,
    },
    /// The status document, pushed when it changes (at most a few times a second).
    Status,
    /// A search: the best hits as a snapshot, then every newly committed or
    /// changed item that matches, as it arrives.
    Search {
        /// The query, in the query language of `search` (filters included).
        query: String,
        /// Snapshot size, default 20, at most 500.
        #[serde(default)]
        limit: Option<usize>,
    },
}

/// Params of `search`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SearchParams {
    /// Words, "phrases", prefix*, NOT word, and filters (`provider:codex
    /// kind:tool cwd:/path thread:ID after:2026-01-01 before:7d`).
    pub query: String,
    /// Most hits, default 20, at most 500.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Result of `search`.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResult {
    /// The revision the search ran at.
    pub revision: u64,
    /// Best first.
    pub hits: Vec<SearchHit>,
}

/// Params of `subscribe`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubscribeParams {
    /// What to watch.
    pub query: Query,
    /// The revision of the last delivery this client applied: the answer is
    /// then exactly the changes after it (or a snapshot flagged with a
    /// `reason` when that cannot be done).
    #[serde(default)]
    pub since: Option<u64>,
    /// The `store_id` that `since` came from; a different store means a
    /// fresh snapshot.
    #[serde(default)]
    pub store_id: Option<String>,
}

/// Why a delivery is a snapshot although the client asked for changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResnapshotReason {
    /// `since` is older than the oldest revision the store can resume from.
    SinceTooOld,
    /// `since` is newer than the store, or `store_id` names another store.
    StoreChanged,
    /// More changed than is worth sending one by one.
    TooManyChanges,
    /// The client fell behind (its queue filled up) and is being caught up.
    SlowClient,
}

/// One delivery of a subscription: the `subscribe` result and each
/// `changes` notification.
///
/// The client applies it and remembers `revision`. With `snapshot: true`
/// it replaces everything it holds for the subscription; otherwise rows
/// are upserts by `id` (threads) and `id` (items). Deliveries of one
/// subscription come in revision order and never repeat a change.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Delivery {
    /// The subscription.
    pub subscription: u64,
    /// The revision this delivery brings the client to.
    pub revision: u64,
    /// The store's identity (`subscribe` result only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
    /// True: replace; false: upsert.
    pub snapshot: bool,
    /// More parts of this delivery follow (a large delivery is split so no
    /// message grows past about 1 MiB). Parts carry the same `revision`;
    /// remember it only from the last part (the one without `more`). Parts
    /// after the first are upserts even when the first was a snapshot.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub more: bool,
    /// Set when a snapshot answers a request for changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<ResnapshotReason>,
    /// `threads` query: changed or snapshot rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<Vec<ThreadRow>>,
    /// `thread` query: the row, when it changed (always in a snapshot).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<ThreadRow>,
    /// `thread` query: changed or snapshot items, in `seq` order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<ItemRow>>,
    /// `search` query: matching items (upserts by `item_id`; a snapshot is
    /// best first, later deliveries hold new matches best first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hits: Option<Vec<SearchHit>>,
    /// `status` query: the whole document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// Params of `unsubscribe`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UnsubscribeParams {
    /// The id from the `subscribe` result.
    pub subscription: u64,
}

/// Params of `aliases.set`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AliasSetParams {
    /// The client's own id for the thread.
    pub alias: String,
    /// Thread id, session id or unique prefix (resolved now).
    pub thread: String,
}

/// Params of `aliases.remove`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AliasRemoveParams {
    /// The alias.
    pub alias: String,
}

/// Params of `control.provider`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProviderControlParams {
    /// Provider name.
    pub provider: String,
    /// Watch and ingest it, or not.
    pub enabled: bool,
}

/// Params of `control.two_way`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TwoWayParams {
    /// Mirror threads into other agents' formats, or not.
    pub enabled: bool,
}

/// Params of `control.backfill`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BackfillParams {
    /// Only this provider; default every enabled one.
    #[serde(default)]
    pub provider: Option<String>,
}

/// Result of a control that changes a persisted setting or alias.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Written {
    /// The revision after the change (unchanged if nothing changed).
    pub revision: u64,
}

/// Result of `control.rescan` and `control.backfill`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobStarted {
    /// Identifies the job's `job` notifications.
    pub job_id: u64,
}

/// One provider in the status document: store figures, watcher figures and
/// whether it is enabled.
#[derive(Clone, Debug, Serialize)]
pub struct ProviderView {
    /// From the store: files, threads, items, bytes, errors.
    #[serde(flatten)]
    pub store: ProviderStatus,
    /// From the watcher: enabled, events, lag, last error.
    pub watch: ProviderWatchStats,
}

/// The status document (`status`, and `status` subscriptions).
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// The store's revision.
    pub revision: u64,
    /// The store's identity.
    pub store_id: String,
    /// The server's version.
    pub version: String,
    /// Milliseconds since the server started.
    pub uptime_ms: u64,
    /// Per provider.
    pub providers: Vec<ProviderView>,
    /// Recent and running jobs, newest last.
    pub jobs: Vec<JobProgress>,
    /// Persisted settings (`two_way`, `provider.<name>.enabled`).
    pub settings: BTreeMap<String, String>,
    /// Batches the writer could not store since start.
    pub failed_batches: u64,
    /// Open WebSocket connections.
    pub clients: u64,
    /// Subscriptions caught up by one query after their client fell behind
    /// (its queue was full), since start.
    pub slow_catch_ups: u64,
    /// Revision up to which the search index has caught up. Searches are
    /// exact at any revision (newer items are checked one by one); this
    /// only says how much of that work the index has taken over.
    #[serde(default)]
    pub search_indexed_revision: u64,
    /// The two-way mirror: on or off, and its figures since start.
    pub mirror: MirrorStats,
}
