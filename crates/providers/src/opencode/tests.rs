use std::path::{Path, PathBuf};

use tinyvex_model::{ItemKind, ItemPatch, ParsedEvent, ToolStatus};

use super::records::seq_of;
use super::*;

fn fixtures(test: &str) -> Option<PathBuf> {
    crate::testutil::fixtures("opencode", test)
}

fn items(s: &Snapshot) -> Vec<ItemPatch> {
    s.sessions
        .iter()
        .flat_map(|s| &s.events)
        .filter_map(|e| match e {
            ParsedEvent::Item(i) => Some(i.clone()),
            _ => None,
        })
        .collect()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn seq_orders_by_message_then_part() {
    let m1 = "msg_20041addf0014x5aoOldSi9Lyx";
    let m2 = "msg_20041ae55001OHZ3QpnkZtO9v4";
    let p1 = seq_of(m1, Some("prt_20041ade0001SgLw2rfBsZajHZ"));
    let p2 = seq_of(m2, Some("prt_20041af1f001gJ8MtJlYjtiOh4"));
    let p3 = seq_of(m2, Some("prt_20041af250019pDZfggmY596jF"));
    let end2 = seq_of(m2, None);
    assert!(p1 < p2 && p2 < p3 && p3 < end2, "{p1} {p2} {p3} {end2}");
    // A part written long after its message still sorts before the next message.
    let late = seq_of(m1, Some("prt_3004000000001xxxxxxxxxxxxx"));
    assert!(late < seq_of(m2, Some("prt_20041ae56001aaaaaaaaaaaaaa")));
    assert!(late > p1);
    assert_eq!(seq_of("weird", None), 0);
}

#[test]
fn discovers_tree_and_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/opencode");
    write(&data.join("storage/session/proj/ses_a.json"), "{}");
    write(&data.join("storage/message/ses_a/msg_1.json"), "{}");
    write(&data.join("storage/part/msg_1/prt_1.json"), "{}");
    write(&data.join("storage/todo/ses_a.json"), "[]");
    write(&data.join("storage/migration"), "2");
    write(&data.join("opencode.db"), "");
    write(&data.join("snapshot/x/HEAD"), "");
    let env = SourceEnv {
        home: dir.path().join("home"),
        vars: [(
            "XDG_DATA_HOME".to_string(),
            dir.path().join("data").into_os_string(),
        )]
        .into(),
    };
    let p = OpencodeProvider::from_env(&env);
    assert_eq!(p.roots(), vec![data.clone()]);
    let found: Vec<_> = p
        .discover()
        .into_iter()
        .map(|d| d.path.strip_prefix(&data).unwrap().to_owned())
        .collect();
    assert_eq!(
        found,
        vec![
            PathBuf::from("opencode.db"),
            PathBuf::from("storage/session/proj/ses_a.json"),
            PathBuf::from("storage/message/ses_a/msg_1.json"),
            PathBuf::from("storage/part/msg_1/prt_1.json"),
        ]
    );
    let env = SourceEnv {
        home: PathBuf::from("/h"),
        vars: Default::default(),
    };
    assert_eq!(
        OpencodeProvider::from_env(&env).roots(),
        vec![PathBuf::from("/h/.local/share/opencode")]
    );
}

#[test]
fn part_files_become_items_with_the_message_role() {
    let dir = tempfile::tempdir().unwrap();
    let st = dir.path().join("storage");
    write(
        &st.join("message/ses_s/msg_100000000001aaaaaaaaaaaaaa.json"),
        r#"{"id":"msg_100000000001aaaaaaaaaaaaaa","sessionID":"ses_s","role":"user","time":{"created":5}}"#,
    );
    let user = st.join("part/msg_100000000001aaaaaaaaaaaaaa/prt_100000001001aaaaaaaaaaaaaa.json");
    write(
        &user,
        r#"{"id":"prt_100000001001aaaaaaaaaaaaaa","sessionID":"ses_s","messageID":"msg_100000000001aaaaaaaaaaaaaa","type":"text","text":"  fix\tthe bug\nplease"}"#,
    );
    let p = OpencodeProvider::with_roots(vec![dir.path().into()]);
    let s = p.read_snapshot(&user, None).unwrap();
    assert!(s.complete);
    assert_eq!(s.sessions[0].session_id, "ses_s");
    let it = items(&s);
    assert_eq!(it.len(), 1);
    assert_eq!(it[0].kind, ItemKind::User);
    assert_eq!(it[0].key, "p-prt_100000001001aaaaaaaaaaaaaa");
    assert_eq!(it[0].ts, Some(5));
    let title = s.sessions[0].events.iter().find_map(|e| match e {
        ParsedEvent::Thread(t) => t.title.clone(),
        _ => None,
    });
    assert_eq!(title.as_deref(), Some("fix the bug"));
    assert!(matches!(&s.sessions[0].events[0], ParsedEvent::Raw(r) if r.kind == "part:text"));

    // Synthetic text makes nothing; a running tool, then the completed one.
    let synth = st.join("part/msg_100000000001aaaaaaaaaaaaaa/prt_100000001002aaaaaaaaaaaaaa.json");
    write(
        &synth,
        r#"{"id":"prt_100000001002aaaaaaaaaaaaaa","sessionID":"ses_s","messageID":"msg_100000000001aaaaaaaaaaaaaa","type":"text","synthetic":true,"text":"injected"}"#,
    );
    assert!(items(&p.read_snapshot(&synth, None).unwrap()).is_empty());
    let tool = st.join("part/msg_200000000001aaaaaaaaaaaaaa/prt_200000001001aaaaaaaaaaaaaa.json");
    let base = r#""id":"prt_200000001001aaaaaaaaaaaaaa","sessionID":"ses_s","messageID":"msg_200000000001aaaaaaaaaaaaaa","type":"tool","callID":"c1","tool":"bash""#;
    write(
        &tool,
        &format!(
            r#"{{{base},"state":{{"status":"running","input":{{"command":"false"}},"time":{{"start":7}}}}}}"#
        ),
    );
    let t = items(&p.read_snapshot(&tool, None).unwrap()).remove(0);
    let tp = t.tool.clone().unwrap();
    assert_eq!(tp.status, Some(ToolStatus::InProgress));
    assert_eq!(tp.command.as_deref(), Some("false"));
    assert_eq!(tp.tool_kind.as_deref(), Some("shell"));
    write(
        &tool,
        &format!(
            r#"{{{base},"state":{{"status":"completed","input":{{"command":"false"}},"output":"","metadata":{{"exit":1}},"time":{{"start":7,"end":9}}}}}}"#
        ),
    );
    let t2 = items(&p.read_snapshot(&tool, None).unwrap()).remove(0);
    assert_eq!(t2.key, t.key);
    assert_eq!(t2.seq, t.seq);
    let tp = t2.tool.unwrap();
    assert_eq!(tp.status, Some(ToolStatus::Failed));
    assert_eq!(tp.exit_code, Some(1));
    assert_eq!(tp.ended_at, Some(9));
    // No message file: a text part with `time` is the assistant's.
    assert!(t.seq > items(&s)[0].seq);
}

#[test]
fn json_tree_fixture() {
    let Some(fx) = fixtures("json_tree_fixture") else {
        return;
    };
    let p = OpencodeProvider::with_roots(vec![fx.join("storage-1.1.65")]);
    let mut all = Vec::new();
    for d in p.discover() {
        let s = p.read_snapshot(&d.path, None).unwrap();
        assert!(s.errors.is_empty());
        all.extend(items(&s));
    }
    let users: Vec<_> = all.iter().filter(|i| i.kind == ItemKind::User).collect();
    assert_eq!(users.len(), 4, "{users:#?}");
    let tools = all.iter().filter(|i| i.kind == ItemKind::ToolCall).count();
    assert!(tools >= 5);
    assert!(all.iter().any(|i| i.kind == ItemKind::Plan));
    assert!(all.iter().any(|i| i.kind == ItemKind::Usage));
    assert!(all.iter().any(|i| i
        .tool
        .as_ref()
        .is_some_and(|t| t.status == Some(ToolStatus::Failed))));
}

#[test]
fn database_fixture_full_then_incremental() {
    let Some(fx) = fixtures("database_fixture_full_then_incremental") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("opencode.db");
    std::fs::copy(fx.join("opencode-1.18.33.db"), &db).unwrap();
    let p = OpencodeProvider::with_roots(vec![dir.path().into()]);
    let first = p.read_snapshot(&db, None).unwrap();
    assert!(first.complete);
    assert_eq!(first.sessions.len(), 3);
    let raw: Vec<u64> = first
        .sessions
        .iter()
        .flat_map(|s| &s.events)
        .filter_map(|e| match e {
            ParsedEvent::Raw(r) => Some(r.offset),
            _ => None,
        })
        .collect();
    assert_eq!(raw.len(), 3 + 15 + 38);
    let unique: std::collections::HashSet<_> = raw.iter().collect();
    assert_eq!(unique.len(), raw.len());
    let users = items(&first)
        .into_iter()
        .filter(|i| i.kind == ItemKind::User)
        .count();
    assert_eq!(users, 5);

    // Nothing changed: nothing read.
    let again = p.read_snapshot(&db, Some(&first.state)).unwrap();
    assert!(!again.complete);
    assert!(again.sessions.is_empty(), "{:#?}", again.sessions);

    // One part updated: only that part's session, only that row.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE part SET time_updated = time_updated + 100000000, data = json_set(data, '$.text', 'changed')
         WHERE id = 'prt_200416206001ngH5Z53jeOtKig'",
        [],
    )
    .unwrap();
    drop(conn);
    let third = p.read_snapshot(&db, Some(&again.state)).unwrap();
    assert_eq!(third.sessions.len(), 1);
    let it = items(&third);
    assert_eq!(it.len(), 1);
    assert_eq!(it[0].key, "p-prt_200416206001ngH5Z53jeOtKig");
    assert_eq!(it[0].text.as_deref(), Some("changed"));
    let raw3 = third.sessions[0]
        .events
        .iter()
        .find_map(|e| match e {
            ParsedEvent::Raw(r) => Some(r.offset),
            _ => None,
        })
        .unwrap();
    assert!(!unique.contains(&raw3));
    let fourth = p.read_snapshot(&db, Some(&third.state)).unwrap();
    assert!(fourth.sessions.is_empty());
}

#[test]
fn a_missing_or_bad_database_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("opencode.db");
    std::fs::write(&db, "not a database at all, definitely").unwrap();
    let p = OpencodeProvider::with_roots(vec![dir.path().into()]);
    assert!(p.read_snapshot(&db, None).is_err());
    // A database without OpenCode's tables reads as empty.
    let empty = dir.path().join("x/opencode.db");
    std::fs::create_dir_all(empty.parent().unwrap()).unwrap();
    rusqlite::Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t(a)")
        .unwrap();
    let s = p.read_snapshot(&empty, None).unwrap();
    assert!(s.sessions.is_empty());
}
