use std::collections::HashSet;

use serde_json::json;
use tinyvex_model::{ItemKind, ParsedEvent, ThreadPatch, ToolStatus};

use super::chat::events as to_events;
use super::*;
use crate::testutil::items;

fn thread(events: &[ParsedEvent]) -> ThreadPatch {
    events
        .iter()
        .find_map(|e| match e {
            ParsedEvent::Thread(t) => Some(t.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn texts(events: &[ParsedEvent], kind: ItemKind) -> Vec<String> {
    items(events)
        .into_iter()
        .filter(|i| i.kind == kind)
        .map(|i| i.text.clone().unwrap_or_default())
        .collect()
}

fn lines(records: &[serde_json::Value]) -> Vec<u8> {
    let mut out = String::new();
    for r in records {
        out.push_str(&r.to_string());
        out.push('\n');
    }
    out.into_bytes()
}

fn user(id: &str, text: &str) -> serde_json::Value {
    json!({"id": id, "timestamp": "2026-01-01T00:00:01.000Z", "type": "user", "content": [{"text": text}]})
}

fn gemini(id: &str, text: &str) -> serde_json::Value {
    json!({"id": id, "timestamp": "2026-01-01T00:00:02.000Z", "type": "gemini", "content": text, "model": "m1"})
}

fn header() -> serde_json::Value {
    json!({"sessionId": "s1", "projectHash": "h", "startTime": "2026-01-01T00:00:00.000Z", "lastUpdated": "2026-01-01T00:00:00.000Z", "kind": "main"})
}

#[test]
fn jsonl_replays_set_and_keeps_rewound_messages() {
    let bytes = lines(&[
        header(),
        json!({"$set": {"messages": [user("ctx", "<session_context>\nThis is the Gemini CLI.")]}}),
        user("u1", "first prompt"),
        json!({"$set": {"lastUpdated": "x"}}),
        gemini("g1", "partial"),
        gemini("g1", "answer one"), // re-appended whole: replaces, keeps its place
        user("u2", "second prompt"),
        gemini("g2", "answer two"),
        json!({"$rewindTo": "u2"}), // kept: Tinyvex deletes nothing
        user("u3", "third prompt"),
    ]);
    let chat = read_chat(&bytes, true).unwrap();
    assert_eq!(chat.session_id.as_deref(), Some("s1"));
    let ids: Vec<&str> = chat
        .messages
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["ctx", "u1", "g1", "u2", "g2", "u3"]);
    assert_eq!(chat.raw.len(), 10, "one raw record per line");
    assert_eq!(chat.raw[0].offset, 0);
    assert_eq!(chat.raw[1].kind, "$set:messages");
    assert_eq!(chat.raw[8].kind, "$rewindTo");
    assert!(chat.raw.windows(2).all(|w| w[0].offset < w[1].offset));

    let events = to_events(chat, &FileContext::default());
    // The synthetic context message is not a prompt.
    assert_eq!(
        texts(&events, ItemKind::User),
        vec!["first prompt", "second prompt", "third prompt"]
    );
    assert_eq!(
        texts(&events, ItemKind::Assistant),
        vec!["answer one", "answer two"]
    );
    let t = thread(&events);
    assert_eq!(t.title.as_deref(), Some("first prompt"));
    assert_eq!(t.model.as_deref(), Some("m1"));
    assert_eq!(t.created_at, Some(1_767_225_600_000));
    // seq strictly increases in message order.
    let seqs: Vec<i64> = items(&events).iter().map(|i| i.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

#[test]
fn set_messages_merges_into_what_was_seen() {
    // A resume re-writes the history through `$set.messages` without the
    // tool calls and thoughts the earlier lines carried: they must survive.
    let mut g1 = gemini("g1", "answer");
    g1["toolCalls"] = json!([{"id": "t1", "name": "run_shell_command", "args": {"command": "ls"}}]);
    let bytes = lines(&[
        header(),
        user("u1", "one"),
        g1,
        json!({"$set": {"messages": [user("u1", "one"), gemini("g1", "answer"), user("u9", "new")], "sessionId": "s2"}}),
        user("u2", "two"),
        json!({"$rewindTo": "nope"}),
    ]);
    let chat = read_chat(&bytes, true).unwrap();
    assert_eq!(chat.session_id.as_deref(), Some("s2"));
    let ids: Vec<&str> = chat
        .messages
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["u1", "g1", "u9", "u2"]);
    assert_eq!(chat.messages[1]["toolCalls"][0]["id"], "t1");
}

#[test]
fn bad_lines_are_counted_and_a_partial_last_line_waits() {
    let mut bytes = lines(&[header(), user("u1", "one")]);
    bytes.extend_from_slice(b"not json\n");
    bytes.extend_from_slice(br#"{"id":"u2","type":"us"#);
    let chat = read_chat(&bytes, true).unwrap();
    assert_eq!(chat.errors.len(), 1);
    assert_eq!(chat.messages.len(), 1);
    assert_eq!(chat.raw.last().unwrap().kind, "invalid");
}

#[test]
fn documents_and_tool_calls() {
    let doc = json!({
        "sessionId": "s1", "projectHash": "h",
        "startTime": "2026-01-01T00:00:00.000Z", "lastUpdated": "x",
        "messages": [
            user("u1", "  list   files\nplease"),
            {"id": "g1", "timestamp": "2026-01-01T00:00:02.000Z", "type": "gemini", "content": "Sure.",
             "model": "gemini-2.5-pro",
             "thoughts": [{"subject": "Plan", "description": "List them.", "timestamp": "2026-01-01T00:00:01.500Z"}],
             "tokens": {"input": 10, "output": 2, "cached": 0, "total": 12},
             "toolCalls": [
                {"id": "c1", "name": "run_shell_command", "args": {"command": "ls"},
                 "result": [{"functionResponse": {"id": "c1", "name": "run_shell_command",
                             "response": {"output": "Command: ls\nExit Code: 2"}}}],
                 "status": "success", "timestamp": "2026-01-01T00:00:03.000Z"},
                {"id": "c2", "name": "write_todos",
                 "args": {"todos": [{"description": "a", "status": "completed"}, {"description": "b", "status": "pending"}]},
                 "status": "cancelled"},
                {"id": "c3", "name": "replace", "args": {},
                 "result": [{"functionResponse": {"id": "c3", "name": "replace", "response": {"error": "no match"}}}],
                 "status": "error"}
             ]},
            {"id": "u2", "timestamp": "2026-01-01T00:00:04.000Z", "type": "user",
             "content": [{"functionResponse": {"id": "c1", "name": "x", "response": {"output": "o"}}}]},
            {"id": "e1", "timestamp": "2026-01-01T00:00:05.000Z", "type": "error", "content": "quota exceeded"},
            {"id": "i1", "timestamp": "2026-01-01T00:00:06.000Z", "type": "info", "content": "Request cancelled."}
        ]
    });
    let chat = read_chat(doc.to_string().as_bytes(), false).unwrap();
    assert_eq!(
        chat.raw.len(),
        6,
        "document head plus one record per message"
    );
    assert_eq!(chat.raw[1].offset, 1);
    assert_eq!(chat.raw[1].kind, "message:user");
    let ctx = FileContext {
        cwd: Some("/p".into()),
        parent_session_id: None,
    };
    let events = to_events(chat, &ctx);
    let t = thread(&events);
    assert_eq!(t.title.as_deref(), Some("list files"));
    assert_eq!(t.cwd.as_deref(), Some("/p"));
    let all = items(&events);
    let keys: Vec<&str> = all.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        vec![
            "u-u1", "r-g1.0", "a-g1", "call-c1", "call-c2", "plan-c2", "call-c3", "usage-g1",
            "err-e1"
        ]
    );
    assert_eq!(
        texts(&events, ItemKind::Reasoning),
        vec!["Plan\nList them."]
    );
    let c1 = all[3].tool.as_ref().unwrap();
    assert_eq!(c1.tool_kind.as_deref(), Some("shell"));
    assert_eq!(c1.command.as_deref(), Some("ls"));
    assert_eq!(c1.exit_code, Some(2));
    assert_eq!(c1.status, Some(ToolStatus::Failed), "non-zero exit");
    let c2 = all[4].tool.as_ref().unwrap();
    assert_eq!(
        (c2.tool_kind.as_deref(), c2.status, c2.output.as_deref()),
        (Some("plan"), Some(ToolStatus::Declined), None)
    );
    assert_eq!(all[5].text.as_deref(), Some("[x] a\n[ ] b"));
    let c3 = all[6].tool.as_ref().unwrap();
    assert_eq!(
        (c3.tool_kind.as_deref(), c3.status, c3.output.as_deref()),
        (Some("patch"), Some(ToolStatus::Failed), Some("no match"))
    );
    assert_eq!(all[7].data.as_ref().unwrap()["model"], "gemini-2.5-pro");
    assert_eq!(all[8].text.as_deref(), Some("quota exceeded"));
}

#[test]
fn two_files_of_one_session_share_keys() {
    // A resume may leave a second file with the same session id and a copy
    // of the messages: the same ids give the same keys, so nothing doubles.
    let a = lines(&[header(), user("u1", "hello"), gemini("g1", "hi")]);
    let b = lines(&[
        header(),
        json!({"$set": {"messages": [user("u1", "hello"), gemini("g1", "hi")]}}),
        user("u2", "more"),
    ]);
    let ea = to_events(read_chat(&a, true).unwrap(), &FileContext::default());
    let eb = to_events(read_chat(&b, true).unwrap(), &FileContext::default());
    let ka: Vec<(String, i64)> = items(&ea).iter().map(|i| (i.key.clone(), i.seq)).collect();
    let kb: Vec<(String, i64)> = items(&eb).iter().map(|i| (i.key.clone(), i.seq)).collect();
    assert_eq!(
        &kb[..ka.len()],
        &ka[..],
        "same keys and seqs for the shared messages"
    );
    let unique: HashSet<&String> = ka.iter().chain(&kb).map(|(k, _)| k).collect();
    assert_eq!(unique.len(), 3);
    // Reading twice gives identical events.
    assert_eq!(
        eb,
        to_events(read_chat(&b, true).unwrap(), &FileContext::default())
    );
}

#[test]
fn discovery_env_and_cwd() {
    let dir = tempfile::tempdir().unwrap();
    let gem = dir.path().join("gh/.gemini");
    let slug = gem.join("tmp/proj");
    std::fs::create_dir_all(slug.join("chats/parent-id")).unwrap();
    std::fs::write(slug.join("chats/session-a.json"), "{}").unwrap();
    std::fs::write(slug.join("chats/session-b.jsonl"), "").unwrap();
    std::fs::write(slug.join("chats/parent-id/child.jsonl"), "").unwrap();
    std::fs::write(slug.join("logs.json"), "[]").unwrap();
    std::fs::write(slug.join("chats/notes.txt"), "").unwrap();
    let hash = gem.join("tmp/0123abcd");
    std::fs::create_dir_all(hash.join("chats")).unwrap();
    std::fs::write(hash.join("chats/session-c.json"), "{}").unwrap();
    std::fs::write(
        gem.join("projects.json"),
        r#"{"projects":{"/home/u/proj":"proj"}}"#,
    )
    .unwrap();
    let env = SourceEnv {
        home: dir.path().join("nohome"),
        vars: [(
            "GEMINI_CLI_HOME".to_string(),
            dir.path().join("gh").into_os_string(),
        )]
        .into(),
    };
    let p = GeminiProvider::from_env(&env);
    assert_eq!(p.roots(), vec![gem.join("tmp")]);
    let found: Vec<PathBuf> = p
        .discover()
        .into_iter()
        .map(|d| d.path.strip_prefix(gem.join("tmp")).unwrap().to_owned())
        .collect();
    assert_eq!(
        found,
        vec![
            PathBuf::from("0123abcd/chats/session-c.json"),
            PathBuf::from("proj/chats/parent-id/child.jsonl"),
            PathBuf::from("proj/chats/session-a.json"),
            PathBuf::from("proj/chats/session-b.jsonl"),
        ]
    );
    assert_eq!(
        project_cwd(&slug.join("chats/session-a.json")).as_deref(),
        Some("/home/u/proj")
    );
    assert_eq!(project_cwd(&hash.join("chats/session-c.json")), None);
    std::fs::write(slug.join(".project_root"), "/elsewhere\n").unwrap();
    assert_eq!(
        project_cwd(&slug.join("chats/parent-id/child.jsonl")).as_deref(),
        Some("/elsewhere")
    );
    assert_eq!(
        parent_from_path(&slug.join("chats/parent-id/child.jsonl")).as_deref(),
        Some("parent-id")
    );
    assert_eq!(parent_from_path(&slug.join("chats/session-a.json")), None);
    // Default: $HOME/.gemini/tmp.
    let env = SourceEnv {
        home: PathBuf::from("/h"),
        vars: Default::default(),
    };
    assert_eq!(
        GeminiProvider::from_env(&env).roots(),
        vec![PathBuf::from("/h/.gemini/tmp")]
    );
}

#[test]
fn snapshot_of_an_empty_jsonl_is_empty_and_a_broken_document_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = GeminiProvider::with_roots(vec![dir.path().to_path_buf()]);
    let empty = dir.path().join("x.jsonl");
    std::fs::write(&empty, "").unwrap();
    let s = p.read_snapshot(&empty, None).unwrap();
    assert!(s.sessions.is_empty() && s.complete);
    let broken = dir.path().join("x.json");
    std::fs::write(&broken, r#"{"sessionId":"s1","messa"#).unwrap();
    assert!(p.read_snapshot(&broken, None).is_err());
}
