//! The change feed: `changes_since`, `items_since`, `item` and `snapshot`.

mod common;

use common::*;
use tinyvex_model::{ItemKind, ProviderKind, Revision};
use tinyvex_store::{ControlWrite, Error, ItemQuery, Store, ThreadQuery, WriterClient};

const CODEX: ProviderKind = ProviderKind::Codex;

fn user(key: &str, seq: i64) -> tinyvex_model::ParsedEvent {
    text(
        key,
        seq,
        ItemKind::User,
        1_000 + seq,
        &format!("text {key}"),
    )
}

/// Batch A (threads codex-a and codex-b) → R1, batch B (a new item in
/// codex-a, a new thread codex-c) → R2.
fn two_commits(writer: &WriterClient) -> (Revision, Revision) {
    writer
        .submit(batch(
            CODEX,
            "/a",
            Some("a"),
            10,
            vec![user("a1", 1), user("a2", 2)],
        ))
        .unwrap();
    writer
        .submit(batch(CODEX, "/b", Some("b"), 10, vec![user("b1", 1)]))
        .unwrap();
    let r1 = writer.flush().unwrap();
    writer
        .submit(batch(CODEX, "/a", Some("a"), 20, vec![user("a3", 3)]))
        .unwrap();
    writer
        .submit(batch(
            CODEX,
            "/c",
            Some("c"),
            10,
            vec![user("c2", 2), user("c1", 1)],
        ))
        .unwrap();
    let r2 = writer.flush().unwrap();
    assert!(r2 > r1);
    (r1, r2)
}

fn ids<T>(rows: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    rows.iter().map(|r| id(r).to_string()).collect()
}

#[test]
fn changes_since_returns_exactly_what_changed() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    let (r1, r2) = two_commits(&writer);
    let r = store.read().unwrap();

    let c = r.changes_since(r1, 100).unwrap();
    assert_eq!((c.from, c.to), (r1, r2));
    assert_eq!(ids(&c.threads, |t| &t.id), ["codex-a", "codex-c"]);
    assert!(c
        .threads
        .iter()
        .all(|t| t.revision > r1.0 && t.revision <= r2.0));
    // Rows are the same as the listing returns.
    let listed = r
        .threads(&ThreadQuery {
            since: Some(r1),
            ..ThreadQuery::default()
        })
        .unwrap();
    for t in &c.threads {
        assert!(listed.contains(t));
    }
    let items = c.items.as_ref().unwrap();
    assert_eq!(
        ids(items, |i| &i.id),
        ["codex-a/a3", "codex-c/c1", "codex-c/c2"],
        "ordered by thread, then seq"
    );
    assert_eq!(items[0].thread_id, "codex-a");
    assert_eq!(items[0].text.as_deref(), Some("text a3"));
    assert!(!c.settings_changed && !c.aliases_changed);
    assert!(!c.is_empty());

    let none = r.changes_since(r2, 100).unwrap();
    assert_eq!((none.from, none.to), (r2, r2));
    assert!(none.threads.is_empty());
    assert_eq!(none.items, Some(Vec::new()));
    assert!(none.is_empty());

    let all = r.changes_since(Revision(0), 100).unwrap();
    assert_eq!(all.threads.len(), 3);
    assert_eq!(
        ids(&all.threads, |t| &t.id),
        ["codex-b", "codex-a", "codex-c"],
        "ordered by revision, then id"
    );
    assert_eq!(all.items.unwrap().len(), 6);

    // A revision from the future (another database) is simply empty.
    assert!(r.changes_since(Revision(u64::MAX), 10).unwrap().is_empty());
}

#[test]
fn changes_since_reports_control_changes() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    let (_, r2) = two_commits(&writer);
    let r3 = writer
        .control(ControlWrite::SetSetting {
            key: "two_way".into(),
            value: "true".into(),
        })
        .unwrap();
    let r = store.read().unwrap();
    let c = r.changes_since(r2, 10).unwrap();
    assert_eq!(c.to, r3);
    assert!(c.settings_changed && !c.aliases_changed);
    assert!(c.threads.is_empty());

    let r4 = writer
        .control(ControlWrite::SetAlias {
            alias: "mine".into(),
            thread_id: "codex-a".into(),
        })
        .unwrap();
    let c = r.changes_since(r3, 10).unwrap();
    assert!(!c.settings_changed && c.aliases_changed);
    // A removal leaves no row but is still a change.
    writer
        .control(ControlWrite::RemoveAlias {
            alias: "mine".into(),
        })
        .unwrap();
    let c = r.changes_since(r4, 10).unwrap();
    assert!(c.aliases_changed);
    assert!(!c.is_empty());
}

#[test]
fn too_many_changed_items_leave_items_out() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    let (r1, _) = two_commits(&writer);
    let r = store.read().unwrap();
    // Three items changed after r1.
    assert_eq!(r.changes_since(r1, 3).unwrap().items.unwrap().len(), 3);
    let c = r.changes_since(r1, 2).unwrap();
    assert_eq!(c.items, None);
    assert_eq!(c.threads.len(), 2, "threads are listed regardless");
    assert_eq!(r.changes_since(r1, 0).unwrap().items, None);
    assert_eq!(
        r.changes_since(r1, usize::MAX)
            .unwrap()
            .items
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn items_since_reads_one_thread_with_a_limit() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    let (r1, r2) = two_commits(&writer);
    let r = store.read().unwrap();
    let keys = |rows: Option<Vec<tinyvex_store::ItemRow>>| -> Option<Vec<String>> {
        rows.map(|rows| rows.into_iter().map(|i| i.id).collect())
    };
    assert_eq!(
        keys(r.items_since("codex-c", r1, 2).unwrap()),
        Some(vec!["codex-c/c1".into(), "codex-c/c2".into()])
    );
    assert_eq!(r.items_since("codex-c", r1, 1).unwrap(), None);
    assert_eq!(
        keys(r.items_since("codex-a", r1, 1).unwrap()),
        Some(vec!["codex-a/a3".into()])
    );
    assert_eq!(
        keys(r.items_since("codex-a", Revision(0), 10).unwrap()).unwrap(),
        ["codex-a/a1", "codex-a/a2", "codex-a/a3"]
    );
    assert_eq!(r.items_since("codex-b", r1, 0).unwrap(), Some(Vec::new()));
    assert_eq!(r.items_since("codex-a", r2, 0).unwrap(), Some(Vec::new()));
    assert_eq!(
        r.items_since("nope", Revision(0), 5).unwrap(),
        Some(Vec::new())
    );
    // Same rows as the existing per-thread query.
    assert_eq!(
        r.items_since("codex-a", r1, 10).unwrap().unwrap(),
        r.items("codex-a", ItemQuery::Since(r1)).unwrap()
    );
}

#[test]
fn item_looks_up_one_item_by_public_id() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    writer
        .submit(batch(
            CODEX,
            "/a",
            Some("a"),
            10,
            vec![
                user("plain", 1),
                tool("call/1/x", 2, Some(1_500), call("{\"cmd\":\"ls\"}")),
            ],
        ))
        .unwrap();
    writer.flush().unwrap();
    let r = store.read().unwrap();
    let plain = r.item("codex-a/plain").unwrap().unwrap();
    assert_eq!(plain.kind, "user");
    assert_eq!(plain.thread_id, "codex-a");
    let tool = r.item("codex-a/call/1/x").unwrap().unwrap();
    assert_eq!(tool.id, "codex-a/call/1/x", "keys may contain '/'");
    assert_eq!(tool.kind, "tool_call");
    assert_eq!(tool.command.as_deref(), Some("ls -la"));
    assert_eq!(
        Some(&tool),
        r.tool_calls("codex-a").unwrap().first(),
        "same row as the thread's tool calls"
    );
    for missing in ["codex-a/nope", "codex-b/plain", "codex-a", "", "/plain"] {
        assert_eq!(r.item(missing).unwrap(), None, "{missing}");
    }
}

#[test]
fn a_snapshot_sees_one_state_and_its_revision_agrees() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    let (_, r2) = two_commits(&writer);
    let r = store.read().unwrap();
    let (rev, threads, later) = r
        .snapshot(|r| {
            let rev = r.revision()?;
            // A commit lands while the snapshot is open.
            writer
                .submit(batch(CODEX, "/d", Some("d"), 10, vec![user("d1", 1)]))
                .unwrap();
            let later = writer.flush().unwrap();
            let threads = r.threads(&ThreadQuery::default())?;
            // Nested snapshots join the outer one.
            let inner = r.snapshot(|r| r.changes_since(Revision(0), 100))?;
            assert_eq!(inner.to, rev);
            assert_eq!(r.revision()?, rev);
            Ok((rev, threads, later))
        })
        .unwrap();
    assert_eq!(rev, r2);
    assert!(later > r2);
    assert_eq!(threads.len(), 3, "the later commit is not visible");
    assert_eq!(
        threads.iter().map(|t| t.revision).max(),
        Some(rev.0),
        "rows and revision agree"
    );
    // After the snapshot the reader sees the new state again.
    assert_eq!(r.revision().unwrap(), later);
    assert!(r.connection().is_autocommit());

    // A failing body rolls back and the reader stays usable.
    let err = r
        .snapshot(|r| -> tinyvex_store::Result<()> {
            r.revision()?;
            Err(Error::InvalidControl("boom".into()))
        })
        .unwrap_err();
    assert!(matches!(err, Error::InvalidControl(_)));
    assert!(r.connection().is_autocommit());
    assert_eq!(r.thread("d").unwrap().unwrap().id, "codex-d");
}

#[test]
fn resuming_before_the_minimum_revision_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    {
        let store = Store::open(&path).unwrap();
        let writer = store.start_writer().unwrap();
        two_commits(&writer);
        writer.shutdown().unwrap();
    }
    {
        // What a future compaction would record after deleting rows.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "UPDATE meta SET value = 2 WHERE key = 'min_resume_revision'",
            [],
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let r = store.read().unwrap();
    assert_eq!(r.min_resume_revision().unwrap(), Revision(2));
    assert!(matches!(
        r.changes_since(Revision(1), 10),
        Err(Error::ResumeTooOld {
            since: Revision(1),
            min: Revision(2)
        })
    ));
    assert!(matches!(
        r.items_since("codex-a", Revision(0), 10),
        Err(Error::ResumeTooOld { .. })
    ));
    assert!(r.connection().is_autocommit());
    let from_min = r.changes_since(Revision(2), 10).unwrap();
    assert_eq!(from_min.to, r.revision().unwrap());
}
