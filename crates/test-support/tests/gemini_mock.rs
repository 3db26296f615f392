//! Self-test: the real Gemini CLI (`gemini -p`) against the scripted mock model (Gemini API via
//! `GOOGLE_GEMINI_BASE_URL`) runs a scripted shell call, writes its chat file and resumes it.

use tinyvex_test_support::{gemini_run, MockModel, Reply};

#[test]
fn gemini_prompt_tool_call_and_resume_against_mock_model() {
    let mock = MockModel::start(vec![
        vec![
            Reply::reasoning("**Greeting** I should run the greeting command."),
            Reply::shell("echo hello-from-gemini"),
        ],
        vec![Reply::text("The command printed hello-from-gemini.")],
        vec![Reply::text("Second answer: still hello.")],
    ]);
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();

    let first = gemini_run(
        home.path(),
        &mock,
        work.path(),
        &["-p", "run the greeting command"],
    )
    .assert_success();
    eprintln!("turn 1: {:?}", first.elapsed);
    let session_id = first.session_id().expect("session_id in the init event");
    assert_eq!(first.text(), "The command printed hello-from-gemini.");
    let requests = mock.requests();
    assert_eq!(requests.len(), 2, "turn 1 makes two scripted requests");
    let declared = requests[0]["tools"].to_string();
    assert!(declared.contains("run_shell_command"), "tools: {declared}");
    let contents = requests[1]["contents"].to_string();
    assert!(
        contents.contains(r#""functionResponse""#) && contents.contains("hello-from-gemini"),
        "second request carries the shell output: {contents}"
    );

    let file = first.session_file().expect("chat file written");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&session_id) && text.contains(r#""thoughts""#));

    let second = gemini_run(
        home.path(),
        &mock,
        work.path(),
        &["--resume", &session_id, "-p", "second question"],
    )
    .assert_success();
    eprintln!("turn 2: {:?}", second.elapsed);
    assert_eq!(second.session_id().as_deref(), Some(session_id.as_str()));
    assert_eq!(second.text(), "Second answer: still hello.");
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    let history = requests[2]["contents"].to_string();
    assert!(
        history.contains("run the greeting command")
            && history.contains("hello-from-gemini")
            && history.contains("second question"),
        "resumed request carries the earlier turns: {history}"
    );
    assert_eq!(mock.overrun(), 0);
    let file = second.session_file().expect("chat file after resume");
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("Second answer: still hello."));
    std::fs::copy(&file, "/tmp/gemini-scenario-sample.jsonl").unwrap();
}
