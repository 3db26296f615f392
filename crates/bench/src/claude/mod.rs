//! Claude Code corpora: a `CLAUDE_CONFIG_DIR` with `projects/<escaped cwd>/<sessionId>.jsonl`
//! session files, `agent-<8hex>.jsonl` sub-agent files next to them (1.0.x/2.0.x) and 2.1.x
//! `<sessionId>/subagents/agent-<id>.jsonl` + `.meta.json`. Shapes from `shared/formats.md` §2
//! and the real fixtures in `shared/fixtures/claude/`. Deterministic for a given seed.
//!
//! A session is a chain of turns: a prompt, then an agent loop of API requests, each written
//! as one `assistant` line per content block (thinking, text, tool_use) sharing `message.id`
//! and `requestId` with a repeated `usage`, followed by one `user` line per tool result (with
//! the structured `toolUseResult`). Around them: `summary`, `file-history-snapshot`,
//! `queue-operation`, `attachment`, `progress`, `system` (`api_error`, `compact_boundary`),
//! `ai-title` and `last-prompt` lines, as the CLI version would write them.

mod append;
mod check;
mod conv;
mod generate;
mod listing;
mod profile;
mod tools;
mod turn;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::corpus::Tally;

pub use append::append;
pub use check::{check_corpus, check_file};
pub use generate::generate;
pub use listing::{is_claude_corpus, list_jsonl, list_sessions};

/// Claude Code generation: decides the sub-agent layout and which bookkeeping lines exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Gen {
    /// 1.0.6x–1.0.128: `summary` lines, `agent-<8hex>.jsonl` sub-agent files, `Task`.
    V1,
    /// 2.0.x: adds `file-history-snapshot`, `progress`, `queue-operation`.
    V20,
    /// 2.1.x: adds `attachment`, `ai-title`, `last-prompt`, `subagents/` layout, `Agent`.
    V21,
}

impl Gen {
    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Gen::V1 => "1.0.x",
            Gen::V20 => "2.0.x",
            Gen::V21 => "2.1.x",
        }
    }

    fn of_version(v: &str) -> Gen {
        if v.starts_with("2.1.") || v.starts_with("2.2") || v.starts_with('3') {
            Gen::V21
        } else if v.starts_with("2.") {
            Gen::V20
        } else {
            Gen::V1
        }
    }
}

/// Share of sessions per generation, in percent.
pub const GEN_MIX: [(Gen, u32); 3] = [(Gen::V1, 25), (Gen::V20, 30), (Gen::V21, 45)];

/// What was generated.
#[derive(Debug, Clone)]
pub struct ClaudeReport {
    /// Totals over every `.jsonl` file (session and sub-agent files).
    pub total: Tally,
    /// Totals per generation (a session with its sub-agent files).
    pub by_gen: BTreeMap<Gen, Tally>,
    /// Sessions (the rest of `total.files` are sub-agent files).
    pub sessions: usize,
    /// Projects (folders under `projects/`).
    pub projects: usize,
    /// Smallest and largest file.
    pub min_max_file: (u64, u64),
    /// Wall time.
    pub elapsed: Duration,
}

impl ClaudeReport {
    /// A JSON summary.
    pub fn to_json(&self) -> Value {
        let by: serde_json::Map<String, Value> = self
            .by_gen
            .iter()
            .map(|(g, t)| {
                (
                    g.name().to_string(),
                    serde_json::json!({"files": t.files, "bytes": t.bytes, "lines": t.lines}),
                )
            })
            .collect();
        serde_json::json!({
            "agent": "claude", "files": self.total.files, "sessions": self.sessions,
            "projects": self.projects, "bytes": self.total.bytes, "lines": self.total.lines,
            "by_version": by, "smallest_file": self.min_max_file.0, "largest_file": self.min_max_file.1,
            "seconds": self.elapsed.as_secs_f64(),
        })
    }
}

/// The escaped form of a cwd used as the project folder name: every non-alphanumeric
/// character becomes `-`.
pub fn escape_cwd(cwd: &str) -> String {
    cwd.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Which agent's corpus a command works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Agent {
    /// Codex rollouts in a `CODEX_HOME` (`sessions/…/rollout-*.jsonl`)
    Codex,
    /// Claude Code transcripts in a `CLAUDE_CONFIG_DIR` (`projects/<cwd>/<session>.jsonl`)
    Claude,
}

impl Agent {
    /// `explicit` when given, else what the layout of `dir` says.
    pub fn detect(explicit: Option<Agent>, dir: &Path) -> Agent {
        explicit.unwrap_or(if is_claude_corpus(dir) {
            Agent::Claude
        } else {
            Agent::Codex
        })
    }
}

#[cfg(test)]
mod tests {
    use super::listing::is_uuid;
    use super::*;
    use crate::validate::CheckReport;

    #[test]
    fn escapes_like_claude() {
        assert_eq!(escape_cwd("/Users/a/my_proj.v2"), "-Users-a-my-proj-v2");
        assert!(is_uuid("5ee6c91e-ba62-4bd1-8c46-b51d92651ce3"));
        assert!(!is_uuid("agent-1234abcd"));
    }

    #[test]
    fn real_fixtures_pass_the_check() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/claude/projects/-home-dev-demo-claude");
        let Ok(bytes) = std::fs::read(dir.join("5ee6c91e-ba62-4bd1-8c46-b51d92651ce3.jsonl"))
        else {
            return; // fixtures not present in this checkout
        };
        let mut r = CheckReport::default();
        check_file(
            &dir.join("5ee6c91e-ba62-4bd1-8c46-b51d92651ce3.jsonl"),
            &bytes,
            &mut r,
        );
        assert!(r.lines > 10);
        assert_eq!(r.error_count, 0, "{:?}", r.errors);
    }
}
