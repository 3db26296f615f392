//! Continuous two-way in a running server: a Claude Code transcript that
//! grows is mirrored into `$CODEX_HOME/sessions/tinyvex/`, and the watcher
//! does not read the mirror back as a Codex thread.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tinyvex_export::mirror::mirror_dir;
use tinyvex_export::{export, read_marker, ExportKind, ExportOptions, Target};
use tinyvex_store::{ItemQuery, Store};

use crate::util::*;

const CLAUDE_SESSION: &str = "5ee6c91e-ba62-4bd1-8c46-b51d92651ce3";
const CLAUDE_THREAD: &str = "claude-5ee6c91e-ba62-4bd1-8c46-b51d92651ce3";

/// Long enough for anything that should take a second; hitting it fails.
const LONG: Duration = Duration::from_secs(30);

fn claude_file(t: &TestServer) -> PathBuf {
    t.dir
        .path()
        .join("home/.claude/projects/-w")
        .join(format!("{CLAUDE_SESSION}.jsonl"))
}

fn codex_home(t: &TestServer) -> PathBuf {
    t.dir.path().join("home/.codex")
}

/// Line `n` of the Claude transcript: prompts and answers alternate.
fn claude_line(n: usize) -> String {
    let uuid = format!("00000000-0000-4000-8000-{n:012}");
    let parent = match n {
        0 => Value::Null,
        _ => json!(format!("00000000-0000-4000-8000-{:012}", n - 1)),
    };
    let ts = format!("2026-01-01T00:{:02}:{:02}.000Z", n / 60 % 60, n % 60);
    let common = json!({"parentUuid": parent, "isSidechain": false, "userType": "external",
        "cwd": "/w", "sessionId": CLAUDE_SESSION, "version": "2.1.330", "uuid": uuid, "timestamp": ts});
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
            json!({"id": format!("msg_{n}"), "type": "message", "role": "assistant", "model": "claude-x",
                "content": [{"type": "text", "text": format!("answer {n}")}], "stop_reason": "end_turn"}),
        );
    }
    Value::Object(line).to_string()
}

/// Append lines `from..to`, each in two writes (a half line first, as an
/// agent flushing mid-line does), sleeping `pause` after each line.
fn append_claude(path: &Path, lines: std::ops::Range<usize>, pause: Duration) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for n in lines {
        let line = format!("{}\n", claude_line(n));
        let (a, b) = line.split_at(line.len() / 2);
        f.write_all(a.as_bytes()).unwrap();
        f.flush().unwrap();
        f.write_all(b.as_bytes()).unwrap();
        f.flush().unwrap();
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
}

/// A fresh render of the Claude thread as the mirror writes it, read from
/// the server's store through a second handle.
fn expected(t: &TestServer) -> tinyvex_export::Export {
    let store = Store::open(&t.dir.path().join("data/data.sqlite3")).unwrap();
    let r = store.read().unwrap();
    let thread = r
        .thread_by_id(CLAUDE_THREAD)
        .unwrap()
        .expect("the thread is stored");
    let items = r.items(CLAUDE_THREAD, ItemQuery::All).unwrap();
    let options = ExportOptions {
        utc_offset_minutes: Some(0),
        kind: ExportKind::Mirror,
        ..ExportOptions::default()
    };
    export(&thread, &items, Target::Codex, &options).unwrap()
}

fn mirror_files(t: &TestServer) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(mirror_dir(&codex_home(t)))
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

async fn status(c: &mut Client) -> Value {
    c.call("status", json!({})).await
}

/// Poll `status` until `pred` holds.
async fn wait_status(c: &mut Client, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let s = status(c).await;
        if pred(&s) {
            return s;
        }
        assert!(
            start.elapsed() < LONG,
            "timed out waiting for {what}: {:#}",
            s["mirror"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait until the mirror file holds a fresh render of the thread with
/// `lines` transcript lines, and return its path.
async fn wait_mirrored(t: &TestServer, c: &mut Client, lines: usize) -> PathBuf {
    let start = Instant::now();
    loop {
        let r = c
            .call_raw("items.list", json!({"thread": CLAUDE_THREAD, "tail": 5000}))
            .await;
        let stored = r["result"]["items"].as_array().map_or(0, Vec::len);
        if stored == lines {
            let want = expected(t);
            let path = mirror_dir(&codex_home(t)).join(&want.file_name);
            if std::fs::read(&path).ok().as_deref() == Some(want.contents().as_bytes()) {
                return path;
            }
        }
        assert!(
            start.elapsed() < LONG,
            "no up-to-date mirror of {lines} lines: {stored} items stored, files {:?}",
            mirror_files(t)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The whole-file checks: every line parses, none repeats, and the marker's
/// count and digest describe the rest (a reader never sees a partial file).
fn check_whole(text: &str) {
    assert!(text.ends_with('\n'), "a partial file");
    let (first, rest) = text.split_once('\n').unwrap();
    let marker = read_marker(first).expect("the first line carries the marker");
    assert!(marker.mirror);
    let mut seen = HashSet::new();
    for line in rest.lines() {
        let _: Value = serde_json::from_str(line).expect("every line parses");
        assert!(seen.insert(line.to_string()), "a repeated line");
    }
    assert_eq!(
        rest.lines().count(),
        marker.lines,
        "the marker's line count"
    );
}

/// The prompts and answers of a mirror file, in order.
fn said(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["type"] == "event_msg"
                && matches!(
                    v["payload"]["type"].as_str(),
                    Some("user_message" | "agent_message")
                ))
            .then(|| v["payload"]["message"].as_str().unwrap().to_string())
        })
        .collect()
}

fn transcript_said(lines: usize) -> Vec<String> {
    (0..lines)
        .map(|n| match n % 2 {
            0 => format!("prompt {n}"),
            _ => format!("answer {n}"),
        })
        .collect()
}

async fn codex_threads(c: &mut Client) -> Vec<Value> {
    c.call("threads.list", json!({"provider": "codex", "limit": 100}))
        .await["threads"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_way_is_off_by_default_and_control_switches_it_live() {
    let t = TestServer::start().await;
    append_claude(&claude_file(&t), 0..2, Duration::ZERO);
    let mut c = t.client().await;
    c.wait_for_thread(CLAUDE_THREAD).await;
    // Off by default: no setting, the mirror idle, no folder.
    let s = status(&mut c).await;
    assert_eq!(s["mirror"]["enabled"], false, "{s:#}");
    assert!(s["settings"].get("two_way").is_none());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(mirror_files(&t).is_empty());

    c.call("control.two_way", json!({"enabled": true})).await;
    let path = wait_mirrored(&t, &mut c, 2).await;
    let s = wait_status(&mut c, "the mirror's figures", |s| {
        s["mirror"]["threads"] == 1
    })
    .await;
    assert_eq!(s["mirror"]["enabled"], true);
    assert_eq!(s["mirror"]["files_written"], 1);
    assert_eq!(s["settings"]["two_way"], "true");
    assert_eq!(
        s["mirror"]["dir"],
        mirror_dir(&codex_home(&t)).display().to_string()
    );

    // Off: the file stays, and stops following the transcript.
    c.call("control.two_way", json!({"enabled": false})).await;
    wait_status(&mut c, "off", |s| s["mirror"]["enabled"] == false).await;
    let before = std::fs::read(&path).unwrap();
    append_claude(&claude_file(&t), 2..4, Duration::ZERO);
    let start = Instant::now();
    while c
        .call_raw("items.list", json!({"thread": CLAUDE_THREAD}))
        .await["result"]["items"]
        .as_array()
        .map_or(0, Vec::len)
        < 4
    {
        assert!(start.elapsed() < LONG);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "not written while off"
    );
    // On again: it catches up with what changed meanwhile.
    c.call("control.two_way", json!({"enabled": true})).await;
    wait_mirrored(&t, &mut c, 4).await;
    let mut t = t;
    t.stop().await;
}

/// The acceptance test: with two-way on, hundreds of small appends
/// to one Claude transcript while the watcher ingests them. A reader polling
/// the mirror file meanwhile only ever sees whole files; at the end the file
/// is a fresh render of the final thread, every prompt and answer in order,
/// once. The mirror file never becomes a Codex thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rapid_appends_to_one_thread_give_a_valid_mirror_file() {
    let mut t = TestServer::start().await;
    let file = claude_file(&t);
    append_claude(&file, 0..2, Duration::ZERO);
    let mut c = t.client().await;
    c.call("control.two_way", json!({"enabled": true})).await;
    let path = wait_mirrored(&t, &mut c, 2).await;

    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (stop, path) = (Arc::clone(&stop), path.clone());
        std::thread::spawn(move || {
            let (mut reads, mut sizes) = (0u64, HashSet::new());
            while !stop.load(Ordering::Acquire) {
                let text = std::fs::read_to_string(&path).unwrap();
                check_whole(&text);
                sizes.insert(text.len());
                reads += 1;
                // A reader, not a spinner: the machine may have two cores.
                std::thread::sleep(Duration::from_millis(10));
            }
            (reads, sizes.len())
        })
    };
    const LINES: usize = 400;
    let writer = {
        let file = file.clone();
        std::thread::spawn(move || append_claude(&file, 2..LINES, Duration::from_millis(5)))
    };
    writer.join().unwrap();
    let path_at_end = wait_mirrored(&t, &mut c, LINES).await;
    stop.store(true, Ordering::Release);
    let (reads, versions) = poller.join().unwrap();
    assert_eq!(path_at_end, path, "one file for the thread");
    assert!(versions > 3, "{reads} reads saw only {versions} versions");

    let text = std::fs::read_to_string(&path).unwrap();
    check_whole(&text);
    assert_eq!(said(&text), transcript_said(LINES));
    assert_eq!(mirror_files(&t), std::slice::from_ref(&path));
    // No re-ingestion: the only Codex thread is the session the home had.
    let s = wait_status(&mut c, "a settled mirror", |s| s["mirror"]["pending"] == 0).await;
    let written = s["mirror"]["files_written"].as_u64().unwrap();
    assert!(
        written >= 3 && written < LINES as u64 / 2,
        "debounced: {written} writes for {LINES} appends"
    );
    let threads = codex_threads(&mut c).await;
    assert_eq!(threads.len(), 1, "{threads:#?}");
    assert_eq!(threads[0]["id"], THREAD);
    // The original transcript was only ever appended to by the test.
    let original = std::fs::read_to_string(&file).unwrap();
    assert_eq!(original.lines().count(), LINES);

    // Restart with two-way on: the file is neither rewritten nor doubled.
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    t.stop().await;
    t.restart().await;
    let mut c = t.client().await;
    wait_status(&mut c, "the mirror on after the restart", |s| {
        s["mirror"]["enabled"] == true && s["mirror"]["pending"] == 0
    })
    .await;
    // A rescan reads the whole home again; still no Codex thread from it.
    c.call("control.rescan", json!({})).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
    assert_eq!(mirror_files(&t), std::slice::from_ref(&path));
    assert_eq!(codex_threads(&mut c).await.len(), 1);
    let s = status(&mut c).await;
    assert_eq!(s["mirror"]["files_written"], 0, "{:#}", s["mirror"]);
    t.stop().await;
}

/// Codex resumed the mirror and appended its turn: the mirror never
/// overwrites the file again (a notice in status), and the watcher reads
/// the appended turn as a Codex thread linked to the Claude thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_continued_in_codex_is_left_alone_and_read_as_its_own_thread() {
    let t = TestServer::start().await;
    append_claude(&claude_file(&t), 0..2, Duration::ZERO);
    let mut c = t.client().await;
    c.call("control.two_way", json!({"enabled": true})).await;
    let path = wait_mirrored(&t, &mut c, 2).await;
    let mirrored = std::fs::read_to_string(&path).unwrap();
    let header: Value = serde_json::from_str(mirrored.lines().next().unwrap()).unwrap();
    let session = header["payload"]["id"].as_str().unwrap().to_string();
    let continuation = [
        json!({"timestamp":"2026-01-01T01:00:00.000Z","type":"turn_context","payload":{"cwd":"/w","model":"gpt-5.5"}}),
        json!({"timestamp":"2026-01-01T01:00:00.000Z","type":"event_msg","payload":{"type":"user_message","message":"continued in codex"}}),
        json!({"timestamp":"2026-01-01T01:00:01.000Z","type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"codex answers"}]}}),
    ];
    {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        for line in &continuation {
            writeln!(f, "{line}").unwrap();
        }
    }
    let continued = std::fs::read_to_string(&path).unwrap();
    let codex_thread = format!("codex-{session}");
    c.wait_for_thread(&codex_thread).await;
    // The watcher may have read part of the continuation so far.
    let start = Instant::now();
    let texts = loop {
        let items = c.call("items.list", json!({"thread": codex_thread})).await;
        let texts: Vec<String> = items["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["text"].as_str().map(str::to_string))
            .collect();
        if texts.len() >= 2 || start.elapsed() > LONG {
            break texts;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        texts,
        ["continued in codex", "codex answers"],
        "only the continuation"
    );
    let got = c.call("threads.get", json!({"thread": codex_thread})).await;
    assert_eq!(got["thread"]["parent_session_id"], CLAUDE_SESSION);
    assert_eq!(got["thread"]["title"], "continued in codex");

    // The Claude thread grows: the mirror refuses, says so, and leaves the file.
    append_claude(&claude_file(&t), 2..4, Duration::ZERO);
    let s = wait_status(&mut c, "the refusal", |s| s["mirror"]["continued"] == 1).await;
    let error = s["mirror"]["last_error"].as_str().unwrap();
    assert!(
        error.contains(CLAUDE_THREAD) && error.contains("left alone"),
        "{error}"
    );
    append_claude(&claude_file(&t), 4..6, Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(std::fs::read_to_string(&path).unwrap(), continued);
    let s = status(&mut c).await;
    assert_eq!(s["mirror"]["continued"], 1, "counted once");
    assert_eq!(mirror_files(&t), [path]);
    let mut t = t;
    t.stop().await;
}
