//! `tinyvex export` with the real, pinned agents: a session written by one
//! agent is exported to the other, which then resumes it against the mock
//! model; the request the mock receives must carry the earlier turns
//! (prompt, answer, tool call and its output).

use std::path::Path;

use serde_json::Value;
use tinyvex_test_support::{
    claude_escape_path, claude_run, codex_exec, codex_home, ensure_agents_installed,
    write_codex_config, MockModel, Reply,
};

use crate::real_agents::{only_thread, tinyvex};

/// Every item of a Responses request's `input`.
fn input(request: &Value) -> Vec<Value> {
    request["input"].as_array().cloned().unwrap_or_default()
}

/// The joined texts of a Responses message item.
fn message_text(item: &Value) -> String {
    item["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The one exported thread besides `source` (ingested from the agent's own folder).
fn threads_of(home: &Path, db: &Path, provider: &str) -> Vec<Value> {
    tinyvex(home, db, &["threads", "--provider", provider, "--json"])
        .as_array()
        .cloned()
        .unwrap()
}

#[test]
fn claude_session_exported_to_codex_resumes_with_its_history() {
    ensure_agents_installed();
    let mock = MockModel::start(vec![
        vec![
            Reply::reasoning("I should run the greeting command."),
            Reply::shell("echo hello-from-claude"),
        ],
        vec![Reply::text("The command printed hello-from-claude.")],
        vec![Reply::text("Codex here: I can see the earlier turns.")],
    ]);
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    claude_run(
        home.path(),
        &mock,
        work.path(),
        &["run the greeting command"],
    )
    .assert_success();
    let original = std::fs::read(
        tinyvex_test_support::claude_session_files(&home.path().join(".claude"))[0].clone(),
    )
    .unwrap();

    let db = home.path().join("db.sqlite3");
    let (thread, _) = only_thread(home.path(), &db, "claude");
    // Codex's config names the provider (`mock`); the export must record it.
    write_codex_config(&codex_home(home.path()), &mock);
    let exported = tinyvex(
        home.path(),
        &db,
        &[
            "export",
            thread["id"].as_str().unwrap(),
            "--to",
            "codex",
            "--json",
        ],
    );
    let session = exported["session_id"].as_str().unwrap().to_string();
    let path = Path::new(exported["path"].as_str().unwrap());
    assert!(
        path.starts_with(home.path().join(".codex/sessions")),
        "{exported:#}"
    );
    assert_eq!(
        exported["resume_command"],
        format!("codex resume {session}")
    );
    // Re-exporting the same thread gives the same id and the same file.
    let again = tinyvex(
        home.path(),
        &db,
        &[
            "export",
            &thread["session_id"].as_str().unwrap()[..8],
            "--to",
            "codex",
            "--json",
        ],
    );
    assert_eq!(again["session_id"], session.as_str());
    assert_eq!(again["unchanged"], true, "{again:#}");

    let resumed = codex_exec(
        home.path(),
        &mock,
        work.path(),
        &["resume", &session, "next question"],
    )
    .assert_success();
    assert!(
        resumed.stdout.contains("Codex here"),
        "{}\n{}",
        resumed.stdout,
        resumed.stderr
    );
    assert_eq!(mock.overrun(), 0);
    let request = mock.requests().last().cloned().unwrap();
    let items = input(&request);
    let position = |pred: &dyn Fn(&Value) -> bool| {
        items
            .iter()
            .position(pred)
            .unwrap_or_else(|| panic!("not in the request:\n{request:#}"))
    };
    let user = position(&|i| {
        i["type"] == "message"
            && i["role"] == "user"
            && message_text(i) == "run the greeting command"
    });
    // Claude's thinking travels as a summary-only reasoning item.
    let reasoning = position(&|i| {
        i["type"] == "reasoning" && i["summary"][0]["text"] == "I should run the greeting command."
    });
    let call = position(&|i| {
        i["type"] == "function_call"
            && i["name"] == "exec_command"
            && i["arguments"]
                .as_str()
                .unwrap_or("")
                .contains("echo hello-from-claude")
    });
    let call_id = items[call]["call_id"].clone();
    let output = position(&|i| {
        i["type"] == "function_call_output"
            && i["call_id"] == call_id
            && i["output"].to_string().contains("hello-from-claude")
    });
    let answer = position(&|i| {
        i["type"] == "message"
            && i["role"] == "assistant"
            && message_text(i) == "The command printed hello-from-claude."
    });
    let next = position(&|i| {
        i["type"] == "message" && i["role"] == "user" && message_text(i) == "next question"
    });
    assert!(
        user < reasoning && reasoning < call && call < output && output < answer && answer < next
    );

    // The original transcript is untouched; the export (now continued by
    // Codex) is its own thread, linked to the source, and is no longer
    // replaced by a new export.
    let claude_file = tinyvex_test_support::claude_session_files(&home.path().join(".claude"));
    assert_eq!(std::fs::read(&claude_file[0]).unwrap(), original);
    tinyvex(home.path(), &db, &["ingest", "--json"]);
    let codex_threads = threads_of(home.path(), &db, "codex");
    assert_eq!(codex_threads.len(), 1, "{codex_threads:#?}");
    assert_eq!(codex_threads[0]["session_id"], session.as_str());
    assert_eq!(codex_threads[0]["parent_session_id"], thread["session_id"]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tinyvex"))
        .env_clear()
        .env("HOME", home.path())
        .env("CODEX_HOME", home.path().join(".codex"))
        .arg("--db")
        .arg(&db)
        .args(["export", thread["id"].as_str().unwrap(), "--to", "codex"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("continued in codex"), "{err}");
}

#[test]
fn codex_session_exported_to_claude_resumes_with_its_history() {
    ensure_agents_installed();
    let mock = MockModel::start(vec![
        vec![
            Reply::reasoning("**Greeting**"),
            Reply::shell("echo hello-from-codex"),
        ],
        vec![Reply::text("The command printed hello-from-codex.")],
        vec![Reply::text("Claude here: I can see the earlier turns.")],
    ]);
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    codex_exec(
        home.path(),
        &mock,
        work.path(),
        &["run the greeting command"],
    )
    .assert_success();

    let db = home.path().join("db.sqlite3");
    let (thread, _) = only_thread(home.path(), &db, "codex");
    let exported = tinyvex(
        home.path(),
        &db,
        &[
            "export",
            thread["id"].as_str().unwrap(),
            "--to",
            "claude",
            "--json",
        ],
    );
    let session = exported["session_id"].as_str().unwrap().to_string();
    let cwd = std::fs::canonicalize(work.path()).unwrap();
    assert_eq!(
        Path::new(exported["path"].as_str().unwrap()),
        home.path()
            .join(".claude/projects")
            .join(claude_escape_path(&cwd))
            .join(format!("{session}.jsonl"))
    );
    let notes = exported["not_carried"].to_string();
    assert!(notes.contains("reasoning items"), "{exported:#}");

    let resumed = claude_run(
        home.path(),
        &mock,
        work.path(),
        &["--resume", &session, "next question"],
    )
    .assert_success();
    assert_eq!(
        resumed.result_text().as_deref(),
        Some("Claude here: I can see the earlier turns.")
    );
    assert_eq!(mock.overrun(), 0);
    let request = mock.requests().last().cloned().unwrap();
    // (role, block type, text / name / input / content) of every block.
    let mut blocks: Vec<(String, Value)> = Vec::new();
    for m in request["messages"].as_array().unwrap() {
        let role = m["role"].as_str().unwrap().to_string();
        match &m["content"] {
            Value::String(s) => blocks.push((role, serde_json::json!({"type": "text", "text": s}))),
            Value::Array(a) => blocks.extend(a.iter().map(|b| (role.clone(), b.clone()))),
            _ => {}
        }
    }
    let position = |pred: &dyn Fn(&str, &Value) -> bool| {
        blocks
            .iter()
            .position(|(r, b)| pred(r, b))
            .unwrap_or_else(|| panic!("not in the request:\n{request:#}"))
    };
    let text = |b: &Value| b["text"].as_str().unwrap_or("").to_string();
    let user = position(&|r, b| r == "user" && text(b).contains("run the greeting command"));
    let tool_use = position(&|r, b| {
        r == "assistant"
            && b["type"] == "tool_use"
            && b["name"] == "Bash"
            && b["input"]["command"] == "echo hello-from-codex"
    });
    let id = blocks[tool_use].1["id"].clone();
    let result = position(&|r, b| {
        r == "user"
            && b["type"] == "tool_result"
            && b["tool_use_id"] == id
            && b["content"].to_string().contains("hello-from-codex")
    });
    let answer =
        position(&|r, b| r == "assistant" && text(b) == "The command printed hello-from-codex.");
    let next = position(&|r, b| r == "user" && text(b).contains("next question"));
    assert!(user < tool_use && tool_use < result && result < answer && answer < next);
    // tool_result comes in the message right after the tool_use's.
    let messages = request["messages"].as_array().unwrap();
    let holder = |pred: &dyn Fn(&Value) -> bool| {
        messages
            .iter()
            .position(|m| m["content"].as_array().is_some_and(|a| a.iter().any(pred)))
            .unwrap()
    };
    assert_eq!(
        holder(&|b| b["type"] == "tool_result"),
        holder(&|b| b["type"] == "tool_use") + 1
    );

    // Ingested, the export is a Claude thread linked to the Codex source.
    tinyvex(home.path(), &db, &["ingest", "--json"]);
    let claude_threads = threads_of(home.path(), &db, "claude");
    assert_eq!(claude_threads.len(), 1, "{claude_threads:#?}");
    assert_eq!(claude_threads[0]["session_id"], session.as_str());
    assert_eq!(claude_threads[0]["parent_session_id"], thread["session_id"]);
}
