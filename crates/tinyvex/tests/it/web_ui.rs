//! The web UI (`crates/server/web/`), tested in Node against this binary:
//! unit tests of its pure modules, then end-to-end and performance tests in
//! headless Chromium driving a real `tinyvex serve` (`docs/web-ui.md`).
//! Installs what they need first: playwright-core (pinned in package.json)
//! and Debian's chromium. A failed install fails the test, never skips it.
//! Screenshots: `target/web-artifacts/` (or `$TINYVEX_WEB_ARTIFACTS`).

use std::process::Command;
use std::time::Duration;

use crate::util::*;

/// Generous: the three files take about 40 s on a 2-core machine.
const TIMEOUT: Duration = Duration::from_secs(600);

#[test]
fn web_ui_unit_e2e_and_perf_tests_in_headless_chromium() {
    tinyvex_test_support::ensure_agents_installed();
    tinyvex_test_support::ensure_browser_installed();
    let root = repo_root();
    let artifacts = std::env::var_os("TINYVEX_WEB_ARTIFACTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("web-artifacts"));
    // Chromium and Node keep caches under HOME: a throwaway one.
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("node");
    cmd.args([
        "--test",
        "--test-reporter=spec",
        "--test-concurrency=1",
        "unit.test.mjs",
        "e2e.test.mjs",
        "perf.test.mjs",
    ])
    .current_dir(root.join("crates/server/web/tests"))
    .env("TINYVEX_BIN", env!("CARGO_BIN_EXE_tinyvex"))
    .env("TINYVEX_WEB_ARTIFACTS", &artifacts)
    .env("HOME", home.path());
    if let Some(chromium) = std::env::var_os("TINYVEX_CHROMIUM") {
        cmd.env("TINYVEX_CHROMIUM", chromium);
    }
    match fixtures_dir() {
        Some(dir) => {
            cmd.env("TINYVEX_FIXTURES", dir);
        }
        None => eprintln!(
            "SKIPPED (part of) web_ui: ../shared/fixtures not found; the browser tests run on \
             their own sessions only"
        ),
    }
    let run = tinyvex_test_support::run_with_timeout(cmd, TIMEOUT, "node --test (web UI)");
    run.assert_success();
    let stdout = &run.stdout;
    // The runner's summary must show tests that ran and passed, not an empty run.
    let passed = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("ℹ pass "))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(0);
    assert!(passed >= 20, "only {passed} web UI tests passed:\n{stdout}");
    println!("{stdout}");
    println!("screenshots: {}", artifacts.display());
}
