//! Acceptance: every Codex file in `../shared/fixtures/codex` ingests, and its
//! thread shows exactly the user prompts, assistant texts, reasoning, tool
//! calls (command, output, exit code), errors and usage that the raw file
//! holds, as computed by `expected.rs` from the bytes, not by the parser.

use std::fs;

use crate::check::check_single_thread_store;
use crate::expected::expected;
use crate::util::{codex_fixture_names, num, Env};

/// One test per fixture file. The name is `codex_fixture_` + the file name
/// with every non-alphanumeric character replaced by `_` (checked below).
macro_rules! fixture_tests {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                run_fixture(stringify!($name), $file);
            }
        )*
        /// (test name, fixture file) of every test above.
        const FIXTURE_TESTS: &[(&str, &str)] = &[$((stringify!($name), $file)),*];
    };
}

fixture_tests! {
    codex_fixture_rollout_0_135_0_exec_redacted_jsonl
        => "rollout-0.135.0-exec-redacted.jsonl",
    codex_fixture_rollout_2025_09_24t19_22_20_01997e76_d124_7592_9cac_2ec05abbca08_jsonl
        => "rollout-2025-09-24T19-22-20-01997e76-d124-7592-9cac-2ec05abbca08.jsonl",
    codex_fixture_rollout_2025_09_25t08_02_05_0199812e_64f0_7f73_91fc_095dda01c36e_jsonl
        => "rollout-2025-09-25T08-02-05-0199812e-64f0-7f73-91fc-095dda01c36e.jsonl",
    codex_fixture_rollout_2025_09_25t15_12_14_019982b8_3422_79e0_8b3b_05abaf4f3c3e_jsonl
        => "rollout-2025-09-25T15-12-14-019982b8-3422-79e0-8b3b-05abaf4f3c3e.jsonl",
    codex_fixture_rollout_2026_02_23t12_40_23_019c8a4c_ed82_79a1_aa28_7738fc5ab61a_jsonl
        => "rollout-2026-02-23T12-40-23-019c8a4c-ed82-79a1-aa28-7738fc5ab61a.jsonl",
    codex_fixture_rollout_2026_02_23t12_41_04_019c8a4d_8f45_7010_8b5d_7fad920aa6f9_jsonl
        => "rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl",
    codex_fixture_rollout_2026_02_23t12_54_34_019c8a59_e9dd_71f0_9ae3_4079fe9726a9_jsonl
        => "rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl",
    codex_fixture_rollout_2026_02_23t13_19_38_019c8a70_dda7_7f33_98ea_f30553347322_jsonl
        => "rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl",
    codex_fixture_rollout_2026_11_21t22_35_30_01a20040_17cf_78f2_80e0_f2cc1b712842_jsonl
        => "rollout-2026-11-21T22-35-30-01a20040-17cf-78f2-80e0-f2cc1b712842.jsonl",
    codex_fixture_rollout_2026_11_21t22_35_54_3e07b835_e400_4771_a4a9_12db1c523ff2_jsonl
        => "rollout-2026-11-21T22-35-54-3e07b835-e400-4771-a4a9-12db1c523ff2.jsonl",
}

/// The test name for a fixture file.
fn test_name_for(file: &str) -> String {
    let sanitized: String = file
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("codex_fixture_{sanitized}")
}

/// Rollout file name to store a fixture under: its own name when it already
/// is `rollout-*.jsonl`, else `rollout-<name>`.
pub fn rollout_name(file: &str) -> String {
    if file.starts_with("rollout-") && file.ends_with(".jsonl") {
        file.to_string()
    } else {
        format!("rollout-{file}")
    }
}

fn run_fixture(test: &str, file: &str) {
    let fixtures = require_fixtures!(test);
    let path = fixtures.join("codex").join(file);
    let bytes =
        fs::read(&path).unwrap_or_else(|e| panic!("fixture {} is missing: {e}", path.display()));
    let name = rollout_name(file);
    let exp = expected(&bytes, &name);
    assert_eq!(
        exp.invalid_lines, 0,
        "fixture {file} has lines that are not JSON objects"
    );
    assert!(
        !exp.items.is_empty(),
        "the independent reading found no items in {file}: the test itself is broken"
    );

    let env = Env::new();
    env.put_rollout(&name, &bytes);
    let summary = env.ingest();
    if let Some(errors) = num(&summary, &["errors"]) {
        assert_eq!(errors, 0, "ingest of {file} reported errors: {summary:#}");
    }
    let status = env.codex_status();
    eqnice!(
        (Some(1), Some(1), Some(0)),
        (
            num(&status, &["files"]),
            num(&status, &["threads"]),
            num(&status, &["errors"])
        ),
        "status --json (files, threads, errors) after ingesting {file}: {status:#}"
    );

    check_single_thread_store(&env, test, &exp);

    let items_in_status = num(&status, &["items"]);
    let shown = env.threads()[0]["item_count"].as_u64();
    assert_eq!(
        items_in_status, shown,
        "status items vs the thread's item_count for {file}"
    );
}

/// Adding a fixture without adding its test must fail.
#[test]
fn every_codex_fixture_has_a_test() {
    let fixtures = require_fixtures!("every_codex_fixture_has_a_test");
    let on_disk = codex_fixture_names(&fixtures);
    assert!(
        !on_disk.is_empty(),
        "no fixtures in {}/codex",
        fixtures.display()
    );
    let mut problems = Vec::new();
    for file in &on_disk {
        if !FIXTURE_TESTS.iter().any(|(_, f)| f == file) {
            problems.push(format!(
                "fixture {file} has no test: add `{} => \"{file}\",` to fixture_tests! in tests/it/codex_fixtures.rs",
                test_name_for(file)
            ));
        }
    }
    for (name, file) in FIXTURE_TESTS {
        if !on_disk.iter().any(|f| f == file) {
            problems.push(format!(
                "test {name} names {file}, which is not in the fixtures"
            ));
        }
        if *name != test_name_for(file) {
            problems.push(format!(
                "test {name} should be named {} after its file",
                test_name_for(file)
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}
