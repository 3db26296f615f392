//! Read-side queries: thread lookup, listing pages, item ranges.

mod common;

use common::*;
use tinyvex_model::{ItemKind, ProviderKind, Revision};
use tinyvex_store::{Error, ItemQuery, ThreadQuery};

const CODEX: ProviderKind = ProviderKind::Codex;
const CLAUDE: ProviderKind = ProviderKind::Claude;

/// Something known of a thread (a thread row exists only once something is).
fn known() -> tinyvex_model::ParsedEvent {
    meta(tinyvex_model::ThreadPatch {
        cwd: Some("/w".into()),
        ..Default::default()
    })
}

#[test]
fn thread_lookup_by_id_session_and_prefix() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    for sid in ["abc-111", "abc-222", "xyz-333"] {
        writer
            .submit(batch(
                CODEX,
                &format!("/{sid}"),
                Some(sid),
                1,
                vec![known()],
            ))
            .unwrap();
    }
    writer
        .submit(batch(CLAUDE, "/c", Some("qq*?[1"), 1, vec![known()]))
        .unwrap();
    writer.flush().unwrap();
    let r = store.read().unwrap();
    let id = |s: &str| r.thread(s).unwrap().map(|t| t.id);
    assert_eq!(id("codex-abc-111").as_deref(), Some("codex-abc-111"));
    assert_eq!(
        id("abc-222").as_deref(),
        Some("codex-abc-222"),
        "exact session id"
    );
    assert_eq!(
        id("xyz").as_deref(),
        Some("codex-xyz-333"),
        "session prefix"
    );
    assert_eq!(id("codex-x").as_deref(), Some("codex-xyz-333"), "id prefix");
    assert_eq!(
        id("qq*?[").as_deref(),
        Some("claude-qq*?[1"),
        "glob characters are literal"
    );
    assert_eq!(id("qq*x"), None);
    assert_eq!(id("nope"), None);
    assert_eq!(id(""), None);
    match r.thread("abc") {
        Err(Error::AmbiguousThread {
            candidates, more, ..
        }) => {
            assert_eq!(candidates, vec!["codex-abc-111", "codex-abc-222"]);
            assert!(!more);
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
    assert!(matches!(
        r.thread("codex-"),
        Err(Error::AmbiguousThread { .. })
    ));
}

#[test]
fn thread_listing_pages_by_keyset_and_filters_by_revision() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    // Threads s0..s9 updated at 1000*i; s10 and s11 share a time and
    // are ordered by id descending (codex-s10 > claude-s11).
    for i in 0..12i64 {
        let ts = 1_000 * i.min(10);
        let p = if i % 2 == 0 { CODEX } else { CLAUDE };
        writer
            .submit(batch(
                p,
                &format!("/f{i}"),
                Some(&format!("s{i:02}")),
                1,
                vec![text("k", 0, ItemKind::User, ts, "x")],
            ))
            .unwrap();
    }
    let mid = writer.flush().unwrap();
    writer
        .submit(batch(
            CODEX,
            "/f0",
            Some("s00"),
            2,
            vec![text("k2", 1, ItemKind::Assistant, 50_000, "late")],
        ))
        .unwrap();
    writer.flush().unwrap();
    let r = store.read().unwrap();

    let mut seen = Vec::new();
    let mut q = ThreadQuery {
        limit: 5,
        ..ThreadQuery::default()
    };
    loop {
        let page = r.threads(&q).unwrap();
        assert!(page.len() <= 5);
        let Some(last) = page.last() else { break };
        q.before = Some(last.page_cursor());
        seen.extend(page.into_iter().map(|t| t.session_id));
    }
    let expected: Vec<String> = [
        "s00", "s10", "s11", "s09", "s08", "s07", "s06", "s05", "s04", "s03", "s02", "s01",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(seen, expected);

    let codex = r
        .threads(&ThreadQuery {
            provider: Some(CODEX),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(codex.len(), 6);
    assert!(codex.iter().all(|t| t.provider == "codex"));
    let changed = r
        .threads(&ThreadQuery {
            since: Some(mid),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        changed.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        vec!["codex-s00"]
    );

    let items = r.items("codex-s00", ItemQuery::Since(mid)).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].text.as_deref(), Some("late"));
}

#[test]
fn item_queries_return_seq_order() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    let events = (0..10)
        .rev()
        .map(|i| text(&format!("k{i}"), i, ItemKind::User, 100 + i, "t"))
        .collect();
    writer
        .submit(batch(CODEX, "/a", Some("s"), 1, events))
        .unwrap();
    writer.flush().unwrap();
    let r = store.read().unwrap();
    let seqs = |q| {
        r.items("codex-s", q)
            .unwrap()
            .iter()
            .map(|i| i.seq)
            .collect::<Vec<_>>()
    };
    assert_eq!(seqs(ItemQuery::All), (0..10).collect::<Vec<_>>());
    assert_eq!(seqs(ItemQuery::Tail(3)), vec![7, 8, 9]);
    assert_eq!(
        seqs(ItemQuery::Range {
            from_seq: 4,
            limit: 2
        }),
        vec![4, 5]
    );
    // Paging backwards from the tail: the page just before seq 7, then the
    // one before that, then a short first page.
    let before = |before_seq, limit| ItemQuery::Before { before_seq, limit };
    assert_eq!(seqs(before(7, 3)), vec![4, 5, 6]);
    assert_eq!(seqs(before(4, 3)), vec![1, 2, 3]);
    assert_eq!(seqs(before(1, 3)), vec![0]);
    assert!(seqs(before(0, 3)).is_empty());
    assert!(seqs(ItemQuery::Since(Revision(1))).is_empty());
    assert!(r.items("codex-missing", ItemQuery::All).unwrap().is_empty());
    let json = serde_json::to_value(&r.items("codex-s", ItemQuery::Tail(1)).unwrap()[0]).unwrap();
    assert_eq!(json["id"], "codex-s/k9");
    assert_eq!(json["kind"], "user");
    assert_eq!(json["ts"], "1970-01-01T00:00:00.109Z");
    assert!(json.get("output").is_none() && json.get("data").is_none());
}
