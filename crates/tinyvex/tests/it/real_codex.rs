//! The real `codex` CLI (npm `@openai/codex`, pinned in package.json) writes a
//! two-turn session against the scripted mock model; `tinyvex ingest` must
//! reproduce the script exactly.

use serde_json::Value;
use tinyvex_test_support::{codex_exec, ensure_agents_installed, MockModel, Reply};

use crate::real_agents::{assert_cwd, expect, only_thread, transcript};

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
    let (thread, items) = only_thread(home.path(), &db, "codex");
    assert_eq!(thread["session_id"], session.as_str());
    assert_eq!(thread["title"], "run the greeting command");
    assert_cwd(&thread, work.path());
    assert_eq!(
        transcript(&items),
        expect(&[
            ("user", "run the greeting command"),
            ("reasoning", "**Checking the shell**"),
            (
                "tool_call",
                "exec_command | echo hello-from-tool | exit 0 | completed"
            ),
            (
                "tool_call",
                "exec_command | ls /nonexistent-tinyvex-dir | exit 2 | failed"
            ),
            ("assistant", "The command printed hello-from-tool."),
            ("user", "second question"),
            ("reasoning", "**Remembering**"),
            ("assistant", "Second answer: still hello."),
        ])
    );
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
}
