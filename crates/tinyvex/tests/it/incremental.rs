//! Files that grow, files caught mid-line, files truncated or replaced.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::check::{check_single_thread_store, check_thread};
use crate::corpus::{assert_same_dump, dump, load_codex_fixtures, session_id_of, Fixture};
use crate::expected::{expected, Expected, Item};
use crate::rules::complete_lines;
use crate::util::{rfc3339_ms, str_field, Env, Mismatches};

fn append(path: &Path, bytes: &[u8]) {
    fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

/// Byte offset just past complete line `n` (0-based count of lines kept).
fn end_of_lines(bytes: &[u8], n: usize) -> usize {
    let lines = complete_lines(bytes);
    match lines.get(n) {
        Some((off, _)) => *off as usize,
        None => bytes.len(),
    }
}

/// Growing a file in three steps gives exactly what one read of the whole file gives.
#[test]
fn appended_lines_match_a_one_shot_ingest() {
    let fixtures = require_fixtures!("appended_lines_match_a_one_shot_ingest");
    for fx in load_codex_fixtures(&fixtures) {
        let n = complete_lines(&fx.bytes).len();
        let (a, b) = (
            end_of_lines(&fx.bytes, n / 3),
            end_of_lines(&fx.bytes, 2 * n / 3),
        );

        let grown = Env::new();
        let path = grown.put_rollout(&fx.name, &fx.bytes[..a]);
        grown.ingest();
        check_single_thread_store(
            &grown,
            &format!("{} (first third)", fx.file),
            &expected(&fx.bytes[..a], &fx.name),
        );
        append(&path, &fx.bytes[a..b]);
        grown.ingest();
        append(&path, &fx.bytes[b..]);
        grown.ingest();
        check_single_thread_store(
            &grown,
            &format!("{} (grown in three steps)", fx.file),
            &expected(&fx.bytes, &fx.name),
        );

        // One shot: the complete file (same path) into a fresh store.
        let one_shot_db = grown.tmp.path().join("one-shot.sqlite3");
        grown.ingest_into(&one_shot_db);
        assert_same_dump(
            &format!(
                "{}: grown in three steps vs one shot (revisions ignored)",
                fx.file
            ),
            &dump(&grown, &one_shot_db).without_revisions(),
            &dump(&grown, &grown.db).without_revisions(),
        );
    }
}

/// Where to cut a line in two: inside a multi-byte character when the line has one.
fn mid_line_cut(line: &[u8]) -> usize {
    let text = String::from_utf8_lossy(line);
    let wide = text
        .char_indices()
        .find(|(_, c)| c.len_utf8() > 1)
        .map(|(i, _)| i + 1);
    wide.unwrap_or(line.len() / 2)
}

/// A half-written last line is not read; once its newline arrives it is.
#[test]
fn half_written_last_line_waits_for_its_newline() {
    let fixtures = require_fixtures!("half_written_last_line_waits_for_its_newline");
    for fx in load_codex_fixtures(&fixtures) {
        let full = expected(&fx.bytes, &fx.name);
        // The line of the last user prompt: its item must appear only when the line is complete.
        let last_user = full
            .items
            .iter()
            .rev()
            .find(|i| i.kind == "user")
            .expect("every fixture has a user prompt");
        let start = (last_user.seq / 8) as usize;
        let end = start + fx.bytes[start..].iter().position(|b| *b == b'\n').unwrap() + 1;
        let cut = start + mid_line_cut(&fx.bytes[start..end - 1]);
        let prompt = last_user.text.clone().unwrap();

        let env = Env::new();
        let path = env.put_rollout(&fx.name, &fx.bytes[..cut]);
        env.ingest();
        let context = format!("{} cut at byte {cut}, inside the line at {start}", fx.file);
        check_single_thread_store(&env, &context, &expected(&fx.bytes[..cut], &fx.name));
        let shown = env.show(str_field(&env.threads()[0], "id").unwrap());
        let has_prompt = |shown: &Value| {
            shown["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["kind"] == "user" && i["seq"].as_i64() == Some(last_user.seq))
        };
        assert!(
            !has_prompt(&shown),
            "{context}: the partial line's user item is already there"
        );

        append(&path, &fx.bytes[cut..end]);
        env.ingest();
        let context = format!("{}: line at {start} completed", fx.file);
        check_single_thread_store(&env, &context, &expected(&fx.bytes[..end], &fx.name));
        let shown = env.show(str_field(&env.threads()[0], "id").unwrap());
        assert!(
            has_prompt(&shown),
            "{context}: user item {prompt:?} missing after its newline arrived"
        );

        append(&path, &fx.bytes[end..]);
        env.ingest();
        check_single_thread_store(&env, &format!("{}: rest appended", fx.file), &full);
    }
}

fn by_name<'a>(all: &'a [Fixture], prefix: &str) -> &'a Fixture {
    all.iter()
        .find(|f| f.file.starts_with(prefix))
        .unwrap_or_else(|| panic!("no fixture {prefix}*"))
}

/// `path` replaced by `bytes` through a rename: a new inode.
fn replace_by_rename(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("new");
    fs::write(&tmp, bytes).unwrap();
    fs::rename(&tmp, path).unwrap();
}

/// The shown thread with this session id.
fn show_session(env: &Env, session_id: &str) -> (Value, Value) {
    let listed = env
        .threads()
        .into_iter()
        .find(|t| str_field(t, "session_id") == Some(session_id))
        .unwrap_or_else(|| {
            panic!(
                "no thread with session id {session_id}: {:#}",
                Value::Array(env.threads())
            )
        });
    let shown = env.show(str_field(&listed, "id").unwrap());
    (listed, shown)
}

/// A rollout replaced (new inode) by another, shorter session: no crash, and
/// the new session is there exactly.
#[test]
fn file_replaced_by_another_session_is_read_again() {
    let fixtures = require_fixtures!("file_replaced_by_another_session_is_read_again");
    let all = load_codex_fixtures(&fixtures);
    let (long, short) = (
        by_name(&all, "rollout-2025-09-25T08-02-05"),
        by_name(&all, "rollout-2026-11-21T22-35-30"),
    );
    assert!(short.bytes.len() < long.bytes.len());

    let env = Env::new();
    let path = env.put_rollout(&long.name, &long.bytes);
    env.ingest();
    replace_by_rename(&path, &short.bytes);
    env.ingest();

    // Same file name, so the name's uuid is the long one's; the meta wins anyway.
    let exp = expected(&short.bytes, &long.name);
    let (listed, shown) = show_session(&env, exp.session_id.as_deref().unwrap());
    let mut m = Mismatches::new(format!("{} replaced by {}", long.file, short.file));
    check_thread(&mut m, &exp, &listed, &shown);
    m.finish();
}

/// Items of `exp` that are missing (or different) in `shown`, compared by
/// key, seq, kind and text/tool fields.
fn missing_items(exp: &Expected, shown: &Value) -> Vec<String> {
    let got = shown["items"].as_array().unwrap();
    let find = |i: &Item| {
        got.iter()
            .find(|g| str_field(g, "id").is_some_and(|id| id.ends_with(&format!("/{}", i.key))))
    };
    let mut out = Vec::new();
    for i in &exp.items {
        match find(i) {
            None => out.push(format!("{} {} (seq {}) is missing", i.kind, i.key, i.seq)),
            Some(g) => {
                let same = str_field(g, "kind") == Some(i.kind)
                    && g["seq"].as_i64() == Some(i.seq)
                    && (i.text.is_none() || str_field(g, "text") == i.text.as_deref())
                    && (i.ts.is_none() || str_field(g, "ts").and_then(rfc3339_ms) == i.ts);
                if !same {
                    out.push(format!(
                        "expected {} {} (seq {}, ts {:?}, text {:?}), shown as {g:#}",
                        i.kind,
                        i.key,
                        i.seq,
                        i.ts.map(crate::util::ms_to_rfc3339),
                        i.text
                    ));
                }
            }
        }
    }
    out
}

/// The first `keep` lines of `fx`, then a new user prompt line.
fn diverged(fx: &Fixture, keep: usize, prompt: &str) -> Vec<u8> {
    let mut bytes = fx.bytes[..end_of_lines(&fx.bytes, keep)].to_vec();
    let line = serde_json::json!({
        "timestamp": "2026-12-01T00:00:00.000Z",
        "type": "event_msg",
        "payload": {"type": "user_message", "message": prompt, "images": [], "local_images": []}
    });
    bytes.extend_from_slice(line.to_string().as_bytes());
    bytes.push(b'\n');
    bytes
}

/// The same session truncated and continued differently, once through a
/// rename (new inode) and once in place (same inode, shorter): the new line
/// lands on the offset of an old assistant/reasoning item, and must show as
/// the new user prompt, with every other item of the new content present.
#[test]
fn truncated_and_rewritten_session_shows_the_new_content() {
    let fixtures = require_fixtures!("truncated_and_rewritten_session_shows_the_new_content");
    let all = load_codex_fixtures(&fixtures);
    let mut problems = Vec::new();
    for (fx_prefix, in_place) in [
        ("rollout-2026-11-21T22-35-30", false),
        ("rollout-2025-09-25T15-12-14", true),
    ] {
        let fx = by_name(&all, fx_prefix);
        let old = expected(&fx.bytes, &fx.name);
        // An old non-user item in the first half: the new line will start at its offset.
        let victim = old
            .items
            .iter()
            .find(|i| {
                matches!(i.kind, "assistant" | "reasoning")
                    && (i.seq / 8) as usize > fx.bytes.len() / 10
            })
            .expect("an assistant or reasoning item");
        let keep = complete_lines(&fx.bytes)
            .iter()
            .position(|(off, _)| *off as i64 == victim.seq / 8)
            .unwrap();
        let prompt = format!(
            "a different ending {}",
            if in_place { "(in place)" } else { "(renamed)" }
        );
        let new_bytes = diverged(fx, keep, &prompt);
        assert!(new_bytes.len() < fx.bytes.len());

        let env = Env::new();
        let path = env.put_rollout(&fx.name, &fx.bytes);
        env.ingest();
        if in_place {
            let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
            f.set_len(0).unwrap();
            drop(f);
            append(&path, &new_bytes);
        } else {
            replace_by_rename(&path, &new_bytes);
        }
        env.ingest();

        let sid = session_id_of(&fx.bytes, &fx.name);
        let (_, shown) = show_session(&env, &sid);
        let new = expected(&new_bytes, &fx.name);
        let context = format!(
            "{} truncated to {keep} lines + a new prompt ({})",
            fx.file,
            if in_place { "in place" } else { "renamed" }
        );
        let prompt_item = new.items.last().unwrap();
        assert_eq!(
            (prompt_item.kind, prompt_item.text.as_deref()),
            ("user", Some(prompt.as_str()))
        );
        let missing = missing_items(&new, &shown);
        if !missing.is_empty() {
            problems.push(format!(
                "{context}: items of the new content missing or wrong:\n{}",
                missing.join("\n")
            ));
        }
        let total = shown["items"].as_array().unwrap().len();
        let stale = total.saturating_sub(new.items.len() + new.usage.len());
        if stale > 0 {
            eprintln!(
                "note: {context}: {stale} item(s) of the old, longer content are still shown"
            );
        }
    }
    assert!(problems.is_empty(), "\n\n{}\n", problems.join("\n\n"));
}
