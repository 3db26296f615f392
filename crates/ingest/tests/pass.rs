//! Scoped passes (`run_pass`) and targeted ones (`run_paths`).

mod common;

use common::*;
use tinyvex_ingest::{IngestOptions, Ingestor, NoProgress, PassScope};
use tinyvex_store::{ItemQuery, Store};

const A: &str = "01a20040-17cf-78f2-80e0-f2cc1b712842";
const B: &str = "01a20040-17cf-78f2-80e0-f2cc1b712843";

fn items(store: &Store, uuid: &str) -> usize {
    let reader = store.read().unwrap();
    reader
        .items(&thread_id(uuid), ItemQuery::All)
        .unwrap()
        .len()
}

#[test]
fn run_paths_reads_only_the_named_files() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = sessions_dir(dir.path());
    let a = write_session(&sessions, A, "a1");
    let b = write_session(&sessions, B, "b1");
    let providers = codex(dir.path());
    let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    let writer = store.start_writer().unwrap();
    let ingestor = Ingestor::new(&providers, writer.clone(), IngestOptions::default());
    ingestor
        .run_once(&store.read().unwrap(), &NoProgress)
        .unwrap();

    append_user(&a, "a2", 2);
    append_user(&b, "b2", 2);
    let gone = sessions.join("rollout-2026-01-01T00-00-00-gone.jsonl");
    let summary = ingestor
        .run_paths(
            &store.read().unwrap(),
            &[(0, a.clone()), (0, gone), (0, a.clone())],
            &NoProgress,
        )
        .unwrap();
    let codex = &summary.providers[0];
    assert_eq!(
        (codex.files_seen, codex.files_read, codex.errors),
        (1, 1, 0)
    );
    assert!(codex.lag_ms.is_some());
    assert_eq!((items(&store, A), items(&store, B)), (2, 1));

    // Nothing new: planned, not read.
    let summary = ingestor
        .run_paths(&store.read().unwrap(), &[(0, a)], &NoProgress)
        .unwrap();
    assert_eq!(summary.providers[0].files_unchanged, 1);
    assert_eq!(summary.providers[0].lag_ms, None);
    writer.shutdown().unwrap();
}

#[test]
fn providers_outside_the_scope_are_neither_discovered_nor_reported_gone() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = sessions_dir(dir.path());
    let a = write_session(&sessions, A, "a1");
    let providers = codex(dir.path());
    let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    let writer = store.start_writer().unwrap();
    let ingestor = Ingestor::new(&providers, writer.clone(), IngestOptions::default());
    let outcome = ingestor
        .run_pass(&store.read().unwrap(), &PassScope::default(), &NoProgress)
        .unwrap();
    assert_eq!(outcome.discovered, vec![(0, a.clone())]);

    std::fs::remove_file(&a).unwrap();
    let none = PassScope {
        providers: Some(vec![]),
        from_start: false,
    };
    let outcome = ingestor
        .run_pass(&store.read().unwrap(), &none, &NoProgress)
        .unwrap();
    assert!(outcome.discovered.is_empty());
    let thread = |store: &Store| {
        let reader = store.read().unwrap();
        reader.thread(&thread_id(A)).unwrap().unwrap()
    };
    assert!(!thread(&store).source_missing);
    ingestor
        .run_pass(&store.read().unwrap(), &PassScope::default(), &NoProgress)
        .unwrap();
    assert!(thread(&store).source_missing);
    writer.shutdown().unwrap();
}

#[test]
fn from_start_rereads_everything_without_duplicating() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = sessions_dir(dir.path());
    let a = write_session(&sessions, A, "a1");
    append_user(&a, "a2", 2);
    let providers = codex(dir.path());
    let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
    let writer = store.start_writer().unwrap();
    let ingestor = Ingestor::new(&providers, writer.clone(), IngestOptions::default());
    let pass = |from_start: bool| {
        let scope = PassScope {
            providers: None,
            from_start,
        };
        let outcome = ingestor
            .run_pass(&store.read().unwrap(), &scope, &NoProgress)
            .unwrap();
        let revision = store.read().unwrap().revision().unwrap();
        (outcome.summary.providers[0].clone(), revision)
    };
    let (_, first) = pass(false);
    let item_revisions = |store: &Store| -> Vec<u64> {
        let reader = store.read().unwrap();
        let items = reader.items(&thread_id(A), ItemQuery::All).unwrap();
        items.iter().map(|i| i.revision).collect()
    };
    let items_before = item_revisions(&store);
    let raw_before = store
        .read()
        .unwrap()
        .raw_records(providers[0].kind(), a.to_str().unwrap())
        .unwrap();
    let (once, after_once) = pass(true);
    assert_eq!((once.files_read, once.files_reset), (1, 1));
    let (twice, after_twice) = pass(true);
    assert_eq!((twice.files_read, twice.files_reset), (1, 1));
    // What is true today: a from-start re-read of identical content still
    // makes one new revision per pass. The reset deletes the file's raw
    // records and line errors and the re-read inserts the same ones again,
    // and the writer counts those as changes. Items and threads are
    // untouched (upserts of equal values change no row), so subscribers
    // see no item changes.
    assert_eq!(after_once.0, first.0 + 1);
    assert_eq!(after_twice.0, after_once.0 + 1);
    assert_eq!(item_revisions(&store), items_before);
    assert_eq!(items(&store, A), 2);
    let raw_after = store
        .read()
        .unwrap()
        .raw_records(providers[0].kind(), a.to_str().unwrap())
        .unwrap();
    assert_eq!(
        raw_after, raw_before,
        "the raw log is replaced, not appended to"
    );
    // An ordinary pass afterwards finds nothing to do.
    let (normal, after_normal) = pass(false);
    assert_eq!((normal.files_read, normal.files_unchanged), (0, 1));
    assert_eq!(after_normal, after_twice);
    writer.shutdown().unwrap();
}
