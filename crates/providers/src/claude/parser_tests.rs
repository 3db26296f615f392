use std::path::{Path, PathBuf};

use serde_json::json;
use tinyvex_model::{ItemKind, ItemPatch, ParsedEvent, ThreadPatch, ToolStatus};

use super::{prompt_text, tool_kind, ClaudeParser};
use crate::LineParser;

const SID: &str = "11111111-2222-4333-8444-555555555555";

fn path() -> PathBuf {
    PathBuf::from(format!("/h/.claude/projects/-w/{SID}.jsonl"))
}

fn parse_all(path: &Path, text: &str) -> (Vec<ParsedEvent>, usize) {
    let mut p = ClaudeParser::resume(path, None).unwrap();
    let mut out = Vec::new();
    let mut errors = 0;
    let mut offset = 0u64;
    for line in text.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        if p.parse_line(offset, body.as_bytes(), &mut out).is_err() {
            errors += 1;
        }
        offset += line.len() as u64;
    }
    (out, errors)
}

/// Parse with a fresh parser resumed from saved state before every line,
/// as the ingest layer does after a restart.
fn parse_resuming(path: &Path, text: &str) -> Vec<ParsedEvent> {
    let mut state: Option<String> = None;
    let mut out = Vec::new();
    let mut offset = 0u64;
    for line in text.split_inclusive('\n') {
        let mut p = ClaudeParser::resume(path, state.as_deref()).unwrap();
        let body = line.strip_suffix('\n').unwrap_or(line);
        let _ = p.parse_line(offset, body.as_bytes(), &mut out);
        state = Some(p.save_state());
        offset += line.len() as u64;
    }
    out
}

fn items(events: &[ParsedEvent]) -> Vec<&ItemPatch> {
    events
        .iter()
        .filter_map(|e| match e {
            ParsedEvent::Item(i) => Some(i),
            _ => None,
        })
        .collect()
}

/// Thread patches folded the way the store merges them.
fn thread(events: &[ParsedEvent]) -> ThreadPatch {
    let mut t = ThreadPatch::default();
    for e in events {
        if let ParsedEvent::Thread(p) = e {
            t.title = t.title.take().or(p.title.clone());
            t.cwd = t.cwd.take().or(p.cwd.clone());
            t.git_branch = t.git_branch.take().or(p.git_branch.clone());
            t.parent_session_id = t.parent_session_id.take().or(p.parent_session_id.clone());
            t.model = p.model.clone().or(t.model.take());
            t.agent_version = p.agent_version.clone().or(t.agent_version.take());
            t.created_at = match (t.created_at, p.created_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }
    t
}

/// Items folded by key, in first-seen order (as the store keeps them).
fn folded(events: &[ParsedEvent]) -> Vec<ItemPatch> {
    let mut out: Vec<ItemPatch> = Vec::new();
    for i in items(events) {
        match out.iter_mut().find(|o| o.key == i.key) {
            Some(o) => o.absorb(i.clone()),
            None => out.push(i.clone()),
        }
    }
    out
}

fn lines(records: &[serde_json::Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

fn common(kind: &str, uuid: &str, ts: &str) -> serde_json::Value {
    json!({"type": kind, "uuid": uuid, "timestamp": ts, "sessionId": SID, "cwd": "/w",
           "gitBranch": "main", "version": "2.0.1", "isSidechain": false})
}

fn with(mut v: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

fn user(uuid: &str, ts: &str, content: serde_json::Value) -> serde_json::Value {
    with(
        common("user", uuid, ts),
        json!({"message": {"role": "user", "content": content}}),
    )
}

fn assistant(uuid: &str, ts: &str, msg_id: &str, block: serde_json::Value) -> serde_json::Value {
    with(
        common("assistant", uuid, ts),
        json!({"requestId": "req_1", "message": {"id": msg_id, "type": "message", "role": "assistant",
            "model": "claude-x", "content": [block], "stop_reason": null,
            "usage": {"input_tokens": 10, "output_tokens": 3}}}),
    )
}

#[test]
fn session_id_is_the_file_stem_and_agents_are_scoped() {
    let p = ClaudeParser::resume(&path(), None).unwrap();
    assert_eq!(p.session_id(), Some(SID));
    // Short agent ids are qualified by their project folder (older layout)...
    let p = ClaudeParser::resume(Path::new("/p/-w/agent-1a2b3c4d.jsonl"), None).unwrap();
    assert_eq!(p.session_id(), Some("-w-agent-1a2b3c4d"));
    let q = ClaudeParser::resume(Path::new("/p/-x/agent-1a2b3c4d.jsonl"), None).unwrap();
    assert_ne!(
        p.session_id(),
        q.session_id(),
        "same agent id, other project"
    );
    // ...or by their parent session (2.1.x layout).
    let p = ClaudeParser::resume(Path::new("/p/-w/s1/subagents/agent-a9.jsonl"), None).unwrap();
    assert_eq!(p.session_id(), Some("s1-agent-a9"));
}

#[test]
fn a_session_becomes_prompts_texts_tools_and_usage() {
    let text = lines(&[
        json!({"type": "summary", "summary": "Old title", "leafUuid": "zz"}),
        json!({"type": "file-history-snapshot", "messageId": "m", "snapshot": {}}),
        with(
            user("u0", "2026-01-01T00:00:01.000Z", json!("Caveat: The messages below were generated by the user while running local commands.")),
            json!({"isMeta": true}),
        ),
        user("u1", "2026-01-01T00:00:02.000Z", json!("<command-name>/clear</command-name>\n<command-message>clear</command-message>\n<command-args></command-args>")),
        user("u2", "2026-01-01T00:00:03.000Z", json!("<local-command-stdout></local-command-stdout>")),
        user("u3", "2026-01-01T00:00:04.000Z", json!([{"type": "text", "text": "<system-reminder>ctx</system-reminder>"}, {"type": "text", "text": "fix   the\nbuild"}])),
        assistant("a1", "2026-01-01T00:00:06.000Z", "msg_1", json!({"type": "thinking", "thinking": "hmm", "signature": "s"})),
        assistant("a2", "2026-01-01T00:00:05.000Z", "msg_1", json!({"type": "text", "text": "Let me look."})),
        assistant("a3", "2026-01-01T00:00:07.000Z", "msg_1", json!({"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls -la", "description": "list"}})),
        assistant("a4", "2026-01-01T00:00:07.000Z", "msg_1", json!({"type": "tool_use", "id": "toolu_2", "name": "TodoWrite", "input": {"todos": [{"content": "a", "status": "completed", "activeForm": "A"}, {"content": "b", "status": "pending", "activeForm": "B"}]}})),
        with(
            user("r1", "2026-01-01T00:00:08.000Z", json!([{"type": "tool_result", "tool_use_id": "toolu_1", "content": "Exit code 2\nnope", "is_error": true}])),
            json!({"toolUseResult": "Error: Exit code 2\nnope"}),
        ),
        user("r2", "2026-01-01T00:00:09.000Z", json!([{"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "ok"}, {"type": "image", "source": {}}, {"type": "text", "text": "done"}]}])),
        with(
            user("cs", "2026-01-01T00:00:10.000Z", json!("This session is being continued from a previous conversation...")),
            json!({"isCompactSummary": true}),
        ),
        with(common("system", "s1", "2026-01-01T00:00:11.000Z"), json!({"subtype": "api_error", "level": "error", "error": {"error": {"message": "Overloaded"}}, "retryAttempt": 1, "maxRetries": 10})),
        with(
            assistant("e1", "2026-01-01T00:00:12.000Z", "msg_e", json!({"type": "text", "text": "API Error: 500"})),
            json!({"isApiErrorMessage": true, "message": {"id": "msg_e", "model": "<synthetic>", "role": "assistant", "content": [{"type": "text", "text": "API Error: 500"}]}}),
        ),
        user("u4", "2026-01-01T00:00:13.000Z", json!("<command-message>review is running…</command-message>\n<command-name>/review</command-name>\n<command-args>the parser</command-args>")),
        json!({"type": "attachment", "uuid": "at", "attachment": {"type": "date"}}),
        json!({"type": "brand-new", "x": 1}),
    ]);
    let (events, errors) = parse_all(&path(), &text);
    assert_eq!(errors, 0);
    let items = folded(&events);
    let got: Vec<(ItemKind, &str)> = items.iter().map(|i| (i.kind, i.key.as_str())).collect();
    use ItemKind::*;
    assert_eq!(
        got,
        vec![
            (User, "u-u3"),
            (Reasoning, "r-a1.0"),
            (Usage, "usage-msg_1"),
            (Assistant, "a-a2.0"),
            (ToolCall, "call-toolu_1"),
            (ToolCall, "call-toolu_2"),
            (Plan, "plan-toolu_2"),
            (Error, "err-s1"),
            (Error, "err-e1"),
            (User, "u-u4"),
        ]
    );
    assert_eq!(items[0].text.as_deref(), Some("fix   the\nbuild"));
    assert_eq!(items[1].text.as_deref(), Some("hmm"));
    // One usage item per API message, not one per block line.
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, ParsedEvent::Item(i) if i.kind == Usage))
            .count(),
        4
    );
    assert_eq!(items[2].data.as_ref().unwrap()["input_tokens"], 10);
    assert_eq!(items[2].data.as_ref().unwrap()["model"], "claude-x");
    let bash = items[4].tool.as_ref().unwrap();
    assert_eq!(bash.command.as_deref(), Some("ls -la"));
    assert_eq!(bash.tool_kind.as_deref(), Some("shell"));
    assert_eq!(bash.output.as_deref(), Some("Exit code 2\nnope"));
    assert_eq!(bash.status, Some(ToolStatus::Failed));
    assert_eq!(items[4].ts, Some(1_767_225_607_000));
    let todo = items[5].tool.as_ref().unwrap();
    assert_eq!(todo.tool_kind.as_deref(), Some("plan"));
    assert_eq!(todo.output.as_deref(), Some("ok\ndone"));
    assert_eq!(todo.status, Some(ToolStatus::Completed));
    assert_eq!(items[6].text.as_deref(), Some("[x] a\n[ ] b"));
    assert_eq!(items[6].data.as_ref().unwrap()[1]["content"], "b");
    assert_eq!(items[7].text.as_deref(), Some("Overloaded (retry 1/10)"));
    assert_eq!(items[8].text.as_deref(), Some("API Error: 500"));
    assert_eq!(items[9].text.as_deref(), Some("/review the parser"));
    let t = thread(&events);
    assert_eq!(t.title.as_deref(), Some("fix the"));
    assert_eq!(t.cwd.as_deref(), Some("/w"));
    assert_eq!(t.git_branch.as_deref(), Some("main"));
    assert_eq!(t.model.as_deref(), Some("claude-x"));
    assert_eq!(t.agent_version.as_deref(), Some("2.0.1"));
    assert_eq!(t.created_at, Some(1_767_225_601_000));
    assert_eq!(t.parent_session_id, None);
    // Every line is kept raw, unknown kinds included.
    let raw: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ParsedEvent::Raw(r) => Some(r.kind.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(raw.len(), text.lines().count());
    assert!(raw.contains(&"brand-new"));
    assert!(raw.contains(&"system:api_error"));
    // Items sort in file order even though timestamps do not.
    let seqs: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            ParsedEvent::Item(i) if i.kind != Usage => Some(i.seq),
            _ => None,
        })
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "{seqs:?}");
}

#[test]
fn repeated_lines_dedupe_by_uuid() {
    // A 1.x resume copies earlier lines with their uuids; re-seen lines map to the same keys.
    let a = user("u1", "2026-01-01T00:00:01.000Z", json!("hello"));
    let b = assistant(
        "a1",
        "2026-01-01T00:00:02.000Z",
        "msg_1",
        json!({"type": "text", "text": "hi"}),
    );
    let c = assistant(
        "a2",
        "2026-01-01T00:00:02.000Z",
        "msg_1",
        json!({"type": "tool_use", "id": "t1", "name": "Read", "input": {}}),
    );
    let text = lines(&[a.clone(), b.clone(), c.clone(), a, b, c]);
    let (events, _) = parse_all(&path(), &text);
    let keys: Vec<String> = folded(&events).into_iter().map(|i| i.key).collect();
    assert_eq!(keys, vec!["u-u1", "a-a1.0", "usage-msg_1", "call-t1"]);
}

#[test]
fn agent_files_link_to_their_parent_and_inline_sidechains_stay_raw() {
    let side = |v: serde_json::Value| with(v, json!({"isSidechain": true, "agentId": "1a2b"}));
    let text = lines(&[
        side(user(
            "s1",
            "2026-01-01T00:00:01.000Z",
            json!("Run the tests"),
        )),
        side(assistant(
            "s2",
            "2026-01-01T00:00:02.000Z",
            "msg_s",
            json!({"type": "text", "text": "ok"}),
        )),
    ]);
    // Next to the session (≈1.0.6x–2.0.x): parent from the lines' sessionId.
    let agent = PathBuf::from("/h/.claude/projects/-w/agent-1a2b.jsonl");
    let (events, _) = parse_all(&agent, &text);
    let t = thread(&events);
    assert_eq!(t.parent_session_id.as_deref(), Some(SID));
    assert_eq!(t.title.as_deref(), Some("Run the tests"));
    assert_eq!(folded(&events).len(), 3);
    // 2.1.x: <sessionId>/subagents/agent-<id>.jsonl, parent from the path when lines lack it.
    let agent = PathBuf::from("/h/.claude/projects/-w/p-123/subagents/agent-1a2b.jsonl");
    let mut p = ClaudeParser::resume(&agent, None).unwrap();
    let mut out = Vec::new();
    p.parse_line(0, br#"{"type":"user","isSidechain":true,"uuid":"x","message":{"role":"user","content":"go"}}"#, &mut out)
        .unwrap();
    assert_eq!(thread(&out).parent_session_id.as_deref(), Some("p-123"));
    // The same lines inline in a session file (≤ 1.0.x) are only kept raw.
    let (events, _) = parse_all(&path(), &text);
    assert!(items(&events).is_empty());
    assert!(events
        .iter()
        .all(|e| matches!(e, ParsedEvent::Raw(r) if r.kind.starts_with("sidechain:"))));
}

#[test]
fn prompt_rules() {
    assert_eq!(prompt_text("  hi  ").as_deref(), Some("hi"));
    assert_eq!(prompt_text("<system-reminder>x</system-reminder>"), None);
    assert_eq!(
        prompt_text("<system-reminder>x</system-reminder>\nreal").as_deref(),
        Some("real")
    );
    assert_eq!(
        prompt_text("[Request interrupted by user for tool use]"),
        None
    );
    assert_eq!(
        prompt_text("<local-command-stderr>e</local-command-stderr>"),
        None
    );
    assert_eq!(
        prompt_text("<command-name>/model</command-name><command-args>opus</command-args>")
            .as_deref(),
        Some("/model opus")
    );
    assert_eq!(tool_kind("Bash"), "shell");
    assert_eq!(tool_kind("MultiEdit"), "patch");
    assert_eq!(tool_kind("WebFetch"), "web_search");
    assert_eq!(tool_kind("mcp__github__x"), "mcp");
    assert_eq!(tool_kind("Agent"), "agent");
    assert_eq!(tool_kind("Read"), "function");
}

#[test]
fn garbage_lines_are_errors_not_failures() {
    let text = "not json\n{\"type\":\"user\",\"uuid\":\"q\",\"message\":{\"content\":\"hi\"}}\n\n42\n{\"type\":\"user\",\"message\":7}\n";
    let (events, errors) = parse_all(&path(), text);
    assert_eq!(errors, 3);
    assert_eq!(items(&events).len(), 1);
    let mut p = ClaudeParser::resume(&path(), None).unwrap();
    assert!(p
        .parse_line(0, b"{\"a\":\"\xff\"}", &mut Vec::new())
        .is_err());
}

fn fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("TINYVEX_FIXTURES")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"));
    if dir.join("claude").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED claude fixture parser tests: {}/claude not found (set TINYVEX_FIXTURES)",
            dir.display()
        );
        None
    }
}

fn jsonl_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            jsonl_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            found.push(path);
        }
    }
}

/// Resuming from saved state before every line gives exactly the events of
/// one uninterrupted pass, for every Claude fixture.
#[test]
fn resume_at_every_line_matches_one_pass() {
    let Some(dir) = fixtures() else { return };
    let mut files = Vec::new();
    jsonl_files(&dir.join("claude"), &mut files);
    files.sort();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let (one_pass, errors) = parse_all(path, &text);
        assert_eq!(errors, 0, "{}", path.display());
        assert!(
            !items(&one_pass).is_empty(),
            "{} produced no items",
            path.display()
        );
        assert_eq!(one_pass, parse_resuming(path, &text), "{}", path.display());
    }
    assert!(files.len() >= 8, "{files:?}");
}
