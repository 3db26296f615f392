//! Ingesting the same bytes again changes nothing: not the threads, not the
//! items, not their revisions.

use std::fs;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::corpus::{assert_same_dump, dump, load_codex_fixtures};
use crate::util::{codex_entry, num, Env};

fn env_with_all_fixtures(fixtures: &std::path::Path) -> (Env, usize) {
    let env = Env::new();
    let all = load_codex_fixtures(fixtures);
    for fx in &all {
        env.put_rollout(&fx.name, &fx.bytes);
    }
    (env, all.len())
}

fn status_json(env: &Env) -> Value {
    env.run_json(&env.db, &["status", "--json"])
}

/// A second `ingest` of unchanged files: identical dumps (revisions included),
/// nothing added, nothing read, the store revision unchanged.
#[test]
fn second_ingest_of_unchanged_files_changes_nothing() {
    let fixtures = require_fixtures!("second_ingest_of_unchanged_files_changes_nothing");
    let (env, n) = env_with_all_fixtures(&fixtures);

    let first = env.ingest();
    let before = dump(&env, &env.db);
    let status_before = status_json(&env);
    assert_eq!(
        before.shows.len(),
        n,
        "one thread per fixture expected; threads: {:#}",
        before.threads
    );
    let total_items: u64 = before
        .shows
        .values()
        .map(|s| s["items"].as_array().unwrap().len() as u64)
        .sum();
    if let Some(added) = num(&first, &["items_added"]) {
        assert_eq!(
            added, total_items,
            "first ingest: items_added vs items shown: {first:#}"
        );
    }
    if let Some(added) = num(&first, &["threads_added"]) {
        assert_eq!(added, n as u64, "first ingest: threads_added: {first:#}");
    }
    let codex = codex_entry(&status_before).expect("codex status");
    assert_eq!(
        num(&codex, &["items"]),
        Some(total_items),
        "status items vs items shown: {codex:#}"
    );
    assert_eq!(
        num(&codex, &["threads"]),
        Some(n as u64),
        "status threads: {codex:#}"
    );
    assert_eq!(
        num(&codex, &["files"]),
        Some(n as u64),
        "status files: {codex:#}"
    );

    let second = env.ingest();
    let after = dump(&env, &env.db);
    assert_same_dump(
        "second ingest of unchanged files (revisions included)",
        &before,
        &after,
    );
    assert_eq!(
        status_before,
        status_json(&env),
        "status --json changed after a no-op ingest"
    );
    for field in [
        "items_added",
        "threads_added",
        "files_read",
        "bytes_read",
        "errors",
    ] {
        if let Some(v) = num(&second, &[field]) {
            assert_eq!(v, 0, "second ingest: `{field}` should be 0: {second:#}");
        }
    }
    if let (Some(r1), Some(r2)) = (num(&first, &["revision"]), num(&second, &["revision"])) {
        assert_eq!(
            r1, r2,
            "a no-op ingest must not bump the store revision: {first:#} then {second:#}"
        );
    }
    if num(&second, &["items_added"]).is_none() {
        eprintln!("note: ingest --json has no `items_added`; the no-op was checked through dumps and status only");
    }
}

/// Files touched (new mtime, same bytes) or replaced by an identical copy
/// (new inode, so read again from the start): threads and items, revisions
/// included, stay exactly as they were.
#[test]
fn rereading_identical_bytes_changes_no_thread_or_item() {
    let fixtures = require_fixtures!("rereading_identical_bytes_changes_no_thread_or_item");
    let (env, _) = env_with_all_fixtures(&fixtures);
    env.ingest();
    let before = dump(&env, &env.db);

    // Touch every file: mtime one minute later.
    let day = env.day_dir(1);
    let later = SystemTime::now() + Duration::from_secs(60);
    for entry in fs::read_dir(&day).unwrap() {
        let path = entry.unwrap().path();
        fs::File::options()
            .append(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();
    }
    let touched = env.ingest();
    assert_same_dump(
        "ingest after touching every file (revisions included)",
        &before,
        &dump(&env, &env.db),
    );
    if let Some(v) = num(&touched, &["items_added"]) {
        assert_eq!(v, 0, "touch: {touched:#}");
    }

    // Replace every file by an identical copy: new inode, same bytes.
    for entry in fs::read_dir(&day).unwrap() {
        let path = entry.unwrap().path();
        let copy = path.with_extension("tmp");
        fs::copy(&path, &copy).unwrap();
        fs::rename(&copy, &path).unwrap();
    }
    let replaced = env.ingest();
    let after = dump(&env, &env.db);
    assert_same_dump(
        "ingest after replacing every file by an identical copy (new inode; revisions ignored)",
        &before.without_revisions(),
        &after.without_revisions(),
    );
    // docs/architecture.md: "a merge that changes nothing touches no row ...
    // Ingesting the same bytes twice therefore leaves the store identical."
    assert_same_dump(
        "ingest after replacing every file by an identical copy (new inode): same content, \
         but revisions were bumped",
        &before,
        &after,
    );
    if let Some(v) = num(&replaced, &["items_added"]) {
        assert_eq!(v, 0, "identical copies: {replaced:#}");
    }
}
