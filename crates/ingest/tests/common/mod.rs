//! Shared by the integration tests: a temp Codex home with session files.

#![allow(dead_code)] // each test binary uses its own part

use std::io::Write;
use std::path::{Path, PathBuf};

use tinyvex_providers::{CodexProvider, Provider};

/// Codex's `sessions` root under `home` with a dated folder; returns the folder.
pub fn sessions_dir(home: &Path) -> PathBuf {
    let dir = home.join("sessions/2026/01/01");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A Codex provider scanning `home/sessions`.
pub fn codex(home: &Path) -> Vec<Box<dyn Provider>> {
    vec![Box::new(CodexProvider::with_roots(vec![
        home.join("sessions")
    ]))]
}

/// The file of session `uuid` in `dir`.
pub fn session_path(dir: &Path, uuid: &str) -> PathBuf {
    dir.join(format!("rollout-2026-01-01T00-00-00-{uuid}.jsonl"))
}

/// Write a new session file with its meta line and one user message.
pub fn write_session(dir: &Path, uuid: &str, first: &str) -> PathBuf {
    let path = session_path(dir, uuid);
    let meta = format!(
        r#"{{"timestamp":"2026-01-01T00:00:00.000Z","type":"session_meta","payload":{{"id":"{uuid}","timestamp":"2026-01-01T00:00:00.000Z","cwd":"/w","originator":"x","cli_version":"0.1"}}}}"#
    );
    std::fs::write(&path, format!("{meta}\n{}\n", user_line(first, 1))).unwrap();
    path
}

/// A user message line at second `second`.
pub fn user_line(text: &str, second: u32) -> String {
    format!(
        r#"{{"timestamp":"2026-01-01T00:00:{second:02}.000Z","type":"event_msg","payload":{{"type":"user_message","message":"{text}"}}}}"#
    )
}

/// Append one user message.
pub fn append_user(path: &Path, text: &str, second: u32) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    writeln!(f, "{}", user_line(text, second)).unwrap();
}

/// The thread id of a Codex session.
pub fn thread_id(uuid: &str) -> String {
    format!("codex-{uuid}")
}
