//! Command-line definition (clap derive). Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use tinyvex_model::ProviderKind;

/// Tinyvex: one local store for every coding agent's sessions.
///
/// Tinyvex reads the sessions that Codex CLI, Claude Code, OpenCode and Gemini
/// CLI write, without ever modifying them, into one SQLite store,
/// incrementally: run `tinyvex ingest` as often as you like, it only reads
/// what is new.
#[derive(Debug, Parser)]
#[command(
    name = "tinyvex",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options for every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The store's SQLite file [default: ~/.openagents/tinyvex/data.sqlite3]
    #[arg(long, global = true, env = "TINYVEX_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr; no progress bar
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read every agent's sessions into the store (only what is new since last time)
    ///
    /// Sources: Codex rollouts under $CODEX_HOME/sessions and
    /// $CODEX_HOME/archived_sessions (CODEX_HOME defaults to ~/.codex), plus
    /// $CODEXD_HISTORY_DIR when set; Claude Code sessions under
    /// $CLAUDE_CONFIG_DIR/projects (default ~/.claude); OpenCode's storage and
    /// database under $XDG_DATA_HOME/opencode (default ~/.local/share); Gemini
    /// CLI chats under $GEMINI_CLI_HOME/.gemini/tmp (default ~). Bad lines and
    /// unreadable files are counted and reported by `tinyvex status`; they never
    /// stop the run.
    Ingest(IngestArgs),
    /// List threads, newest first
    Threads(ThreadsArgs),
    /// Show one thread with its items
    Show(ShowArgs),
    /// Per-provider figures: files, threads, items, bytes, errors
    Status(StatusArgs),
    /// Search every agent's history: messages, reasoning, tool commands and output
    ///
    /// Words must all match (any order); "quoted phrases" match exactly; word*
    /// matches a prefix; NOT word excludes. Identifiers (snake_case_name) and
    /// paths (src/main.rs) match as written. Filters can also be written in the
    /// query: provider:codex kind:tool cwd:/path thread:ID after:2026-01-01
    /// before:7d. Best hits first (relevance, with a boost for recent items),
    /// grouped by thread.
    Search(SearchArgs),
    /// Run the live sync server: watch every agent's sessions and serve live queries
    ///
    /// Ingests what is new since the last run (in the background, so
    /// connections are accepted at once), then follows every source as it is
    /// written (filesystem events, plus a cheap rescan every
    /// --rescan-every seconds that catches missed ones). Clients connect to
    /// ws://ADDR/ws with the token shown by `tinyvex token` and speak
    /// JSON-RPC 2.0 (docs/protocol.md). Stop with Ctrl-C or SIGTERM: clients
    /// are closed with a reason and everything read is committed.
    Serve(ServeArgs),
    /// Write a thread as a session of another agent, to continue it there
    ///
    /// Writes the thread in the target agent's own on-disk format where that
    /// agent looks for sessions: a Codex rollout under
    /// $CODEX_HOME/sessions/YYYY/MM/DD/ (CODEX_HOME defaults to ~/.codex) or a
    /// Claude Code transcript under $CLAUDE_CONFIG_DIR/projects/<escaped cwd>/
    /// (default ~/.claude). Prints the session id and the command that
    /// resumes it, and what the target cannot represent. The same thread
    /// always gets the same session id: exporting it again replaces the
    /// earlier export, unless the agent has continued that session since
    /// (then nothing is written). The source agent's files are never touched.
    Export(ExportArgs),
    /// Print the access token that clients of `tinyvex serve` must present
    ///
    /// The token is created on first use and stored with mode 0600 next to
    /// the store (`token` in the store's folder).
    Token(TokenArgs),
    /// Turn continuous two-way on or off, or show it
    ///
    /// While two-way is on, a running `tinyvex serve` mirrors every thread of
    /// another agent (Claude Code, OpenCode, Gemini CLI) into Codex's sessions
    /// folder, $CODEX_HOME/sessions/tinyvex/ (CODEX_HOME defaults to ~/.codex),
    /// rewriting each file as its thread grows, so that `codex resume <id>`
    /// continues it. Off by default. The setting is stored in the store; a
    /// running server picks a change up within a second. Turning it off leaves
    /// the files already written. A mirror that was continued in Codex is never
    /// overwritten.
    TwoWay(TwoWayArgs),
}

/// What `tinyvex two-way` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TwoWayAction {
    /// Turn it on (a running server starts mirroring within a second)
    On,
    /// Turn it off (files already written stay)
    Off,
    /// Show the setting, the mirror folder and how far the mirror got
    Status,
}

#[derive(Debug, Args)]
pub struct TwoWayArgs {
    /// on, off or status
    #[arg(value_enum)]
    pub action: TwoWayAction,
    /// Print one JSON object on stdout (see docs/cli.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to search for (several words are joined)
    #[arg(required = true, value_name = "QUERY")]
    pub query: Vec<String>,

    /// Only this provider (codex, claude, opencode, gemini)
    #[arg(long, short)]
    pub provider: Option<ProviderKind>,

    /// Only threads whose working directory is this folder or below it
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<String>,

    /// Only this thread (id, session id or unique prefix)
    #[arg(long)]
    pub thread: Option<String>,

    /// Only these kinds: user, assistant, reasoning, tool, plan, error (repeatable)
    #[arg(long, short)]
    pub kind: Vec<String>,

    /// Only items at or after this time (YYYY-MM-DD, RFC 3339, or 7d / 12h ago)
    #[arg(long, value_name = "WHEN")]
    pub after: Option<String>,

    /// Only items before this time (YYYY-MM-DD, RFC 3339, or 7d / 12h ago)
    #[arg(long, value_name = "WHEN")]
    pub before: Option<String>,

    /// At most this many hits (1 to 500)
    #[arg(long, short = 'n', default_value_t = 20)]
    pub limit: usize,

    /// Print a JSON array of hits, best first (see docs/cli.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port. Non-loopback addresses
    /// expose every session to anyone holding the token
    #[arg(long, env = "TINYVEX_LISTEN", default_value = tinyvex_server::DEFAULT_LISTEN, value_name = "ADDR")]
    pub listen: std::net::SocketAddr,

    /// Let browser pages from this origin connect (repeatable; `*` for any).
    /// Pages served by Tinyvex itself are always allowed
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,

    /// Seconds between cheap rescans that catch missed filesystem events
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub rescan_every: f64,

    /// Print one JSON object on stdout once listening (`listen`, `ws`, `url`, `token_file`)
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub store: StoreArgs,
}

/// The agent an export is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportTo {
    /// Codex CLI (`codex resume <id>`)
    Codex,
    /// Claude Code (`claude --resume <id>`, run in the thread's cwd)
    Claude,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Thread id, provider session id, or a unique prefix of either
    pub thread: String,

    /// The agent to continue the thread in
    #[arg(long, value_enum)]
    pub to: ExportTo,

    /// Write the file into this folder instead of where the agent looks
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Working directory to record (required when the thread has none)
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<String>,

    /// Print one JSON object on stdout (`path`, `session_id`, `resume_command`, `not_carried`, ...)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Print `{"token": ..., "path": ...}` on stdout
    #[arg(long)]
    pub json: bool,
}

/// Store options of the commands that write (`ingest`, `serve`).
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Do not keep the search index current while storing: measures what
    /// indexing costs, or spares a machine that never searches. `tinyvex
    /// search` brings the index up to date when it runs
    #[arg(long, env = "TINYVEX_NO_SEARCH_INDEX")]
    pub no_search_index: bool,
}

impl StoreArgs {
    /// The store options these flags ask for.
    pub fn options(&self) -> tinyvex_store::StoreOptions {
        tinyvex_store::StoreOptions {
            search_index: !self.no_search_index,
            ..Default::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Print the summary as one JSON object on stdout
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct ThreadsArgs {
    /// Only threads of this provider (codex, claude, opencode, gemini)
    #[arg(long, short)]
    pub provider: Option<ProviderKind>,

    /// At most this many threads
    #[arg(long, short = 'n', default_value_t = 50)]
    pub limit: usize,

    /// Only threads changed after this store revision (see `tinyvex status`)
    #[arg(long, value_name = "REVISION")]
    pub since: Option<u64>,

    /// Print a JSON array on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Thread id, provider session id, or a unique prefix of either
    pub thread: String,

    /// Only the last N items
    #[arg(long)]
    pub tail: Option<usize>,

    /// Print `{"thread": {...}, "items": [...]}` on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print a JSON array (one object per provider) on stdout
    #[arg(long)]
    pub json: bool,
}
