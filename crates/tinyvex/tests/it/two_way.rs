//! `tinyvex two-way` and the mirror of a running `tinyvex serve`, end to
//! end: the CLI switch reaches the server, the mirror is not read back as a
//! Codex thread, and the real, pinned Codex resumes a Claude Code thread
//! from its mirror.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tinyvex_test_support::{
    claude_run, codex_exec, codex_home, ensure_agents_installed, write_codex_config, MockModel,
    Reply,
};

use crate::live_agents::{call, connect, Serve};
use crate::real_agents::tinyvex;

/// Bound for what should take a second; hitting it fails the test.
const LONG: Duration = Duration::from_secs(30);

fn db(home: &Path) -> PathBuf {
    home.join("tinyvex/data.sqlite3")
}

fn mirror_files(home: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(home.join(".codex/sessions/tinyvex"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    // Not the temporary file of a write in progress (`.rollout-….tmp`).
    files.retain(|p| {
        let name = p.file_name().unwrap().to_string_lossy();
        name.starts_with("rollout-") && name.ends_with(".jsonl")
    });
    files.sort();
    files
}

/// A small Claude Code transcript with `n` prompt/answer lines in `/w`.
fn write_claude(home: &Path, session: &str, lines: std::ops::Range<usize>) {
    use std::io::Write;
    let dir = home.join(".claude/projects/-w");
    std::fs::create_dir_all(&dir).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{session}.jsonl")))
        .unwrap();
    for n in lines {
        let common = json!({"parentUuid": null, "isSidechain": false, "userType": "external",
            "cwd": "/w", "sessionId": session, "version": "2.1.330",
            "uuid": format!("00000000-0000-4000-8000-{n:012}"),
            "timestamp": format!("2026-01-01T00:00:{:02}.000Z", n % 60)});
        let mut line = common.as_object().unwrap().clone();
        if n.is_multiple_of(2) {
            line.insert("type".into(), json!("user"));
            line.insert(
                "message".into(),
                json!({"role": "user", "content": format!("prompt {n}")}),
            );
        } else {
            line.insert("type".into(), json!("assistant"));
            line.insert(
                "message".into(),
                json!({"id": format!("msg_{n}"), "role": "assistant",
                "model": "claude-x", "content": [{"type": "text", "text": format!("answer {n}")}]}),
            );
        }
        writeln!(f, "{}", Value::Object(line)).unwrap();
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < LONG, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

/// The human output of a command (stdout).
fn human(home: &Path, db: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tinyvex"))
        .env_clear()
        .env("HOME", home)
        .env("CODEX_HOME", home.join(".codex"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn two_way_is_off_by_default_and_the_cli_switches_it() {
    let home = tempfile::tempdir().unwrap();
    let (h, db) = (home.path(), db(home.path()));
    let status = tinyvex(h, &db, &["two-way", "status", "--json"]);
    assert_eq!(status["enabled"], false, "{status:#}");
    assert_eq!(status["cursor"], Value::Null);
    assert_eq!(status["files"], 0);
    assert_eq!(
        status["dir"],
        h.join(".codex/sessions/tinyvex").display().to_string()
    );
    assert!(status.get("changed").is_none());

    assert!(human(h, &db, &["status"]).contains("two-way: off"));

    let on = tinyvex(h, &db, &["two-way", "on", "--json"]);
    assert!(human(h, &db, &["status"]).contains("two-way: on"));
    assert!(human(h, &db, &["two-way", "status"]).starts_with("two-way: on\n"));
    assert_eq!(
        (&on["enabled"], &on["changed"]),
        (&json!(true), &json!(true))
    );
    let again = tinyvex(h, &db, &["two-way", "on", "--json"]);
    assert_eq!(again["changed"], false);
    assert_eq!(again["revision"], on["revision"], "nothing committed");
    assert_eq!(
        tinyvex(h, &db, &["two-way", "status", "--json"])["enabled"],
        true
    );
    let off = tinyvex(h, &db, &["two-way", "off", "--json"]);
    assert_eq!(
        (&off["enabled"], &off["changed"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(
        tinyvex(h, &db, &["two-way", "status", "--json"])["enabled"],
        false
    );
    // Nothing but the store was written: without a server, nothing mirrors.
    assert!(mirror_files(h).is_empty());
}

/// `tinyvex two-way on` in its own process, next to a running server: the
/// server's mirror starts within about a second, and stops again on `off`.
/// Reading the Codex folder again (the server's watcher, and a `tinyvex
/// ingest` into another store) makes no thread of the mirror file.
#[test]
fn the_cli_switch_reaches_a_running_server() {
    let home = tempfile::tempdir().unwrap();
    let (h, db) = (home.path(), db(home.path()));
    let session = "7d2f9b1e-0c4a-4e57-9a31-5b8e2f6d1c40";
    write_claude(h, session, 0..2);
    let serve = Serve::start(h);
    wait_until("the first pass", || {
        tinyvex(h, &db, &["threads", "--json"])
            .as_array()
            .unwrap()
            .len()
            == 1
    });
    assert!(mirror_files(h).is_empty(), "off by default");

    tinyvex(h, &db, &["two-way", "on", "--json"]);
    let took = wait_until("the mirror file", || mirror_files(h).len() == 1);
    assert!(
        took < Duration::from_secs(3),
        "the server noticed after {took:?}"
    );
    let path = mirror_files(h).remove(0);
    let first = std::fs::read_to_string(&path).unwrap();
    assert!(first.contains("answer 1"));

    // It follows the transcript while on.
    write_claude(h, session, 2..4);
    wait_until("the mirror to follow", || {
        std::fs::read_to_string(&path).unwrap().contains("answer 3")
    });

    // The watcher did not read the mirror back; neither does an ingest of
    // the same home into another store.
    assert!(
        tinyvex(h, &db, &["threads", "--provider", "codex", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    let other = h.join("other.sqlite3");
    let summary = tinyvex(h, &other, &["ingest", "--json"]);
    assert_eq!(summary["errors"], 0, "{summary:#}");
    assert!(
        tinyvex(h, &other, &["threads", "--provider", "codex", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        tinyvex(h, &other, &["threads", "--provider", "claude", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    tinyvex(h, &db, &["two-way", "off", "--json"]);
    // Give the server its second to notice, then grow the transcript.
    std::thread::sleep(Duration::from_millis(1500));
    let before = std::fs::read_to_string(&path).unwrap();
    write_claude(h, session, 4..6);
    wait_until("the new lines to be stored", || {
        tinyvex(h, &db, &["threads", "--json"])[0]["item_count"] == 6
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        before,
        "off: left as it was"
    );
    let status = tinyvex(h, &db, &["two-way", "status", "--json"]);
    assert_eq!(status["files"], 1);
    drop(serve);
}

/// The real thing: a Claude Code session (the pinned `claude` against the
/// mock model) is mirrored by a running server with two-way on, and the
/// pinned `codex exec resume <id>` continues it from the mirror under
/// `sessions/tinyvex/`: the request the mock receives holds the Claude
/// turns. What Codex appended comes back as a Codex thread linked to the
/// Claude one, and the mirror leaves that file alone from then on.
#[test]
fn codex_resumes_a_claude_thread_from_its_mirror() {
    ensure_agents_installed();
    let mock = MockModel::start(vec![
        vec![Reply::shell("echo hello-from-claude")],
        vec![Reply::text("The command printed hello-from-claude.")],
        vec![Reply::text("Codex here: I see the Claude turns.")],
        vec![Reply::text("Claude again.")],
    ]);
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (h, db) = (home.path(), db(home.path()));
    // Codex's config names the provider (`mock`), which the mirror records.
    write_codex_config(&codex_home(h), &mock);
    let claude = claude_run(h, &mock, work.path(), &["run the greeting command"]).assert_success();
    let claude_session = claude.session_id().expect("claude's session id");
    tinyvex(h, &db, &["two-way", "on", "--json"]);
    let serve = Serve::start(h);
    wait_until("the mirror file", || mirror_files(h).len() == 1);
    let path = mirror_files(h).remove(0);
    let header: Value = serde_json::from_str(
        std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let session = header["payload"]["id"].as_str().unwrap().to_string();
    assert_eq!(header["payload"]["model_provider"], "mock");
    assert_eq!(header["payload"]["tinyvex_export"]["mirror"], true);

    let resumed = codex_exec(
        h,
        &mock,
        work.path(),
        &["resume", &session, "next question"],
    )
    .assert_success();
    assert!(
        resumed.stdout.contains("Codex here"),
        "{}\n{}",
        resumed.stdout,
        resumed.stderr
    );
    let request = mock.requests().last().cloned().unwrap();
    let input = request["input"].as_array().cloned().unwrap_or_default();
    let texts: Vec<String> = input.iter().map(|i| i.to_string()).collect();
    let at = |needle: &str| {
        texts
            .iter()
            .position(|t| t.contains(needle))
            .unwrap_or_else(|| panic!("{needle} is not in the request:\n{request:#}"))
    };
    assert!(
        at("run the greeting command") < at("echo hello-from-claude")
            && at("echo hello-from-claude") < at("The command printed hello-from-claude.")
            && at("The command printed hello-from-claude.") < at("next question"),
        "{request:#}"
    );
    // Codex appended to the mirror itself (no second file).
    assert_eq!(mirror_files(h), std::slice::from_ref(&path));
    let continued = std::fs::read_to_string(&path).unwrap();
    assert!(continued.contains("Codex here"));

    // The server reads the continuation as a Codex thread of its own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut ws = connect(&serve).await;
        let mut aside = Vec::new();
        let thread = format!("codex-{session}");
        let start = Instant::now();
        let got = loop {
            let r = call(
                &mut ws,
                1,
                "threads.list",
                json!({"provider": "codex"}),
                &mut aside,
            )
            .await;
            // Until the watcher has read Codex's prompt (the title).
            if let Some(t) = r["threads"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["id"] == thread.as_str() && !t["title"].is_null())
            {
                break t.clone();
            }
            assert!(
                start.elapsed() < LONG,
                "no Codex thread from the continuation: {r:#}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(got["parent_session_id"], claude_session.as_str());
        assert_eq!(got["title"], "next question");

        // The Claude session goes on: the mirror refuses the continued file.
        claude_run(
            h,
            &mock,
            work.path(),
            &["--resume", &claude_session, "and again"],
        )
        .assert_success();
        let start = Instant::now();
        loop {
            let s = call(&mut ws, 2, "status", json!({}), &mut aside).await;
            if s["mirror"]["continued"] == 1 {
                break;
            }
            assert!(start.elapsed() < LONG, "no refusal: {:#}", s["mirror"]);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        continued,
        "left alone"
    );
    drop(serve);
}

/// The contract the mirror relies on to never replace a file under a
/// running Codex (`tinyvex_export::mirror`, `lock.rs`): the pinned Codex
/// holds an exclusive lock on `$CODEX_HOME/thread-writer-locks/<id>.lock`
/// while it writes a session, removes it afterwards, and refuses to resume
/// a session whose lock another process holds.
#[test]
fn codex_holds_the_writer_lock_that_the_mirror_takes() {
    ensure_agents_installed();
    let mock = std::sync::Arc::new(MockModel::start(vec![
        vec![Reply::text("First answer.")],
        vec![Reply::text("Late answer.")],
    ]));
    // Codex waits for this answer (so holds its lock) until the probe is done.
    let held = mock.hold_answer(2, Duration::from_secs(60));
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let h = home.path().to_path_buf();
    let first = codex_exec(&h, &mock, work.path(), &["say hello"]).assert_success();
    let session = first.thread_id().expect("codex's session id");
    let lock = h.join(format!(".codex/thread-writer-locks/{session}.lock"));
    assert!(!lock.exists(), "no lock once codex is done");
    let resumed = {
        let (h, w, s, mock) = (
            h.clone(),
            work.path().to_path_buf(),
            session.clone(),
            std::sync::Arc::clone(&mock),
        );
        std::thread::spawn(move || codex_exec(&h, &mock, &w, &["resume", &s, "next question"]))
    };
    wait_until("codex's writer lock", || lock.exists());
    std::thread::sleep(Duration::from_millis(500));
    let probe = std::fs::File::options().write(true).open(&lock).unwrap();
    assert!(
        matches!(probe.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
        "codex does not hold its writer lock while it waits for the model"
    );
    drop(probe);
    held.open();
    resumed.join().unwrap().assert_success();
    assert!(!lock.exists(), "codex removes its lock when done");

    // Held by someone else (the mirror, during a write): codex will not resume.
    let ours = std::fs::File::options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .unwrap();
    ours.lock().unwrap();
    let refused = codex_exec(
        &h,
        &mock,
        work.path(),
        &["resume", &session, "third question"],
    );
    assert!(!refused.success());
    assert!(
        refused.stderr.contains("active writer"),
        "{}",
        refused.stderr
    );
}
