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
    /// The last `limit` items with `seq < before_seq` (the page before a
    /// range, for paging backwards from the tail).
    Before {
        /// Items strictly before this sequence number.
        before_seq: i64,
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
#[derive(Clone, Debug, PartialEq)]
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
    pub call_id: Option<String>,
    /// Tool family.
    pub tool_kind: Option<String>,
    /// Tool name.
    pub name: Option<String>,
    /// Shell command line.
    pub command: Option<String>,
    /// Tool input.
    pub input: Option<String>,
    /// Tool output.
    pub output: Option<String>,
    /// Process exit code.
    pub exit_code: Option<i64>,
    /// Tool status, snake_case.
    pub status: Option<String>,
    /// Call time, RFC 3339.
    pub started_at: Option<String>,
    /// Output time, RFC 3339.
    pub ended_at: Option<String>,
    /// Structured payload.
    pub data: Option<serde_json::Value>,
}

/// The JSON shape (`docs/cli.md`): every item has `id`, `thread_id`, `seq`,
/// `kind`, `ts`, `text`, `revision`; a tool call always has all its tool
/// fields, `null` when unknown (an in-progress call has no output yet);
/// other kinds have none of them; `data` appears when there is some.
impl Serialize for ItemRow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("thread_id", &self.thread_id)?;
        map.serialize_entry("seq", &self.seq)?;
        map.serialize_entry("kind", &self.kind)?;
        map.serialize_entry("ts", &self.ts)?;
        map.serialize_entry("text", &self.text)?;
        map.serialize_entry("revision", &self.revision)?;
        if self.kind == "tool_call" {
            map.serialize_entry("call_id", &self.call_id)?;
            map.serialize_entry("tool_kind", &self.tool_kind)?;
            map.serialize_entry("name", &self.name)?;
            map.serialize_entry("command", &self.command)?;
            map.serialize_entry("input", &self.input)?;
            map.serialize_entry("output", &self.output)?;
            map.serialize_entry("exit_code", &self.exit_code)?;
            map.serialize_entry("status", &self.status)?;
            map.serialize_entry("started_at", &self.started_at)?;
            map.serialize_entry("ended_at", &self.ended_at)?;
        }
        if let Some(data) = &self.data {
            map.serialize_entry("data", data)?;
        }
        map.end()
    }
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

#[cfg(test)]
mod tests {
    use super::ItemRow;

    fn row(kind: &str) -> ItemRow {
        ItemRow {
            id: "t/k".into(),
            thread_id: "t".into(),
            seq: 1,
            kind: kind.into(),
            ts: None,
            text: None,
            revision: 3,
            call_id: Some("c1".into()),
            tool_kind: None,
            name: Some("shell".into()),
            command: None,
            input: Some("{}".into()),
            output: None,
            exit_code: None,
            status: Some("in_progress".into()),
            started_at: None,
            ended_at: None,
            data: None,
        }
    }

    #[test]
    fn tool_calls_always_carry_their_fields_and_other_items_none() {
        let call = serde_json::to_value(row("tool_call")).unwrap();
        assert_eq!(call["output"], serde_json::Value::Null);
        assert!(call.as_object().unwrap().contains_key("output"));
        assert!(call.as_object().unwrap().contains_key("exit_code"));
        assert_eq!(call["name"], "shell");
        let user = serde_json::to_value(ItemRow {
            call_id: None,
            name: None,
            input: None,
            status: None,
            ..row("user")
        })
        .unwrap();
        let mut keys: Vec<&str> = user
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["id", "kind", "revision", "seq", "text", "thread_id", "ts"]
        );
    }
}
