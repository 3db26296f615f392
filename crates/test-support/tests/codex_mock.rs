//! Self-test: the real codex 0.169 CLI against the scripted mock model writes a genuine
//! rollout, executes the scripted shell call, and resumes the thread.

use std::time::Instant;

use serde_json::Value;
use tinyvex_test_support::{codex_exec, MockModel, Reply};

/// Items of a request's `input` array.
fn input(request: &Value) -> &[Value] {
    request["input"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

#[test]
fn codex_exec_and_resume_against_mock_model() {
    let started = Instant::now();
    let mock = MockModel::start(vec![
        // Turn 1, request 1: reasoning + a shell call.
        vec![
            Reply::reasoning("**Checking the shell**"),
            Reply::shell("echo hello-from-tool"),
        ],
        // Turn 1, request 2 (carries the tool output): the final answer.
        vec![Reply::text("The command printed hello-from-tool.")],
        // Turn 2 (resume).
        vec![Reply::text("Second answer: still hello.")],
    ]);
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();

    let first = codex_exec(
        home.path(),
        &mock,
        work.path(),
        &["run the greeting command"],
    )
    .assert_success();
    let thread_id = first.thread_id().expect("session id in codex output");
    eprintln!("turn 1: {:?}, thread {thread_id}", first.elapsed);
    assert!(
        first
            .stdout
            .contains("The command printed hello-from-tool."),
        "{}",
        first.stdout
    );

    let requests = mock.requests();
    assert_eq!(requests.len(), 2, "turn 1 makes two model requests");
    let tools: Vec<&str> = requests[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(tools.contains(&"exec_command"), "tools offered: {tools:?}");
    let output = input(&requests[1])
        .iter()
        .find(|item| item["type"] == "function_call_output" && item["call_id"] == "call_1_1")
        .expect("second request carries the shell output");
    assert!(output.to_string().contains("hello-from-tool"), "{output}");

    let second = codex_exec(
        home.path(),
        &mock,
        work.path(),
        &["resume", &thread_id, "second question"],
    )
    .assert_success();
    eprintln!("turn 2: {:?}", second.elapsed);
    assert!(
        second.stdout.contains("Second answer: still hello."),
        "{}",
        second.stdout
    );
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    let resumed = requests[2].to_string();
    assert!(
        resumed.contains("run the greeting command"),
        "resume carries turn 1's prompt"
    );
    assert!(
        resumed.contains("The command printed hello-from-tool."),
        "and its answer"
    );
    assert!(resumed.contains("second question"));
    assert_eq!(mock.remaining(), 0);
    assert_eq!(mock.overrun(), 0);

    let rollouts = second.rollout_files();
    assert_eq!(
        rollouts.len(),
        1,
        "resume appends to the same file: {rollouts:?}"
    );
    let rollout = &rollouts[0];
    let name = rollout.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("rollout-") && name.ends_with(&format!("-{thread_id}.jsonl")));
    // sessions/YYYY/MM/DD/rollout-*.jsonl
    let rel = rollout
        .strip_prefix(second.codex_home.join("sessions"))
        .unwrap();
    assert_eq!(rel.components().count(), 4, "{rel:?}");
    let text = std::fs::read_to_string(rollout).unwrap();
    assert!(text.contains("hello-from-tool") && text.contains("second question"));
    eprintln!("rollout: {}", rollout.display());
    let _ = std::fs::copy(
        rollout,
        std::env::temp_dir().join("codex-scenario-sample.jsonl"),
    );
    eprintln!("total {:?}", started.elapsed());
}
