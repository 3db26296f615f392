//! The real `claude` CLI (npm `@anthropic-ai/claude-code`, pinned in
//! package.json) writes a two-turn session against the scripted mock model
//! (Anthropic Messages API); `tinyvex ingest` must reproduce the script.

use serde_json::Value;
use tinyvex_test_support::{claude_run, MockModel, Reply};

use crate::real_agents::{assert_cwd, expect, only_thread, transcript};

#[test]
fn real_claude_two_turns_with_bash_and_thinking_ingest_exactly() {
    let mock = MockModel::start(vec![
        vec![
            Reply::reasoning("I should run the greeting command."),
            Reply::shell("echo hello-from-claude"),
        ],
        vec![Reply::shell("ls /nonexistent-tinyvex-dir")],
        vec![Reply::text("The command printed hello-from-claude.")],
        vec![
            Reply::reasoning("Remembering the first turn."),
            Reply::text("Second answer: still hello."),
        ],
    ]);
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let run = claude_run(
        home.path(),
        &mock,
        work.path(),
        &["run the greeting command"],
    )
    .assert_success();
    let session = run.session_id().expect("claude reported its session id");
    claude_run(
        home.path(),
        &mock,
        work.path(),
        &["--resume", &session, "second question"],
    )
    .assert_success();
    // The tool really ran and its output went back to the model.
    assert!(mock.requests()[1].to_string().contains("hello-from-claude"));

    let db = home.path().join("db.sqlite3");
    let (thread, items) = only_thread(home.path(), &db, "claude");
    assert_eq!(thread["session_id"], session.as_str());
    assert_eq!(thread["title"], "run the greeting command");
    assert_cwd(&thread, work.path());
    assert_eq!(
        transcript(&items),
        expect(&[
            ("user", "run the greeting command"),
            ("reasoning", "I should run the greeting command."),
            (
                "tool_call",
                "Bash | echo hello-from-claude | exit null | completed"
            ),
            (
                "tool_call",
                "Bash | ls /nonexistent-tinyvex-dir | exit null | failed"
            ),
            ("assistant", "The command printed hello-from-claude."),
            ("user", "second question"),
            ("reasoning", "Remembering the first turn."),
            ("assistant", "Second answer: still hello."),
        ])
    );
    let call = items.iter().find(|i| i["kind"] == "tool_call").unwrap();
    assert_eq!(
        call["output"].as_str().map(str::trim),
        Some("hello-from-claude"),
        "{call:#}"
    );
    let usage: Vec<&Value> = items.iter().filter(|i| i["kind"] == "usage").collect();
    assert!(!usage.is_empty(), "usage items per API message");
}
