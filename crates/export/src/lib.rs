//! Write a Tinyvex thread as a session file in another agent's own on-disk
//! format, so that the agent can resume it: a Codex rollout
//! (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-….jsonl`) or a Claude Code
//! transcript (`~/.claude/projects/<escaped cwd>/<session id>.jsonl`).
//!
//! * [`export`] renders a thread (its [`ThreadRow`] and [`ItemRow`]s, as the
//!   store reads them) into an [`Export`]: the file's lines, where it goes,
//!   the session id the target agent's resume takes, and what could not be
//!   carried over ([`NotCarried`]).
//! * [`unstored_notes`] adds what the source held that Tinyvex keeps only in
//!   its raw event log (images, attached files), read from raw records.
//! * [`write_export`] writes it atomically (temporary file in the same
//!   folder, fsync, rename), replacing an earlier export of the same thread
//!   but refusing any other file ([`Error::NotOurs`]).
//! * [`mirror`] is continuous two-way: a thread that follows the store's
//!   change feed and keeps a Codex copy of every other agent's thread in
//!   `$CODEX_HOME/sessions/tinyvex/` ([`ExportKind::Mirror`]).
//!
//! Everything is deterministic: ids are derived from the Tinyvex thread and
//! item ids ([`session_id`]), so exporting the same thread again writes the
//! same session id and the same lines. The first line records the source
//! thread and a digest of the other lines ([`Marker`]); that is how an
//! export is recognized as ours, and how one that the agent has since
//! continued (appended to) is left alone. Mapping tables per direction:
//! `docs/export.md`.
//!
//! ```no_run
//! # fn demo(thread: &tinyvex_store::ThreadRow, items: &[tinyvex_store::ItemRow]) -> Result<(), tinyvex_export::Error> {
//! use tinyvex_export::{export, write_export, ExportOptions, Target};
//!
//! let out = export(thread, items, Target::Codex, &ExportOptions::default())?;
//! let root = std::path::Path::new("/home/me/.codex");
//! let path = root.join(&out.dir).join(&out.file_name);
//! write_export(&path, &out)?;
//! println!("{}: {}", path.display(), out.resume_command());
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tinyvex_model::TimestampMs;
use tinyvex_store::{ItemRow, ThreadRow};

mod claude;
mod codex;
mod conv;
mod ids;
pub mod mirror;
mod unstored;
mod write;

pub use ids::{mirror_session_id, session_id};
pub use unstored::unstored_notes;
pub use write::{read_marker, write_export, Written};

/// The Claude Code version written into exported transcripts (`version`): the
/// pinned version whose resume the tests exercise.
pub const CLAUDE_FORMAT_VERSION: &str = "2.1.330";
/// The Codex version written into exported rollouts (`cli_version`): the
/// pinned version whose resume the tests exercise.
pub const CODEX_FORMAT_VERSION: &str = "0.169.0";
/// `originator` of exported Codex rollouts.
pub const ORIGINATOR: &str = "tinyvex";

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thread has no working directory, or a relative one; both agents
    /// need an absolute one.
    #[error("thread {thread} has no absolute working directory (got {cwd:?})")]
    NoCwd {
        /// The thread id.
        thread: String,
        /// What the thread has.
        cwd: Option<String>,
    },
    /// Nothing to export: no prompt, answer or tool call.
    #[error("thread {0} has no messages or tool calls to export")]
    Empty(String),
    /// The destination exists and is not an unchanged export of this thread.
    #[error("{path} exists and is not Tinyvex's export of this thread ({why}); it was left alone")]
    NotOurs {
        /// The destination.
        path: PathBuf,
        /// Why it is not ours.
        why: String,
    },
    /// A filesystem error.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// The agent whose format is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Codex CLI rollout.
    Codex,
    /// Claude Code transcript.
    Claude,
}

impl Target {
    /// `codex` or `claude`.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Codex => "codex",
            Target::Claude => "claude",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "codex" => Ok(Target::Codex),
            "claude" => Ok(Target::Claude),
            other => Err(format!(
                "unknown export target `{other}` (expected codex or claude)"
            )),
        }
    }
}

/// Settings of one export.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// Working directory to record instead of the thread's own (required
    /// when the thread has none).
    pub cwd: Option<String>,
    /// Codex `model_provider` to record: Codex refuses to resume a rollout
    /// whose provider differs from the configured one. `None`: `openai`.
    pub codex_model_provider: Option<String>,
    /// UTC offset for the Codex file name and date folders, which Codex
    /// writes in local time. `None`: the local offset at the thread's time.
    pub utc_offset_minutes: Option<i32>,
    /// A one-off export or the two-way mirror's copy: they get different
    /// session ids, so both can exist without two files of one id.
    pub kind: ExportKind,
}

/// What an export is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ExportKind {
    /// `tinyvex export`: the user asked for this thread once; its session id
    /// is [`session_id`], and an ingested copy is an ordinary thread.
    #[default]
    Export,
    /// The two-way mirror's copy, rewritten as the thread grows: its own
    /// session id ([`mirror_session_id`]) and `"mirror": true` in the
    /// [`Marker`], by which the providers recognize their own output and
    /// read only what the agent appended to it.
    Mirror,
}

/// Something the target cannot represent, counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotCarried {
    /// What was left out (`reasoning items`, `usage items`, …).
    pub what: String,
    /// How many.
    pub count: usize,
    /// Why.
    pub reason: String,
}

impl fmt::Display for NotCarried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.what, self.count, self.reason)
    }
}

/// What the first line of an export records (Codex: `session_meta.payload.tinyvex_export`;
/// Claude Code: a `{"type": "tinyvex-export"}` line's `tinyvex_export`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// Tinyvex id of the exported thread.
    pub source_thread: String,
    /// Its provider.
    pub source_provider: String,
    /// Its session id (the source agent's own id).
    pub source_session: String,
    /// Lines after the first.
    pub lines: usize,
    /// SHA-1 (hex) of the lines after the first, each with its newline.
    pub sha1: String,
    /// Written by the two-way mirror ([`ExportKind::Mirror`]); absent
    /// (false) in a one-off export.
    #[serde(default, skip_serializing_if = "is_false")]
    pub mirror: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A rendered export.
#[derive(Clone, Debug, PartialEq)]
pub struct Export {
    /// The target agent.
    pub target: Target,
    /// The session id the target agent's resume takes.
    pub session_id: String,
    /// Where the target agent looks, relative to its root (`$CODEX_HOME` or
    /// `$CLAUDE_CONFIG_DIR`): `sessions/YYYY/MM/DD` or `projects/<escaped cwd>`.
    pub dir: PathBuf,
    /// The file name.
    pub file_name: String,
    /// The working directory recorded.
    pub cwd: String,
    /// The file's lines, without newlines.
    pub lines: Vec<String>,
    /// What could not be carried over.
    pub not_carried: Vec<NotCarried>,
}

impl Export {
    /// The file's contents: every line followed by a newline.
    pub fn contents(&self) -> String {
        joined(&self.lines)
    }

    /// The command that resumes the session (Claude Code: run it in [`Export::cwd`]).
    pub fn resume_command(&self) -> String {
        match self.target {
            Target::Codex => format!("codex resume {}", self.session_id),
            Target::Claude => format!("claude --resume {}", self.session_id),
        }
    }
}

/// Every line followed by a newline.
fn joined(lines: &[String]) -> String {
    let mut s = String::new();
    for line in lines {
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// What the renderers share about the thread.
pub(crate) struct Ctx<'a> {
    pub thread: &'a ThreadRow,
    pub session_id: String,
    pub cwd: String,
    pub model: Option<&'a str>,
    pub created: TimestampMs,
}

/// The top-level `model_provider = "…"` of `$CODEX_HOME/config.toml`, if
/// any: Codex refuses to resume a rollout recorded for another provider than
/// the configured one, so an export records this one
/// ([`ExportOptions::codex_model_provider`]).
pub fn codex_model_provider(codex_home: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(codex_home.join("config.toml")).ok()?;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            break; // tables start: no more top-level keys
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() == "model_provider" {
            let value = value.split('#').next().unwrap_or("").trim();
            return Some(value.trim_matches(|c| c == '"' || c == '\'').to_string())
                .filter(|v| !v.is_empty());
        }
    }
    None
}

/// Claude Code's folder name for a working directory: every character that
/// is not an ASCII letter or digit becomes `-`.
pub fn claude_project_dir(cwd: &str) -> String {
    cwd.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Renders `thread` with its `items` (all of them, in `seq` order) for `target`.
pub fn export(
    thread: &ThreadRow,
    items: &[ItemRow],
    target: Target,
    options: &ExportOptions,
) -> Result<Export, Error> {
    let cwd = options
        .cwd
        .clone()
        .or_else(|| thread.cwd.clone())
        .filter(|c| c.starts_with('/') || c.get(1..3) == Some(":\\"))
        .ok_or_else(|| Error::NoCwd {
            thread: thread.id.clone(),
            cwd: options.cwd.clone().or_else(|| thread.cwd.clone()),
        })?;
    let mut notes = conv::Notes::default();
    let entries = conv::read(items, &mut notes);
    if !entries.iter().any(|e| {
        matches!(
            e,
            conv::Entry::User(_) | conv::Entry::Assistant(_) | conv::Entry::Tool(_)
        )
    }) {
        return Err(Error::Empty(thread.id.clone()));
    }
    let created = thread
        .created_at_ms
        .or_else(|| conv::ts_of(thread.created_at.as_deref()))
        .or_else(|| {
            items
                .iter()
                .filter_map(|i| conv::ts_of(i.ts.as_deref()))
                .min()
        })
        .unwrap_or(0);
    let ctx = Ctx {
        thread,
        session_id: match options.kind {
            ExportKind::Export => session_id(target, &thread.id),
            ExportKind::Mirror => mirror_session_id(target, &thread.id),
        },
        cwd,
        model: thread.model.as_deref(),
        created,
    };
    let (dir, file_name, body) = match target {
        Target::Codex => codex::render(&ctx, &entries, options, &mut notes),
        Target::Claude => claude::render(&ctx, &entries, &mut notes),
    };
    let marker = Marker {
        source_thread: thread.id.clone(),
        source_provider: thread.provider.clone(),
        source_session: thread.session_id.clone(),
        lines: body.len(),
        sha1: ids::sha1_hex(joined(&body).as_bytes()),
        mirror: options.kind == ExportKind::Mirror,
    };
    let header = match target {
        Target::Codex => codex::header(&ctx, options, &marker),
        Target::Claude => claude::header(&ctx, &marker),
    };
    let mut lines = Vec::with_capacity(body.len() + 1);
    lines.push(header);
    lines.extend(body);
    Ok(Export {
        target,
        session_id: ctx.session_id,
        dir,
        file_name,
        cwd: ctx.cwd,
        lines,
        not_carried: notes.0,
    })
}

#[cfg(test)]
mod tests;
