//! A deleted source file: its thread and items stay, marked as having lost
//! their source, until the file comes back.

use tinyvex_ingest::{IngestOptions, Ingestor, NoProgress};
use tinyvex_providers::{CodexProvider, Provider};
use tinyvex_store::{ItemQuery, Store};

const UUID: &str = "01a20040-17cf-78f2-80e0-f2cc1b712842";

fn pass(store: &Store, providers: &[Box<dyn Provider>]) {
    let writer = store.start_writer().unwrap();
    let reader = store.read().unwrap();
    Ingestor::new(providers, writer.clone(), IngestOptions::default())
        .run_once(&reader, &NoProgress)
        .unwrap();
    writer.shutdown().unwrap();
}

#[test]
fn deleted_file_keeps_its_thread_marked_source_missing() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = dir.path().join("sessions/2026/01/01");
    std::fs::create_dir_all(&sessions).unwrap();
    let file = sessions.join(format!("rollout-2026-01-01T00-00-00-{UUID}.jsonl"));
    let text = concat!(
        r#"{"timestamp":"2026-01-01T00:00:00.000Z","type":"session_meta","payload":{"id":"01a20040-17cf-78f2-80e0-f2cc1b712842","timestamp":"2026-01-01T00:00:00.000Z","cwd":"/w","originator":"x","cli_version":"0.1"}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:01.000Z","type":"event_msg","payload":{"type":"user_message","message":"hello"}}"#,
        "\n",
    );
    std::fs::write(&file, text).unwrap();
    let providers: Vec<Box<dyn Provider>> = vec![Box::new(CodexProvider::with_roots(vec![dir
        .path()
        .join("sessions")]))];
    let db = dir.path().join("db.sqlite3");
    let thread_id = format!("codex-{UUID}");

    pass(&Store::open(&db).unwrap(), &providers);
    std::fs::remove_file(&file).unwrap();
    pass(&Store::open(&db).unwrap(), &providers);
    let store = Store::open(&db).unwrap();
    let reader = store.read().unwrap();
    let thread = reader.thread(&thread_id).unwrap().unwrap();
    assert!(thread.source_missing);
    assert_eq!(reader.items(&thread_id, ItemQuery::All).unwrap().len(), 1);
    let codex = &reader.status().unwrap()[0];
    assert_eq!((codex.files, codex.missing_files, codex.items), (0, 1, 1));
    let revision = reader.revision().unwrap();
    drop(reader);

    // Another pass with the file still gone changes nothing.
    pass(&Store::open(&db).unwrap(), &providers);
    assert_eq!(
        Store::open(&db)
            .unwrap()
            .read()
            .unwrap()
            .revision()
            .unwrap(),
        revision
    );

    // The file comes back: the mark clears, nothing is duplicated.
    std::fs::write(&file, text).unwrap();
    pass(&Store::open(&db).unwrap(), &providers);
    let store = Store::open(&db).unwrap();
    let reader = store.read().unwrap();
    let thread = reader.thread(&thread_id).unwrap().unwrap();
    assert!(!thread.source_missing);
    assert_eq!(thread.item_count, 1);
    assert_eq!(reader.status().unwrap()[0].missing_files, 0);
}
