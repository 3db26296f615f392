//! Failure handling of the writer, using hooks on the write connection.

use tinyvex_model::{
    FileBatch, FileCursor, ItemKind, ItemPatch, ParsedEvent, ProviderKind, RawRecord,
};

use crate::{Error, Store};

/// A batch of Codex events for `path` (shared with other unit tests).
pub(crate) fn batch(path: &str, session: &str, events: Vec<ParsedEvent>) -> FileBatch {
    FileBatch {
        provider: ProviderKind::Codex,
        path: path.into(),
        session_id: Some(session.into()),
        events,
        cursor: FileCursor {
            offset: 10,
            ..FileCursor::default()
        },
        bytes_read: 10,
        line_errors: Vec::new(),
        file_error: None,
        reset: false,
        gone: false,
        raw: None,
    }
}

fn item(key: &str) -> ParsedEvent {
    ParsedEvent::Item(ItemPatch::text(
        key.into(),
        0,
        ItemKind::User,
        Some(1),
        "x".into(),
    ))
}

fn count(store: &Store, sql: &str) -> i64 {
    store
        .read()
        .unwrap()
        .connection()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_bad_batch_does_not_take_its_group_down() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    // A temp trigger makes one specific item fail like a constraint would.
    store.with_write_conn(|c| {
        c.execute_batch(
            "CREATE TEMP TRIGGER boom BEFORE INSERT ON main.items WHEN NEW.key = 'bad'
             BEGIN SELECT RAISE(ABORT, 'boom'); END;",
        )
        .unwrap()
    });
    let writer = store.start_writer().unwrap();
    for i in 0..20 {
        let key = if i == 7 { "bad" } else { "good" };
        writer
            .submit(batch(&format!("/f{i}"), &format!("s{i}"), vec![item(key)]))
            .unwrap();
    }
    writer.flush().unwrap();
    assert_eq!(writer.failed_batches(), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM items"), 19);
    assert_eq!(count(&store, "SELECT count(*) FROM threads"), 19);
    // The bad batch's cursor was not stored: the file is read again next time.
    assert_eq!(
        count(&store, "SELECT count(*) FROM files WHERE path = '/f7'"),
        0
    );
    // The writer keeps going; its thread cache was rebuilt after the rollback.
    writer
        .submit(batch("/f8", "s8", vec![item("more")]))
        .unwrap();
    writer.flush().unwrap();
    assert_eq!(
        count(
            &store,
            "SELECT item_count FROM threads WHERE id = 'codex-s8'"
        ),
        2
    );
    writer.shutdown().unwrap();
}

#[test]
fn a_full_disk_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    store.with_write_conn(|c| {
        let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        c.execute_batch(&format!("PRAGMA max_page_count = {}", pages + 2))
            .unwrap();
    });
    let writer = store.start_writer().unwrap();
    let big = ParsedEvent::Raw(RawRecord {
        offset: 0,
        kind: "x".into(),
        // Pseudo-random hex: the raw log compresses, so the text must not.
        text: (0..12_500u64)
            .map(|i| {
                format!(
                    "{:016x}",
                    i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17)
                )
            })
            .collect(),
    });
    writer.submit(batch("/a", "s", vec![big])).unwrap();
    let err = writer.flush().unwrap_err();
    assert!(err.is_disk_full(), "{err}");
    assert!(matches!(err, Error::DiskFull(_)));
    assert_eq!(writer.failed_batches(), 1);
    // Reported once; small writes that fit still work.
    writer.submit(batch("/b", "t", vec![item("k")])).unwrap();
    assert!(writer.flush().is_ok());
    assert_eq!(count(&store, "SELECT count(*) FROM items"), 1);
    writer.shutdown().unwrap();
}
