//! The real `codex` CLI (npm `@openai/codex`, pinned in package.json) writes a
//! two-turn session against the scripted mock model; `tinyvex ingest` must
//! reproduce the script exactly.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use tinyvex_test_support::{codex_exec, ensure_agents_installed, MockModel, Reply};

/// Run the built `tinyvex` with `HOME` (and so every agent's default
/// folder) inside the test's temp home; parse its JSON output.
pub(crate) fn tinyvex(home: &Path, db: &Path, args: &[&str]) -> Value {
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
pub(crate) fn transcript(items: &[Value]) -> Vec<(String, String)> {
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

#[test]
fn real_codex_two_turns_with_shell_and_reasoning_ingest_exactly() {
    ensure_agents_installed();
    let mock = MockModel::start(vec![
        vec![
            Reply::reasoning("**Checking the shell**"),
            Reply::shell("echo hello-from-tool"),
        ],
        vec![Reply::shell("ls /nonexistent-tinyvex-dir")],
        vec![Reply::text("The command printed hello-from-tool.")],
        vec![
            Reply::reasoning("**Remembering**"),
            Reply::text("Second answer: still hello."),
        ],
    ]);
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let run = codex_exec(
        home.path(),
        &mock,
        work.path(),
        &["run the greeting command"],
    )
    .assert_success();
    let session = run.thread_id().expect("codex printed its thread id");
    codex_exec(
        home.path(),
        &mock,
        work.path(),
        &["resume", &session, "second question"],
    )
    .assert_success();
    // The tool really ran and its output went back to the model.
    assert!(mock.requests()[1]
        .to_string()
        .contains("hello-from-tool\\n"));

    let db = home.path().join("db.sqlite3");
    let summary = tinyvex(home.path(), &db, &["ingest", "--json"]);
    assert_eq!(summary["errors"], 0, "{summary:#}");
    let threads = tinyvex(home.path(), &db, &["threads", "--json"]);
    let threads = threads.as_array().unwrap();
    assert_eq!(threads.len(), 1, "{threads:#?}");
    let thread = &threads[0];
    assert_eq!(thread["session_id"], session.as_str());
    assert_eq!(thread["provider"], "codex");
    assert_eq!(thread["title"], "run the greeting command");
    let cwd = std::fs::canonicalize(work.path()).unwrap();
    assert_eq!(thread["cwd"].as_str().map(Path::new), Some(cwd.as_path()));

    let shown = tinyvex(
        home.path(),
        &db,
        &["show", thread["id"].as_str().unwrap(), "--json"],
    );
    let items = shown["items"].as_array().unwrap();
    let expected: Vec<(String, String)> = [
        ("user", "run the greeting command"),
        ("reasoning", "**Checking the shell**"),
        (
            "tool_call",
            "exec_command | echo hello-from-tool | exit 0 | completed",
        ),
        (
            "tool_call",
            "exec_command | ls /nonexistent-tinyvex-dir | exit 2 | failed",
        ),
        ("assistant", "The command printed hello-from-tool."),
        ("user", "second question"),
        ("reasoning", "**Remembering**"),
        ("assistant", "Second answer: still hello."),
    ]
    .iter()
    .map(|(k, t)| (k.to_string(), t.to_string()))
    .collect();
    assert_eq!(transcript(items), expected);
    let call = items.iter().find(|i| i["kind"] == "tool_call").unwrap();
    assert!(
        call["output"]
            .as_str()
            .unwrap()
            .contains("hello-from-tool\n"),
        "{call:#}"
    );
    assert_eq!(call["call_id"], "call_1_1");
    // One usage item per turn, with the turn's own tokens (not the thread's running total).
    let usage: Vec<&Value> = items.iter().filter(|i| i["kind"] == "usage").collect();
    assert_eq!(usage.len(), 2, "{usage:#?}");
    let turn2 = usage[1]["data"]["total_tokens"].as_i64().unwrap();
    let thread_total = usage[1]["data"]["thread_total"]["total_tokens"]
        .as_i64()
        .unwrap();
    assert!(
        turn2 > 0 && turn2 < thread_total,
        "turn usage {turn2} vs thread total {thread_total}"
    );
    assert_eq!(thread["item_count"].as_u64().unwrap() as usize, items.len());
}
