//! `kill -9` in the middle of an ingest loses nothing and duplicates nothing:
//! after a final, complete ingest the store shows exactly what one clean run
//! into a fresh store shows (revision fields aside).
//!
//! The corpus is every Codex fixture copied many times, each copy its own
//! session (new uuid in the name and in the content). Size: about
//! `TINYVEX_CRASH_MB` MB (default 100; the debug binary ingests ~25 MB/s
//! here, and the comparison runs `show` twice per thread).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::corpus::{fake_uuid, load_codex_fixtures, write_copy};
use crate::util::{codex_entry, first_text_difference, num, str_field, Env};

/// `bytes` without any `"revision": <number>` member (text level, so huge
/// outputs need not be parsed). Inside JSON strings a quote is always
/// escaped, so the pattern cannot match string content.
fn strip_revisions(bytes: &[u8]) -> Vec<u8> {
    let pat = b"\"revision\"";
    let mut out = Vec::with_capacity(bytes.len());
    let mut copied = 0;
    for at in memchr::memmem::find_iter(bytes, pat) {
        if at < copied {
            continue;
        }
        let mut j = at + pat.len();
        let skip_ws = |mut j: usize| {
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            j
        };
        j = skip_ws(j);
        if bytes.get(j) != Some(&b':') {
            continue;
        }
        j = skip_ws(j + 1);
        let digits = j;
        while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'-') {
            j += 1;
        }
        if j > digits {
            out.extend_from_slice(&bytes[copied..at]);
            copied = j;
        }
    }
    out.extend_from_slice(&bytes[copied..]);
    out
}

#[test]
fn strip_revisions_removes_only_revision_members() {
    let text =
        br#"{"id":"a","revision":12,"text":"say \"revision\": 3","items":[{"revision": 4}]}"#;
    let want = br#"{"id":"a",,"text":"say \"revision\": 3","items":[{}]}"#;
    assert_eq!(
        String::from_utf8(strip_revisions(text)).unwrap(),
        String::from_utf8(want.to_vec()).unwrap()
    );
}

fn stdout(env: &Env, db: &Path, args: &[&str]) -> Vec<u8> {
    env.run_with_db(db, args).stdout
}

/// Status figures that must match: files, threads, items, errors.
fn figures(env: &Env, db: &Path) -> [Option<u64>; 4] {
    let st: Value = serde_json::from_slice(&stdout(env, db, &["status", "--json"])).unwrap();
    let c = codex_entry(&st).unwrap_or(Value::Null);
    [
        num(&c, &["files"]),
        num(&c, &["threads"]),
        num(&c, &["items"]),
        num(&c, &["errors"]),
    ]
}

/// `show <id> --json` in both stores for every id; the first few differences.
fn compare_shows(env: &Env, a: &Path, b: &Path, ids: &[String]) -> Vec<String> {
    let workers = 4;
    let chunk = ids.len().div_ceil(workers).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = ids
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut differing = Vec::new();
                    for id in part {
                        let x = strip_revisions(&stdout(env, a, &["show", id, "--json"]));
                        let y = strip_revisions(&stdout(env, b, &["show", id, "--json"]));
                        if x != y && differing.len() < 3 {
                            let pretty = |bytes: &[u8]| {
                                let v: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
                                serde_json::to_string_pretty(&v).unwrap()
                            };
                            differing.push(format!(
                                "show {id}:\n{}",
                                first_text_difference(&pretty(&x), &pretty(&y))
                            ));
                        }
                    }
                    differing
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

#[test]
fn kill_9_during_ingest_then_resume_equals_a_clean_run() {
    let fixtures = require_fixtures!("kill_9_during_ingest_then_resume_equals_a_clean_run");
    let started = Instant::now();
    let all = load_codex_fixtures(&fixtures);
    let per_copy: usize = all.iter().map(|f| f.bytes.len()).sum();
    let target_mb: usize = std::env::var("TINYVEX_CRASH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let copies = (target_mb * 1_000_000).div_ceil(per_copy).max(1);

    let env = Env::new();
    for k in 0..copies {
        let dir = env.day_dir(1 + (k % 28) as u32);
        for (i, fx) in all.iter().enumerate() {
            write_copy(fx, &fake_uuid(k as u64, i as u64), &dir);
        }
    }
    let threads_expected = copies * all.len();
    let mb = (copies * per_copy) as f64 / 1e6;
    eprintln!(
        "[{:?}] crash corpus: {copies} copies of {} fixtures, {mb:.0} MB",
        started.elapsed(),
        all.len()
    );

    // Reference: one clean, uninterrupted run into a fresh store.
    let clean_db = env.tmp.path().join("clean.sqlite3");
    env.ingest_into(&clean_db);
    eprintln!("[{:?}] clean ingest done", started.elapsed());

    // Interrupted runs, each killed with SIGKILL after a delay.
    let crash_db = env.tmp.path().join("crashed.sqlite3");
    let mut kills_mid_run = 0;
    for delay_ms in [300u64, 150, 500, 250, 800, 60] {
        let mut child = env
            .command_with_db(&crash_db, &["ingest", "--json"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL on Unix
            kills_mid_run += 1;
        }
        let status = child.wait().unwrap();
        // The store opens and answers after every kill.
        let [_, threads, items, _] = figures(&env, &crash_db);
        eprintln!("  killed after {delay_ms} ms ({status}): store has {threads:?} threads, {items:?} items");
    }
    assert!(
        kills_mid_run > 0,
        "every ingest finished before its kill: make the corpus bigger (TINYVEX_CRASH_MB)"
    );

    // Resume to completion; a further pass has nothing left to add.
    env.ingest_into(&crash_db);
    let again = env.ingest_into(&crash_db);
    if let Some(added) = num(&again, &["items_added"]) {
        assert_eq!(
            added, 0,
            "an ingest after the resumed one still added items: {again:#}"
        );
    }
    eprintln!("[{:?}] resumed ingest done", started.elapsed());

    assert_eq!(
        figures(&env, &clean_db),
        figures(&env, &crash_db),
        "status (files, threads, items, errors): clean vs resumed"
    );
    let clean_threads = env.threads_in(&clean_db);
    assert_eq!(
        clean_threads.len(),
        threads_expected,
        "clean run: one thread per copy of each fixture"
    );
    let listing = |db| {
        strip_revisions(&stdout(
            &env,
            db,
            &["threads", "--json", "--limit", "1000000"],
        ))
    };
    let (a, b) = (listing(&clean_db), listing(&crash_db));
    assert!(
        a == b,
        "threads --json differs between the clean and the killed-and-resumed store:\n{}",
        first_text_difference(&String::from_utf8_lossy(&a), &String::from_utf8_lossy(&b))
    );

    let ids: Vec<String> = clean_threads
        .iter()
        .map(|t| str_field(t, "id").unwrap().to_string())
        .collect();
    let differing = compare_shows(&env, &clean_db, &crash_db, &ids);
    eprintln!("[{:?}] compared {} threads", started.elapsed(), ids.len());
    assert!(
        differing.is_empty(),
        "\nkilled-and-resumed store differs from the clean one:\n\n{}",
        differing.join("\n\n")
    );
}
