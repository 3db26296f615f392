//! Running the real, pinned OpenCode CLI (`opencode run`) against a [`MockModel`] speaking
//! OpenAI Chat Completions (custom provider `mock` via `@ai-sdk/openai-compatible`, which
//! OpenCode bundles).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::process::{self, agent_run, keep_sessions, minimal_env, timeout_from_env, ProcessRun};
use crate::{ensure_agents_installed, repo_root, MockModel};

/// Model id of the mock provider, as OpenCode names it (`<provider>/<model>`).
pub const OPENCODE_MODEL: &str = "mock/mock-model";

/// `<repo>/node_modules/.bin/opencode` (npm `opencode-ai`, a native binary).
pub fn opencode_bin() -> PathBuf {
    repo_root()
        .join("node_modules")
        .join(".bin")
        .join("opencode")
}

/// OpenCode's data dir for a test home (`XDG_DATA_HOME=<home>/.local/share`):
/// `<home>/.local/share/opencode`, holding `opencode.db` (+ `-wal`/`-shm`) and `storage/`.
pub fn opencode_data_dir(home: &Path) -> PathBuf {
    home.join(".local").join("share").join("opencode")
}

/// Writes `<home>/.config/opencode/opencode.json`: provider `mock` (OpenAI-compatible,
/// `baseURL` = [`MockModel::base_url`]) as `model` and `small_model`, every permission
/// allowed, autoupdate and sharing off.
pub fn write_opencode_config(home: &Path, mock: &MockModel) {
    let dir = home.join(".config").join("opencode");
    std::fs::create_dir_all(&dir).expect("create opencode config dir");
    let config = json!({
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            "mock": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Mock",
                "options": {"baseURL": mock.base_url(), "apiKey": "sk-mock"},
                "models": {"mock-model": {"name": "Mock model", "tool_call": true,
                                          "reasoning": true}}
            }
        },
        "model": OPENCODE_MODEL,
        "small_model": OPENCODE_MODEL,
        "permission": {"edit": "allow", "bash": "allow", "webfetch": "allow"},
        "autoupdate": false,
        "share": "disabled"
    });
    std::fs::write(
        dir.join("opencode.json"),
        serde_json::to_string_pretty(&config).unwrap(),
    )
    .expect("write opencode.json");
}

/// The result of one `opencode run` run.
#[derive(Debug)]
pub struct OpenCodeRun {
    /// The process: output, time, whether it timed out (also reachable through `Deref`).
    pub process: ProcessRun,
    pub home: PathBuf,
}

agent_run!(OpenCodeRun);

impl OpenCodeRun {
    /// The `--format json` events on stdout (one JSON object per line).
    pub fn events(&self) -> Vec<Value> {
        self.json_lines()
    }

    /// The session id (`ses_…`): `sessionID` of the first event that has one.
    pub fn session_id(&self) -> Option<String> {
        self.events().iter().find_map(|e| {
            e["sessionID"]
                .as_str()
                .or_else(|| e["part"]["sessionID"].as_str())
                .map(String::from)
        })
    }

    /// Concatenated text of the `text` events (the assistant's answer).
    pub fn text(&self) -> String {
        self.events()
            .iter()
            .filter(|e| e["type"] == "text")
            .filter_map(|e| e["part"]["text"].as_str())
            .collect::<Vec<_>>()
            .join("")
    }

    /// `<home>/.local/share/opencode/opencode.db` (SQLite, WAL mode).
    pub fn db_path(&self) -> PathBuf {
        opencode_data_dir(&self.home).join("opencode.db")
    }

    /// The session files: `opencode.db`, its `-wal`/`-shm` when present, and any legacy
    /// `storage/**` JSON files.
    pub fn session_files(&self) -> Vec<PathBuf> {
        opencode_session_files(&self.home)
    }
}

/// `opencode.db*` and `storage/**` files under [`opencode_data_dir`], sorted.
pub fn opencode_session_files(home: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let data = opencode_data_dir(home);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&data)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("opencode.db"))
        })
        .collect();
    walk(&data.join("storage"), &mut out);
    out.sort();
    out
}

fn opencode_command(home: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::new(opencode_bin());
    minimal_env(&mut cmd);
    cmd.current_dir(cwd)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local").join("share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_STATE_HOME", home.join(".local").join("state"));
    for var in [
        "OPENCODE_DISABLE_MODELS_FETCH",
        "OPENCODE_DISABLE_AUTOUPDATE",
        "OPENCODE_DISABLE_LSP_DOWNLOAD",
        "OPENCODE_DISABLE_DEFAULT_PLUGINS",
        "OPENCODE_DISABLE_SHARE",
    ] {
        cmd.env(var, "1");
    }
    cmd
}

/// Runs `node_modules/.bin/opencode run --pure --format json <args...>` in `cwd` against `mock`.
///
/// * `HOME=<home>` and every `XDG_*_HOME` under it (config written by
///   [`write_opencode_config`] on every call; data in [`opencode_data_dir`]); models.dev
///   fetch, autoupdate, LSP downloads, default plugins and sharing off; `--pure` (no external
///   plugins, so nothing is installed from npm at run time). Otherwise a minimal environment.
/// * stdin is closed; the process group is killed after 120 s (`TINYVEX_OPENCODE_TIMEOUT_SECS`
///   or `TINYVEX_AGENT_TIMEOUT_SECS`).
/// * with `TINYVEX_KEEP_SESSIONS=<dir>`, the db files are copied to `<dir>/opencode/...`.
///
/// `args` follow the fixed flags: `&["the prompt"]` or `&["--session", id, "next prompt"]`.
/// OpenCode also makes a tool-less title request to the same model; the mock answers it
/// generically, so it does not consume the script.
pub fn opencode_run(home: &Path, mock: &MockModel, cwd: &Path, args: &[&str]) -> OpenCodeRun {
    ensure_agents_installed();
    write_opencode_config(home, mock);
    let mut cmd = opencode_command(home, cwd);
    cmd.args(["run", "--pure", "--format", "json"]).args(args);
    let timeout = timeout_from_env(&[
        "TINYVEX_OPENCODE_TIMEOUT_SECS",
        "TINYVEX_AGENT_TIMEOUT_SECS",
    ]);
    let process = process::run(cmd, timeout, "opencode run");
    let files = opencode_session_files(home);
    keep_sessions("opencode", &opencode_data_dir(home), &files);
    OpenCodeRun {
        process,
        home: home.to_path_buf(),
    }
}

/// `opencode export <session_id>` for a test home: the session (info + messages + parts) as
/// JSON, read from the db by OpenCode itself. Panics when the export fails.
pub fn opencode_export(home: &Path, cwd: &Path, session_id: &str) -> Value {
    let mut cmd = opencode_command(home, cwd);
    cmd.args(["export", "--pure", session_id]);
    let export = process::run(cmd, Duration::from_secs(60), "opencode export");
    export.assert_success();
    let stdout = &export.stdout;
    // Anything before the JSON document (e.g. a status line) is skipped.
    let start = stdout.find('{').unwrap_or(0);
    serde_json::from_str(&stdout[start..])
        .unwrap_or_else(|e| panic!("opencode export printed no JSON ({e}): {stdout}"))
}
