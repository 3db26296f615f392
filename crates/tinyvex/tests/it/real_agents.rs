//! Shared by the real-agent scenario tests (`real_*.rs`): run the built
//! `tinyvex` in the agent's temp home and compare what it stored with the
//! script the mock model played.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Run the built `tinyvex` with `HOME` (and so every agent's default
/// folder) inside the test's temp home; parse its JSON output.
pub fn tinyvex(home: &Path, db: &Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tinyvex"))
        .env_clear()
        .env("HOME", home)
        .env("CODEX_HOME", home.join(".codex"))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run tinyvex");
    assert!(
        out.status.success(),
        "tinyvex {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("tinyvex printed JSON")
}

/// (kind, text-or-command) of every non-usage item, for one readable comparison.
pub fn transcript(items: &[Value]) -> Vec<(String, String)> {
    items
        .iter()
        .filter(|i| i["kind"] != "usage")
        .map(|i| {
            let kind = i["kind"].as_str().unwrap().to_string();
            let body = match kind.as_str() {
                "tool_call" => format!(
                    "{} | {} | exit {} | {}",
                    i["name"].as_str().unwrap_or(""),
                    i["command"].as_str().unwrap_or(""),
                    i["exit_code"],
                    i["status"].as_str().unwrap_or("")
                ),
                _ => i["text"].as_str().unwrap_or("").to_string(),
            };
            (kind, body)
        })
        .collect()
}

/// The one thread of `provider` in the store, shown.
pub fn only_thread(home: &Path, db: &Path, provider: &str) -> (Value, Vec<Value>) {
    let summary = tinyvex(home, db, &["ingest", "--json"]);
    assert_eq!(summary["errors"], 0, "{summary:#}");
    let threads = tinyvex(home, db, &["threads", "--provider", provider, "--json"]);
    let threads = threads.as_array().unwrap();
    assert_eq!(threads.len(), 1, "{threads:#?}");
    let shown = tinyvex(
        home,
        db,
        &["show", threads[0]["id"].as_str().unwrap(), "--json"],
    );
    let items = shown["items"].as_array().unwrap().clone();
    assert_eq!(
        threads[0]["item_count"].as_u64().unwrap() as usize,
        items.len()
    );
    (threads[0].clone(), items)
}

pub fn expect(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(k, t)| (k.to_string(), t.to_string()))
        .collect()
}

/// The thread's cwd is the directory the agent ran in.
pub fn assert_cwd(thread: &Value, work: &Path) {
    let cwd = std::fs::canonicalize(work).unwrap();
    assert_eq!(thread["cwd"].as_str().map(Path::new), Some(cwd.as_path()));
}
