//! Claude Code sessions that grow, are caught mid-line, are rewritten or
//! deleted: the same guarantees as Codex rollouts.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::corpus::{assert_same_dump, dump};
use crate::rules::complete_lines;
use crate::util::{str_field, Env};

/// Every Claude fixture file (session and sub-agent files), with its bytes.
fn claude_fixtures(fixtures: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![fixtures.join("claude")];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                out.push((name, fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// `~/.claude/projects/-work-demo/<name>` in the test's home.
fn session_path(env: &Env, name: &str) -> PathBuf {
    let dir = env.home.join(".claude/projects/-work-demo");
    fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

/// Byte offset where complete line `n` starts (or the end).
fn line_start(bytes: &[u8], n: usize) -> usize {
    complete_lines(bytes)
        .get(n)
        .map_or(bytes.len(), |(off, _)| *off as usize)
}

/// Grown in three steps, with a pass while the last line was half written,
/// each Claude fixture ends up exactly as one read of the whole file.
#[test]
fn claude_appends_and_partial_lines_match_a_one_shot_ingest() {
    let fixtures = require_fixtures!("claude_appends_and_partial_lines_match_a_one_shot_ingest");
    for (name, bytes) in claude_fixtures(&fixtures) {
        let n = complete_lines(&bytes).len();
        let (a, b) = (line_start(&bytes, n / 3), line_start(&bytes, 2 * n / 3));
        let env = Env::new();
        let path = session_path(&env, &name);
        fs::write(&path, &bytes[..a]).unwrap();
        env.ingest();
        // Half of the next line: it must wait for its newline.
        let half = a + (line_start(&bytes, n / 3 + 1) - a) / 2;
        append(&path, &bytes[a..half]);
        let before = dump(&env, &env.db).without_revisions();
        env.ingest();
        assert_same_dump(
            &format!("{name}: a half-written line adds nothing"),
            &before,
            &dump(&env, &env.db).without_revisions(),
        );
        append(&path, &bytes[half..b]);
        env.ingest();
        append(&path, &bytes[b..]);
        env.ingest();

        let one_shot = env.tmp.path().join("one-shot.sqlite3");
        env.ingest_into(&one_shot);
        assert_same_dump(
            &format!("{name}: grown in steps vs one shot (revisions ignored)"),
            &dump(&env, &one_shot).without_revisions(),
            &dump(&env, &env.db).without_revisions(),
        );
    }
}

/// A session file rewritten with other content is read again; deleting it
/// keeps the thread, marked as having lost its source.
#[test]
fn claude_rewritten_then_deleted_session() {
    let fixtures = require_fixtures!("claude_rewritten_then_deleted_session");
    let (name, bytes) = claude_fixtures(&fixtures)
        .into_iter()
        .find(|(n, _)| n.starts_with("5ee6c91e"))
        .expect("the 2.1.330 fixture");
    let env = Env::new();
    let path = session_path(&env, &name);
    fs::write(&path, &bytes).unwrap();
    env.ingest();
    let threads = env.threads();
    assert_eq!(threads.len(), 1);
    let id = str_field(&threads[0], "id").unwrap().to_string();
    let items_before = env.show(&id)["items"].as_array().unwrap().len();
    assert!(items_before > 0);

    // Rewritten in place: the first third of the lines only, then a new prompt.
    let n = complete_lines(&bytes).len();
    let mut rewritten = bytes[..line_start(&bytes, n / 3)].to_vec();
    let session = str_field(&threads[0], "session_id").unwrap();
    rewritten.extend_from_slice(
        format!(
            "{{\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":\"a different ending\"}},\
             \"uuid\":\"11111111-2222-3333-4444-555555555555\",\"parentUuid\":null,\"sessionId\":\"{session}\",\
             \"timestamp\":\"2026-12-01T00:00:00.000Z\",\"cwd\":\"/work/demo\",\"isSidechain\":false}}\n"
        )
        .as_bytes(),
    );
    fs::write(&path, &rewritten).unwrap();
    let summary = env.ingest();
    let claude = summary["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "claude")
        .unwrap();
    assert_eq!(claude["files_reset"], 1, "{summary:#}");
    let items = env.show(&id)["items"].clone();
    let texts: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "user")
        .filter_map(|i| i["text"].as_str())
        .collect();
    assert!(texts.contains(&"a different ending"), "{texts:?}");

    // Deleted: nothing is lost, the thread says its source is gone.
    fs::remove_file(&path).unwrap();
    env.ingest();
    let shown = env.show(&id);
    assert_eq!(shown["thread"]["source_missing"], true);
    assert_eq!(shown["items"], items);
}
