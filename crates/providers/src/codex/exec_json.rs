//! The `codex exec --json` stdout stream (`formats.md` §1.11), current
//! (`thread.started`, `turn.*`, `item.*`) and legacy (`{"id","msg"}` events).
//! Later issues feed it the output of runs Tinyvex starts.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tinyvex_model::{
    ItemKind, ItemPatch, LineError, ParsedEvent, RawRecord, ThreadPatch, ToolPatch, ToolStatus,
};

use super::tools;
use crate::text::title_from_prompt;
use crate::LineParser;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct State {
    session_id: Option<String>,
    /// Turns seen (`turn.started`, or the legacy prompt); item ids restart per run.
    turn: u32,
    titled: bool,
    /// Cumulative usage reported at the end of the previous turn.
    last_usage: Option<Value>,
}

/// Parses a `codex exec --json` stream into normalized events.
#[derive(Debug, Default)]
pub struct CodexExecParser {
    state: State,
}

impl CodexExecParser {
    /// A fresh parser, or one resumed from [`LineParser::save_state`].
    pub fn new(state: Option<&str>) -> CodexExecParser {
        let state = state
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        CodexExecParser { state }
    }

    fn key(&self, id: &str) -> String {
        format!("t{}-{id}", self.state.turn)
    }

    fn item(&mut self, offset: u64, phase: &str, item: &Value, out: &mut Vec<ParsedEvent>) {
        let Some(id) = item.get("id").and_then(Value::as_str) else {
            return;
        };
        let seq = offset as i64 * 8;
        let key = self.key(id);
        let str_field = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
        let status = str_field("status").as_deref().and_then(tools::parse_status);
        let patch = match item.get("type").and_then(Value::as_str) {
            Some("agent_message") if phase == "item.completed" => ItemPatch::text(
                key,
                seq,
                ItemKind::Assistant,
                None,
                str_field("text").unwrap_or_default(),
            ),
            Some("reasoning") if phase == "item.completed" => ItemPatch::text(
                key,
                seq,
                ItemKind::Reasoning,
                None,
                str_field("text").unwrap_or_default(),
            ),
            Some("error") => ItemPatch::text(
                key,
                seq,
                ItemKind::Error,
                None,
                str_field("message").unwrap_or_default(),
            ),
            Some("todo_list") => {
                let steps = item.get("items").cloned().unwrap_or(Value::Array(vec![]));
                let text = steps
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|s| {
                                let done =
                                    s.get("completed").and_then(Value::as_bool).unwrap_or(false);
                                let t = s.get("text").and_then(Value::as_str).unwrap_or("");
                                format!("{} {t}", if done { "[x]" } else { "[ ]" })
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default();
                ItemPatch {
                    key,
                    seq,
                    kind: ItemKind::Plan,
                    ts: None,
                    text: Some(text),
                    tool: None,
                    data: Some(steps),
                }
            }
            Some(kind @ ("command_execution" | "file_change" | "mcp_tool_call" | "web_search")) => {
                let (tool_kind, name, command) = match kind {
                    "command_execution" => (
                        "shell",
                        "command_execution".to_string(),
                        str_field("command"),
                    ),
                    "file_change" => ("patch", "apply_patch".to_string(), None),
                    "mcp_tool_call" => (
                        "mcp",
                        format!(
                            "{}.{}",
                            str_field("server").unwrap_or_default(),
                            str_field("tool").unwrap_or_default()
                        ),
                        None,
                    ),
                    _ => ("web_search", "web_search".to_string(), str_field("query")),
                };
                let output = match kind {
                    "command_execution" => str_field("aggregated_output"),
                    "mcp_tool_call" => item
                        .get("result")
                        .or(item.get("error"))
                        .filter(|v| !v.is_null())
                        .map(Value::to_string),
                    _ => None,
                };
                let input = match kind {
                    "file_change" => item.get("changes").map(Value::to_string),
                    "mcp_tool_call" => item.get("arguments").map(Value::to_string),
                    "web_search" => item.get("action").map(Value::to_string),
                    _ => None,
                };
                let tool = ToolPatch {
                    call_id: Some(id.to_string()),
                    tool_kind: Some(tool_kind.to_string()),
                    name: Some(name),
                    command,
                    input,
                    output: output.filter(|o| !o.is_empty() || phase == "item.completed"),
                    exit_code: item.get("exit_code").and_then(Value::as_i64),
                    status,
                    ..ToolPatch::default()
                };
                ItemPatch::tool(key, seq, None, tool)
            }
            _ => return,
        };
        out.push(ParsedEvent::Item(patch));
    }

    fn legacy_msg(&mut self, offset: u64, msg: &Value, out: &mut Vec<ParsedEvent>) {
        let seq = offset as i64 * 8;
        let s = |k: &str| msg.get(k).and_then(Value::as_str).map(str::to_string);
        let key = format!("L{offset}");
        let patch = match msg.get("type").and_then(Value::as_str) {
            Some("agent_message") => ItemPatch::text(
                key,
                seq,
                ItemKind::Assistant,
                None,
                s("message").unwrap_or_default(),
            ),
            Some("agent_reasoning") => ItemPatch::text(
                key,
                seq,
                ItemKind::Reasoning,
                None,
                s("text").unwrap_or_default(),
            ),
            Some("error") => ItemPatch::text(
                key,
                seq,
                ItemKind::Error,
                None,
                s("message").unwrap_or_default(),
            ),
            Some("exec_command_begin") => {
                let Some(call_id) = s("call_id") else { return };
                let tool = ToolPatch {
                    call_id: Some(call_id.clone()),
                    tool_kind: Some("shell".into()),
                    name: Some("shell".into()),
                    command: msg.get("command").and_then(tools::command_from_value),
                    input: msg.get("command").map(Value::to_string),
                    status: Some(ToolStatus::InProgress),
                    ..ToolPatch::default()
                };
                ItemPatch::tool(format!("call-{call_id}"), seq, None, tool)
            }
            Some("exec_command_end") => {
                let Some(call_id) = s("call_id") else { return };
                let exit_code = msg.get("exit_code").and_then(Value::as_i64);
                let mut output = s("stdout").unwrap_or_default();
                output.push_str(&s("stderr").unwrap_or_default());
                let tool = ToolPatch {
                    output: Some(output),
                    exit_code,
                    status: Some(tools::status_for_exit(exit_code)),
                    ..ToolPatch::default()
                };
                ItemPatch::tool(format!("call-{call_id}"), seq, None, tool)
            }
            _ => return,
        };
        out.push(ParsedEvent::Item(patch));
    }

    fn user(&mut self, offset: u64, text: &str, out: &mut Vec<ParsedEvent>) {
        self.state.turn += 1;
        if !self.state.titled {
            if let Some(title) = title_from_prompt(text) {
                self.state.titled = true;
                out.push(ParsedEvent::Thread(ThreadPatch {
                    title: Some(title),
                    ..ThreadPatch::default()
                }));
            }
        }
        out.push(ParsedEvent::Item(ItemPatch::text(
            format!("L{offset}"),
            offset as i64 * 8,
            ItemKind::User,
            None,
            text.to_string(),
        )));
    }
}

impl LineParser for CodexExecParser {
    fn session_id(&self) -> Option<&str> {
        self.state.session_id.as_deref()
    }

    fn parse_line(
        &mut self,
        offset: u64,
        line: &[u8],
        out: &mut Vec<ParsedEvent>,
    ) -> Result<(), LineError> {
        let bad = |message: String| LineError { offset, message };
        let text = std::str::from_utf8(line).map_err(|e| bad(format!("invalid UTF-8: {e}")))?;
        let v: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let Value::Object(obj) = &v else {
            return Err(bad("not a JSON object".into()));
        };
        let kind = match obj.get("type").and_then(Value::as_str) {
            Some(t) => {
                match t {
                    "thread.started" => {
                        self.state.session_id = obj
                            .get("thread_id")
                            .and_then(Value::as_str)
                            .map(str::to_string);
                    }
                    "turn.started" => self.state.turn += 1,
                    "item.started" | "item.updated" | "item.completed" => {
                        if let Some(item) = obj.get("item") {
                            self.item(offset, t, item, out);
                        }
                    }
                    "turn.completed" => {
                        if let Some(usage) = obj.get("usage") {
                            let data = serde_json::json!({ "thread_total": usage, "previous_total": self.state.last_usage });
                            self.state.last_usage = Some(usage.clone());
                            out.push(ParsedEvent::Item(ItemPatch {
                                key: format!("usage-{}", self.state.turn),
                                seq: offset as i64 * 8,
                                kind: ItemKind::Usage,
                                ts: None,
                                text: None,
                                tool: None,
                                data: Some(data),
                            }));
                        }
                    }
                    "turn.failed" | "error" => {
                        let msg = obj
                            .get("error")
                            .and_then(|e| e.get("message"))
                            .or(obj.get("message"))
                            .and_then(Value::as_str)
                            .unwrap_or("error");
                        out.push(ParsedEvent::Item(ItemPatch::text(
                            format!("L{offset}"),
                            offset as i64 * 8,
                            ItemKind::Error,
                            None,
                            msg.to_string(),
                        )));
                    }
                    _ => {}
                }
                t.to_string()
            }
            None => {
                if let Some(prompt) = obj.get("prompt").and_then(Value::as_str) {
                    self.user(offset, prompt, out);
                    "legacy:prompt".to_string()
                } else if let Some(msg) = obj.get("msg") {
                    self.legacy_msg(offset, msg, out);
                    format!(
                        "legacy:{}",
                        msg.get("type").and_then(Value::as_str).unwrap_or("unknown")
                    )
                } else {
                    "legacy:config".to_string()
                }
            }
        };
        out.push(ParsedEvent::Raw(RawRecord {
            offset,
            kind,
            text: text.to_string(),
        }));
        Ok(())
    }

    fn save_state(&self) -> String {
        serde_json::to_string(&self.state).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Option<String>, Vec<ItemPatch>) {
        let mut p = CodexExecParser::new(None);
        let mut out = Vec::new();
        let mut off = 0u64;
        for l in text.lines() {
            p.parse_line(off, l.as_bytes(), &mut out).unwrap();
            off += l.len() as u64 + 1;
        }
        let items = out
            .into_iter()
            .filter_map(|e| match e {
                ParsedEvent::Item(i) => Some(i),
                _ => None,
            })
            .collect();
        (p.session_id().map(str::to_string), items)
    }

    #[test]
    fn current_stream() {
        let text = r#"{"type":"thread.started","thread_id":"t-1"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"hmm"}}
{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"bash -lc ls","aggregated_output":"","status":"in_progress"}}
{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"bash -lc ls","aggregated_output":"a\n","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"4"}}
{"type":"turn.completed","usage":{"input_tokens":3,"output_tokens":1}}"#;
        let (sid, items) = run(text);
        assert_eq!(sid.as_deref(), Some("t-1"));
        let kinds: Vec<_> = items.iter().map(|i| i.kind).collect();
        use ItemKind::*;
        assert_eq!(kinds, vec![Reasoning, ToolCall, ToolCall, Assistant, Usage]);
        assert_eq!(items[1].key, items[2].key);
        assert_eq!(items[2].tool.as_ref().unwrap().exit_code, Some(0));
    }

    #[test]
    fn legacy_stream() {
        let text = r#"{"workdir":"/w","model":"gpt-5"}
{"prompt":"list files"}
{"id":"1","msg":{"type":"exec_command_begin","call_id":"c","command":["bash","-lc","ls"],"cwd":"/w"}}
{"id":"1","msg":{"type":"exec_command_end","call_id":"c","stdout":"x\n","stderr":"","exit_code":2}}
{"id":"1","msg":{"type":"agent_message","message":"ok"}}"#;
        let (_, items) = run(text);
        assert_eq!(items[0].text.as_deref(), Some("list files"));
        assert_eq!(
            items[1].tool.as_ref().unwrap().command.as_deref(),
            Some("ls")
        );
        assert_eq!(
            items[2].tool.as_ref().unwrap().status,
            Some(ToolStatus::Failed)
        );
        assert_eq!(items[3].kind, ItemKind::Assistant);
    }

    /// Every `codex exec --json` fixture parses without errors, and its
    /// messages, reasoning and distinct tool calls are all there, with the
    /// exit codes the stream reported.
    #[test]
    fn exec_json_fixtures() {
        let Some(dir) = crate::testutil::fixtures("codex-exec-json", "exec_json_fixtures") else {
            return;
        };
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.display().to_string();
            let (mut messages, mut reasoning, mut calls, mut exits) =
                (0, 0, std::collections::BTreeSet::new(), Vec::new());
            for line in text.lines() {
                let v: Value = serde_json::from_str(line).unwrap();
                let item = v.get("item");
                let item_type = item.and_then(|i| i.get("type")).and_then(Value::as_str);
                let msg_type = v
                    .get("msg")
                    .and_then(|m| m.get("type"))
                    .and_then(Value::as_str);
                match (v.get("type").and_then(Value::as_str), item_type, msg_type) {
                    (Some("item.completed"), Some("agent_message"), _)
                    | (None, _, Some("agent_message")) => messages += 1,
                    (Some("item.completed"), Some("reasoning"), _)
                    | (None, _, Some("agent_reasoning")) => reasoning += 1,
                    (Some(_), Some("command_execution" | "file_change"), _) => {
                        calls.insert(item.unwrap()["id"].to_string());
                        if v["type"] == "item.completed" && item_type == Some("command_execution") {
                            exits.push(item.unwrap()["exit_code"].as_i64());
                        }
                    }
                    (None, _, Some("exec_command_begin")) => {
                        calls.insert(v["msg"]["call_id"].to_string());
                    }
                    (None, _, Some("exec_command_end")) => {
                        exits.push(v["msg"]["exit_code"].as_i64())
                    }
                    _ => {}
                }
            }
            let mut p = CodexExecParser::new(None);
            let mut out = Vec::new();
            let mut offset = 0u64;
            for line in text.split_inclusive('\n') {
                let body = line.strip_suffix('\n').unwrap_or(line);
                p.parse_line(offset, body.as_bytes(), &mut out)
                    .unwrap_or_else(|e| panic!("{name}: {e:?}"));
                offset += line.len() as u64;
            }
            // Fold patches by key, as the store does.
            let mut items: Vec<ItemPatch> = Vec::new();
            for e in out {
                if let ParsedEvent::Item(i) = e {
                    match items.iter_mut().find(|x| x.key == i.key) {
                        Some(x) => x.absorb(i),
                        None => items.push(i),
                    }
                }
            }
            let count = |k: ItemKind| items.iter().filter(|i| i.kind == k).count();
            assert_eq!(count(ItemKind::Assistant), messages, "{name}");
            assert_eq!(count(ItemKind::Reasoning), reasoning, "{name}");
            assert_eq!(count(ItemKind::ToolCall), calls.len(), "{name}");
            let got_exits: Vec<Option<i64>> = items
                .iter()
                .filter_map(|i| i.tool.as_ref())
                .filter(|t| t.tool_kind.as_deref() == Some("shell"))
                .map(|t| t.exit_code)
                .collect();
            assert_eq!(got_exits, exits, "{name}");
        }
    }
}
