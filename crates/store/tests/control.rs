//! Control writes (settings, aliases), store metadata and migration 3.

mod common;

use std::sync::mpsc::TryRecvError;

use common::*;
use tinyvex_model::{ItemKind, ProviderKind, Revision};
use tinyvex_store::migrations::{latest_version, MIGRATIONS};
use tinyvex_store::{ControlWrite, Error, Store};

const CODEX: ProviderKind = ProviderKind::Codex;

fn set(key: &str, value: &str) -> ControlWrite {
    ControlWrite::SetSetting {
        key: key.into(),
        value: value.into(),
    }
}

fn alias(alias: &str, thread_id: &str) -> ControlWrite {
    ControlWrite::SetAlias {
        alias: alias.into(),
        thread_id: thread_id.into(),
    }
}

fn unalias(alias: &str) -> ControlWrite {
    ControlWrite::RemoveAlias {
        alias: alias.into(),
    }
}

#[test]
fn control_writes_bump_the_revision_once_and_are_idempotent() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    let commits = writer.subscribe_commits();
    let r0 = writer.revision();

    let r1 = writer.control(set("two_way", "true")).unwrap();
    assert_eq!(r1.0, r0.0 + 1);
    assert_eq!(commits.try_recv().unwrap(), r1);
    // The same value again changes nothing and wakes nobody.
    assert_eq!(writer.control(set("two_way", "true")).unwrap(), r1);
    assert_eq!(commits.try_recv(), Err(TryRecvError::Empty));

    let r2 = writer.control(set("two_way", "false")).unwrap();
    assert_eq!(r2.0, r1.0 + 1);
    assert_eq!(commits.try_recv().unwrap(), r2);

    let r3 = writer.control(alias("mine-1", "codex-s")).unwrap();
    assert_eq!(r3.0, r2.0 + 1);
    assert_eq!(writer.control(alias("mine-1", "codex-s")).unwrap(), r3);
    let r4 = writer.control(alias("mine-1", "codex-t")).unwrap();
    assert_eq!(r4.0, r3.0 + 1);
    let r5 = writer.control(unalias("mine-1")).unwrap();
    assert_eq!(r5.0, r4.0 + 1);
    assert_eq!(
        writer.control(unalias("mine-1")).unwrap(),
        r5,
        "removing twice"
    );
    assert_eq!(
        commits.try_iter().collect::<Vec<_>>(),
        vec![r3, r4, r5],
        "one notification per change"
    );
    assert_eq!(writer.flush().unwrap(), r5);

    let r = store.read().unwrap();
    assert_eq!(r.revision().unwrap(), r5);
    assert_eq!(r.setting("two_way").unwrap().as_deref(), Some("false"));
    assert_eq!(r.setting("nope").unwrap(), None);
    assert_eq!(r.alias("mine-1").unwrap(), None);
    // Rows carry the revision of their last change.
    assert_eq!(
        count(&r, "SELECT revision FROM settings WHERE key = 'two_way'"),
        r2.0 as i64
    );
}

#[test]
fn empty_keys_are_rejected_before_the_writer() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    for write in [
        set("", "x"),
        alias("", "codex-s"),
        alias("a", ""),
        unalias(""),
    ] {
        assert!(
            matches!(writer.control(write.clone()), Err(Error::InvalidControl(_))),
            "{write:?}"
        );
    }
    assert_eq!(writer.flush().unwrap(), Revision(0));
    // An empty value is a value.
    assert_eq!(writer.control(set("k", "")).unwrap(), Revision(1));
}

#[test]
fn control_state_persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let (rev, id) = {
        let store = Store::open(&path).unwrap();
        let writer = store.start_writer().unwrap();
        writer
            .control(set("provider.codex.enabled", "false"))
            .unwrap();
        writer.control(set("two_way", "true")).unwrap();
        writer.control(alias("client-7", "codex-s")).unwrap();
        let rev = writer.control(alias("client-8", "codex-s")).unwrap();
        writer.shutdown().unwrap();
        (rev, store.read().unwrap().store_id().unwrap())
    };
    assert_eq!(id.len(), 32);
    assert!(id
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

    let store = Store::open(&path).unwrap();
    let r = store.read().unwrap();
    assert_eq!(r.revision().unwrap(), rev);
    assert_eq!(r.store_id().unwrap(), id, "stable across reopen");
    assert_eq!(r.min_resume_revision().unwrap(), Revision(0));
    let settings = r.settings().unwrap();
    assert_eq!(
        settings.into_iter().collect::<Vec<_>>(),
        vec![
            ("provider.codex.enabled".to_string(), "false".to_string()),
            ("two_way".to_string(), "true".to_string()),
        ]
    );
    assert_eq!(r.alias("client-7").unwrap().as_deref(), Some("codex-s"));
    assert_eq!(r.aliases_of("codex-s").unwrap(), ["client-7", "client-8"]);
    assert!(r.aliases_of("codex-other").unwrap().is_empty());

    // The writer resumes from the persisted revision.
    let writer = store.start_writer().unwrap();
    assert_eq!(
        writer.control(set("two_way", "false")).unwrap().0,
        rev.0 + 1
    );
}

#[test]
fn two_stores_have_different_ids() {
    let (_d1, a) = open();
    let (_d2, b) = open();
    assert_ne!(
        a.read().unwrap().store_id().unwrap(),
        b.read().unwrap().store_id().unwrap()
    );
}

#[test]
fn thread_lookup_resolves_aliases_first() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    for sid in ["s1", "s2"] {
        writer
            .submit(batch(
                CODEX,
                &format!("/{sid}"),
                Some(sid),
                1,
                vec![text("k", 0, ItemKind::User, 1, "x")],
            ))
            .unwrap();
    }
    // An alias to a thread that does not exist yet is stored anyway.
    writer.control(alias("later", "codex-s3")).unwrap();
    writer.control(alias("mine", "codex-s2")).unwrap();
    // An alias shadows an equal thread id.
    writer.control(alias("codex-s1", "codex-s2")).unwrap();
    let r = store.read().unwrap();
    let id = |s: &str| r.thread(s).unwrap().map(|t| t.id);
    assert_eq!(id("mine").as_deref(), Some("codex-s2"));
    assert_eq!(id("codex-s1").as_deref(), Some("codex-s2"));
    assert_eq!(
        id("s1").as_deref(),
        Some("codex-s1"),
        "session id still works"
    );
    assert_eq!(r.alias("later").unwrap().as_deref(), Some("codex-s3"));
    assert_eq!(id("later"), None, "dangling alias falls through");
    assert_eq!(id("min"), None, "aliases resolve exactly, not by prefix");

    // Once the thread arrives, the alias resolves.
    writer
        .submit(batch(
            CODEX,
            "/s3",
            Some("s3"),
            1,
            vec![text("k", 0, ItemKind::User, 1, "x")],
        ))
        .unwrap();
    writer.flush().unwrap();
    assert_eq!(id("later").as_deref(), Some("codex-s3"));
    writer.control(unalias("codex-s1")).unwrap();
    assert_eq!(id("codex-s1").as_deref(), Some("codex-s1"));
}

#[test]
fn a_version_2_database_upgrades_to_the_latest_and_indexes_old_items() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 2;
             UPDATE meta SET value = 7 WHERE key = 'revision';
             INSERT INTO threads(id, provider, session_id, revision) VALUES ('codex-old', 'codex', 'old', 7);
             INSERT INTO items(thread, key, seq, kind, text, revision) VALUES (1, 'L0', 0, 'user', 'fix the webhook signature', 7);",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let r = store.read().unwrap();
    assert_eq!(latest_version(), MIGRATIONS.len());
    assert_eq!(count(&r, "PRAGMA user_version"), MIGRATIONS.len() as i64);
    // Migration 4 indexed the items that were already there.
    let hits = r
        .search(&tinyvex_store::SearchQuery::parse("webhook signature").unwrap())
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].item_id, "codex-old/L0");
    assert_eq!(r.revision().unwrap(), Revision(7));
    assert_eq!(r.store_id().unwrap().len(), 32);
    assert_eq!(r.min_resume_revision().unwrap(), Revision(0));
    assert!(r.settings().unwrap().is_empty());
    assert_eq!(r.thread("codex-old").unwrap().unwrap().revision, 7);
    drop(r);

    let writer = store.start_writer().unwrap();
    assert_eq!(
        writer.control(alias("x", "codex-old")).unwrap(),
        Revision(8)
    );
    let r = store.read().unwrap();
    assert_eq!(r.thread("x").unwrap().unwrap().id, "codex-old");
}

#[test]
fn a_consumer_cursor_is_saved_without_a_revision() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    let commits = writer.subscribe_commits();
    let r1 = writer.control(set("two_way", "true")).unwrap();
    commits.try_recv().unwrap();
    assert_eq!(store.read().unwrap().cursor("mirror").unwrap(), None);
    let cursor = |revision| ControlWrite::SetCursor {
        consumer: "mirror".into(),
        revision,
    };
    // Saving a cursor changes no revision and wakes nobody: a consumer that
    // saves its cursor is not woken by its own write.
    assert_eq!(writer.control(cursor(r1)).unwrap(), r1);
    assert_eq!(writer.control(cursor(Revision(7))).unwrap(), r1);
    assert_eq!(commits.try_recv(), Err(TryRecvError::Empty));
    let r = store.read().unwrap();
    assert_eq!(r.cursor("mirror").unwrap(), Some(Revision(7)));
    assert_eq!(r.cursor("other").unwrap(), None);
    assert_eq!(r.revision().unwrap(), r1);
    assert!(matches!(
        writer.control(ControlWrite::SetCursor {
            consumer: String::new(),
            revision: r1
        }),
        Err(Error::InvalidControl(_))
    ));
}

/// `tinyvex two-way on` writes the setting from its own process while a
/// server's writer runs: neither may reuse the other's revision, or a
/// reader following "revision > R" would miss one of the two commits.
#[test]
fn a_control_write_of_another_process_never_shares_a_revision() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let server = Store::open(&path).unwrap();
    let writer = server.start_writer().unwrap();
    let commits = writer.subscribe_commits();
    let r1 = writer.control(set("a", "1")).unwrap();

    let cli = Store::open(&path).unwrap();
    let r2 = cli.write_control(set("two_way", "true")).unwrap();
    assert_eq!(r2.0, r1.0 + 1);
    assert_eq!(cli.write_control(set("two_way", "true")).unwrap(), r2);
    // The server's writer does not know about r2 yet; its next commit
    // comes after it all the same.
    writer
        .submit(batch(
            CODEX,
            "/s",
            Some("s"),
            1,
            vec![text("k", 0, ItemKind::User, 1, "x")],
        ))
        .unwrap();
    let r3 = writer.flush().unwrap();
    assert_eq!(r3.0, r2.0 + 1);
    assert_eq!(
        commits.try_iter().collect::<Vec<_>>(),
        vec![r1, r3],
        "the server announces its own commits"
    );
    let r = server.read().unwrap();
    assert_eq!(
        count(&r, "SELECT revision FROM settings WHERE key = 'two_way'"),
        r2.0 as i64
    );
    assert_eq!(
        count(&r, "SELECT revision FROM threads WHERE id = 'codex-s'"),
        r3.0 as i64
    );
    // A control write of the server after another external one, too.
    let r4 = cli.write_control(set("two_way", "false")).unwrap();
    assert_eq!(writer.control(set("a", "2")).unwrap().0, r4.0 + 1);
    // Once its writer runs, a store takes control writes through it only.
    assert!(matches!(
        server.write_control(set("b", "1")),
        Err(Error::WriterAlreadyStarted)
    ));
}
