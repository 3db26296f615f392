//! Bad input never stops an ingest: it is counted and reported by `status`,
//! and everything valid around it is read.
//!
//! Planted next to a valid fixture: garbage lines between valid ones, a line
//! of invalid UTF-8, an empty rollout, a dangling symbolic link named
//! `rollout-….jsonl` (unreadable), a directory named like a rollout, and, when
//! not running as root, a `chmod 000` rollout. (As root, as in CI containers,
//! `chmod 000` does not stop reads, so the dangling link is the unreadable
//! file there.) Then the link's target appears and the empty file gets
//! content: their errors must clear and their sessions arrive.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};

use serde_json::Value;

use crate::check::check_thread;
use crate::corpus::{fake_uuid, load_codex_fixtures, session_id_of, with_session_id, Fixture};
use crate::expected::expected;
use crate::rules::complete_lines;
use crate::util::{num, running_as_root, str_field, Env, Mismatches};

fn by_name<'a>(all: &'a [Fixture], prefix: &str) -> &'a Fixture {
    all.iter()
        .find(|f| f.file.starts_with(prefix))
        .unwrap_or_else(|| panic!("no fixture {prefix}*"))
}

/// Lines of `bytes` with `bad` inserted after every `every`-th line (never before the first).
fn interleave(bytes: &[u8], bad: &[&[u8]], every: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut inserted = 0;
    for (n, (_, line)) in complete_lines(bytes).into_iter().enumerate() {
        out.extend_from_slice(line);
        out.push(b'\n');
        if n % every == 0 {
            let b = bad[inserted % bad.len()];
            out.extend_from_slice(b);
            out.push(b'\n');
            inserted += 1;
        }
    }
    (out, inserted)
}

fn renamed(fx: &Fixture, n: u64) -> (String, Vec<u8>) {
    let uuid = fake_uuid(0xbad, n);
    let old = session_id_of(&fx.bytes, &fx.name);
    (
        format!("rollout-2026-01-01T00-00-00-{uuid}.jsonl"),
        with_session_id(&fx.bytes, &old, &uuid),
    )
}

#[test]
fn bad_files_and_lines_are_counted_and_skipped() {
    let fixtures = require_fixtures!("bad_files_and_lines_are_counted_and_skipped");
    let all = load_codex_fixtures(&fixtures);
    let env = Env::new();
    let day = env.day_dir(1);

    // 1. A valid fixture, untouched.
    let valid = by_name(&all, "rollout-0.135.0");
    env.put_rollout(&valid.name, &valid.bytes);

    // 2. Garbage lines between the valid lines of another session.
    let (garbage_name, base) = renamed(by_name(&all, "rollout-2026-11-21T22-35-30"), 1);
    let garbage: &[&[u8]] = &[
        b"not json at all",
        b"{\"unterminated\": ",
        b"[1, 2, 3]",
        b"42",
        b"",
        b"   ",
        b"\"a string\"",
        b"{]",
    ];
    let (garbage_bytes, garbage_lines) = interleave(&base, garbage, 4);
    env.put_rollout(&garbage_name, &garbage_bytes);

    // 3. One line of invalid UTF-8 in the middle of a legacy file.
    let (utf8_name, base) = renamed(by_name(&all, "rollout-2026-11-21T22-35-54"), 2);
    let bad_utf8: &[u8] = b"{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"bad \xff\xfe bytes\"}]}";
    let lines = complete_lines(&base);
    let cut = lines[lines.len() / 2].0 as usize;
    let mut utf8_bytes = base[..cut].to_vec();
    utf8_bytes.extend_from_slice(bad_utf8);
    utf8_bytes.push(b'\n');
    utf8_bytes.extend_from_slice(&base[cut..]);
    env.put_rollout(&utf8_name, &utf8_bytes);

    // 4. An empty rollout file.
    let empty_name = format!("rollout-2026-01-01T00-00-00-{}.jsonl", fake_uuid(0xbad, 3));
    let empty_path = env.put_rollout(&empty_name, b"");

    // 5. Unreadable: a dangling symlink always; also a chmod 000 file when not root.
    let dangling = day.join(format!(
        "rollout-2026-01-01T00-00-00-{}.jsonl",
        fake_uuid(0xbad, 4)
    ));
    let link_target = env.tmp.path().join("does-not-exist-yet.jsonl");
    symlink(&link_target, &dangling).unwrap();
    let root = running_as_root();
    if !root {
        let (name, bytes) = renamed(by_name(&all, "rollout-2026-02-23T13-19-38"), 5);
        let p = env.put_rollout(&name, &bytes);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o000)).unwrap();
    }

    // 6. A directory named like a rollout.
    let dir = day.join(format!(
        "rollout-2026-01-01T00-00-00-{}.jsonl",
        fake_uuid(0xbad, 6)
    ));
    fs::create_dir(&dir).unwrap();

    let out = env
        .command_with_db(&env.db, &["ingest", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ingest must exit 0 on bad input, got {}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("ingest --json prints JSON");

    // The valid content is all there, exactly.
    let mut sessions = vec![
        (valid.name.clone(), valid.bytes.clone()),
        (garbage_name.clone(), garbage_bytes),
        (utf8_name.clone(), utf8_bytes),
    ];
    check_sessions(&env, &sessions);

    // docs/cli.md: `errors` counts bad lines (each once, however often the
    // file is read) plus files that currently cannot be read (directory,
    // broken link, permission denied, empty file).
    let file_errors = if root { 3 } else { 4 };
    let want_errors = (garbage_lines + 1 + file_errors) as u64;
    let status = env.codex_status();
    let detail = format!(
        "{garbage_lines} garbage lines + 1 bad UTF-8 line + {file_errors} unreadable files \
         (dangling link, directory, empty file{})",
        if root { "" } else { ", chmod 000" }
    );
    assert_eq!(
        num(&status, &["errors"]),
        Some(want_errors),
        "status errors vs {detail}: {status:#}"
    );
    assert_eq!(
        num(&summary, &["errors"]),
        Some(want_errors),
        "ingest --json errors vs {detail}: {summary:#}"
    );
    let last = str_field(&status, "last_error").unwrap_or("");
    assert!(
        !last.trim().is_empty(),
        "status has no last_error: {status:#}"
    );
    let last_file = str_field(&status, "last_error_file")
        .unwrap_or_else(|| panic!("status has no last_error_file: {status:#}"));
    let planted = [
        garbage_name.as_str(),
        utf8_name.as_str(),
        "7e57-4000-8000-000000000003",
        "7e57-4000-8000-000000000004",
        "7e57-4000-8000-000000000005",
        "7e57-4000-8000-000000000006",
    ];
    assert!(
        planted.iter().any(|p| last_file.contains(p)),
        "last_error_file {last_file:?} is none of the planted bad files {planted:?}"
    );

    // A second pass adds nothing and counts no error twice.
    let again = env.ingest();
    assert_eq!(
        num(&again, &["items_added"]),
        Some(0),
        "second pass over bad input: {again:#}"
    );
    let status = env.codex_status();
    assert_eq!(
        num(&status, &["errors"]),
        Some(want_errors),
        "errors after a second pass: {status:#}"
    );
    assert_eq!(env.threads().len(), 3);

    // Unreadable files that become readable: their errors clear, their content arrives.
    let (name4, bytes4) = renamed(by_name(&all, "rollout-2026-02-23T13-19-38"), 4);
    fs::write(&link_target, &bytes4).unwrap();
    let (_, bytes3) = renamed(by_name(&all, "rollout-0.135.0"), 3);
    fs::write(&empty_path, &bytes3).unwrap();
    env.ingest();
    let status = env.codex_status();
    assert_eq!(
        num(&status, &["errors"]),
        Some(want_errors - 2),
        "the dangling link and the empty file became readable: their errors must clear: {status:#}"
    );
    sessions.push((name4, bytes4));
    sessions.push((empty_name, bytes3));
    check_sessions(&env, &sessions);
}

/// Exactly these sessions are in the store, each exactly as its bytes say.
fn check_sessions(env: &Env, sessions: &[(String, Vec<u8>)]) {
    let threads = env.threads();
    let mut m = Mismatches::new("bad input");
    for (name, bytes) in sessions {
        let exp = expected(bytes, name);
        let sid = exp.session_id.clone().unwrap();
        match threads
            .iter()
            .find(|t| str_field(t, "session_id") == Some(sid.as_str()))
        {
            None => m.fail(format!("{name}: no thread {sid}\n")),
            Some(listed) => {
                let shown = env.show(str_field(listed, "id").unwrap());
                let mut sub = Mismatches::new(name.clone());
                check_thread(&mut sub, &exp, listed, &shown);
                m.problems
                    .extend(sub.problems.into_iter().map(|p| format!("[{name}] {p}")));
            }
        }
    }
    m.value("number of threads", sessions.len(), threads.len());
    m.finish();
}
