//! Self-test: the real Claude Code CLI (`claude -p`) against the scripted mock model (Anthropic
//! Messages API) runs a scripted Bash tool call, writes a session file and resumes it.

use serde_json::Value;
use tinyvex_test_support::{claude_run, MockModel, Reply};

/// Every content block of every message of a Messages API request body, as JSON text.
fn blocks(request: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for message in request["messages"].as_array().into_iter().flatten() {
        match &message["content"] {
            Value::Array(blocks) => out.extend(blocks.iter().cloned()),
            other => out.push(other.clone()),
        }
    }
    out
}

#[test]
fn claude_print_tool_call_and_resume_against_mock_model() {
    let mock = MockModel::start(vec![
        // Turn 1, request 1: thinking + Bash tool call.
        vec![
            Reply::reasoning("I should run the greeting command."),
            Reply::shell("echo hello-from-claude"),
        ],
        // Turn 1, request 2 (carries the tool result): final text.
        vec![Reply::text("The command printed hello-from-claude.")],
        // Turn 2 (resume).
        vec![Reply::text("Second answer: still hello.")],
    ]);
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();

    let first = claude_run(
        home.path(),
        &mock,
        work.path(),
        &["run the greeting command"],
    )
    .assert_success();
    eprintln!("turn 1: {:?}", first.elapsed);
    let session_id = first
        .session_id()
        .expect("session_id in stream-json output");
    assert_eq!(
        first.result_text().as_deref(),
        Some("The command printed hello-from-claude."),
        "{}",
        first.stdout
    );
    let requests = mock.requests();
    assert_eq!(requests.len(), 2, "turn 1 makes two scripted requests");
    let tools: Vec<&str> = requests[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(tools.contains(&"Bash"), "tools offered: {tools:?}");
    let result = blocks(&requests[1])
        .into_iter()
        .find(|b| b["type"] == "tool_result" && b["tool_use_id"] == "toolu_1_1")
        .expect("second request carries the Bash tool result");
    assert!(result.to_string().contains("hello-from-claude"), "{result}");
    assert!(
        blocks(&requests[1])
            .iter()
            .any(|b| b["type"] == "thinking" && b["signature"] == "mock-signature-1-0"),
        "the thinking block (with its signature) is sent back"
    );

    let file = first.session_file().expect("session file written");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("hello-from-claude") && text.contains(&session_id));

    let second = claude_run(
        home.path(),
        &mock,
        work.path(),
        &["--resume", &session_id, "second question"],
    )
    .assert_success();
    eprintln!("turn 2: {:?}", second.elapsed);
    assert_eq!(
        second.result_text().as_deref(),
        Some("Second answer: still hello.")
    );
    assert_eq!(second.session_id().as_deref(), Some(session_id.as_str()));
    let requests = mock.requests();
    assert_eq!(requests.len(), 3, "{} scripted requests", requests.len());
    let history = requests[2]["messages"].to_string();
    assert!(
        history.contains("run the greeting command")
            && history.contains("hello-from-claude")
            && history.contains("second question"),
        "resumed request carries the earlier turns: {history}"
    );
    assert_eq!(mock.overrun(), 0);
    assert_eq!(second.session_file().as_deref(), Some(file.as_path()));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("Second answer: still hello."));

    for r in mock.all_requests() {
        eprintln!(
            "request: {} {} scripted={} model={}",
            r.method, r.path, r.scripted, r.body["model"]
        );
    }
    std::fs::copy(&file, "/tmp/claude-scenario-sample.jsonl").unwrap();
}
