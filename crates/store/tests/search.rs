//! Search over a store fed through the writer: the triggers keep the index
//! exact (FTS5 integrity check), accents and case fold, filters apply in
//! SQL, newer items rank first among equals.

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

/// The FTS5 index equals what the `items` table says it should hold.
fn assert_index_exact(store: &Store) {
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.execute_batch("INSERT INTO items_fts(items_fts) VALUES('integrity-check')")
        .expect("the search index matches the items");
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
fn triggers_keep_the_index_exact_and_every_field_searchable() {
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
    assert_eq!(ids(&r, "deploy kind:user"), Vec::<String>::new());
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
