//! Test-only helpers shared by Tinyvex's crates.
//!
//! * [`fixtures_dir`] / [`require_fixtures`]: where the shared real-session fixtures live.
//! * [`MockModel`]: one scripted model server on 127.0.0.1 speaking the OpenAI Responses API,
//!   the Anthropic Messages API, OpenAI Chat Completions and the Gemini API, so the real agent
//!   CLIs can run offline and write genuine session files.
//! * Runners for the pinned real CLIs (npm packages in the repo's `package.json`), each with a
//!   throwaway home, a minimal environment and a process-group-killing timeout:
//!   [`codex_exec`] (`codex exec`), [`claude_run`] (`claude -p`), [`opencode_run`]
//!   (`opencode run`), [`gemini_run`] (`gemini -p`).
//! * [`ensure_agents_installed`]: installs the pinned agent CLIs (once per process), and
//!   playwright-core; [`ensure_browser_installed`]: Debian's chromium, for the web UI's tests.
//! * [`run_with_timeout`]: a command in its own process group, killed after a timeout.
//! * [`keep_sessions`]: with `TINYVEX_KEEP_SESSIONS=<dir>`, every runner copies the session
//!   files it produced to `<dir>/<agent>/...` (see `docs/testing.md`).
//!
//! ```no_run
//! use tinyvex_test_support::{codex_exec, MockModel, Reply};
//!
//! let mock = MockModel::start(vec![
//!     vec![Reply::reasoning("Looking around"), Reply::shell("echo hi")],
//!     vec![Reply::text("Done.")],
//! ]);
//! let home = tempfile::tempdir().unwrap();
//! let work = tempfile::tempdir().unwrap();
//! let run = codex_exec(home.path(), &mock, work.path(), &["list files"]).assert_success();
//! let thread_id = run.thread_id().unwrap();
//! assert!(mock.requests()[1].to_string().contains("hi"));
//! ```
//!
//! The same script drives the other agents:
//!
//! ```no_run
//! use tinyvex_test_support::{claude_run, MockModel, Reply};
//!
//! let mock = MockModel::start(vec![
//!     vec![Reply::reasoning("Looking around"), Reply::shell("echo hi")], // -> Bash tool_use
//!     vec![Reply::text("Done.")],
//! ]);
//! let (home, work) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
//! let run = claude_run(home.path(), &mock, work.path(), &["list files"]).assert_success();
//! let transcript = run.session_file().unwrap(); // <home>/.claude/projects/<cwd>/<id>.jsonl
//! ```

mod anthropic;
mod chat;
mod claude;
mod codex;
mod gemini;
mod gemini_cli;
mod mock_model;
mod opencode;
mod process;
mod sse;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub use claude::{
    claude_bin, claude_config_dir, claude_escape_path, claude_run, claude_session_files, ClaudeRun,
};
pub use codex::{
    codex_bin, codex_exec, codex_home, rollout_files, write_codex_config, CodexRun, CODEX_MODEL,
};
pub use gemini_cli::{
    gemini_bin, gemini_chat_files, gemini_dir, gemini_run, write_gemini_settings, GeminiRun,
    GEMINI_MODEL,
};
pub use mock_model::{
    AnswerGate, MockModel, PlanStatus, PlanStep, RecordedRequest, Reply, SIDE_REPLY_TEXT,
};
pub use opencode::{
    opencode_bin, opencode_data_dir, opencode_export, opencode_run, opencode_session_files,
    write_opencode_config, OpenCodeRun, OPENCODE_MODEL,
};
pub use process::{keep_sessions, ProcessRun};

/// The workspace root (the directory holding the root `Cargo.toml` and `package.json`).
pub fn repo_root() -> PathBuf {
    // crates/test-support -> crates -> <repo>
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("test-support crate lives at <repo>/crates/test-support")
        .to_path_buf()
}

/// The shared real-session fixtures: `$TINYVEX_FIXTURES` if set, else `<repo>/../shared/fixtures`.
/// `None` when the directory does not exist.
pub fn fixtures_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("TINYVEX_FIXTURES") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo_root().join("..").join("shared").join("fixtures"),
    };
    dir.is_dir().then_some(dir)
}

/// Like [`fixtures_dir`], but prints a loud `SKIPPED <test>: ...` line when the fixtures are
/// missing, so the test can `return` early without passing silently.
///
/// ```no_run
/// let Some(fixtures) = tinyvex_test_support::require_fixtures("reads_codex_0169") else { return };
/// ```
pub fn require_fixtures(test: &str) -> Option<PathBuf> {
    let dir = fixtures_dir();
    if dir.is_none() {
        eprintln!("SKIPPED {test}: ../shared/fixtures not found (set TINYVEX_FIXTURES)");
    }
    dir
}

/// Runs `scripts/install-agents.sh` (idempotent `npm ci` of the pinned agent CLIs) once per
/// process. Panics with the script's exit status when it fails: a missing agent must fail the
/// test, never skip it. Every later call in the process panics again if the first one failed.
pub fn ensure_agents_installed() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    run_script_once(
        &INSTALLED,
        "install-agents.sh",
        "agent CLIs are not installed",
    );
}

/// Runs `scripts/install-browser.sh` (Debian's `chromium` with apt-get when `/usr/bin/chromium`
/// is missing) once per process, for the web UI's browser tests. Panics when it fails: a
/// missing browser must fail the test, never skip it. `playwright-core`, which drives the
/// browser, comes with [`ensure_agents_installed`] (it is pinned in the same `package.json`).
pub fn ensure_browser_installed() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    run_script_once(
        &INSTALLED,
        "install-browser.sh",
        "the browser for the web UI tests is not installed",
    );
}

/// Runs `scripts/<script>` from the repository root the first time `done` is reached, and
/// panics with `what` on this and every later call if it failed.
fn run_script_once(done: &OnceLock<Result<(), String>>, script: &str, what: &str) {
    let result = done.get_or_init(|| {
        let script = repo_root().join("scripts").join(script);
        let status = Command::new("bash")
            .arg(&script)
            .current_dir(repo_root())
            .status()
            .map_err(|e| format!("could not run {}: {e}", script.display()))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} failed ({status}); see its output above",
                script.display()
            ))
        }
    });
    if let Err(message) = result {
        panic!("{what}: {message}");
    }
}

/// Runs `cmd` with a minimal environment (`PATH`, `TMPDIR`, `TZ`, `SHELL`, `LANG=C.UTF-8`,
/// plus the variables set on `cmd` before the call) in its own process group until it exits
/// or `timeout` passes, then kills the whole group.
pub fn run_with_timeout(
    mut cmd: Command,
    timeout: std::time::Duration,
    what: &'static str,
) -> ProcessRun {
    let kept: Vec<_> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect();
    process::minimal_env(&mut cmd);
    cmd.envs(kept);
    process::run(cmd, timeout, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_root_holds_the_workspace_and_agent_pins() {
        let root = repo_root();
        assert!(root.join("Cargo.toml").is_file() && root.join("package.json").is_file());
        if std::env::var_os("TINYVEX_FIXTURES").is_none() {
            let expected = root.join("../shared/fixtures");
            assert_eq!(fixtures_dir(), expected.is_dir().then_some(expected));
        }
    }
}
