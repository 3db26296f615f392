//! Agent providers: where each agent keeps its sessions and how its records
//! become normalized events.
//!
//! Every agent is one module behind the [`Provider`] trait: it finds its
//! source files ([`Provider::discover`]) and makes a [`LineParser`] for one
//! file, resumable from a saved state string, so that the ingest layer can
//! stop after any complete line and later continue exactly there.
//!
//! Parsers are tolerant by contract: unknown record kinds become
//! [`ParsedEvent::Raw`](tinyvex_model::ParsedEvent::Raw) records and never fail a file; a line that is
//! not JSON is a [`LineError`], counted by the caller, and the next line is
//! read as usual.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use tinyvex_model::{LineError, ParsedEvent, ProviderKind};

pub mod claude;
pub mod codex;
pub mod gemini;
pub mod opencode;
#[cfg(test)]
mod testutil;
mod text;
mod walk;

pub use claude::{ClaudeParser, ClaudeProvider};
pub use codex::{CodexExecParser, CodexProvider};
pub use gemini::GeminiProvider;
pub use opencode::OpencodeProvider;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A saved parser state could not be read back (written by another version).
    #[error("saved parser state for {path} is unreadable: {source}")]
    BadState {
        /// The source file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

/// A candidate source file found by discovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovered {
    /// Where it is.
    pub path: PathBuf,
    /// Why it cannot be read as a session file, when that is already known
    /// (a directory named like a session file, a dangling link...).
    pub problem: Option<String>,
}

/// The environment a provider resolves its default locations from: the
/// home directory and the agents' own variables. Tests build one by hand;
/// the binary uses [`SourceEnv::from_process`].
#[derive(Clone, Debug, Default)]
pub struct SourceEnv {
    /// The user's home directory.
    pub home: PathBuf,
    /// Environment variables that matter (`CODEX_HOME`, ...).
    pub vars: HashMap<String, OsString>,
}

impl SourceEnv {
    /// Variables the providers read.
    pub const VARS: &'static [&'static str] = &[
        "CODEX_HOME",
        "CODEXD_HISTORY_DIR",
        "CLAUDE_CONFIG_DIR",
        "GEMINI_CLI_HOME",
        "XDG_DATA_HOME",
    ];

    /// Read `HOME` and the providers' variables from this process.
    pub fn from_process() -> SourceEnv {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/"));
        let vars = Self::VARS
            .iter()
            .filter_map(|k| {
                std::env::var_os(k)
                    .filter(|v| !v.is_empty())
                    .map(|v| (k.to_string(), v))
            })
            .collect();
        SourceEnv { home, vars }
    }

    /// Codex's home: `$CODEX_HOME`, default `~/.codex`.
    pub fn codex_home(&self) -> PathBuf {
        self.path_var("CODEX_HOME")
            .unwrap_or_else(|| self.home.join(".codex"))
    }

    /// A variable as a path, if set and non-empty.
    pub fn path_var(&self, name: &str) -> Option<PathBuf> {
        self.vars
            .get(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }
}

/// One agent's sessions: where they are and how to read them.
pub trait Provider: Send + Sync {
    /// Which agent this is.
    fn kind(&self) -> ProviderKind;

    /// The directories this provider scans (whether or not they exist).
    fn roots(&self) -> Vec<PathBuf>;

    /// Every session file currently under [`Provider::roots`], in a stable
    /// order. Entries that look like session files but cannot be one carry a
    /// [`Discovered::problem`].
    fn discover(&self) -> Vec<Discovered>;

    /// How `path` is read. Most agents append lines; some rewrite a JSON
    /// document or update a database in place.
    fn mode(&self, _path: &Path) -> SourceMode {
        SourceMode::Lines
    }

    /// A parser for `path`, resumed from `state` (as returned by
    /// [`LineParser::save_state`]) or fresh when `state` is `None`.
    /// Only called for [`SourceMode::Lines`] files.
    fn line_parser(&self, path: &Path, state: Option<&str>) -> Result<Box<dyn LineParser>, Error>;

    /// Read a [`SourceMode::Snapshot`] file whole, as it is now. `state` is
    /// what the previous read returned (for example the newest update time
    /// seen in a database, so only newer rows are read). Re-reading must be
    /// idempotent: item keys come from the records, never from the read.
    /// An `Err` is a file-level problem (a half-written document); the file
    /// is read again when it next changes.
    fn read_snapshot(&self, path: &Path, _state: Option<&str>) -> Result<Snapshot, String> {
        Err(format!(
            "{} cannot read {} as a snapshot",
            self.kind(),
            path.display()
        ))
    }
}

/// How a source file is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceMode {
    /// Append-only lines: new complete lines after the cursor go through a
    /// [`LineParser`].
    Lines,
    /// Rewritten or updated in place: read whole with
    /// [`Provider::read_snapshot`] whenever its size or time changes (for a
    /// SQLite database, its `-wal` file counts too).
    Snapshot,
}

/// Events of one session from a snapshot read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionEvents {
    /// The provider's session id.
    pub session_id: String,
    /// Events in source order (raw records included, offsets being record
    /// positions within the source).
    pub events: Vec<ParsedEvent>,
}

/// Everything one snapshot read produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Events per session; a database may hold many sessions, a document one.
    pub sessions: Vec<SessionEvents>,
    /// Bad records met (counted, never fatal).
    pub errors: Vec<LineError>,
    /// State to pass to the next read.
    pub state: String,
    /// True when the read covered the whole source (a document), so what
    /// earlier reads of it left in the raw log is replaced; false for an
    /// incremental read (database rows newer than `state`).
    pub complete: bool,
}

/// Turns the complete lines of one file into events, keeping just enough
/// state to continue after any line.
pub trait LineParser: Send {
    /// The provider's session id of the file's thread, once known.
    fn session_id(&self) -> Option<&str>;

    /// Parse one complete line (without its newline) that starts at byte
    /// `offset`. Events are appended to `out`. An `Err` means the line was
    /// not understood at all; it is counted, and parsing goes on.
    fn parse_line(
        &mut self,
        offset: u64,
        line: &[u8],
        out: &mut Vec<ParsedEvent>,
    ) -> Result<(), LineError>;

    /// The state to resume from after the last parsed line.
    fn save_state(&self) -> String;

    /// Whether the lines so far say the file is a copy Tinyvex writes
    /// itself (the two-way mirror), which it replaces as a matter of
    /// course: reading such a file again from the start is routine, not
    /// news worth a log line.
    fn is_own_copy(&self) -> bool {
        false
    }
}

/// Every provider known to this build, configured from `env`.
pub fn all_providers(env: &SourceEnv) -> Vec<Box<dyn Provider>> {
    vec![
        Box::new(CodexProvider::from_env(env)),
        Box::new(ClaudeProvider::from_env(env)),
        Box::new(GeminiProvider::from_env(env)),
        Box::new(OpencodeProvider::from_env(env)),
    ]
}
