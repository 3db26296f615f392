//! Running the real, pinned Gemini CLI (`gemini -p`) against a [`MockModel`] speaking the
//! Gemini API (`GOOGLE_GEMINI_BASE_URL`, API-key auth).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::process::{self, agent_run, keep_sessions, minimal_env, timeout_from_env, ProcessRun};
use crate::{ensure_agents_installed, repo_root, MockModel};

/// The model passed with `--model`. A concrete model (not `auto`), so the CLI skips its
/// routing classifier request.
pub const GEMINI_MODEL: &str = "gemini-2.5-flash";

/// `<repo>/node_modules/.bin/gemini` (npm `@google/gemini-cli`, a Node.js bundle).
pub fn gemini_bin() -> PathBuf {
    repo_root().join("node_modules").join(".bin").join("gemini")
}

/// Gemini CLI's root for a test home: `<home>/.gemini`.
pub fn gemini_dir(home: &Path) -> PathBuf {
    home.join(".gemini")
}

/// Writes `<home>/.gemini/settings.json`: API-key auth (`security.auth.selectedType =
/// gemini-api-key`; the base URL comes from `GOOGLE_GEMINI_BASE_URL`), usage statistics off.
pub fn write_gemini_settings(home: &Path) {
    let dir = gemini_dir(home);
    std::fs::create_dir_all(&dir).expect("create ~/.gemini");
    let settings = json!({
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "privacy": {"usageStatisticsEnabled": false}
    });
    std::fs::write(
        dir.join("settings.json"),
        serde_json::to_string_pretty(&settings).unwrap(),
    )
    .expect("write settings.json");
}

/// Every chat file under `<home>/.gemini/tmp/<project>/chats/` (`session-*.json[l]` and
/// sub-agent chats), sorted by path.
pub fn gemini_chat_files(home: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, in_chats: bool, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                let chats = in_chats || path.file_name().is_some_and(|n| n == "chats");
                walk(&path, chats, out);
            } else if in_chats
                && path
                    .extension()
                    .is_some_and(|e| e == "jsonl" || e == "json")
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&gemini_dir(home).join("tmp"), false, &mut out);
    out.sort();
    out
}

/// The result of one `gemini` run.
#[derive(Debug)]
pub struct GeminiRun {
    /// The process: output, time, whether it timed out (also reachable through `Deref`).
    pub process: ProcessRun,
    pub home: PathBuf,
}

agent_run!(GeminiRun);

impl GeminiRun {
    /// The `--output-format stream-json` events (one JSON object per line).
    pub fn events(&self) -> Vec<Value> {
        self.json_lines()
    }

    /// The session id (UUID) from the `init` event.
    pub fn session_id(&self) -> Option<String> {
        self.events()
            .iter()
            .find_map(|e| e["session_id"].as_str().map(String::from))
    }

    /// Concatenated assistant text of the `message` events.
    pub fn text(&self) -> String {
        self.events()
            .iter()
            .filter(|e| e["type"] == "message" && e["role"] == "assistant")
            .filter_map(|e| e["content"].as_str())
            .collect()
    }

    /// The chat file of [`GeminiRun::session_id`]: the largest `session-*-<first 8 chars>.jsonl`
    /// (or `.json`) that contains the id (a resume may leave a near-empty second file).
    pub fn session_file(&self) -> Option<PathBuf> {
        let id = self.session_id()?;
        let short = id.get(..8)?.to_owned();
        gemini_chat_files(&self.home)
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.contains(&short) || n.contains(&id))
            })
            .filter(|p| std::fs::read_to_string(p).is_ok_and(|text| text.contains(&id)))
            .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
    }

    /// Every chat file currently in this run's home.
    pub fn session_files(&self) -> Vec<PathBuf> {
        gemini_chat_files(&self.home)
    }
}

/// Runs `node_modules/.bin/gemini --model gemini-2.5-flash --approval-mode yolo
/// --output-format stream-json <args...>` in `cwd` against `mock`.
///
/// * `HOME=<home>` (settings written by [`write_gemini_settings`] on every call),
///   `GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:<port>`, `GEMINI_API_KEY=sk-mock`,
///   `GEMINI_CLI_TRUST_WORKSPACE=true` (else headless mode downgrades `yolo`),
///   `GEMINI_CLI_NO_RELAUNCH=true`. Otherwise a minimal environment.
/// * stdin is closed; the process group is killed after 120 s (`TINYVEX_GEMINI_TIMEOUT_SECS`
///   or `TINYVEX_AGENT_TIMEOUT_SECS`).
/// * with `TINYVEX_KEEP_SESSIONS=<dir>`, the chat files are copied to `<dir>/gemini/...`.
///
/// `args` must include the headless prompt: `&["-p", "the prompt"]`, or
/// `&["--resume", session_id, "-p", "next prompt"]` (appends to the same chat file).
pub fn gemini_run(home: &Path, mock: &MockModel, cwd: &Path, args: &[&str]) -> GeminiRun {
    ensure_agents_installed();
    write_gemini_settings(home);
    let mut cmd = Command::new(gemini_bin());
    minimal_env(&mut cmd);
    cmd.args([
        "--model",
        GEMINI_MODEL,
        "--approval-mode",
        "yolo",
        "--output-format",
        "stream-json",
    ])
    .args(args)
    .current_dir(cwd)
    .env("HOME", home)
    .env(
        "GOOGLE_GEMINI_BASE_URL",
        format!("http://127.0.0.1:{}", mock.port()),
    )
    .env("GEMINI_API_KEY", "sk-mock")
    .env("GEMINI_CLI_TRUST_WORKSPACE", "true")
    .env("GEMINI_CLI_NO_RELAUNCH", "true");
    let timeout = timeout_from_env(&["TINYVEX_GEMINI_TIMEOUT_SECS", "TINYVEX_AGENT_TIMEOUT_SECS"]);
    let process = process::run(cmd, timeout, "gemini");
    keep_sessions("gemini", &gemini_dir(home), &gemini_chat_files(home));
    GeminiRun {
        process,
        home: home.to_path_buf(),
    }
}
