//! Self-test: the real OpenCode CLI (`opencode run`) against the scripted mock model (OpenAI
//! Chat Completions) runs a scripted bash tool call, writes its session db and continues the
//! session (`--session <id>`).

use serde_json::Value;
use tinyvex_test_support::{opencode_export, opencode_run, MockModel, Reply, SIDE_REPLY_TEXT};

/// Parts of every message of an `opencode export`, as `(role, part)`.
fn parts(export: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for message in export["messages"].as_array().into_iter().flatten() {
        let role = message["info"]["role"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for part in message["parts"].as_array().into_iter().flatten() {
            out.push((role.clone(), part.clone()));
        }
    }
    out
}

#[test]
fn opencode_run_tool_call_and_continue_against_mock_model() {
    let mock = MockModel::start(vec![
        vec![
            Reply::reasoning("I should run the greeting command."),
            Reply::shell("echo hello-from-opencode"),
        ],
        vec![Reply::text("The command printed hello-from-opencode.")],
        vec![Reply::text("Second answer: still hello.")],
    ]);
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();

    let first = opencode_run(
        home.path(),
        &mock,
        work.path(),
        &["run the greeting command"],
    )
    .assert_success();
    eprintln!("turn 1: {:?}", first.elapsed);
    let session_id = first.session_id().expect("sessionID in the json events");
    assert!(session_id.starts_with("ses_"), "{session_id}");
    assert_eq!(first.text(), "The command printed hello-from-opencode.");
    let requests = mock.requests();
    assert_eq!(requests.len(), 2, "turn 1 makes two scripted requests");
    let tool_message = requests[1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool" && m["tool_call_id"] == "call_1_1")
        .expect("second request carries the bash output");
    assert!(tool_message.to_string().contains("hello-from-opencode"));
    // The title request (no tools) got the generic answer and consumed no script entry.
    assert!(mock.all_requests().iter().any(|r| !r.scripted));

    let second = opencode_run(
        home.path(),
        &mock,
        work.path(),
        &["--session", &session_id, "second question"],
    )
    .assert_success();
    eprintln!("turn 2: {:?}", second.elapsed);
    assert_eq!(second.session_id().as_deref(), Some(session_id.as_str()));
    assert_eq!(second.text(), "Second answer: still hello.");
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    let history = requests[2]["messages"].to_string();
    assert!(history.contains("hello-from-opencode") && history.contains("second question"));
    assert_eq!(mock.overrun(), 0);
    assert!(second.db_path().is_file());

    let export = opencode_export(home.path(), work.path(), &session_id);
    assert_eq!(export["info"]["id"], session_id.as_str());
    assert_eq!(export["info"]["title"], SIDE_REPLY_TEXT);
    let parts = parts(&export);
    let reasoning = parts
        .iter()
        .find(|(_, p)| p["type"] == "reasoning")
        .unwrap();
    assert_eq!(reasoning.1["text"], "I should run the greeting command.");
    let tool = parts.iter().find(|(_, p)| p["type"] == "tool").unwrap();
    assert_eq!(tool.1["tool"], "bash");
    assert_eq!(tool.1["state"]["status"], "completed");
    assert_eq!(tool.1["state"]["output"], "hello-from-opencode\n");

    std::fs::write(
        "/tmp/opencode-scenario-sample.json",
        serde_json::to_string_pretty(&export).unwrap(),
    )
    .unwrap();
    for file in second.session_files() {
        let name = file.file_name().unwrap().to_string_lossy();
        if let Some(suffix) = name.strip_prefix("opencode.db") {
            std::fs::copy(&file, format!("/tmp/opencode-scenario-sample.db{suffix}")).unwrap();
        }
    }
}
