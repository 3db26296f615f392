//! The normalized session model shared by every Tinyvex crate.
//!
//! Providers turn an agent's own records into [`ParsedEvent`]s; the ingest
//! layer packs them with the file's new [`FileCursor`] into a [`FileBatch`];
//! the store's writer commits batches and stamps every row it changes with
//! the new [`Revision`]. Nothing in this crate does I/O.
//!
//! Identity is derived from the source, never invented: a thread is
//! `(provider, session_id)` and its public id is [`thread_id`]; an item is
//! `(thread, key)` where the key comes from the record (byte offset of the
//! line, tool `call_id`, turn number), so ingesting the same bytes twice
//! produces the same ids and therefore changes nothing.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod time;

pub use time::{format_ms, now_ms, parse_rfc3339_ms};

/// Milliseconds since the Unix epoch, UTC.
pub type TimestampMs = i64;

/// The agent that wrote a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI Codex CLI (rollout JSONL files).
    Codex,
    /// Anthropic Claude Code (project JSONL files).
    Claude,
    /// OpenCode (JSON storage tree or SQLite).
    Opencode,
    /// Google Gemini CLI (chat JSON files).
    Gemini,
}

impl ProviderKind {
    /// Every provider, in display order.
    pub const ALL: [ProviderKind; 4] = [
        ProviderKind::Codex,
        ProviderKind::Claude,
        ProviderKind::Opencode,
        ProviderKind::Gemini,
    ];

    /// The lowercase name used in the database, the CLI and the wire format.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Codex => "codex",
            ProviderKind::Claude => "claude",
            ProviderKind::Opencode => "opencode",
            ProviderKind::Gemini => "gemini",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown provider name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProvider(pub String);

impl fmt::Display for UnknownProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown provider `{}` (expected one of: codex, claude, opencode, gemini)",
            self.0
        )
    }
}

impl std::error::Error for UnknownProvider {}

impl FromStr for ProviderKind {
    type Err = UnknownProvider;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "codex" => Ok(ProviderKind::Codex),
            "claude" => Ok(ProviderKind::Claude),
            "opencode" => Ok(ProviderKind::Opencode),
            "gemini" => Ok(ProviderKind::Gemini),
            other => Err(UnknownProvider(other.to_string())),
        }
    }
}

/// A global commit counter: every write transaction bumps it by one and
/// stamps it on each row it inserts or changes. "What changed since R" is
/// `WHERE revision > R`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Revision(pub u64);

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The public, stable id of a thread: `<provider>-<session id>`.
pub fn thread_id(provider: ProviderKind, session_id: &str) -> String {
    format!("{}-{}", provider.as_str(), session_id)
}

/// The public, stable id of an item: `<thread id>/<key>`.
pub fn item_id(thread_id: &str, key: &str) -> String {
    format!("{thread_id}/{key}")
}

/// What an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A prompt the user typed (never injected context).
    User,
    /// Text the assistant showed the user.
    Assistant,
    /// Readable reasoning (summaries, thinking blocks).
    Reasoning,
    /// A tool call with its input and, once known, its output.
    ToolCall,
    /// A plan or todo-list snapshot.
    Plan,
    /// Token usage of one turn.
    Usage,
    /// An error or an aborted turn.
    Error,
}

impl ItemKind {
    /// The snake_case name used in the database and the wire format.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::User => "user",
            ItemKind::Assistant => "assistant",
            ItemKind::Reasoning => "reasoning",
            ItemKind::ToolCall => "tool_call",
            ItemKind::Plan => "plan",
            ItemKind::Usage => "usage",
            ItemKind::Error => "error",
        }
    }
}

impl FromStr for ItemKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "user" => ItemKind::User,
            "assistant" => ItemKind::Assistant,
            "reasoning" => ItemKind::Reasoning,
            "tool_call" => ItemKind::ToolCall,
            "plan" => ItemKind::Plan,
            "usage" => ItemKind::Usage,
            "error" => ItemKind::Error,
            other => return Err(format!("unknown item kind `{other}`")),
        })
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lifecycle of a tool call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolStatus {
    /// Called, no output recorded yet.
    InProgress,
    /// Output recorded and no failure known.
    Completed,
    /// Non-zero exit code or an error output.
    Failed,
    /// Refused by the user or the sandbox.
    Declined,
}

impl ToolStatus {
    /// The snake_case name used in the database and the wire format.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolStatus::InProgress => "in_progress",
            ToolStatus::Completed => "completed",
            ToolStatus::Failed => "failed",
            ToolStatus::Declined => "declined",
        }
    }
}

impl FromStr for ToolStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "in_progress" => ToolStatus::InProgress,
            "completed" => ToolStatus::Completed,
            "failed" => ToolStatus::Failed,
            "declined" => ToolStatus::Declined,
            other => return Err(format!("unknown tool status `{other}`")),
        })
    }
}

/// Thread metadata learned from a record. `None` means "not known from this
/// record"; the writer merges patches field by field (see each field).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadPatch {
    /// First real user prompt, one line. First value wins, unless
    /// `title_at` says this one comes from earlier in the session.
    pub title: Option<String>,
    /// When the prompt behind `title` was written, for sources whose
    /// records are read in any order (OpenCode's part files): a title with
    /// an earlier `title_at` replaces a stored one. Not stored otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_at: Option<TimestampMs>,
    /// Working directory / project. First value wins.
    pub cwd: Option<String>,
    /// Git branch when known. First value wins.
    pub git_branch: Option<String>,
    /// Model slug. Last value wins (the model of the latest turn).
    pub model: Option<String>,
    /// Creation time. The earliest value wins.
    pub created_at: Option<TimestampMs>,
    /// Session id of the parent thread (sub-agents, forks). First value wins.
    pub parent_session_id: Option<String>,
    /// Agent version that wrote the session. Last value wins.
    pub agent_version: Option<String>,
}

impl ThreadPatch {
    /// True when the patch carries nothing.
    pub fn is_empty(&self) -> bool {
        *self == ThreadPatch::default()
    }
}

/// Tool-call fields of an item. Merged field by field: a later patch with
/// `Some` overwrites, `None` keeps what is stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolPatch {
    /// The provider's call id that links a call to its output.
    pub call_id: Option<String>,
    /// Broad family: `shell`, `patch`, `web_search`, `mcp`, `plan`, `function`, `custom`.
    pub tool_kind: Option<String>,
    /// Tool name as the model called it (`exec_command`, `apply_patch`, ...).
    pub name: Option<String>,
    /// The shell command line when the tool runs one.
    pub command: Option<String>,
    /// Input as written (usually JSON text).
    pub input: Option<String>,
    /// Output as written.
    pub output: Option<String>,
    /// Process exit code when known.
    pub exit_code: Option<i64>,
    /// Lifecycle status.
    pub status: Option<ToolStatus>,
    /// Call time.
    pub started_at: Option<TimestampMs>,
    /// Output time.
    pub ended_at: Option<TimestampMs>,
}

/// One item of a thread, inserted or merged by `(thread, key)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemPatch {
    /// Stable key inside the thread, derived from the source record.
    pub key: String,
    /// Sort position inside the thread (set on insert, never changed).
    pub seq: i64,
    /// What the item is (set on insert, never changed).
    pub kind: ItemKind,
    /// Time of the record.
    pub ts: Option<TimestampMs>,
    /// Text of messages, reasoning and errors.
    pub text: Option<String>,
    /// Tool-call fields.
    pub tool: Option<ToolPatch>,
    /// Structured payload as JSON: plan steps, token counts, error details.
    pub data: Option<serde_json::Value>,
}

impl ToolPatch {
    /// Fold a later patch of the same call into this one: its `Some` fields win.
    pub fn absorb(&mut self, later: ToolPatch) {
        macro_rules! take {
            ($($f:ident),*) => { $( if later.$f.is_some() { self.$f = later.$f; } )* };
        }
        take!(
            call_id, tool_kind, name, command, input, output, exit_code, status, started_at,
            ended_at
        );
    }
}

impl ItemPatch {
    /// Fold a later patch with the same key into this one, as the store
    /// applies them in order: `Some` fields of `later` win, except `ts`,
    /// which keeps the earliest time while the kind stays the same (a call's
    /// time, not its output's); a different kind replaces the item. `seq`
    /// stays (it is fixed by the first record).
    pub fn absorb(&mut self, later: ItemPatch) {
        if later.kind != self.kind {
            self.kind = later.kind;
            self.ts = later.ts.or(self.ts);
        } else if let Some(ts) = later.ts {
            self.ts = Some(self.ts.map_or(ts, |t| t.min(ts)));
        }
        if later.text.is_some() {
            self.text = later.text;
        }
        if later.data.is_some() {
            self.data = later.data;
        }
        match (&mut self.tool, later.tool) {
            (Some(mine), Some(theirs)) => mine.absorb(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
    }

    /// Item patches with equal keys folded together ([`ItemPatch::absorb`])
    /// in first-seen order, so each item is written once per batch:
    /// re-reading a file never replays intermediate states (a turn's usage
    /// as it grew), which would stamp new revisions on rows that end up
    /// unchanged. A borrowed patch is copied only when a later one folds
    /// into it; owned ones are moved. Reading threads fold their own batch
    /// by value, so the single writer, which folds again by reference
    /// (other callers may not have), finds nothing left to copy: a tool
    /// call and its output, often megabytes, meet in the same batch.
    pub fn coalesce(patches: Vec<Cow<'_, ItemPatch>>) -> Vec<Cow<'_, ItemPatch>> {
        // Where each patch goes: the slot of the first patch with its key.
        // Keys are borrowed from `patches` for this pass, so no key is copied.
        let slots: Vec<usize> = {
            let mut first: HashMap<&str, usize> = HashMap::with_capacity(patches.len());
            patches
                .iter()
                .map(|p| {
                    let next = first.len();
                    *first.entry(p.key.as_str()).or_insert(next)
                })
                .collect()
        };
        let mut order: Vec<Cow<'_, ItemPatch>> = Vec::with_capacity(patches.len());
        for (patch, slot) in patches.into_iter().zip(slots) {
            if slot == order.len() {
                order.push(patch);
            } else {
                order[slot].to_mut().absorb(patch.into_owned());
            }
        }
        order
    }

    /// A tool-call item.
    pub fn tool(key: String, seq: i64, ts: Option<TimestampMs>, tool: ToolPatch) -> Self {
        ItemPatch {
            key,
            seq,
            kind: ItemKind::ToolCall,
            ts,
            text: None,
            tool: Some(tool),
            data: None,
        }
    }

    /// A message-like item (user, assistant, reasoning, error) with text.
    pub fn text(
        key: String,
        seq: i64,
        kind: ItemKind,
        ts: Option<TimestampMs>,
        text: String,
    ) -> Self {
        ItemPatch {
            key,
            seq,
            kind,
            ts,
            text: Some(text),
            tool: None,
            data: None,
        }
    }
}

/// One source record kept verbatim in the raw event log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawRecord {
    /// Byte offset of the record in its file.
    pub offset: u64,
    /// Record kind as the source names it (`response_item:function_call`, ...),
    /// or `invalid` for a line that did not parse.
    pub kind: String,
    /// The record's text.
    pub text: String,
}

/// Consecutive raw records of one file, compressed together for the raw
/// event log. Built off the writer thread (by the ingest layer) so that the
/// single writer only stores a blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawChunk {
    /// Offset of the first record.
    pub first_offset: u64,
    /// Number of records.
    pub records: u32,
    /// Total text bytes of the records, uncompressed.
    pub raw_bytes: u64,
    /// The encoded, compressed records (codec in `tinyvex-store`'s `raw` module).
    pub data: Vec<u8>,
}

/// What a provider's parser produces from source records.
#[derive(Clone, Debug, PartialEq)]
pub enum ParsedEvent {
    /// Thread metadata.
    Thread(ThreadPatch),
    /// An item to insert or merge.
    Item(ItemPatch),
    /// A source record for the raw event log.
    Raw(RawRecord),
}

/// A problem with one record of a file; counted, never fatal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    /// Byte offset of the bad record.
    pub offset: u64,
    /// What went wrong, for humans.
    pub message: String,
}

/// Where reading of one source file stopped: enough to resume exactly there.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCursor {
    /// Device of the file when last read (detects replacement).
    pub dev: u64,
    /// Inode of the file when last read (detects replacement).
    pub ino: u64,
    /// File size when last read.
    pub size: u64,
    /// Modification time when last read, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Byte offset just past the last complete record consumed.
    pub offset: u64,
    /// The parser's resumable state (opaque JSON).
    pub parser_state: String,
}

/// Everything one read of one source file produced, committed atomically
/// with the file's new cursor.
#[derive(Clone, Debug, PartialEq)]
pub struct FileBatch {
    /// The agent that wrote the file.
    pub provider: ProviderKind,
    /// Absolute path of the source file.
    pub path: String,
    /// The thread the file feeds, once known.
    pub session_id: Option<String>,
    /// Parsed events in source order. `Raw` events here are stored too, but
    /// callers on a hot path pre-encode them into [`FileBatch::raw`].
    pub events: Vec<ParsedEvent>,
    /// Raw records of the batch, already encoded.
    pub raw: Option<RawChunk>,
    /// Cursor after the events.
    pub cursor: FileCursor,
    /// Bytes consumed by this batch (for status figures).
    pub bytes_read: u64,
    /// Bad records met in this batch.
    pub line_errors: Vec<LineError>,
    /// File-level problem (unreadable, not a file, empty...), `None` clears it.
    pub file_error: Option<String>,
    /// True when the file was replaced or truncated and is being re-read from 0.
    pub reset: bool,
    /// True when the file no longer exists. Nothing is deleted: its thread
    /// keeps every item and is marked as having lost its source (until the
    /// file comes back). A gone batch carries no events.
    pub gone: bool,
}

/// Reduce text to a one-line title: first non-empty line, whitespace
/// collapsed, at most `max_chars` characters (an ellipsis marks a cut).
pub fn one_line_title(text: &str, max_chars: usize) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let mut out = String::with_capacity(line.len().min(max_chars * 4));
    let mut count = 0;
    let mut last_space = false;
    for c in line.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        if count == max_chars {
            out.truncate(out.trim_end().len());
            out.push('…');
            return Some(out);
        }
        out.push(c);
        count += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_first_non_empty_line_collapsed() {
        assert_eq!(
            one_line_title("\n  fix   the\tbug \nmore", 80).as_deref(),
            Some("fix the bug")
        );
        assert_eq!(one_line_title("   \n ", 80), None);
        assert_eq!(one_line_title("abcdef", 3).as_deref(), Some("abc…"));
        assert_eq!(one_line_title("héllo wörld", 5).as_deref(), Some("héllo…"));
    }

    #[test]
    fn coalesce_folds_equal_keys_in_first_seen_order_borrowed_or_owned() {
        let call = ItemPatch::tool(
            "c1".into(),
            1,
            Some(20),
            ToolPatch {
                name: Some("shell".into()),
                command: Some("ls".into()),
                ..ToolPatch::default()
            },
        );
        let mut user = ItemPatch::tool("u1".into(), 0, Some(5), ToolPatch::default());
        user.kind = ItemKind::User;
        user.tool = None;
        user.text = Some("hi".into());
        let output = ItemPatch::tool(
            "c1".into(),
            3,
            Some(30),
            ToolPatch {
                output: Some("file.rs".into()),
                exit_code: Some(0),
                ..ToolPatch::default()
            },
        );
        let patches = [call.clone(), user.clone(), output.clone()];
        let mut folded = call.clone();
        folded.absorb(output.clone());
        let expected = vec![folded, user];
        let borrowed: Vec<ItemPatch> =
            ItemPatch::coalesce(patches.iter().map(Cow::Borrowed).collect())
                .into_iter()
                .map(Cow::into_owned)
                .collect();
        let owned = ItemPatch::coalesce(patches.clone().into_iter().map(Cow::Owned).collect());
        assert!(owned.iter().all(|p| matches!(p, Cow::Owned(_))));
        let owned: Vec<ItemPatch> = owned.into_iter().map(Cow::into_owned).collect();
        assert_eq!(borrowed, expected);
        assert_eq!(owned, expected);
        // The call's time and seq stay; the output's fields are added.
        assert_eq!(owned[0].ts, Some(20));
        assert_eq!(owned[0].seq, 1);
        let tool = owned[0].tool.as_ref().unwrap();
        assert_eq!(tool.command.as_deref(), Some("ls"));
        assert_eq!(tool.output.as_deref(), Some("file.rs"));
        // A patch met once is not copied.
        let single = ItemPatch::coalesce(patches[1..2].iter().map(Cow::Borrowed).collect());
        assert!(matches!(single[0], Cow::Borrowed(_)));
    }

    #[test]
    fn provider_round_trips() {
        for p in ProviderKind::ALL {
            assert_eq!(p.as_str().parse::<ProviderKind>().unwrap(), p);
        }
        assert!("nope".parse::<ProviderKind>().is_err());
    }
}
