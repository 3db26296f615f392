//! Query parameters and result rows of the read side. The `Serialize`
//! field names of the rows are a public JSON contract.

use serde::Serialize;
use tinyvex_model::{ProviderKind, Revision, TimestampMs};

/// Parameters of [`crate::Reader::threads`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadQuery {
    /// Only threads of this provider.
    pub provider: Option<ProviderKind>,
    /// At most this many threads.
    pub limit: usize,
    /// Only threads strictly after this cursor in listing order (next page).
    pub before: Option<ThreadPageCursor>,
    /// Only threads changed after this revision.
    pub since: Option<Revision>,
}

impl Default for ThreadQuery {
    fn default() -> Self {
        ThreadQuery {
            provider: None,
            limit: 50,
            before: None,
            since: None,
        }
    }
}

/// Keyset position in the thread listing (`updated_at DESC, id DESC`).
/// Take it from the last row of a page with [`ThreadRow::page_cursor`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadPageCursor {
    /// `updated_at` of the last row seen, 0 when unknown.
    pub updated_at: TimestampMs,
    /// Id of the last row seen.
    pub id: String,
}

/// Which items of a thread [`crate::Reader::items`] returns; always in
/// `seq` order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemQuery {
    /// Every item.
    All,
    /// The last `n` items.
    Tail(usize),
    /// Up to `limit` items with `seq >= from_seq`.
    Range {
        /// First sequence number.
        from_seq: i64,
        /// Most items returned.
        limit: usize,
    },
    /// Items inserted or changed after this revision.
    Since(Revision),
}

/// One thread as listed and shown.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThreadRow {
    /// Public id (`<provider>-<session id>`).
    pub id: String,
    /// Provider name, lowercase.
    pub provider: String,
    /// The provider's session id.
    pub session_id: String,
    /// One-line title.
    pub title: Option<String>,
    /// Working directory.
    pub cwd: Option<String>,
    /// Git branch.
    pub git_branch: Option<String>,
    /// Latest model.
    pub model: Option<String>,
    /// Latest agent version.
    pub agent_version: Option<String>,
    /// Session id of the parent thread.
    pub parent_session_id: Option<String>,
    /// Creation time, RFC 3339.
    pub created_at: Option<String>,
    /// Time of the newest item, RFC 3339.
    pub updated_at: Option<String>,
    /// Number of items.
    pub item_count: u64,
    /// Source files feeding the thread.
    pub source_files: Vec<String>,
    /// True when the source files are gone.
    pub source_missing: bool,
    /// Revision of the last change to the thread or its items.
    pub revision: u64,
    /// `created_at` in epoch milliseconds.
    #[serde(skip)]
    pub created_at_ms: Option<TimestampMs>,
    /// `updated_at` in epoch milliseconds.
    #[serde(skip)]
    pub updated_at_ms: Option<TimestampMs>,
}

impl ThreadRow {
    /// The cursor that continues a listing after this row.
    pub fn page_cursor(&self) -> ThreadPageCursor {
        ThreadPageCursor {
            updated_at: self.updated_at_ms.unwrap_or(0),
            id: self.id.clone(),
        }
    }
}

/// One item of a thread.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemRow {
    /// Public id (`<thread id>/<key>`).
    pub id: String,
    /// Public id of the thread.
    pub thread_id: String,
    /// Position in the thread.
    pub seq: i64,
    /// Item kind, snake_case.
    pub kind: String,
    /// Record time, RFC 3339.
    pub ts: Option<String>,
    /// Text of messages, reasoning and errors.
    pub text: Option<String>,
    /// Revision of the last change.
    pub revision: u64,
    /// Tool call id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// Tool family.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_kind: Option<String>,
    /// Tool name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Shell command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Tool input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Tool output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Process exit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// Tool status, snake_case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Call time, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// Output time, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// Structured payload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

/// Figures of one provider for `tinyvex status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProviderStatus {
    /// Provider name, lowercase.
    pub provider: String,
    /// Source files present.
    pub files: u64,
    /// Source files that disappeared (their threads are kept).
    pub missing_files: u64,
    /// Threads.
    pub threads: u64,
    /// Items over all threads.
    pub items: u64,
    /// Source bytes consumed.
    pub bytes_ingested: u64,
    /// Bad records plus files with a file-level error.
    pub errors: u64,
    /// The most recent error message.
    pub last_error: Option<String>,
    /// The file of the most recent error.
    pub last_error_file: Option<String>,
    /// When the most recent error was recorded, RFC 3339.
    pub last_error_at: Option<String>,
}
