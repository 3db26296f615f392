//! Running the real, pinned `codex` CLI against a [`MockModel`].

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::{self, agent_run, keep_sessions, minimal_env, timeout_from_env, ProcessRun};
use crate::{ensure_agents_installed, repo_root, MockModel};

/// Model slug written to the config (a real slug, so Codex picks its normal tools/prompt).
pub const CODEX_MODEL: &str = "gpt-5.5";

/// `<repo>/node_modules/.bin/codex`.
pub fn codex_bin() -> PathBuf {
    repo_root().join("node_modules").join(".bin").join("codex")
}

/// The `CODEX_HOME` used for a test home: `<home>/.codex`.
pub fn codex_home(home: &Path) -> PathBuf {
    home.join(".codex")
}

/// Writes `<codex_home>/config.toml` pointing Codex at `mock` (provider id `mock`, Responses
/// wire API, no retries, no analytics/feedback/update checks, no approvals, no sandbox,
/// `update_plan` tool enabled).
pub fn write_codex_config(codex_home: &Path, mock: &MockModel) {
    std::fs::create_dir_all(codex_home).expect("create CODEX_HOME");
    let config = format!(
        r#"# Written by tinyvex-test-support: real codex against a loopback mock model.
model = "{CODEX_MODEL}"
model_provider = "mock"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[model_providers.mock]
name = "mock"
base_url = "{base_url}"
wire_api = "responses"
env_key = "TINYVEX_MOCK_API_KEY"
request_max_retries = 0
stream_max_retries = 0
stream_idle_timeout_ms = 30000

[tools.update_plan]
# Off by default in 0.169 `exec`; on so scripted `Reply::Plan` calls are executed.
enabled = true

[analytics]
enabled = false

[feedback]
enabled = false
"#,
        base_url = mock.base_url()
    );
    std::fs::write(codex_home.join("config.toml"), config).expect("write config.toml");
}

/// Every rollout file under `<codex_home>/sessions/YYYY/MM/DD/`, sorted by path.
pub fn rollout_files(codex_home: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("rollout-") && (n.ends_with(".jsonl") || n.ends_with(".jsonl.zst"))
            }) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&codex_home.join("sessions"), &mut out);
    out.sort();
    out
}

/// The result of one `codex exec` run.
#[derive(Debug)]
pub struct CodexRun {
    /// The process: output, time, whether it timed out (also reachable through `Deref`).
    pub process: ProcessRun,
    pub codex_home: PathBuf,
}

agent_run!(CodexRun);

impl CodexRun {
    /// The thread (session) id: from `session id: <uuid>` on stderr, or a `--json`
    /// `thread.started` line on stdout.
    pub fn thread_id(&self) -> Option<String> {
        let from_stderr = self.stderr.lines().find_map(|line| {
            line.trim()
                .strip_prefix("session id:")
                .map(|id| id.trim().to_owned())
        });
        from_stderr.or_else(|| {
            self.stdout.lines().find_map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).ok()?;
                (v["type"] == "thread.started")
                    .then(|| v["thread_id"].as_str().map(String::from))?
            })
        })
    }

    /// Rollout files currently in this run's `CODEX_HOME`.
    pub fn rollout_files(&self) -> Vec<PathBuf> {
        rollout_files(&self.codex_home)
    }
}

/// Runs `node_modules/.bin/codex exec <fixed flags> <args...>` in `cwd` against `mock`.
///
/// * `HOME=<home>`, `CODEX_HOME=<home>/.codex` (config written by [`write_codex_config`] on
///   every call, so a resume may use a different mock), otherwise a minimal environment
///   (`PATH`, `TMPDIR`, `TZ`, `SHELL`, `LANG`): no real credentials or user config leak in.
/// * fixed flags: `--skip-git-repo-check --dangerously-bypass-approvals-and-sandbox -C <cwd>`.
/// * stdin is closed; killed after 120 s (`TINYVEX_CODEX_TIMEOUT_SECS` or
///   `TINYVEX_AGENT_TIMEOUT_SECS`), see `timed_out`.
/// * with `TINYVEX_KEEP_SESSIONS=<dir>`, the rollouts are copied to `<dir>/codex/sessions/...`.
///
/// `args` is what follows those flags: `&["the prompt"]`, `&["--json", "the prompt"]` or
/// `&["resume", thread_id, "next prompt"]`. Installs the agents first if needed.
pub fn codex_exec(home: &Path, mock: &MockModel, cwd: &Path, args: &[&str]) -> CodexRun {
    ensure_agents_installed();
    let codex_home = codex_home(home);
    write_codex_config(&codex_home, mock);

    let mut cmd = Command::new(codex_bin());
    minimal_env(&mut cmd);
    cmd.arg("exec")
        .args([
            "--skip-git-repo-check",
            "--dangerously-bypass-approvals-and-sandbox",
            "-C",
        ])
        .arg(cwd)
        .args(args)
        .current_dir(cwd)
        .env("HOME", home)
        .env("CODEX_HOME", &codex_home)
        .env("TINYVEX_MOCK_API_KEY", "sk-mock");

    let timeout = timeout_from_env(&["TINYVEX_CODEX_TIMEOUT_SECS", "TINYVEX_AGENT_TIMEOUT_SECS"]);
    let process = process::run(cmd, timeout, "codex exec");
    keep_sessions("codex", &codex_home, &rollout_files(&codex_home));
    CodexRun {
        process,
        codex_home,
    }
}
