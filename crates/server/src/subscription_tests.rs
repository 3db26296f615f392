use tinyvex_model::Revision;
use tinyvex_store::{ChangeSet, ItemRow, ThreadRow};

use super::*;

fn thread(id: &str, provider: &str, revision: u64) -> ThreadRow {
    ThreadRow {
        id: id.into(),
        provider: provider.into(),
        session_id: id.into(),
        title: None,
        cwd: None,
        git_branch: None,
        model: None,
        agent_version: None,
        parent_session_id: None,
        created_at: None,
        updated_at: None,
        item_count: 1,
        source_files: Vec::new(),
        source_missing: false,
        revision,
        created_at_ms: None,
        updated_at_ms: None,
    }
}

fn item(thread: &str, seq: i64, revision: u64) -> ItemRow {
    ItemRow {
        id: format!("{thread}/{seq}"),
        thread_id: thread.into(),
        seq,
        kind: "user".into(),
        ts: None,
        text: Some(format!("message {seq}")),
        revision,
        call_id: None,
        tool_kind: None,
        name: None,
        command: None,
        input: None,
        output: None,
        exit_code: None,
        status: None,
        started_at: None,
        ended_at: None,
        data: None,
    }
}

fn changes(from: u64, to: u64, threads: Vec<ThreadRow>, items: Option<Vec<ItemRow>>) -> ChangeSet {
    ChangeSet {
        from: Revision(from),
        to: Revision(to),
        threads,
        items,
        settings_changed: false,
        aliases_changed: false,
    }
}

fn sub(target: Target, revision: u64) -> Subscription {
    Subscription {
        id: 7,
        target,
        revision,
        stale: false,
    }
}

#[test]
fn thread_subscription_gets_only_its_items_after_its_revision() {
    let s = sub(
        Target::Thread {
            id: "codex-a".into(),
            tail: 10,
        },
        5,
    );
    // The changeset spans the subscription's snapshot (revision 5): rows at
    // or below 5 were in the snapshot already and must not come again.
    let cs = changes(
        3,
        7,
        vec![thread("codex-a", "codex", 7), thread("codex-b", "codex", 6)],
        Some(vec![
            item("codex-a", 1, 4),
            item("codex-a", 2, 6),
            item("codex-a", 3, 7),
            item("codex-b", 1, 6),
        ]),
    );
    let Step::Deliver(d) = s.step(&cs) else {
        panic!("expected a delivery")
    };
    assert_eq!(d.subscription, 7);
    assert_eq!(d.revision, 7);
    assert!(!d.snapshot);
    let seqs: Vec<i64> = d.items.unwrap().iter().map(|i| i.seq).collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(d.thread.unwrap().id, "codex-a");
}

#[test]
fn old_or_unrelated_changesets_deliver_nothing() {
    let s = sub(
        Target::Thread {
            id: "codex-a".into(),
            tail: 10,
        },
        9,
    );
    let cs = changes(3, 9, vec![thread("codex-a", "codex", 9)], Some(vec![]));
    assert!(matches!(s.step(&cs), Step::Nothing));
    let cs = changes(9, 10, vec![thread("codex-b", "codex", 10)], Some(vec![]));
    assert!(matches!(s.step(&cs), Step::Nothing));
}

#[test]
fn truncated_changeset_asks_for_a_catch_up_only_when_the_thread_changed() {
    let s = sub(
        Target::Thread {
            id: "codex-a".into(),
            tail: 10,
        },
        1,
    );
    let cs = changes(1, 2, vec![thread("codex-a", "codex", 2)], None);
    assert!(matches!(s.step(&cs), Step::CatchUp));
    let cs = changes(1, 2, vec![thread("codex-b", "codex", 2)], None);
    assert!(matches!(s.step(&cs), Step::Nothing));
}

#[test]
fn thread_list_filters_by_provider() {
    let s = sub(
        Target::Threads {
            provider: Some(ProviderKind::Claude),
            limit: 10,
        },
        1,
    );
    let cs = changes(
        1,
        2,
        vec![
            thread("codex-a", "codex", 2),
            thread("claude-b", "claude", 2),
        ],
        None,
    );
    let Step::Deliver(d) = s.step(&cs) else {
        panic!("expected a delivery")
    };
    let ids: Vec<String> = d.threads.unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(ids, ["claude-b"]);
    let all = sub(
        Target::Threads {
            provider: None,
            limit: 10,
        },
        1,
    );
    let Step::Deliver(d) = all.step(&cs) else {
        panic!("expected a delivery")
    };
    assert_eq!(d.threads.unwrap().len(), 2);
}

#[test]
fn status_subscriptions_are_marked_dirty() {
    let s = sub(Target::Status, 1);
    let cs = changes(1, 2, vec![], Some(vec![]));
    assert!(matches!(s.step(&cs), Step::StatusDirty));
}

#[test]
fn large_deliveries_are_split_into_parts_with_one_final_revision() {
    let big = |seq| ItemRow {
        text: Some("y".repeat(400)),
        ..item("codex-a", seq, 9)
    };
    let d = Delivery {
        subscription: 3,
        revision: 9,
        snapshot: true,
        thread: Some(thread("codex-a", "codex", 9)),
        items: Some((1..=10).map(big).collect()),
        ..Delivery::default()
    };
    let parts = split(d.clone(), 1_000);
    assert!(parts.len() >= 4, "{} parts", parts.len());
    assert!(parts[0].snapshot && parts[0].thread.is_some());
    assert!(parts[1..].iter().all(|p| !p.snapshot && p.thread.is_none()));
    assert!(parts.iter().all(|p| p.revision == 9 && p.subscription == 3));
    let more: Vec<bool> = parts.iter().map(|p| p.more).collect();
    assert!(more[..more.len() - 1].iter().all(|m| *m) && !more[more.len() - 1]);
    let seqs: Vec<i64> = parts
        .iter()
        .flat_map(|p| p.items.iter().flatten().map(|i| i.seq))
        .collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
    // Small deliveries stay whole.
    assert_eq!(split(d, 1 << 20).len(), 1);
}
