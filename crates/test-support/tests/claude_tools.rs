//! The other scripted replies against the real Claude Code CLI: a `TodoWrite` plan (which
//! 2.1.330 refuses: the tool is disabled in that version), `--output-format json`, and an API
//! error on a resumed turn (not retried: the runner sets `CLAUDE_CODE_MAX_RETRIES=0`).

use tinyvex_test_support::{claude_run, MockModel, PlanStatus, Reply};

#[test]
fn claude_plan_json_output_and_api_error() {
    let mock = MockModel::start(vec![
        vec![
            Reply::commentary("Planning first."),
            Reply::plan([
                ("Write note", PlanStatus::InProgress),
                ("Report", PlanStatus::Pending),
            ]),
        ],
        vec![Reply::text("Done.")],
        vec![Reply::api_error(500, "mock says: internal error")],
    ]);
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();

    let run = claude_run(
        home.path(),
        &mock,
        work.path(),
        &["--output-format", "json", "plan it"],
    )
    .assert_success();
    assert!(run.stdout.trim_start().starts_with('['), "{}", run.stdout);
    assert_eq!(run.result_text().as_deref(), Some("Done."));
    let session_id = run.session_id().expect("session id in the json output");
    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    let answer = requests[1]["messages"].as_array().unwrap().last().unwrap();
    let result = &answer["content"][0];
    assert_eq!(result["tool_use_id"], "toolu_1_1");
    assert_eq!(
        result["is_error"], true,
        "TodoWrite is disabled in 2.1.330: {result}"
    );

    let second = claude_run(
        home.path(),
        &mock,
        work.path(),
        &["--resume", &session_id, "again"],
    );
    assert!(!second.success(), "an API error fails `claude -p`");
    assert!(
        second.stdout.contains("mock says: internal error"),
        "{}",
        second.stdout
    );
    assert_eq!(mock.requests().len(), 3, "the error is not retried");
    assert_eq!(mock.overrun(), 0);
    let text = std::fs::read_to_string(second.session_file().unwrap()).unwrap();
    assert!(text.contains(r#""name":"TodoWrite""#) && text.contains("isApiErrorMessage"));
}
