//! The real OpenCode (`opencode-ai`) and Gemini CLI (`@google/gemini-cli`),
//! pinned in package.json, write two-turn sessions against the scripted mock
//! model; `tinyvex ingest` must reproduce the script.

use tinyvex_test_support::{gemini_run, opencode_run, MockModel, Reply};

use crate::real_agents::{assert_cwd, expect, only_thread, transcript};

#[test]
fn real_opencode_two_turns_with_bash_and_reasoning_ingest_exactly() {
    let mock = MockModel::start(vec![
        vec![
            Reply::reasoning("I should run the greeting command."),
            Reply::shell("echo hello-from-opencode"),
        ],
        vec![Reply::shell("ls /nonexistent-tinyvex-dir")],
        vec![Reply::text("The command printed hello-from-opencode.")],
        vec![Reply::text("Second answer: still hello.")],
    ]);
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let run = opencode_run(
        home.path(),
        &mock,
        work.path(),
        &["run", "the", "greeting", "command"],
    )
    .assert_success();
    let session = run.session_id().expect("opencode reported its session id");
    opencode_run(
        home.path(),
        &mock,
        work.path(),
        &["--session", &session, "second", "question"],
    )
    .assert_success();

    let db = home.path().join("db.sqlite3");
    let (thread, items) = only_thread(home.path(), &db, "opencode");
    assert_eq!(thread["session_id"], session.as_str());
    assert_eq!(thread["title"], "run the greeting command");
    assert_cwd(&thread, work.path());
    let got = transcript(&items);
    eprintln!("{got:#?}");
    assert_eq!(
        got,
        expect(&[
            ("user", "run the greeting command"),
            ("reasoning", "I should run the greeting command."),
            (
                "tool_call",
                "bash | echo hello-from-opencode | exit 0 | completed"
            ),
            (
                "tool_call",
                "bash | ls /nonexistent-tinyvex-dir | exit 2 | failed"
            ),
            ("assistant", "The command printed hello-from-opencode."),
            ("user", "second question"),
            ("assistant", "Second answer: still hello."),
        ])
    );
    let call = items.iter().find(|i| i["kind"] == "tool_call").unwrap();
    assert!(
        call["output"]
            .as_str()
            .unwrap()
            .contains("hello-from-opencode"),
        "{call:#}"
    );
}

#[test]
fn real_gemini_two_turns_with_shell_and_thoughts_ingest_exactly() {
    let mock = MockModel::start(vec![
        vec![
            Reply::reasoning("**Greeting** I should run the greeting command."),
            Reply::shell("echo hello-from-gemini"),
        ],
        vec![Reply::shell("ls /nonexistent-tinyvex-dir")],
        vec![Reply::text("The command printed hello-from-gemini.")],
        vec![Reply::text("Second answer: still hello.")],
    ]);
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let run = gemini_run(
        home.path(),
        &mock,
        work.path(),
        &["-p", "run the greeting command"],
    )
    .assert_success();
    let session = run.session_id().expect("gemini reported its session id");
    gemini_run(
        home.path(),
        &mock,
        work.path(),
        &["--resume", &session, "-p", "second question"],
    )
    .assert_success();

    let db = home.path().join("db.sqlite3");
    let (thread, items) = only_thread(home.path(), &db, "gemini");
    assert_eq!(thread["session_id"], session.as_str());
    assert_eq!(thread["title"], "run the greeting command");
    let got = transcript(&items);
    eprintln!("{got:#?}");
    let call = items.iter().find(|i| i["kind"] == "tool_call").unwrap();
    assert!(
        call["output"]
            .as_str()
            .unwrap()
            .contains("hello-from-gemini"),
        "{call:#}"
    );
    assert_eq!(
        got,
        expect(&[
            ("user", "run the greeting command"),
            ("reasoning", "Greeting\nI should run the greeting command."),
            (
                "tool_call",
                "run_shell_command | echo hello-from-gemini | exit null | completed"
            ),
            (
                "tool_call",
                "run_shell_command | ls /nonexistent-tinyvex-dir | exit 2 | failed"
            ),
            ("assistant", "The command printed hello-from-gemini."),
            ("user", "second question"),
            ("assistant", "Second answer: still hello."),
        ])
    );
}
