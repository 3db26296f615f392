//! The other scripted replies against the real codex 0.169: commentary, `update_plan`,
//! `apply_patch`, `--json` output and an API error on a resumed turn.

use serde_json::Value;
use tinyvex_test_support::{codex_exec, MockModel, PlanStatus, Reply};

fn last_input_items(request: &Value, n: usize) -> Vec<Value> {
    let input = request["input"].as_array().unwrap();
    input[input.len().saturating_sub(n)..].to_vec()
}

#[test]
fn codex_plan_patch_and_api_error() {
    let mock = MockModel::start(vec![
        vec![
            Reply::commentary("Planning first."),
            Reply::plan([
                ("Write note", PlanStatus::InProgress),
                ("Report", PlanStatus::Pending),
            ]),
        ],
        vec![Reply::apply_patch(
            "*** Begin Patch\n*** Add File: notes/hello.txt\n+Hello.\n*** End Patch\n",
        )],
        vec![Reply::text("Done.")],
        vec![Reply::api_error(400, "mock says: bad request")],
    ]);
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();

    let run = codex_exec(
        home.path(),
        &mock,
        work.path(),
        &["--json", "plan and patch"],
    )
    .assert_success();
    assert!(
        run.stdout.contains(r#""type":"todo_list""#),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("notes/hello.txt")).unwrap(),
        "Hello.\n"
    );
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    let plan_output = &last_input_items(&requests[1], 1)[0];
    assert_eq!(plan_output["call_id"], "call_1_1");
    assert_eq!(plan_output["output"], "Plan updated");
    let patch_output = &last_input_items(&requests[2], 1)[0];
    assert_eq!(patch_output["type"], "custom_tool_call_output");
    assert!(patch_output["output"]
        .as_str()
        .unwrap()
        .contains("A notes/hello.txt"));

    let thread_id = run.thread_id().expect("thread.started in --json output");
    let failed = codex_exec(
        home.path(),
        &mock,
        work.path(),
        &["resume", &thread_id, "now fail"],
    );
    assert!(!failed.success() && !failed.timed_out);
    assert!(
        failed.stderr.contains("mock says: bad request"),
        "{}",
        failed.stderr
    );
    assert_eq!(mock.requests().len(), 4, "no retries");

    let rollout = std::fs::read_to_string(&run.rollout_files()[0]).unwrap();
    let last: Value = serde_json::from_str(rollout.lines().last().unwrap()).unwrap();
    assert_eq!(last["payload"]["type"], "task_complete");
    assert!(last["payload"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("mock says"));
}
