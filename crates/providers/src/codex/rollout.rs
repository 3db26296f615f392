//! The rollout parser: one line in, normalized events out, following
//! `docs/providers/codex.md`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use tinyvex_model::{
    parse_rfc3339_ms, ItemKind, ItemPatch, LineError, ParsedEvent, RawRecord, ThreadPatch,
    TimestampMs, ToolPatch, ToolStatus,
};

use super::records::{self, join_text, Line, Tag, Usage};
use super::tools;
use crate::text::{is_injected_context, title_from_prompt};
use crate::{Error, LineParser};

/// What the parser remembers between lines; saved with the file cursor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct State {
    /// Thread id: the first `session_meta.id`, or the file name's uuid.
    session_id: Option<String>,
    /// A `session_meta` (or legacy meta) was seen; later ones are forks' copies.
    meta_seen: bool,
    /// The file is in the pre-0.31 format (no envelope).
    legacy: bool,
    /// Whether a cwd is known (else the next `turn_context` provides it).
    cwd_known: bool,
    /// A title was emitted.
    titled: bool,
    /// Meta timestamp, the only time legacy files have.
    meta_ts: Option<TimestampMs>,
    /// Turns started so far (one per user item).
    turn: u32,
    /// Cumulative usage when the current turn started.
    turn_start_total: Usage,
    /// Latest cumulative usage seen.
    latest_total: Usage,
    /// `seq` of the current turn's usage item, once it exists.
    usage_seq: Option<i64>,
}

/// Parses one Codex rollout file (current or legacy format).
pub struct RolloutParser {
    state: State,
}

/// Sort position of the `n`th item produced by the line at `offset`.
fn seq(offset: u64, n: i64) -> i64 {
    offset as i64 * 8 + n
}

fn line_key(offset: u64) -> String {
    format!("L{offset}")
}

/// The uuid at the end of `rollout-<timestamp>-<uuid>.jsonl`.
fn uuid_from_file_name(path: &Path) -> Option<String> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".jsonl")?;
    // A uuid is 36 characters: 8-4-4-4-12 hex digits.
    let cut = stem.len().checked_sub(36)?;
    let tail = stem.get(cut..)?;
    let ok = tail.len() == 36
        && tail.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    ok.then(|| tail.to_string())
}

impl RolloutParser {
    /// A parser for `path`, resumed from a saved state or fresh.
    pub fn resume(path: &Path, state: Option<&str>) -> Result<RolloutParser, Error> {
        let state = match state {
            Some(s) if !s.is_empty() => {
                serde_json::from_str(s).map_err(|source| Error::BadState {
                    path: path.to_path_buf(),
                    source,
                })?
            }
            _ => State {
                session_id: uuid_from_file_name(path),
                ..State::default()
            },
        };
        Ok(RolloutParser { state })
    }

    fn line(
        &mut self,
        offset: u64,
        line: &Line<'_>,
        raw_line: &str,
        out: &mut Vec<ParsedEvent>,
    ) -> String {
        let ts = line.timestamp.as_deref().and_then(parse_rfc3339_ms);
        match (line.kind.as_deref(), line.payload) {
            (Some(kind), Some(payload)) => {
                let tag = serde_json::from_str::<Tag<'_>>(payload.get())
                    .ok()
                    .and_then(|t| t.kind);
                let tag = tag.as_deref();
                match (kind, tag) {
                    ("session_meta", _) => self.session_meta(payload, false, out),
                    ("turn_context", _) => self.turn_context(payload, out),
                    ("response_item", Some(t)) => {
                        self.response_item(offset, ts, t, payload.get(), out)
                    }
                    ("event_msg", Some(t)) => self.event_msg(offset, ts, t, payload, out),
                    _ => {}
                }
                match tag {
                    Some(t) => format!("{kind}:{t}"),
                    None => kind.to_string(),
                }
            }
            (None, None) if line.record_type.is_some() => "legacy:state".to_string(),
            (None, None) if line.id.is_some() && !self.state.meta_seen => {
                self.state.legacy = true;
                if let Ok(raw) = serde_json::from_str::<&RawValue>(raw_line) {
                    self.session_meta(raw, true, out);
                }
                "legacy:session_meta".to_string()
            }
            (Some(kind), None) => {
                let ts = ts.or(self.state.meta_ts);
                self.response_item(offset, ts, kind, raw_line, out);
                format!("legacy:{kind}")
            }
            _ => "unknown".to_string(),
        }
    }

    fn session_meta(&mut self, payload: &RawValue, legacy: bool, out: &mut Vec<ParsedEvent>) {
        if self.state.meta_seen {
            return; // forks embed their parent's meta after their own: the first wins.
        }
        let Ok(meta) = serde_json::from_str::<records::SessionMeta<'_>>(payload.get()) else {
            return;
        };
        self.state.meta_seen = true;
        if let Some(id) = meta.id.as_deref().filter(|s| !s.is_empty()) {
            self.state.session_id = Some(id.to_string());
        }
        let created_at = meta.timestamp.as_deref().and_then(parse_rfc3339_ms);
        if legacy {
            self.state.meta_ts = created_at;
        }
        let parent = meta
            .forked_from_id
            .as_deref()
            .or(meta.parent_thread_id.as_deref())
            .map(str::to_string)
            .or_else(|| {
                let spawn = meta.source.as_ref()?.get("subagent")?.get("thread_spawn")?;
                spawn.get("parent_thread_id")?.as_str().map(str::to_string)
            });
        let cwd = meta
            .cwd
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        self.state.cwd_known = cwd.is_some();
        let patch = ThreadPatch {
            cwd,
            git_branch: meta.git.and_then(|g| g.branch).filter(|b| !b.is_empty()),
            created_at,
            parent_session_id: parent,
            agent_version: meta.cli_version.map(|v| v.into_owned()),
            ..ThreadPatch::default()
        };
        if !patch.is_empty() {
            out.push(ParsedEvent::Thread(patch));
        }
    }

    fn turn_context(&mut self, payload: &RawValue, out: &mut Vec<ParsedEvent>) {
        let Ok(tc) = serde_json::from_str::<records::TurnContext<'_>>(payload.get()) else {
            return;
        };
        let mut patch = ThreadPatch {
            model: tc.model.map(|m| m.into_owned()),
            ..ThreadPatch::default()
        };
        if !self.state.cwd_known {
            if let Some(cwd) = tc.cwd.filter(|c| !c.is_empty()) {
                patch.cwd = Some(cwd.into_owned());
                self.state.cwd_known = true;
            }
        }
        if !patch.is_empty() {
            out.push(ParsedEvent::Thread(patch));
        }
    }

    /// A user prompt: starts a turn, titles the thread if it is the first.
    fn user(
        &mut self,
        offset: u64,
        ts: Option<TimestampMs>,
        text: String,
        out: &mut Vec<ParsedEvent>,
    ) {
        if text.trim().is_empty() {
            return;
        }
        self.state.turn += 1;
        self.state.turn_start_total = self.state.latest_total;
        self.state.usage_seq = None;
        if !self.state.titled {
            if let Some(title) = title_from_prompt(&text) {
                self.state.titled = true;
                out.push(ParsedEvent::Thread(ThreadPatch {
                    title: Some(title),
                    ..ThreadPatch::default()
                }));
            }
        }
        out.push(ParsedEvent::Item(ItemPatch::text(
            line_key(offset),
            seq(offset, 0),
            ItemKind::User,
            ts,
            text,
        )));
    }

    fn response_item(
        &mut self,
        offset: u64,
        ts: Option<TimestampMs>,
        tag: &str,
        json: &str,
        out: &mut Vec<ParsedEvent>,
    ) {
        match tag {
            "message" => {
                let Ok(msg) = serde_json::from_str::<records::Message<'_>>(json) else {
                    return;
                };
                let text = join_text(&msg.content, "\n");
                match msg.role.as_deref() {
                    Some("assistant") if !text.trim().is_empty() => {
                        out.push(ParsedEvent::Item(ItemPatch::text(
                            line_key(offset),
                            seq(offset, 0),
                            ItemKind::Assistant,
                            ts,
                            text,
                        )))
                    }
                    // Envelope files carry the typed prompt as an event; only
                    // legacy files need the response item.
                    Some("user") if self.state.legacy && !is_injected_context(&text) => {
                        self.user(offset, ts, text, out)
                    }
                    // Legacy metas have no cwd; the injected environment names it.
                    Some("user") if self.state.legacy && !self.state.cwd_known => {
                        if let Some(cwd) = env_context_cwd(&text) {
                            self.state.cwd_known = true;
                            out.push(ParsedEvent::Thread(ThreadPatch {
                                cwd: Some(cwd.to_string()),
                                ..ThreadPatch::default()
                            }));
                        }
                    }
                    _ => {}
                }
            }
            "reasoning" => {
                let Ok(r) = serde_json::from_str::<records::Reasoning<'_>>(json) else {
                    return;
                };
                let mut text = join_text(&r.summary, "\n\n");
                if text.trim().is_empty() {
                    text = r
                        .content
                        .as_deref()
                        .map(|c| join_text(c, "\n\n"))
                        .unwrap_or_default();
                }
                if !text.trim().is_empty() {
                    out.push(ParsedEvent::Item(ItemPatch::text(
                        line_key(offset),
                        seq(offset, 0),
                        ItemKind::Reasoning,
                        ts,
                        text,
                    )));
                }
            }
            "function_call" => {
                let Ok(call) = serde_json::from_str::<records::FunctionCall<'_>>(json) else {
                    return;
                };
                let name = call.name.as_deref().unwrap_or("function");
                let args_text = call.arguments.as_deref().unwrap_or("");
                let args: Value = serde_json::from_str(args_text).unwrap_or(Value::Null);
                let call_id = call.call_id.as_deref().map(str::to_string);
                let kind = tools::tool_kind(name, false);
                let tool = ToolPatch {
                    call_id: call_id.clone(),
                    tool_kind: Some(kind.to_string()),
                    name: Some(name.to_string()),
                    command: if kind == "shell" {
                        tools::command_from_args(&args)
                    } else {
                        None
                    },
                    input: Some(args_text.to_string()),
                    status: Some(ToolStatus::InProgress),
                    started_at: ts,
                    ..ToolPatch::default()
                };
                let key = call_id
                    .as_ref()
                    .map_or_else(|| line_key(offset), |c| format!("call-{c}"));
                out.push(ParsedEvent::Item(ItemPatch::tool(
                    key,
                    seq(offset, 0),
                    ts,
                    tool,
                )));
                if name == "update_plan" {
                    if let Some(plan) = plan_from_args(&args) {
                        let key =
                            call_id.map_or_else(|| format!("L{offset}.1"), |c| format!("plan-{c}"));
                        out.push(ParsedEvent::Item(ItemPatch {
                            key,
                            seq: seq(offset, 1),
                            kind: ItemKind::Plan,
                            ts,
                            text: Some(plan.0),
                            tool: None,
                            data: Some(plan.1),
                        }));
                    }
                }
            }
            "custom_tool_call" => {
                let Ok(call) = serde_json::from_str::<records::CustomToolCall<'_>>(json) else {
                    return;
                };
                let name = call.name.as_deref().unwrap_or("custom");
                let call_id = call.call_id.as_deref().map(str::to_string);
                let tool = ToolPatch {
                    call_id: call_id.clone(),
                    tool_kind: Some(tools::tool_kind(name, true).to_string()),
                    name: Some(name.to_string()),
                    input: call.input.map(|i| i.into_owned()),
                    status: Some(ToolStatus::InProgress),
                    started_at: ts,
                    ..ToolPatch::default()
                };
                let key = call_id.map_or_else(|| line_key(offset), |c| format!("call-{c}"));
                out.push(ParsedEvent::Item(ItemPatch::tool(
                    key,
                    seq(offset, 0),
                    ts,
                    tool,
                )));
            }
            "function_call_output" | "custom_tool_call_output" => {
                let Ok(o) = serde_json::from_str::<records::CallOutput<'_>>(json) else {
                    return;
                };
                let Some(call_id) = o.call_id.as_deref() else {
                    return;
                };
                let (output, exit_code) =
                    tools::output_text_and_exit(o.output.unwrap_or(Value::Null));
                let tool = ToolPatch {
                    output: Some(output),
                    exit_code,
                    status: Some(tools::status_for_exit(exit_code)),
                    ended_at: ts,
                    ..ToolPatch::default()
                };
                out.push(ParsedEvent::Item(ItemPatch::tool(
                    format!("call-{call_id}"),
                    seq(offset, 0),
                    None,
                    tool,
                )));
            }
            "local_shell_call" => {
                let Ok(call) = serde_json::from_str::<records::LocalShellCall<'_>>(json) else {
                    return;
                };
                let call_id = call
                    .call_id
                    .as_deref()
                    .or(call.id.as_deref())
                    .map(str::to_string);
                let action = call.action.unwrap_or(Value::Null);
                let tool = ToolPatch {
                    call_id: call_id.clone(),
                    tool_kind: Some("shell".to_string()),
                    name: Some("local_shell".to_string()),
                    command: action.get("command").and_then(tools::command_from_value),
                    input: Some(action.to_string()),
                    status: call
                        .status
                        .as_deref()
                        .and_then(tools::parse_status)
                        .or(Some(ToolStatus::InProgress)),
                    started_at: ts,
                    ..ToolPatch::default()
                };
                let key = call_id.map_or_else(|| line_key(offset), |c| format!("call-{c}"));
                out.push(ParsedEvent::Item(ItemPatch::tool(
                    key,
                    seq(offset, 0),
                    ts,
                    tool,
                )));
            }
            "web_search_call" => {
                let Ok(call) = serde_json::from_str::<records::WebSearchCall<'_>>(json) else {
                    return;
                };
                let action = call.action.unwrap_or(Value::Null);
                let query = action
                    .get("query")
                    .and_then(Value::as_str)
                    .or_else(|| action.get("url").and_then(Value::as_str))
                    .map(str::to_string);
                let tool = ToolPatch {
                    call_id: call.id.as_deref().map(str::to_string),
                    tool_kind: Some("web_search".to_string()),
                    name: Some("web_search".to_string()),
                    command: query,
                    input: Some(action.to_string()),
                    status: call.status.as_deref().and_then(tools::parse_status),
                    started_at: ts,
                    ..ToolPatch::default()
                };
                out.push(ParsedEvent::Item(ItemPatch::tool(
                    line_key(offset),
                    seq(offset, 0),
                    ts,
                    tool,
                )));
            }
            _ => {}
        }
    }

    fn event_msg(
        &mut self,
        offset: u64,
        ts: Option<TimestampMs>,
        tag: &str,
        payload: &RawValue,
        out: &mut Vec<ParsedEvent>,
    ) {
        let json = payload.get();
        match tag {
            "user_message" => {
                if let Ok(ev) = serde_json::from_str::<records::UserMessageEvent<'_>>(json) {
                    if let Some(text) = ev.message {
                        self.user(offset, ts, text.into_owned(), out);
                    }
                }
            }
            "item_completed" => {
                let Ok(ev) = serde_json::from_str::<records::ItemCompleted>(json) else {
                    return;
                };
                let Some(item) = ev.item else { return };
                self.turn_item(offset, ts, &item, out);
            }
            "token_count" => {
                let Ok(tc) = serde_json::from_str::<records::TokenCount>(json) else {
                    return;
                };
                let Some(info) = tc.info else { return };
                let Some(total) = info.total_token_usage else {
                    return;
                };
                self.state.latest_total = total;
                let turn_usage = total.minus(&self.state.turn_start_total);
                let seq = *self.state.usage_seq.get_or_insert(seq(offset, 0));
                let mut data = serde_json::to_value(turn_usage).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut data {
                    map.insert(
                        "thread_total".into(),
                        serde_json::to_value(total).unwrap_or(Value::Null),
                    );
                    if let Some(w) = info.model_context_window {
                        map.insert("model_context_window".into(), w.into());
                    }
                }
                out.push(ParsedEvent::Item(ItemPatch {
                    key: format!("usage-{}", self.state.turn),
                    seq,
                    kind: ItemKind::Usage,
                    ts,
                    text: None,
                    tool: None,
                    data: Some(data),
                }));
            }
            "error" => {
                if let Ok(ev) = serde_json::from_str::<records::ErrorEvent<'_>>(json) {
                    let text = ev
                        .message
                        .map(|m| m.into_owned())
                        .unwrap_or_else(|| "error".to_string());
                    out.push(ParsedEvent::Item(ItemPatch::text(
                        line_key(offset),
                        seq(offset, 0),
                        ItemKind::Error,
                        ts,
                        text,
                    )));
                }
            }
            "turn_aborted" => {
                let reason = serde_json::from_str::<records::TurnAborted<'_>>(json)
                    .ok()
                    .and_then(|t| t.reason.map(|r| r.into_owned()))
                    .unwrap_or_else(|| "unknown".to_string());
                out.push(ParsedEvent::Item(ItemPatch::text(
                    line_key(offset),
                    seq(offset, 0),
                    ItemKind::Error,
                    ts,
                    format!("turn aborted: {reason}"),
                )));
            }
            "exec_command_end" => {
                let Ok(ev) = serde_json::from_str::<records::ExecCommandEnd<'_>>(json) else {
                    return;
                };
                let Some(call_id) = ev.call_id else { return };
                let status = ev
                    .status
                    .as_deref()
                    .and_then(tools::parse_status)
                    .or(Some(tools::status_for_exit(ev.exit_code)));
                let tool = ToolPatch {
                    exit_code: ev.exit_code,
                    status,
                    ..ToolPatch::default()
                };
                out.push(ParsedEvent::Item(ItemPatch::tool(
                    format!("call-{call_id}"),
                    seq(offset, 0),
                    None,
                    tool,
                )));
            }
            _ => {}
        }
    }

    /// A paginated-mode `TurnItem` (`item_completed.item`).
    fn turn_item(
        &mut self,
        offset: u64,
        ts: Option<TimestampMs>,
        item: &Value,
        out: &mut Vec<ParsedEvent>,
    ) {
        match item.get("type").and_then(Value::as_str) {
            Some("UserMessage") => {
                let text = item
                    .get("content")
                    .and_then(Value::as_array)
                    .map(|parts| {
                        parts
                            .iter()
                            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                            .filter_map(|p| p.get("text").and_then(Value::as_str))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default();
                self.user(offset, ts, text, out);
            }
            Some("CommandExecution") => {
                let Some(id) = item.get("id").and_then(Value::as_str) else {
                    return;
                };
                let exit_code = item.get("exit_code").and_then(Value::as_i64);
                let status = item
                    .get("status")
                    .and_then(Value::as_str)
                    .and_then(tools::parse_status);
                let tool = ToolPatch {
                    exit_code,
                    status,
                    ..ToolPatch::default()
                };
                out.push(ParsedEvent::Item(ItemPatch::tool(
                    format!("call-{id}"),
                    seq(offset, 0),
                    None,
                    tool,
                )));
            }
            Some("Plan") => {
                let Some(text) = item
                    .get("text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.trim().is_empty())
                else {
                    return;
                };
                out.push(ParsedEvent::Item(ItemPatch::text(
                    line_key(offset),
                    seq(offset, 0),
                    ItemKind::Plan,
                    ts,
                    text.to_string(),
                )));
            }
            _ => {}
        }
    }
}

/// The `<cwd>` of an `<environment_context>` block.
fn env_context_cwd(text: &str) -> Option<&str> {
    if !text.trim_start().starts_with("<environment_context>") {
        return None;
    }
    let start = text.find("<cwd>")? + "<cwd>".len();
    let len = text[start..].find("</cwd>")?;
    Some(text[start..start + len].trim()).filter(|c| !c.is_empty())
}

/// `update_plan` arguments → (checklist text, data JSON).
fn plan_from_args(args: &Value) -> Option<(String, Value)> {
    let steps = args.get("plan")?.as_array()?;
    let mut text = String::new();
    if let Some(expl) = args
        .get("explanation")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
    {
        text.push_str(expl);
        text.push('\n');
    }
    for step in steps {
        let mark = match step.get("status").and_then(Value::as_str) {
            Some("completed") => "[x]",
            Some("in_progress") => "[~]",
            _ => "[ ]",
        };
        let name = step.get("step").and_then(Value::as_str).unwrap_or("");
        text.push_str(&format!("{mark} {name}\n"));
    }
    let data = serde_json::json!({ "explanation": args.get("explanation"), "steps": steps });
    Some((text.trim_end().to_string(), data))
}

impl LineParser for RolloutParser {
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
        let text = text.trim_end_matches('\r');
        if text.trim().is_empty() {
            return Err(bad("empty line".to_string()));
        }
        let parsed: Line<'_> = serde_json::from_str(text).map_err(|e| {
            out.push(ParsedEvent::Raw(RawRecord {
                offset,
                kind: "invalid".into(),
                text: truncate(text, 4096),
            }));
            bad(format!("not a JSON object: {e}"))
        })?;
        let kind = self.line(offset, &parsed, text, out);
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

fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
#[path = "rollout_tests.rs"]
mod tests;
