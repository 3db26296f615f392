//! Running the real, pinned Claude Code CLI (`claude -p`) against a [`MockModel`] speaking the
//! Anthropic Messages API.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::process::{self, agent_run, keep_sessions, minimal_env, timeout_from_env, ProcessRun};
use crate::{ensure_agents_installed, repo_root, MockModel};

/// `<repo>/node_modules/.bin/claude` (npm `@anthropic-ai/claude-code`, a native binary).
pub fn claude_bin() -> PathBuf {
    repo_root().join("node_modules").join(".bin").join("claude")
}

/// The `CLAUDE_CONFIG_DIR` used for a test home: `<home>/.claude`.
pub fn claude_config_dir(home: &Path) -> PathBuf {
    home.join(".claude")
}

/// Claude Code's project directory name for a working directory: every character that is not
/// ASCII alphanumeric becomes `-` (`/tmp/a_b.c` → `-tmp-a-b-c`).
pub fn claude_escape_path(cwd: &Path) -> String {
    cwd.to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Every `*.jsonl` under `<config_dir>/projects/` (session files and sub-agent transcripts),
/// sorted by path.
pub fn claude_session_files(config_dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&config_dir.join("projects"), &mut out);
    out.sort();
    out
}

/// The result of one `claude -p` run.
#[derive(Debug)]
pub struct ClaudeRun {
    /// The process: output, time, whether it timed out (also reachable through `Deref`).
    pub process: ProcessRun,
    /// `CLAUDE_CONFIG_DIR` of the run (`<home>/.claude`).
    pub config_dir: PathBuf,
    pub cwd: PathBuf,
}

agent_run!(ClaudeRun);

impl ClaudeRun {
    /// The JSON objects printed on stdout (`--output-format stream-json`: one per line;
    /// `json` with `--verbose`: one array of the same events, flattened here). Non-JSON lines
    /// are skipped.
    pub fn events(&self) -> Vec<Value> {
        let mut events = Vec::new();
        for line in self.stdout.lines() {
            match serde_json::from_str(line.trim()) {
                Ok(Value::Array(items)) => events.extend(items),
                Ok(value) => events.push(value),
                Err(_) => {}
            }
        }
        events
    }

    /// The session id (`session_id` of the first stdout event that has one).
    pub fn session_id(&self) -> Option<String> {
        self.events()
            .iter()
            .find_map(|e| e["session_id"].as_str().map(String::from))
    }

    /// The final `result` text (from the `{"type":"result"}` event).
    pub fn result_text(&self) -> Option<String> {
        self.events()
            .iter()
            .rev()
            .find(|e| e["type"] == "result")
            .and_then(|e| e["result"].as_str().map(String::from))
    }

    /// `<config_dir>/projects/<escaped cwd>/<session id>.jsonl` if it exists, else the first
    /// `<session id>.jsonl` anywhere under `projects/` (the cwd may have been canonicalized).
    pub fn session_file(&self) -> Option<PathBuf> {
        let name = format!("{}.jsonl", self.session_id()?);
        let expected = self
            .config_dir
            .join("projects")
            .join(claude_escape_path(&self.cwd))
            .join(&name);
        if expected.is_file() {
            return Some(expected);
        }
        claude_session_files(&self.config_dir)
            .into_iter()
            .find(|p| p.file_name().is_some_and(|n| n == name.as_str()))
    }

    /// Every transcript file currently in this run's `CLAUDE_CONFIG_DIR`.
    pub fn session_files(&self) -> Vec<PathBuf> {
        claude_session_files(&self.config_dir)
    }
}

/// Runs `node_modules/.bin/claude -p --output-format stream-json --verbose
/// --permission-mode bypassPermissions <args...>` in `cwd` against `mock`.
///
/// * `HOME=<home>`, `CLAUDE_CONFIG_DIR=<home>/.claude`, `ANTHROPIC_BASE_URL=http://127.0.0.1:<port>`,
///   `ANTHROPIC_API_KEY=sk-mock`, `IS_SANDBOX=1`; retries off (`CLAUDE_CODE_MAX_RETRIES=0`, so a
///   scripted `ApiError` is not retried against the next answer); auto-updater, telemetry,
///   error reporting, surveys and other non-essential traffic off. Otherwise a minimal environment (`PATH`, `TMPDIR`,
///   `TZ`, `SHELL`, `LANG`).
/// * stdin is closed; the process group is killed after 120 s (`TINYVEX_CLAUDE_TIMEOUT_SECS`
///   or `TINYVEX_AGENT_TIMEOUT_SECS`), see `timed_out`.
/// * with `TINYVEX_KEEP_SESSIONS=<dir>`, the transcripts are copied to
///   `<dir>/claude/projects/...`.
///
/// `args` follow the fixed flags: `&["the prompt"]`, or `&["--resume", session_id, "next
/// prompt"]` (appends to the same session file). Later flags win, so `&["--output-format",
/// "json", "prompt"]` works too. Installs the agents first if needed.
pub fn claude_run(home: &Path, mock: &MockModel, cwd: &Path, args: &[&str]) -> ClaudeRun {
    ensure_agents_installed();
    let config_dir = claude_config_dir(home);
    std::fs::create_dir_all(&config_dir).expect("create CLAUDE_CONFIG_DIR");

    let mut cmd = Command::new(claude_bin());
    minimal_env(&mut cmd);
    cmd.args([
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "bypassPermissions",
    ])
    .args(args)
    .current_dir(cwd)
    .env("HOME", home)
    .env("CLAUDE_CONFIG_DIR", &config_dir)
    .env(
        "ANTHROPIC_BASE_URL",
        format!("http://127.0.0.1:{}", mock.port()),
    )
    .env("ANTHROPIC_API_KEY", "sk-mock")
    .env("IS_SANDBOX", "1")
    .env("CLAUDE_CODE_MAX_RETRIES", "0");
    for var in [
        "DISABLE_AUTOUPDATER",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
        "DISABLE_TELEMETRY",
        "DISABLE_ERROR_REPORTING",
        "DISABLE_COST_WARNINGS",
        "CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY",
        "CLAUDE_CODE_DISABLE_TERMINAL_TITLE",
    ] {
        cmd.env(var, "1");
    }

    let timeout = timeout_from_env(&["TINYVEX_CLAUDE_TIMEOUT_SECS", "TINYVEX_AGENT_TIMEOUT_SECS"]);
    let process = process::run(cmd, timeout, "claude -p");
    keep_sessions("claude", &config_dir, &claude_session_files(&config_dir));
    ClaudeRun {
        process,
        config_dir,
        cwd: cwd.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_claude_code() {
        assert_eq!(
            claude_escape_path(Path::new("/Users/a/my_proj.v2")),
            "-Users-a-my-proj-v2"
        );
    }
}
