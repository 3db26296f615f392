//! Search over a store fed through the writer: the indexer keeps the index
//! exact (one document per item with text, cursor at the store's last
//! change), accents and case fold, filters apply, newer items rank first
//! among equals, and a search is exact even while the index lags.

mod common;

use common::*;
use tinyvex_model::{now_ms, ItemKind, ProviderKind, ThreadPatch};
use tinyvex_store::{Reader, SearchQuery, Store};

fn ids(reader: &Reader, query: &str) -> Vec<String> {
    reader
        .search_text(query, 50, None)
        .unwrap()
        .into_iter()
        .map(|h| h.item_id)
        .collect()
}

/// The index holds one document per item with text, and its cursor is at
/// the store's last change.
fn assert_index_exact(store: &Store) {
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let (with_text, revision, rowid): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM items WHERE coalesce(text, command, output) IS NOT NULL),
                    revision, rowid FROM items ORDER BY revision DESC, rowid DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let view = store.read().unwrap().search_index().unwrap().view();
    assert_eq!(
        view.num_docs(),
        with_text as u64,
        "one document per item with text"
    );
    assert_eq!(
        (view.cursor.revision, view.cursor.rowid),
        (revision as u64, rowid)
    );
}

fn fill(store: &Store) {
    let day = 86_400_000;
    let now = now_ms();
    let writer = store.start_writer().unwrap();
    let project = |cwd: &str| {
        meta(ThreadPatch {
            cwd: Some(cwd.into()),
            ..ThreadPatch::default()
        })
    };
    writer
        .submit(batch(
            ProviderKind::Codex,
            "/a",
            Some("a"),
            10,
            vec![
                project("/srv/app"),
                text(
                    "u1",
                    1,
                    ItemKind::User,
                    now - 400 * day,
                    "Résumé of the Überprüfung",
                ),
                text(
                    "a1",
                    2,
                    ItemKind::Assistant,
                    now - 400 * day,
                    "deploy the webhook",
                ),
                tool("c1", 3, Some(now - day), call("{}")),
            ],
        ))
        .unwrap();
    writer.flush().unwrap();
    // The tool's output arrives in a later batch: an UPDATE of the row.
    writer
        .submit(batch(
            ProviderKind::Codex,
            "/a",
            Some("a"),
            20,
            vec![tool("c1", 3, None, output("needle found in output", 0))],
        ))
        .unwrap();
    writer
        .submit(batch(
            ProviderKind::Claude,
            "/b",
            Some("b"),
            10,
            vec![
                project("/srv/app-other"),
                text(
                    "a2",
                    1,
                    ItemKind::Assistant,
                    now - day,
                    "deploy the webhook",
                ),
            ],
        ))
        .unwrap();
    writer.shutdown().unwrap();
}

#[test]
fn the_indexer_keeps_the_index_exact_and_every_field_searchable() {
    let (_dir, store) = open();
    fill(&store);
    assert_index_exact(&store);
    let r = store.read().unwrap();
    assert_eq!(ids(&r, "needle"), ["codex-a/c1"], "merged tool output");
    assert_eq!(ids(&r, "\"ls -la\""), ["codex-a/c1"], "command");
    assert_eq!(
        ids(&r, "resume uberprufung"),
        ["codex-a/u1"],
        "accents and case fold"
    );
    assert_eq!(ids(&r, "RÉSUMÉ"), ["codex-a/u1"]);
    assert!(ids(&r, "nothing-like-this").is_empty());
}

#[test]
fn newer_items_rank_first_among_equals_and_filters_apply() {
    let (_dir, store) = open();
    fill(&store);
    let r = store.read().unwrap();
    assert_eq!(ids(&r, "deploy webhook"), ["claude-b/a2", "codex-a/a1"]);
    assert_eq!(ids(&r, "deploy provider:codex"), ["codex-a/a1"]);
    assert_eq!(ids(&r, "deploy provider:claude"), ["claude-b/a2"]);
    assert_eq!(ids(&r, "deploy kind:user"), Vec::<String>::new());
    assert_eq!(
        ids(&r, "deploy kind:user kind:assistant"),
        ["claude-b/a2", "codex-a/a1"]
    );
    assert_eq!(
        ids(&r, "deploy cwd:/srv/app"),
        ["codex-a/a1"],
        "a folder, not a name prefix"
    );
    assert_eq!(ids(&r, "deploy cwd:/srv"), ["claude-b/a2", "codex-a/a1"]);
    assert_eq!(ids(&r, "deploy thread:claude-b"), ["claude-b/a2"]);
    assert_eq!(ids(&r, "deploy after:30d"), ["claude-b/a2"]);
    assert_eq!(ids(&r, "deploy before:30d"), ["codex-a/a1"]);
    assert_eq!(ids(&r, "deploy NOT webhook"), Vec::<String>::new());
    assert!(r.search_text("deploy thread:nope", 5, None).is_err());
    let hits = r.search(&SearchQuery {
        limit: 1,
        ..SearchQuery::parse("deploy").unwrap()
    });
    assert_eq!(hits.unwrap().len(), 1);
}

#[test]
fn ingesting_again_changes_nothing_in_the_index() {
    let (_dir, store) = open();
    fill(&store);
    let before = ids(&store.read().unwrap(), "deploy OR needle resume");
    let store = Store::open(store.path()).unwrap();
    fill(&store);
    assert_index_exact(&store);
    assert_eq!(
        ids(&store.read().unwrap(), "deploy OR needle resume"),
        before
    );
    assert_eq!(ids(&store.read().unwrap(), "webhook").len(), 2);
}

/// Take the index's writer lock as another process would: the store's own
/// indexer then cannot start.
fn hold_index_lock(store: &Store) -> tinyvex_search::IndexUpdater {
    store
        .read()
        .unwrap()
        .search_index()
        .unwrap()
        .writer(1, 16 << 20)
        .unwrap()
        .expect("the index lock was free")
}

#[test]
fn a_search_is_exact_while_the_index_lags() {
    let (_dir, store) = open();
    // Another holder of the index lock: the writer's indexer cannot start,
    // so nothing gets indexed and every hit comes from the matcher.
    let lock = hold_index_lock(&store);
    fill(&store);
    let r = store.read().unwrap();
    assert_eq!(r.search_index().unwrap().view().num_docs(), 0);
    assert_eq!(ids(&r, "needle"), ["codex-a/c1"]);
    assert_eq!(ids(&r, "deploy webhook"), ["claude-b/a2", "codex-a/a1"]);
    assert_eq!(ids(&r, "deploy provider:codex"), ["codex-a/a1"]);
    assert_eq!(ids(&r, "\"the webhook\" cwd:/srv/app"), ["codex-a/a1"]);
    assert_eq!(ids(&r, "resu* kind:user"), ["codex-a/u1"]);
    let hit = &r.search_text("needle", 5, None).unwrap()[0];
    assert_eq!(hit.snippet, "needle found in output");
    assert_eq!(hit.highlights, vec![[0, 6]]);
    drop(lock);
    // Catching up gives the same answers from the index.
    let done = store.catch_up_search(|_| {}).unwrap().unwrap();
    assert_eq!(done.items, 4, "u1, a1, c1 (with its output), a2");
    assert_index_exact(&store);
    assert_eq!(ids(&r, "deploy webhook"), ["claude-b/a2", "codex-a/a1"]);
    assert_eq!(ids(&r, "resu* kind:user"), ["codex-a/u1"]);
}

#[test]
fn live_search_sees_only_what_changed_after_a_revision() {
    let (_dir, store) = open();
    fill(&store);
    let r = store.read().unwrap();
    let all = r.search_text("deploy", 50, None).unwrap();
    let newest = all.iter().map(|h| h.revision).max().unwrap();
    let oldest = all.iter().map(|h| h.revision).min().unwrap();
    assert!(oldest < newest);
    let since = tinyvex_model::Revision(oldest);
    let changed = r.search_text("deploy", 50, Some(since)).unwrap();
    assert_eq!(changed.len(), 1);
    assert!(changed.iter().all(|h| h.revision > oldest));
    assert!(r
        .search_text("deploy", 50, Some(tinyvex_model::Revision(newest)))
        .unwrap()
        .is_empty());
}

#[test]
fn a_lost_or_foreign_index_is_rebuilt_from_the_store() {
    let (_dir, store) = open();
    fill(&store);
    let dir = tinyvex_store::search_dir(store.path());
    let before = ids(&store.read().unwrap(), "deploy");
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("meta.json"), "not json").unwrap();
    let store = Store::open(&common_path(&dir)).unwrap();
    // The broken index was replaced by an empty one; search is still exact.
    assert_eq!(
        store
            .read()
            .unwrap()
            .search_index()
            .unwrap()
            .view()
            .num_docs(),
        0
    );
    assert_eq!(ids(&store.read().unwrap(), "deploy"), before);
    store.catch_up_search(|_| {}).unwrap().unwrap();
    assert_index_exact(&store);
    assert_eq!(ids(&store.read().unwrap(), "deploy"), before);
}

/// The database path of an index folder.
fn common_path(dir: &std::path::Path) -> std::path::PathBuf {
    let s = dir.to_str().unwrap();
    std::path::PathBuf::from(s.strip_suffix("-search").unwrap())
}

#[test]
fn a_broad_prefix_is_answered_from_the_newest_items() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    // More distinct words with one prefix than the index enumerates.
    let n = tinyvex_search::execute::MAX_PREFIX_SCAN + 100;
    let events = (0..n)
        .map(|i| {
            text(
                &format!("k{i}"),
                i as i64,
                ItemKind::Assistant,
                now_ms(),
                &format!("zzword{i} and more"),
            )
        })
        .collect();
    writer
        .submit(batch(ProviderKind::Codex, "/a", Some("a"), 10, events))
        .unwrap();
    writer.shutdown().unwrap();
    let r = store.read().unwrap();
    let view = r.search_index().unwrap().view();
    let q = SearchQuery::parse("zzw*").unwrap();
    assert!(view.has_broad_prefix(&q.clauses));
    let hits = r.search_text("zzw*", 5, None).unwrap();
    assert_eq!(hits.len(), 5);
    // All among the newest matches (a window of 4 × 5 candidates).
    for h in &hits {
        assert!(
            h.seq >= n as i64 - 50,
            "{} is not among the newest",
            h.item_id
        );
        assert!(h.snippet.contains("zzword"), "{}", h.snippet);
    }
    // Exact: a filter that excludes every item leaves nothing.
    assert!(r.search_text("zzw* kind:user", 5, None).unwrap().is_empty());
    // A narrow prefix goes through the index as usual.
    let want = (0..n)
        .filter(|i| format!("zzword{i}").starts_with("zzword419"))
        .count();
    assert_eq!(r.search_text("zzword419*", 50, None).unwrap().len(), want);
}

#[test]
fn waiting_for_the_index_returns_once_everything_committed_is_in_it() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    let items = (0..300)
        .map(|i| text(&format!("k{i}"), i, ItemKind::User, now_ms(), "wait for me"))
        .collect();
    writer
        .submit(batch(ProviderKind::Codex, "/a", Some("a"), 10, items))
        .unwrap();
    writer.flush().unwrap();
    let mut seen = 0;
    assert!(writer.wait_for_search_index(|n| seen = seen.max(n)));
    // Without a shutdown: the indexer itself has the items committed.
    let view = store.read().unwrap().search_index().unwrap().view();
    assert_eq!(view.num_docs(), 300);
    assert!(seen <= 300);
    writer.shutdown().unwrap();
}

#[test]
fn waiting_for_an_index_another_process_keeps_returns_at_once() {
    let (_dir, store) = open();
    let _lock = hold_index_lock(&store);
    let writer = store.start_writer().unwrap();
    assert!(!writer.wait_for_search_index(|_| {}));
    writer.shutdown().unwrap();
}

#[test]
fn the_index_is_current_after_commits_that_change_no_item() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    let items = vec![text(
        "k1",
        1,
        ItemKind::User,
        now_ms(),
        "before the setting",
    )];
    writer
        .submit(batch(ProviderKind::Codex, "/a", Some("a"), 10, items))
        .unwrap();
    writer.flush().unwrap();
    // A commit without items (a setting) moves the store's revision past
    // every item's.
    let setting = tinyvex_store::ControlWrite::SetSetting {
        key: "two_way".into(),
        value: "true".into(),
    };
    let revision = writer.control(setting).unwrap();
    // Stops the indexer after its last catch-up.
    writer.shutdown().unwrap();
    let reader = store.read().unwrap();
    assert_eq!(reader.revision().unwrap(), revision);
    // The index says it is current to that revision, so a search has no
    // unindexed items to look for.
    let view = reader.search_index().unwrap().view();
    assert_eq!(view.cursor.revision, revision.0);
    assert_eq!(ids(&reader, "setting"), ["codex-a/k1"]);
}
