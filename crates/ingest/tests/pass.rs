//! Scoped passes (`run_pass`) and targeted ones (`run_paths`).

mod common;

use common::*;
use tinyvex_ingest::{IngestOptions, Ingestor, NoProgress, PassScope};
use tinyvex_model::ProviderKind;
use tinyvex_store::{ItemQuery, Store, StoreOptions};

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

#[test]
fn a_pass_larger_than_the_raw_log_does_not_store_what_it_would_prune() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = sessions_dir(dir.path());
    // 48 sessions of 16 messages of hex (which LZ4 barely shrinks): about
    // 400 KiB of raw records for a raw log of 64 KiB.
    let mut x: u64 = 7;
    let mut files = Vec::new();
    for f in 0..48u64 {
        let uuid = format!("01a20040-17cf-78f2-80e0-{f:012x}");
        let path = write_session(&sessions, &uuid, "start");
        for i in 0..16u32 {
            let text: String = (0..32)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    format!("{:016x}", x)
                })
                .collect();
            append_user(&path, &text, i + 2);
        }
        files.push((uuid, path));
    }
    let limit = 64 << 10;
    let store = Store::open_with(
        &dir.path().join("db.sqlite3"),
        StoreOptions {
            raw_retention_bytes: limit,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let writer = store.start_writer().unwrap();
    let providers = codex(dir.path());
    let ingestor = Ingestor::new(&providers, writer.clone(), IngestOptions::default());
    let summary = ingestor
        .run_once(&store.read().unwrap(), &NoProgress)
        .unwrap();
    let codex = &summary.providers[0];
    let lines = 48 * 18;
    assert_eq!((codex.lines, codex.errors), (lines, 0));
    assert!(
        codex.raw_not_kept > lines / 2,
        "only {} of {lines} raw records left out",
        codex.raw_not_kept
    );

    // Every message is stored; the raw log still holds about its cap of the
    // records read last.
    let reader = store.read().unwrap();
    let (mut kept_records, mut kept_bytes) = (0u64, 0u64);
    for (uuid, path) in &files {
        assert_eq!(items(&store, uuid), 17, "{uuid}");
        let raw = reader
            .raw_records(ProviderKind::Codex, path.to_str().unwrap())
            .unwrap();
        kept_records += raw.len() as u64;
        kept_bytes += raw.iter().map(|r| r.text.len() as u64).sum::<u64>();
    }
    assert!(kept_records + codex.raw_not_kept <= lines);
    // The writer prunes to 90% of the cap, and hex barely compresses: about
    // 58 KiB of records. Skipping four times too much keeps about 40 KiB.
    assert!(
        kept_bytes >= limit * 3 / 4,
        "the raw log keeps only {kept_bytes} bytes of records"
    );

    // A second pass reads nothing and changes nothing.
    let again = ingestor
        .run_once(&store.read().unwrap(), &NoProgress)
        .unwrap();
    assert_eq!(
        (
            again.providers[0].files_read,
            again.providers[0].raw_not_kept
        ),
        (0, 0)
    );
    writer.shutdown().unwrap();
}
