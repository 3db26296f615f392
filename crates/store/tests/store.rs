//! Behaviour of the store through its public API: writer, revisions, merges,
//! retention and queries.

mod common;

use common::*;
use tinyvex_model::{
    ItemKind, ItemPatch, ParsedEvent, ProviderKind, Revision, ThreadPatch, ToolPatch,
};
use tinyvex_store::{Error, ItemQuery, Store, StoreOptions, ThreadQuery};

const CODEX: ProviderKind = ProviderKind::Codex;
const CLAUDE: ProviderKind = ProviderKind::Claude;

/// A realistic little ingest: two files, one thread each, plus a broken file.
fn sample_batches() -> Vec<tinyvex_model::FileBatch> {
    let mut first = batch(
        CODEX,
        "/s/a.jsonl",
        Some("sess-a"),
        300,
        vec![
            meta(ThreadPatch {
                cwd: Some("/work".into()),
                model: Some("gpt-5".into()),
                created_at: Some(900),
                ..ThreadPatch::default()
            }),
            raw(0, "{\"type\":\"session_meta\"}"),
            text("0", 0, ItemKind::User, 1_000, "fix the bug"),
            raw(100, "{\"type\":\"message\"}"),
            tool("call_1", 1, Some(1_100), call("{\"cmd\":\"ls\"}")),
        ],
    );
    first.line_errors.push(line_error(200, "bad json"));
    let second = batch(
        CODEX,
        "/s/a.jsonl",
        Some("sess-a"),
        600,
        vec![
            tool("call_1", 1, Some(1_200), output("file.txt", 0)),
            text("400", 2, ItemKind::Assistant, 1_500, "done"),
            ParsedEvent::Item(ItemPatch {
                data: Some(serde_json::json!({"total_tokens": 42})),
                ..match text("500", 3, ItemKind::Usage, 1_600, "") {
                    ParsedEvent::Item(i) => ItemPatch { text: None, ..i },
                    _ => unreachable!(),
                }
            }),
        ],
    );
    let other = batch(
        CLAUDE,
        "/c/b.jsonl",
        Some("sess-b"),
        50,
        vec![text("u1", 0, ItemKind::User, 5_000, "hello")],
    );
    let mut broken = batch(CLAUDE, "/c/broken.jsonl", None, 0, Vec::new());
    broken.file_error = Some("permission denied".into());
    vec![first, second, other, broken]
}

#[test]
fn reingesting_identical_data_changes_nothing() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    for b in sample_batches() {
        writer.submit(b).unwrap();
    }
    let rev = writer.flush().unwrap();
    assert!(rev.0 >= 1);
    let reader = store.read().unwrap();
    let before = dump(&reader);
    assert_eq!(count(&reader, "SELECT count(*) FROM items"), 5);

    // Replay, one batch per commit and all at once: nothing may change.
    for b in sample_batches() {
        writer.submit(b).unwrap();
        assert_eq!(writer.flush().unwrap(), rev);
    }
    for b in sample_batches() {
        writer.submit(b).unwrap();
    }
    assert_eq!(writer.flush().unwrap(), rev);
    assert_eq!(dump(&reader), before);
    assert_eq!(reader.revision().unwrap(), rev);
    writer.shutdown().unwrap();
}

#[test]
fn tool_output_merges_into_the_call_and_counts_once() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    writer
        .submit(batch(
            CODEX,
            "/a",
            Some("s"),
            10,
            vec![tool("c1", 5, Some(1_000), call("{}"))],
        ))
        .unwrap();
    let r1 = writer.flush().unwrap();
    writer
        .submit(batch(
            CODEX,
            "/a",
            Some("s"),
            20,
            vec![tool("c1", 99, Some(3_000), output("ok\n", 0))],
        ))
        .unwrap();
    let r2 = writer.flush().unwrap();
    assert_eq!(r2.0, r1.0 + 1);

    let reader = store.read().unwrap();
    let thread = reader.thread("codex-s").unwrap().unwrap();
    assert_eq!(thread.item_count, 1);
    assert_eq!(thread.revision, r2.0);
    assert_eq!(
        thread.updated_at.as_deref(),
        Some("1970-01-01T00:00:03.000Z")
    );
    assert_eq!(
        thread.created_at.as_deref(),
        Some("1970-01-01T00:00:01.000Z")
    );
    let calls = reader.tool_calls("codex-s").unwrap();
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert_eq!(c.id, "codex-s/c1");
    assert_eq!(c.seq, 5, "seq is fixed at insert");
    assert_eq!(c.kind, "tool_call");
    assert_eq!(c.input.as_deref(), Some("{}"));
    assert_eq!(c.command.as_deref(), Some("ls -la"));
    assert_eq!(c.output.as_deref(), Some("ok\n"));
    assert_eq!(c.exit_code, Some(0));
    assert_eq!(c.status.as_deref(), Some("completed"));
    assert_eq!(c.ended_at.as_deref(), Some("1970-01-01T00:00:02.000Z"));
    assert_eq!(c.revision, r2.0);

    // A patch that repeats stored values is not a change.
    writer
        .submit(batch(
            CODEX,
            "/a",
            Some("s"),
            20,
            vec![tool(
                "c1",
                5,
                None,
                ToolPatch {
                    exit_code: Some(0),
                    ..Default::default()
                },
            )],
        ))
        .unwrap();
    assert_eq!(writer.flush().unwrap(), r2);
}

#[test]
fn queued_batches_are_group_committed() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    for i in 0..300 {
        let sid = format!("s{i:03}");
        writer
            .submit(batch(
                CODEX,
                &format!("/f{i}"),
                Some(&sid),
                10,
                vec![text("k", 0, ItemKind::User, i, "hi")],
            ))
            .unwrap();
    }
    let rev = writer.flush().unwrap();
    assert!(rev.0 >= 1 && rev.0 < 100, "300 batches took {rev} commits");
    let reader = store.read().unwrap();
    assert_eq!(count(&reader, "SELECT count(*) FROM threads"), 300);
    assert_eq!(count(&reader, "SELECT count(*) FROM items"), 300);
    assert_eq!(count(&reader, "SELECT count(*) FROM files"), 300);
    assert_eq!(
        count(&reader, "SELECT max(revision) FROM items"),
        rev.0 as i64
    );
}

#[test]
fn thread_fields_merge_by_their_rules() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    let patch = |title: &str, model: &str, created: i64| ThreadPatch {
        title: Some(title.into()),
        cwd: Some(format!("/{title}")),
        git_branch: Some(format!("b-{title}")),
        model: Some(model.into()),
        created_at: Some(created),
        parent_session_id: Some(format!("p-{title}")),
        agent_version: Some(format!("v-{model}")),
        title_at: None,
    };
    writer
        .submit(batch(
            CODEX,
            "/a",
            Some("s"),
            1,
            vec![meta(patch("first", "m1", 5_000))],
        ))
        .unwrap();
    writer
        .submit(batch(
            CODEX,
            "/a",
            Some("s"),
            2,
            vec![
                meta(patch("second", "m2", 2_000)),
                meta(ThreadPatch::default()),
            ],
        ))
        .unwrap();
    writer
        .submit(batch(
            CODEX,
            "/a",
            Some("s"),
            3,
            vec![meta(ThreadPatch {
                created_at: Some(9_000),
                model: None,
                ..Default::default()
            })],
        ))
        .unwrap();
    writer.flush().unwrap();
    let t = store.read().unwrap().thread("codex-s").unwrap().unwrap();
    assert_eq!(t.title.as_deref(), Some("first"));
    assert_eq!(t.cwd.as_deref(), Some("/first"));
    assert_eq!(t.git_branch.as_deref(), Some("b-first"));
    assert_eq!(t.parent_session_id.as_deref(), Some("p-first"));
    assert_eq!(t.model.as_deref(), Some("m2"));
    assert_eq!(t.agent_version.as_deref(), Some("v-m2"));
    assert_eq!(t.created_at_ms, Some(2_000));
    assert_eq!(t.provider, "codex");
    assert_eq!(t.session_id, "s");
    assert_eq!(t.source_files, vec!["/a".to_string()]);
    assert!(!t.source_missing);
}

#[test]
fn raw_retention_prunes_the_oldest_records() {
    let (_dir, store) = open_with(StoreOptions {
        raw_retention_bytes: 10_000,
        ..StoreOptions::default()
    });
    let writer = store.start_writer().unwrap();
    // Hex of a simple hash sequence: text that LZ4 cannot shrink much.
    let mut x: u64 = 1;
    let mut body = || {
        (0..32)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                format!("{:016x}", x)
            })
            .collect::<String>()
    };
    for chunk in 0..10u64 {
        let mut events: Vec<_> = (0..10u64)
            .map(|i| raw((chunk * 10 + i) * 1_000, &body()))
            .collect();
        if chunk == 0 {
            events.push(meta(ThreadPatch {
                cwd: Some("/w".into()),
                ..ThreadPatch::default()
            }));
        }
        writer
            .submit(batch(CODEX, "/a", Some("s"), (chunk + 1) * 10_000, events))
            .unwrap();
        writer.flush().unwrap();
    }
    let reader = store.read().unwrap();
    let total = count(&reader, "SELECT sum(bytes) FROM raw_chunks");
    assert!(total <= 10_000, "raw log holds {total} bytes");
    assert!(total >= 3_000, "pruned far too much: {total}");
    assert_eq!(
        count(&reader, "SELECT value FROM meta WHERE key = 'raw_bytes'"),
        total
    );
    // The newest records survive, the oldest are gone, and what is kept is
    // a contiguous run ending at the newest.
    let kept = reader
        .raw_records(tinyvex_model::ProviderKind::Codex, "/a")
        .unwrap();
    let offsets: Vec<u64> = kept.iter().map(|r| r.offset).collect();
    assert_eq!(offsets.last(), Some(&99_000));
    assert!(offsets[0] > 0, "the oldest chunk was pruned");
    assert_eq!(offsets.len() as u64, (99_000 - offsets[0]) / 1_000 + 1);
    // Pruning does not touch threads: the thread keeps its first revision.
    let t = reader.thread("codex-s").unwrap().unwrap();
    assert_eq!(t.revision, 1);
}

#[test]
fn readers_see_committed_data_and_the_pool_reuses_connections() {
    let (_dir, store) = open_with(StoreOptions {
        read_pool_size: 2,
        ..StoreOptions::default()
    });
    let early = store.read().unwrap();
    assert_eq!(early.revision().unwrap(), Revision(0));
    assert!(early.threads(&ThreadQuery::default()).unwrap().is_empty());
    let writer = store.start_writer().unwrap();
    writer
        .submit(batch(
            CODEX,
            "/a",
            Some("s"),
            10,
            vec![text("k", 0, ItemKind::User, 7, "hello")],
        ))
        .unwrap();
    let rev = writer.flush().unwrap();
    assert_eq!(early.revision().unwrap(), rev);
    let threads = early.threads(&ThreadQuery::default()).unwrap();
    assert_eq!(threads.len(), 1);
    assert_eq!(
        early.items("codex-s", ItemQuery::All).unwrap()[0]
            .text
            .as_deref(),
        Some("hello")
    );
    // More readers than the pool size, one after the other: no exhaustion.
    drop(early);
    for _ in 0..10 {
        let a = store.read().unwrap();
        let b = store.read().unwrap();
        assert_eq!(a.revision().unwrap(), b.revision().unwrap());
    }
    assert!(matches!(
        store.start_writer(),
        Err(Error::WriterAlreadyStarted)
    ));
    writer.shutdown().unwrap();
}

#[test]
fn status_counts_files_threads_items_bytes_and_errors() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    for b in sample_batches() {
        writer.submit(b).unwrap();
    }
    writer.flush().unwrap();
    let r = store.read().unwrap();
    let status = r.status().unwrap();
    assert_eq!(status.len(), 4);
    let codex = &status[0];
    assert_eq!(
        (
            codex.provider.as_str(),
            codex.files,
            codex.threads,
            codex.items
        ),
        ("codex", 1, 1, 4)
    );
    assert_eq!(codex.bytes_ingested, 600);
    assert_eq!(codex.errors, 1);
    assert_eq!(codex.last_error.as_deref(), Some("bad json"));
    assert_eq!(codex.last_error_file.as_deref(), Some("/s/a.jsonl"));
    assert!(codex.last_error_at.is_some());
    let claude = &status[1];
    assert_eq!(
        (claude.files, claude.threads, claude.items, claude.errors),
        (2, 1, 1, 1)
    );
    assert_eq!(claude.last_error.as_deref(), Some("permission denied"));
    assert_eq!(claude.last_error_file.as_deref(), Some("/c/broken.jsonl"));
    assert_eq!(status[2].files + status[3].threads, 0);

    // Cursors come back for resuming.
    let cursors = r.file_cursors(CODEX).unwrap();
    assert_eq!(cursors.len(), 1);
    let c = &cursors["/s/a.jsonl"];
    assert_eq!(
        (c.dev, c.ino, c.offset, c.parser_state.as_str()),
        (1, 42, 600, "{\"at\":600}")
    );

    // Fixing the file clears its error; the bad line is still counted once.
    let mut fixed = batch(CLAUDE, "/c/broken.jsonl", None, 0, Vec::new());
    fixed.file_error = None;
    writer.submit(fixed).unwrap();
    let mut again = sample_batches().remove(0);
    again.line_errors.push(line_error(200, "bad json"));
    writer.submit(again).unwrap();
    writer.flush().unwrap();
    let status = r.status().unwrap();
    assert_eq!(status[0].errors, 1);
    assert_eq!(status[1].errors, 0);
}

#[test]
fn reset_drops_stale_raw_records_but_keeps_items() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    let first = sample_batches().remove(0);
    writer.submit(first).unwrap();
    writer.flush().unwrap();
    let mut again = batch(CODEX, "/s/a.jsonl", Some("sess-a"), 50, vec![raw(0, "new")]);
    again.reset = true;
    writer.submit(again).unwrap();
    writer.flush().unwrap();
    let r = store.read().unwrap();
    assert_eq!(count(&r, "SELECT count(*) FROM items"), 2);
    let kept = r
        .raw_records(tinyvex_model::ProviderKind::Codex, "/s/a.jsonl")
        .unwrap();
    let texts: Vec<&str> = kept.iter().map(|x| x.text.as_str()).collect();
    assert_eq!(texts, vec!["new"]);
    assert_eq!(
        count(&r, "SELECT value FROM meta WHERE key = 'raw_bytes'"),
        count(&r, "SELECT sum(bytes) FROM raw_chunks")
    );
    assert_eq!(count(&r, "SELECT count(*) FROM ingest_errors"), 0);
    assert_eq!(r.status().unwrap()[0].errors, 0);
}

#[test]
fn reopening_keeps_revision_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let rev = {
        let store = Store::open(&path).unwrap();
        let writer = store.start_writer().unwrap();
        for b in sample_batches() {
            writer.submit(b).unwrap();
        }
        let rev = writer.flush().unwrap();
        drop(writer); // last clone: stops and joins the thread
        rev
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(store.read().unwrap().revision().unwrap(), rev);
    let writer = store.start_writer().unwrap();
    let commits = writer.subscribe_commits();
    writer
        .submit(batch(
            CODEX,
            "/new",
            Some("n"),
            1,
            vec![text("k", 0, ItemKind::User, 1, "x")],
        ))
        .unwrap();
    let next = writer.flush().unwrap();
    assert_eq!(next.0, rev.0 + 1);
    assert_eq!(commits.try_recv().unwrap(), next);
    writer.shutdown().unwrap();
}

#[test]
fn handles_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Store>();
    send_sync::<tinyvex_store::WriterClient>();
    send::<tinyvex_store::Reader>();
}

#[test]
fn readers_open_after_the_writer_closed() {
    let (dir, store) = open();
    let writer = store.start_writer().unwrap();
    writer
        .submit(batch(
            CODEX,
            "/a",
            Some("s"),
            1,
            vec![text("k", 0, ItemKind::User, 1, "x")],
        ))
        .unwrap();
    let rev = writer.flush().unwrap();
    // No reader exists yet: closing the writer closes the last connection.
    writer.shutdown().unwrap();
    assert!(!dir.path().join("sub/dir/tinyvex.db-wal").exists());
    let r = store.read().unwrap();
    assert_eq!(r.revision().unwrap(), rev);
    assert_eq!(r.thread("s").unwrap().unwrap().item_count, 1);
}

#[test]
fn a_title_from_earlier_in_the_session_wins_whatever_the_reading_order() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    let titled = |title: &str, at: Option<i64>| {
        meta(ThreadPatch {
            title: Some(title.into()),
            title_at: at,
            ..ThreadPatch::default()
        })
    };
    let steps = [
        titled("third prompt", Some(300)),
        titled("first prompt", Some(100)),
        titled("second prompt", Some(200)),
        // Without a time: only fills an empty title.
        titled("untimed", None),
    ];
    for (n, step) in steps.into_iter().enumerate() {
        writer
            .submit(batch(CODEX, "/a", Some("s"), n as u64 + 1, vec![step]))
            .unwrap();
        writer.flush().unwrap();
    }
    let t = store.read().unwrap().thread("codex-s").unwrap().unwrap();
    assert_eq!(t.title.as_deref(), Some("first prompt"));
}
