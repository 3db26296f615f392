use std::path::{Path, PathBuf};

use tinyvex_model::{ItemKind, ParsedEvent, ToolStatus};

use super::RolloutParser;
use crate::testutil::{self, items};
use crate::LineParser;

fn rollout(path: &Path) -> impl Fn(Option<&str>) -> Box<dyn LineParser> + '_ {
    move |state| Box::new(RolloutParser::resume(path, state).unwrap())
}

fn parse_all(path: &Path, text: &str) -> (Vec<ParsedEvent>, usize) {
    testutil::parse_all(rollout(path), text)
}

const UUID: &str = "01a20040-17cf-78f2-80e0-f2cc1b712842";

fn path() -> PathBuf {
    PathBuf::from(format!("/x/rollout-2026-11-21T22-35-30-{UUID}.jsonl"))
}

#[test]
fn session_id_comes_from_file_name_until_meta() {
    let p = RolloutParser::resume(&path(), None).unwrap();
    assert_eq!(p.session_id(), Some(UUID));
    let p = RolloutParser::resume(Path::new("/x/rollout-weird.jsonl"), None).unwrap();
    assert_eq!(p.session_id(), None);
}

#[test]
fn envelope_turn_dedupes_and_pairs_tool_calls() {
    let text = concat!(
        r#"{"timestamp":"2026-01-01T00:00:00.000Z","type":"session_meta","payload":{"id":"abc","timestamp":"2026-01-01T00:00:00.000Z","cwd":"/w","originator":"x","cli_version":"0.1","git":{"branch":"main"}}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:01.000Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"<environment_context>x</environment_context>"}]}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:01.000Z","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"list files"}]}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:01.000Z","type":"event_msg","payload":{"type":"user_message","message":"list files","images":[]}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:02.000Z","type":"turn_context","payload":{"cwd":"/w","model":"gpt-x","approval_policy":"never","sandbox_policy":{"type":"read-only"},"summary":"auto"}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:02.000Z","type":"event_msg","payload":{"type":"agent_reasoning","text":"thinking"}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:02.000Z","type":"response_item","payload":{"type":"reasoning","summary":[{"type":"summary_text","text":"thinking"}],"encrypted_content":"zz"}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:03.000Z","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{\"command\":[\"bash\",\"-lc\",\"ls\"]}","call_id":"c1"}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:04.000Z","type":"response_item","payload":{"type":"function_call_output","call_id":"c1","output":"{\"output\":\"a\\nb\\n\",\"metadata\":{\"exit_code\":1}}"}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:05.000Z","type":"event_msg","payload":{"type":"agent_message","message":"done"}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:05.000Z","type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"done"}]}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:05.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}}}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:05.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}}}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:00:06.000Z","type":"brand_new_kind","payload":{"type":"whatever"}}"#,
        "\n",
    );
    let (events, errors) = parse_all(&path(), text);
    assert_eq!(errors, 0);
    let items = items(&events);
    let kinds: Vec<ItemKind> = items.iter().map(|i| i.kind).collect();
    use ItemKind::*;
    assert_eq!(
        kinds,
        vec![User, Reasoning, ToolCall, ToolCall, Assistant, Usage, Usage]
    );
    assert_eq!(items[0].text.as_deref(), Some("list files"));
    let call = items[2].tool.as_ref().unwrap();
    assert_eq!(call.command.as_deref(), Some("ls"));
    assert_eq!(items[2].key, "call-c1");
    let output = items[3].tool.as_ref().unwrap();
    assert_eq!(items[3].key, "call-c1");
    assert_eq!(output.output.as_deref(), Some("a\nb\n"));
    assert_eq!(output.exit_code, Some(1));
    assert_eq!(output.status, Some(ToolStatus::Failed));
    // Repeated token counts update the same turn's usage item with the same numbers.
    assert_eq!(items[5].key, items[6].key);
    assert_eq!(items[5].data, items[6].data);
    assert_eq!(items[5].data.as_ref().unwrap()["total_tokens"], 15);
    // Unknown kinds survive in the raw log.
    assert!(events
        .iter()
        .any(|e| matches!(e, ParsedEvent::Raw(r) if r.kind == "brand_new_kind:whatever")));
    let thread_title = events.iter().find_map(|e| match e {
        ParsedEvent::Thread(t) => t.title.clone(),
        _ => None,
    });
    assert_eq!(thread_title.as_deref(), Some("list files"));
}

#[test]
fn garbage_lines_are_errors_not_failures() {
    let text = "not json\n{\"type\":\"event_msg\",\"payload\":{\"type\":\"user_message\",\"message\":\"hi\"}}\n\n42\n";
    let (events, errors) = parse_all(&path(), text);
    assert_eq!(errors, 3);
    assert_eq!(items(&events).len(), 1);
    let mut p = RolloutParser::resume(&path(), None).unwrap();
    assert!(p
        .parse_line(0, b"{\"a\":\"\xff\"}", &mut Vec::new())
        .is_err());
}

/// Resuming from saved state before every line gives exactly the events of
/// one uninterrupted pass, for every Codex fixture.
#[test]
fn resume_at_every_line_matches_one_pass() {
    let Some(dir) = testutil::fixtures("codex", "resume_at_every_line_matches_one_pass") else {
        return;
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let (one_pass, _) = parse_all(&path, &text);
        assert!(
            !items(&one_pass).is_empty(),
            "{} produced no items",
            path.display()
        );
        assert_eq!(
            one_pass,
            testutil::parse_resuming(rollout(&path), &text),
            "{}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 10);
}

#[test]
fn a_tinyvex_export_links_to_its_source_session() {
    let text = concat!(
        r#"{"timestamp":"2026-01-01T00:00:00.000Z","type":"session_meta","payload":{"id":"abc","timestamp":"2026-01-01T00:00:00.000Z","cwd":"/w","originator":"tinyvex","cli_version":"0.169.0","tinyvex_export":{"source_thread":"claude-s1","source_provider":"claude","source_session":"s1","lines":0,"sha1":"x"}}}"#,
        "\n",
    );
    let (events, errors) = parse_all(&path(), text);
    assert_eq!(errors, 0);
    let parent = events.iter().find_map(|e| match e {
        ParsedEvent::Thread(t) => t.parent_session_id.clone(),
        _ => None,
    });
    assert_eq!(parent.as_deref(), Some("s1"));
}

/// A rollout of the two-way mirror: its header and `lines` mirrored lines.
fn mirror_rollout(lines: u64) -> String {
    let mut text = format!(
        r#"{{"timestamp":"2026-01-01T00:00:00.000Z","type":"session_meta","payload":{{"id":"abc","timestamp":"2026-01-01T00:00:00.000Z","cwd":"/w","originator":"tinyvex","cli_version":"0.169.0","tinyvex_export":{{"source_thread":"claude-s1","source_provider":"claude","source_session":"s1","lines":{lines},"sha1":"x","mirror":true}}}}}}"#
    );
    text.push('\n');
    for n in 0..lines {
        text.push_str(&format!(
            r#"{{"timestamp":"2026-01-01T00:00:0{n}.000Z","type":"event_msg","payload":{{"type":"user_message","message":"mirrored {n}"}}}}"#
        ));
        text.push('\n');
    }
    text
}

#[test]
fn a_mirror_copy_makes_nothing_at_all() {
    let text = mirror_rollout(3);
    let (events, errors) = parse_all(&path(), &text);
    assert_eq!(errors, 0);
    assert!(events.is_empty(), "{events:?}");
    assert!(testutil::parse_resuming(rollout(&path()), &text).is_empty());
}

#[test]
fn a_mirror_copy_says_it_is_our_own_and_a_session_does_not() {
    let parsed = |text: &str| {
        let mut p = RolloutParser::resume(&path(), None).unwrap();
        let mut out = Vec::new();
        let mut offset = 0;
        for line in text.lines() {
            let _ = p.parse_line(offset, line.as_bytes(), &mut out);
            offset += line.len() as u64 + 1;
        }
        p
    };
    assert!(parsed(&mirror_rollout(2)).is_own_copy());
    let session = mirror_rollout(0).replace(r#","mirror":true"#, "");
    assert!(!parsed(&session).is_own_copy());
    assert!(!RolloutParser::resume(&path(), None).unwrap().is_own_copy());
}

#[test]
fn what_codex_appended_to_a_mirror_is_a_thread_of_its_own() {
    let mut text = mirror_rollout(2);
    let appended_at = text.len();
    text.push_str(concat!(
        r#"{"timestamp":"2026-01-01T00:10:00.000Z","type":"turn_context","payload":{"cwd":"/w","model":"gpt-5.5"}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:10:00.000Z","type":"event_msg","payload":{"type":"user_message","message":"continued in codex"}}"#,
        "\n",
        r#"{"timestamp":"2026-01-01T00:10:01.000Z","type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"answer"}]}}"#,
        "\n",
    ));
    let (events, errors) = parse_all(&path(), &text);
    assert_eq!(errors, 0);
    assert_eq!(
        events,
        testutil::parse_resuming(rollout(&path()), &text),
        "resumable at every line"
    );
    let got: Vec<_> = items(&events)
        .iter()
        .map(|i| (i.key.clone(), i.text.clone().unwrap_or_default()))
        .collect();
    let prompt_at = appended_at + text[appended_at..].find("\n").unwrap() + 1;
    assert_eq!(
        got,
        [
            (format!("L{prompt_at}"), "continued in codex".to_string()),
            (
                format!("L{}", prompt_at + text[prompt_at..].find('\n').unwrap() + 1),
                "answer".to_string()
            ),
        ]
    );
    let thread = |f: fn(&tinyvex_model::ThreadPatch) -> Option<String>| {
        events.iter().find_map(|e| match e {
            ParsedEvent::Thread(t) => f(t),
            _ => None,
        })
    };
    assert_eq!(
        thread(|t| t.parent_session_id.clone()).as_deref(),
        Some("s1")
    );
    assert_eq!(thread(|t| t.cwd.clone()).as_deref(), Some("/w"));
    assert_eq!(
        thread(|t| t.title.clone()).as_deref(),
        Some("continued in codex")
    );
    assert_eq!(thread(|t| t.model.clone()).as_deref(), Some("gpt-5.5"));
    // Raw records only of the appended lines.
    let raws = events
        .iter()
        .filter(|e| matches!(e, ParsedEvent::Raw(_)))
        .count();
    assert_eq!(raws, 3);
}
