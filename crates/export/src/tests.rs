//! Unit tests on small hand-built threads.

use serde_json::{json, Value};
use tinyvex_store::{ItemRow, ThreadRow};

use super::*;

fn thread(provider: &str, session: &str) -> ThreadRow {
    ThreadRow {
        id: format!("{provider}-{session}"),
        provider: provider.into(),
        session_id: session.into(),
        title: Some("t".into()),
        cwd: Some("/home/me/my_proj.v2".into()),
        git_branch: Some("main".into()),
        model: Some("some-model".into()),
        agent_version: None,
        parent_session_id: None,
        created_at: Some("2026-01-02T03:04:05.000Z".into()),
        updated_at: None,
        item_count: 0,
        source_files: vec![],
        source_missing: false,
        revision: 1,
        created_at_ms: None,
        updated_at_ms: None,
    }
}

fn item(t: &ThreadRow, key: &str, kind: &str, text: Option<&str>, ts: u32) -> ItemRow {
    ItemRow {
        id: format!("{}/{key}", t.id),
        thread_id: t.id.clone(),
        seq: 0,
        kind: kind.into(),
        ts: Some(format!("2026-01-02T03:05:{ts:02}.000Z")),
        text: text.map(str::to_string),
        revision: 1,
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

#[allow(clippy::too_many_arguments)]
fn tool(
    t: &ThreadRow,
    call_id: &str,
    kind: &str,
    name: &str,
    command: Option<&str>,
    input: Value,
    output: Option<&str>,
    ts: u32,
) -> ItemRow {
    ItemRow {
        call_id: Some(call_id.into()),
        tool_kind: Some(kind.into()),
        name: Some(name.into()),
        command: command.map(str::to_string),
        // A JSON string stands for raw (non-JSON) input, as custom tools store it.
        input: Some(match input {
            Value::String(raw) => raw,
            v => v.to_string(),
        }),
        output: output.map(str::to_string),
        status: Some(
            if output.is_some() {
                "completed"
            } else {
                "in_progress"
            }
            .into(),
        ),
        ..item(t, &format!("call-{call_id}"), "tool_call", None, ts)
    }
}

fn parsed(e: &Export) -> Vec<Value> {
    e.lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn opts() -> ExportOptions {
    ExportOptions {
        utc_offset_minutes: Some(0),
        ..ExportOptions::default()
    }
}

fn claude_thread() -> (ThreadRow, Vec<ItemRow>) {
    let t = thread("claude", "0b7c-claude");
    let items = vec![
        item(&t, "u-1", "user", Some("run the greeting"), 1),
        item(&t, "r-2.0", "reasoning", Some("I should run it."), 2),
        tool(
            &t,
            "toolu_1",
            "shell",
            "Bash",
            Some("echo hi"),
            json!({"command": "echo hi"}),
            Some("hi"),
            3,
        ),
        item(&t, "usage-msg1", "usage", None, 3),
        item(&t, "a-4.0", "assistant", Some("It printed hi."), 4),
    ];
    (t, items)
}

#[test]
fn claude_thread_to_codex_rollout() {
    let (t, items) = claude_thread();
    let e = export(&t, &items, Target::Codex, &opts()).unwrap();
    assert_eq!(e.dir, PathBuf::from("sessions/2026/01/02"));
    assert_eq!(
        e.file_name,
        format!("rollout-2026-01-02T03-04-05-{}.jsonl", e.session_id)
    );
    let lines = parsed(&e);
    let meta = &lines[0];
    assert_eq!(meta["type"], "session_meta");
    assert_eq!(meta["payload"]["id"], e.session_id.as_str());
    assert_eq!(meta["payload"]["cwd"], "/home/me/my_proj.v2");
    assert_eq!(meta["payload"]["originator"], "tinyvex");
    assert_eq!(meta["payload"]["source"], "cli");
    assert_eq!(meta["payload"]["model_provider"], "openai");
    assert_eq!(
        meta["payload"]["tinyvex_export"]["source_thread"],
        t.id.as_str()
    );
    assert_eq!(meta["payload"]["tinyvex_export"]["lines"], lines.len() - 1);
    let kinds: Vec<String> = lines[1..]
        .iter()
        .map(|l| match l["payload"]["type"].as_str() {
            Some(p) => format!("{}:{p}", l["type"].as_str().unwrap()),
            None => l["type"].as_str().unwrap().to_string(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "turn_context",
            "response_item:message",
            "event_msg:user_message",
            "response_item:reasoning",
            "event_msg:agent_reasoning",
            "response_item:function_call",
            "response_item:function_call_output",
            "response_item:message",
            "event_msg:agent_message",
        ]
    );
    assert_eq!(lines[1]["payload"]["cwd"], "/home/me/my_proj.v2");
    assert_eq!(lines[1]["payload"]["model"], "some-model");
    assert_eq!(lines[3]["payload"]["message"], "run the greeting");
    let call = &lines[6]["payload"];
    assert_eq!(call["name"], "exec_command");
    assert_eq!(call["arguments"], r#"{"cmd":"echo hi"}"#);
    assert_eq!(lines[7]["payload"]["call_id"], call["call_id"]);
    assert_eq!(lines[7]["payload"]["output"], "hi");
    assert_eq!(lines[8]["payload"]["content"][0]["type"], "output_text");
    assert_eq!(lines[8]["timestamp"], "2026-01-02T03:05:04.000Z");
    assert_eq!(e.not_carried.len(), 1, "{:?}", e.not_carried);
    assert_eq!(e.not_carried[0].what, "usage items");
    assert_eq!(e.resume_command(), format!("codex resume {}", e.session_id));
}

#[test]
fn codex_thread_to_claude_transcript() {
    let t = thread("codex", "01a2-codex");
    let items = vec![
        item(&t, "L10", "user", Some("list files"), 1),
        item(&t, "L20", "reasoning", Some("**Looking**"), 2),
        item(&t, "L25", "assistant", Some("Listing."), 2),
        tool(
            &t,
            "call.1",
            "shell",
            "exec_command",
            Some("ls"),
            json!({"cmd": "ls"}),
            Some("a\nb"),
            3,
        ),
        tool(
            &t,
            "call_2",
            "patch",
            "apply_patch",
            None,
            json!("*** Begin Patch"),
            None,
            4,
        ),
        item(&t, "L50", "assistant", Some("Done."), 5),
        item(&t, "L60", "user", Some("thanks"), 6),
    ];
    let e = export(&t, &items, Target::Claude, &opts()).unwrap();
    assert_eq!(e.dir, PathBuf::from("projects/-home-me-my-proj-v2"));
    assert_eq!(e.file_name, format!("{}.jsonl", e.session_id));
    let lines = parsed(&e);
    assert_eq!(lines[0]["type"], "tinyvex-export");
    let conv = &lines[1..];
    // The uuid chain: each line's parent is the previous line.
    assert_eq!(conv[0]["parentUuid"], Value::Null);
    for w in conv.windows(2) {
        assert_eq!(w[1]["parentUuid"], w[0]["uuid"]);
    }
    for l in conv {
        assert_eq!(l["sessionId"], e.session_id.as_str());
        assert_eq!(l["cwd"], "/home/me/my_proj.v2");
    }
    let shape: Vec<String> = conv
        .iter()
        .map(|l| {
            let c = &l["message"]["content"];
            let block = if c.is_string() {
                "text".to_string()
            } else {
                c[0]["type"].as_str().unwrap().to_string()
            };
            format!("{}:{block}", l["type"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        shape,
        [
            "user:text",
            "assistant:text",
            "assistant:tool_use",
            "user:tool_result",
            "assistant:tool_use",
            "user:tool_result",
            "assistant:text",
            "user:text",
        ]
    );
    // Text and tool_use of one API message share its id; the message ends at the tool_use.
    assert_eq!(conv[1]["message"]["id"], conv[2]["message"]["id"]);
    assert_eq!(conv[1]["message"]["stop_reason"], "tool_use");
    assert_eq!(conv[6]["message"]["stop_reason"], "end_turn");
    let bash = &conv[2]["message"]["content"][0];
    assert_eq!(bash["name"], "Bash");
    assert_eq!(bash["input"], json!({"command": "ls"}));
    let id = bash["id"].as_str().unwrap();
    assert!(
        ids::is_anthropic_id(id) && id.starts_with("call_1_"),
        "{id}"
    );
    let result = &conv[3]["message"]["content"][0];
    assert_eq!(result["tool_use_id"], id);
    assert_eq!(result["content"], "a\nb");
    assert_eq!(result["is_error"], false);
    let patch = &conv[4]["message"]["content"][0];
    assert_eq!(patch["name"], "apply_patch");
    assert_eq!(patch["input"], json!({"input": "*** Begin Patch"}));
    assert_eq!(conv[5]["message"]["content"][0]["content"], "aborted");
    let what: Vec<&str> = e.not_carried.iter().map(|n| n.what.as_str()).collect();
    assert_eq!(what, ["reasoning items", "tool outputs"]);
}

#[test]
fn exports_are_deterministic() {
    let (t, items) = claude_thread();
    for target in [Target::Codex, Target::Claude] {
        let a = export(&t, &items, target, &opts()).unwrap();
        let b = export(&t, &items, target, &opts()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.session_id, session_id(target, &t.id));
        let other = thread("claude", "other");
        let c = export(&other, &items, target, &opts()).unwrap();
        assert_ne!(a.session_id, c.session_id);
    }
}

#[test]
fn repeated_call_ids_stay_distinct() {
    let t = thread("opencode", "ses_1");
    let mut a = tool(
        &t,
        "call_1",
        "function",
        "read",
        None,
        json!({"filePath": "a"}),
        Some("A"),
        1,
    );
    a.id = format!("{}/p-1", t.id);
    let mut b = tool(
        &t,
        "call_1",
        "function",
        "read",
        None,
        json!({"filePath": "b"}),
        Some("B"),
        2,
    );
    b.id = format!("{}/p-2", t.id);
    let items = vec![item(&t, "p-0", "user", Some("read both"), 0), a, b];
    for target in [Target::Codex, Target::Claude] {
        let e = export(&t, &items, target, &opts()).unwrap();
        let text = e.contents();
        assert!(text.contains("\"call_1\""), "{text}");
        assert!(text.contains("\"call_1_2\""), "{text}");
    }
}

#[test]
fn plans_map_to_the_targets_plan_tool() {
    let t = thread("claude", "plan");
    let todo =
        json!({"todos": [{"content": "write", "status": "in_progress", "activeForm": "Writing"}]});
    let mut plan = item(&t, "plan-toolu_9", "plan", Some("[~] write"), 2);
    plan.data = Some(todo["todos"].clone());
    let items = vec![
        item(&t, "u-1", "user", Some("plan it"), 1),
        tool(
            &t,
            "toolu_9",
            "plan",
            "TodoWrite",
            None,
            todo,
            Some("ok"),
            2,
        ),
        plan,
    ];
    let e = export(&t, &items, Target::Codex, &opts()).unwrap();
    let calls: Vec<Value> = parsed(&e)
        .into_iter()
        .filter(|l| l["payload"]["type"] == "function_call")
        .collect();
    assert_eq!(
        calls.len(),
        1,
        "the plan item repeats the call: one call only"
    );
    assert_eq!(calls[0]["payload"]["name"], "update_plan");
    let args: Value =
        serde_json::from_str(calls[0]["payload"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(
        args,
        json!({"plan": [{"step": "write", "status": "in_progress"}]})
    );

    let t = thread("codex", "plan");
    let args = json!({"plan": [{"step": "write", "status": "completed"}]});
    let items = vec![
        item(&t, "L1", "user", Some("plan it"), 1),
        tool(
            &t,
            "c9",
            "plan",
            "update_plan",
            None,
            args,
            Some("Plan updated"),
            2,
        ),
    ];
    let e = export(&t, &items, Target::Claude, &opts()).unwrap();
    let text = e.contents();
    assert!(
        text.contains(
            r#""input":{"todos":[{"activeForm":"write","content":"write","status":"completed"}]}"#
        ),
        "{text}"
    );
    assert!(text.contains(r#""name":"TodoWrite""#), "{text}");
}

#[test]
fn cwd_is_required_and_can_be_given() {
    let (mut t, items) = claude_thread();
    t.cwd = None;
    assert!(matches!(
        export(&t, &items, Target::Claude, &opts()),
        Err(Error::NoCwd { .. })
    ));
    t.cwd = Some("relative/dir".into());
    assert!(export(&t, &items, Target::Codex, &opts()).is_err());
    let o = ExportOptions {
        cwd: Some("/srv/x".into()),
        ..opts()
    };
    assert_eq!(
        export(&t, &items, Target::Claude, &o).unwrap().dir,
        PathBuf::from("projects/-srv-x")
    );
    let empty = vec![item(&t, "usage-1", "usage", None, 1)];
    assert!(matches!(
        export(&t, &empty, Target::Codex, &o),
        Err(Error::Empty(_))
    ));
}

#[test]
fn writes_atomically_and_only_over_its_own_untouched_file() {
    let dir = tempfile::tempdir().unwrap();
    let (t, mut items) = claude_thread();
    let e = export(&t, &items, Target::Codex, &opts()).unwrap();
    let path = dir.path().join(&e.dir).join(&e.file_name);
    let w = write_export(&path, &e).unwrap();
    assert!(!w.replaced && !w.unchanged);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), e.contents());
    assert!(write_export(&path, &e).unwrap().unchanged);
    // The thread grew: the new export replaces the old one.
    items.push(item(&t, "u-9", "user", Some("more"), 9));
    let grown = export(&t, &items, Target::Codex, &opts()).unwrap();
    assert_eq!(grown.session_id, e.session_id);
    assert!(write_export(&path, &grown).unwrap().replaced);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), grown.contents());
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    // The agent continued the session in the file: it is no longer ours.
    let mut continued = grown.contents();
    continued.push_str(
        "{\"type\":\"event_msg\",\"payload\":{\"type\":\"user_message\",\"message\":\"new\"}}\n",
    );
    std::fs::write(&path, &continued).unwrap();
    let err = write_export(&path, &grown).unwrap_err();
    assert!(matches!(err, Error::NotOurs { .. }), "{err}");
    assert!(err.to_string().contains("continued in codex"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), continued);
    // Not an export at all, or another thread's.
    std::fs::write(&path, "{\"type\":\"session_meta\"}\n").unwrap();
    assert!(write_export(&path, &grown).is_err());
    let other = export(&thread("claude", "zzz"), &items, Target::Codex, &opts()).unwrap();
    std::fs::write(&path, other.contents()).unwrap();
    let err = write_export(&path, &grown).unwrap_err();
    assert!(err.to_string().contains("claude-zzz"), "{err}");
}

#[test]
fn codex_threads_keep_their_own_tool_shapes() {
    let t = thread("codex", "own");
    let mut search = tool(
        &t,
        "ws",
        "web_search",
        "web_search",
        Some("rust"),
        json!({"type": "search", "query": "rust"}),
        None,
        3,
    );
    search.call_id = None;
    let items = vec![
        item(&t, "L1", "user", Some("go"), 1),
        tool(
            &t,
            "c1",
            "shell",
            "shell",
            Some("ls"),
            json!({"command": ["bash", "-lc", "ls"]}),
            Some("a"),
            2,
        ),
        search,
        tool(
            &t,
            "c3",
            "patch",
            "apply_patch",
            None,
            json!("*** Begin Patch\n*** End Patch\n"),
            None,
            4,
        ),
        tool(
            &t,
            "c4",
            "shell",
            "local_shell",
            Some("pwd"),
            json!({"type": "exec", "command": ["pwd"]}),
            Some("/w"),
            5,
        ),
        tool(
            &t,
            "c5",
            "mcp",
            "mcp__srv__do.it",
            None,
            json!({"x": 1}),
            Some("ok"),
            6,
        ),
    ];
    let e = export(&t, &items, Target::Codex, &opts()).unwrap();
    let payloads: Vec<Value> = parsed(&e)
        .into_iter()
        .filter(|l| l["type"] == "response_item")
        .map(|l| l["payload"].clone())
        .collect();
    // The shell call as it was (name and argv arguments), not remapped.
    assert_eq!(payloads[1]["name"], "shell");
    assert_eq!(
        payloads[1]["arguments"],
        r#"{"command":["bash","-lc","ls"]}"#
    );
    assert_eq!(payloads[3]["type"], "web_search_call");
    assert_eq!(payloads[3]["action"]["query"], "rust");
    assert_eq!(payloads[4]["type"], "custom_tool_call");
    assert_eq!(payloads[4]["input"], "*** Begin Patch\n*** End Patch\n");
    assert_eq!(payloads[5]["type"], "custom_tool_call_output");
    assert_eq!(payloads[5]["output"], "aborted");
    assert_eq!(payloads[6]["name"], "exec_command");
    assert_eq!(payloads[6]["arguments"], r#"{"cmd":"pwd"}"#);
    assert_eq!(payloads[8]["name"], "mcp__srv__do.it");
    assert!(
        e.not_carried
            .iter()
            .any(|n| n.what == "tool outputs" && n.count == 1),
        "{:?}",
        e.not_carried
    );

    // To Claude Code the MCP name must be renamed, and that is said.
    let e = export(&t, &items, Target::Claude, &opts()).unwrap();
    assert!(e.contents().contains(r#""name":"mcp__srv__do_it""#));
    assert!(
        e.not_carried
            .iter()
            .any(|n| n.what == "tool names" && n.count == 1),
        "{:?}",
        e.not_carried
    );
    // A Claude Code thread keeps its tools' names and inputs.
    let c = thread("claude", "own");
    let items = vec![
        item(&c, "u", "user", Some("go"), 1),
        tool(
            &c,
            "toolu_1",
            "patch",
            "Edit",
            None,
            json!({"file_path": "/a", "old_string": "x", "new_string": "y"}),
            Some("ok"),
            2,
        ),
    ];
    let e = export(&c, &items, Target::Claude, &opts()).unwrap();
    assert!(
        e.contents().contains(
            r#""input":{"file_path":"/a","new_string":"y","old_string":"x"},"name":"Edit""#
        ),
        "{}",
        e.contents()
    );
}

#[test]
fn reads_the_top_level_model_provider() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(codex_model_provider(dir.path()), None);
    std::fs::write(
        dir.path().join("config.toml"),
        "model = \"gpt-5.5\"\nmodel_provider = \"mock\" # local\n[model_providers.mock]\nmodel_provider = \"no\"\n",
    )
    .unwrap();
    assert_eq!(codex_model_provider(dir.path()).as_deref(), Some("mock"));
    std::fs::write(
        dir.path().join("config.toml"),
        "[profiles.x]\nmodel_provider = \"no\"\n",
    )
    .unwrap();
    assert_eq!(codex_model_provider(dir.path()), None);
}

#[test]
fn a_mirror_copy_has_its_own_session_id_and_says_so_in_its_marker() {
    let t = thread("claude", "s1");
    let items = vec![item(&t, "L1", "user", Some("hello"), 1)];
    let once = export(&t, &items, Target::Codex, &opts()).unwrap();
    let mirror_opts = ExportOptions {
        kind: ExportKind::Mirror,
        ..opts()
    };
    let mirror = export(&t, &items, Target::Codex, &mirror_opts).unwrap();
    assert_eq!(mirror.session_id, mirror_session_id(Target::Codex, &t.id));
    assert_ne!(mirror.session_id, once.session_id);
    assert!(mirror
        .file_name
        .ends_with(&format!("{}.jsonl", mirror.session_id)));
    let marker = read_marker(&mirror.lines[0]).unwrap();
    assert!(marker.mirror);
    assert_eq!(marker.lines, mirror.lines.len() - 1);
    // A one-off export's marker has no `mirror` key at all.
    assert!(!read_marker(&once.lines[0]).unwrap().mirror);
    assert!(!once.lines[0].contains("\"mirror\""));
    // Same body otherwise.
    assert_eq!(mirror.lines[1..], once.lines[1..]);
}
