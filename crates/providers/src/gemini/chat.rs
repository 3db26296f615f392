//! One Gemini CLI chat file: replayed into its final message list
//! ([`read_chat`]), then turned into events ([`events`]) following
//! `docs/providers/gemini.md`.

use serde_json::{Map, Value};
use tinyvex_model::{
    parse_rfc3339_ms, ItemKind, ItemPatch, LineError, ParsedEvent, RawRecord, ThreadPatch,
    TimestampMs, ToolPatch, ToolStatus,
};

use super::FileContext;
use crate::text::title_from_prompt;

/// A chat file after replay.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chat {
    /// `sessionId` (the latest one set).
    pub session_id: Option<String>,
    /// Metadata fields other than `messages` (`startTime`, `kind`, `summary`, ...).
    pub meta: Map<String, Value>,
    /// The final messages, in first-seen order, each the last version written.
    pub messages: Vec<Value>,
    /// One raw record per JSONL line, or per document part.
    pub raw: Vec<RawRecord>,
    /// Bad lines.
    pub errors: Vec<LineError>,
}

fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

impl Chat {
    /// Merge metadata; a `messages` array replaces the whole message list.
    fn set(&mut self, fields: &Map<String, Value>) {
        for (k, v) in fields {
            if k == "messages" {
                // Tinyvex keeps everything a chat ever held (as it keeps
                // Claude's abandoned branches), so a fresh read and an
                // incremental one agree: a listed message merges into the
                // copy already seen (a resume re-writes the history without
                // `toolCalls` and `thoughts`, which must not be lost) or is
                // added; messages it leaves out stay.
                if let Value::Array(list) = v {
                    for m in list {
                        self.merge(m);
                    }
                }
                continue;
            }
            if k == "sessionId" {
                if let Some(s) = non_empty(v.as_str()) {
                    self.session_id = Some(s.to_string());
                }
            }
            self.meta.insert(k.clone(), v.clone());
        }
    }

    /// Add a message, or replace the one with the same `id` in place.
    fn put(&mut self, m: Value) {
        let id = str_of(&m, "id");
        if let Some(i) = self
            .messages
            .iter()
            .position(|x| id.is_some() && str_of(x, "id") == id)
        {
            self.messages[i] = m;
        } else {
            self.messages.push(m);
        }
    }

    /// Overlay `m`'s fields on the message with the same `id`, or add it.
    fn merge(&mut self, m: &Value) {
        let id = str_of(m, "id");
        let existing = self
            .messages
            .iter_mut()
            .find(|x| id.is_some() && str_of(x, "id") == id);
        match (existing, m) {
            (Some(Value::Object(old)), Value::Object(new)) => {
                old.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            _ => self.put(m.clone()),
        }
    }
}

/// The raw kind of a message record.
fn message_kind(m: &Value) -> String {
    format!("message:{}", str_of(m, "type").unwrap_or("unknown"))
}

/// Replay a chat file. `jsonl`: the ≥ 0.39 line log; otherwise one JSON
/// document (an `Err` when it does not parse: a half-written document).
pub fn read_chat(bytes: &[u8], jsonl: bool) -> Result<Chat, String> {
    if jsonl {
        Ok(read_jsonl(bytes))
    } else {
        read_document(bytes)
    }
}

fn read_document(bytes: &[u8]) -> Result<Chat, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("invalid UTF-8: {e}"))?;
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not a JSON document: {e}"))?;
    let Value::Object(mut map) = doc else {
        return Err("not a JSON object".to_string());
    };
    let messages = match map.remove("messages") {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    let mut chat = Chat::default();
    chat.raw.push(RawRecord {
        offset: 0,
        kind: "conversation".into(),
        text: Value::Object(map.clone()).to_string(),
    });
    chat.set(&map);
    for (i, m) in messages.into_iter().enumerate() {
        chat.raw.push(RawRecord {
            offset: i as u64 + 1,
            kind: message_kind(&m),
            text: m.to_string(),
        });
        if m.is_object() {
            chat.put(m);
        }
    }
    Ok(chat)
}

fn read_jsonl(bytes: &[u8]) -> Chat {
    let mut chat = Chat::default();
    let mut offset = 0usize;
    while offset < bytes.len() {
        let end = bytes[offset..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| offset + i);
        let line = &bytes[offset..end.unwrap_or(bytes.len())];
        let at = offset as u64;
        offset = end.map_or(bytes.len(), |e| e + 1);
        let text = match std::str::from_utf8(line) {
            Ok(t) => t.trim_end_matches('\r'),
            Err(e) => {
                chat.errors.push(LineError {
                    offset: at,
                    message: format!("invalid UTF-8: {e}"),
                });
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let v = match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => v,
            _ if end.is_none() => break, // a last line still being written
            _ => {
                chat.errors.push(LineError {
                    offset: at,
                    message: "not a JSON object".to_string(),
                });
                chat.raw.push(RawRecord {
                    offset: at,
                    kind: "invalid".into(),
                    text: text.to_string(),
                });
                continue;
            }
        };
        // A rewind deletes nothing here: see `Chat::set`.
        let kind = if str_of(&v, "$rewindTo").is_some() {
            "$rewindTo".to_string()
        } else if str_of(&v, "id").is_some() {
            let kind = message_kind(&v);
            chat.put(v.clone());
            kind
        } else if let Some(Value::Object(fields)) = v.get("$set") {
            chat.set(fields);
            if fields.contains_key("messages") {
                "$set:messages".to_string()
            } else {
                "$set".to_string()
            }
        } else if str_of(&v, "sessionId").is_some() {
            if let Value::Object(fields) = &v {
                chat.set(fields);
            }
            "session".to_string()
        } else {
            "unknown".to_string()
        };
        chat.raw.push(RawRecord {
            offset: at,
            kind,
            text: text.to_string(),
        });
    }
    chat
}

// ---- events ----------------------------------------------------------------

/// Items of one message get consecutive `seq`s from `max(ts × 64, last + 1)`.
const SEQ_PER_MS: i64 = 64;

struct Out {
    events: Vec<ParsedEvent>,
    last_seq: i64,
    next: i64,
}

impl Out {
    fn start_message(&mut self, ts: Option<TimestampMs>) {
        let from_ts = ts.map_or(i64::MIN, |t| t.saturating_mul(SEQ_PER_MS));
        self.next = from_ts.max(self.last_seq.saturating_add(1));
    }

    fn push(&mut self, mut item: ItemPatch) {
        item.seq = self.next;
        self.last_seq = self.next;
        self.next += 1;
        self.events.push(ParsedEvent::Item(item));
    }
}

/// Text of a `PartListUnion`: a string, one part, or an array of parts;
/// `text` parts (not `thought: true`) concatenated as Gemini CLI does.
/// `None` when there is no text part at all.
pub(crate) fn parts_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|p| match p {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(_) if p.get("thought").and_then(Value::as_bool) != Some(true) => {
                        str_of(p, "text")
                    }
                    _ => None,
                })
                .collect();
            (!texts.is_empty()).then(|| texts.concat())
        }
        Value::Object(_) => str_of(v, "text").map(str::to_string),
        _ => None,
    }
}

/// Injected context recorded as a `user` message.
const INJECTED_PREFIXES: &[&str] = &[
    "<session_context>",
    "This is the Gemini CLI. We are setting up the context for our chat.",
];

/// The prompt of a `user` message, or `None` (tool results, injected context).
pub(crate) fn user_prompt(m: &Value) -> Option<String> {
    let text = m
        .get("displayContent")
        .and_then(parts_text)
        .filter(|t| !t.trim().is_empty())
        .or_else(|| m.get("content").and_then(parts_text))?;
    let t = text.trim();
    if t.is_empty() || INJECTED_PREFIXES.iter().any(|p| t.starts_with(p)) {
        return None;
    }
    Some(t.to_string())
}

/// Family of a tool by name (`docs/providers/gemini.md`, "Tool calls").
pub(crate) fn tool_kind(name: &str) -> &'static str {
    match name {
        "run_shell_command" => "shell",
        "replace" | "write_file" | "edit" => "patch",
        "write_todos" => "plan",
        "google_web_search" | "web_fetch" => "web_search",
        "invoke_agent" | "delegate_to_agent" => "agent",
        _ => "function",
    }
}

/// Output text of a tool call's `result`: per part, `functionResponse`
/// → `response.output`, else `response.error`, else `response` as JSON;
/// `text` parts as they are; joined with `\n`. `None` without a result.
pub(crate) fn result_text(result: &Value) -> Option<String> {
    let part_text = |p: &Value| -> Option<String> {
        if let Some(fr) = p.get("functionResponse") {
            let resp = fr.get("response")?;
            if let Some(s) = str_of(resp, "output") {
                return Some(s.to_string());
            }
            if let Some(s) = str_of(resp, "error") {
                return Some(s.to_string());
            }
            return Some(resp.to_string());
        }
        match p {
            Value::String(s) => Some(s.clone()),
            _ => str_of(p, "text").map(str::to_string),
        }
    };
    match result {
        Value::Null => None,
        Value::Array(parts) if parts.is_empty() => None,
        Value::Array(parts) => {
            let texts: Vec<String> = parts.iter().filter_map(part_text).collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        other => part_text(other),
    }
}

/// `Exit Code: N` in a shell output (Gemini CLI's shell tool summary).
fn exit_code(output: &str) -> Option<i64> {
    output.lines().find_map(|l| {
        l.trim()
            .strip_prefix("Exit Code: ")
            .and_then(|r| r.trim().parse().ok())
    })
}

/// A ToolCallRecord `status`.
pub(crate) fn tool_status(s: Option<&str>) -> ToolStatus {
    match s {
        Some("success") => ToolStatus::Completed,
        Some("error") => ToolStatus::Failed,
        Some("cancelled") => ToolStatus::Declined,
        _ => ToolStatus::InProgress,
    }
}

/// `write_todos` todos → checklist text.
fn plan_text(todos: &[Value]) -> String {
    let mut text = String::new();
    for t in todos {
        let mark = match str_of(t, "status") {
            Some("completed") => "[x]",
            Some("in_progress") => "[~]",
            Some("cancelled") => "[-]",
            _ => "[ ]",
        };
        let desc = str_of(t, "description").unwrap_or("");
        text.push_str(&format!("{mark} {desc}\n"));
    }
    text.trim_end().to_string()
}

/// A thought's text: `subject` and `description`, one per line (either alone).
pub(crate) fn thought_text(t: &Value) -> Option<String> {
    let subject = non_empty(str_of(t, "subject")).map(str::trim);
    let desc = non_empty(str_of(t, "description")).map(str::trim);
    match (subject, desc) {
        (Some(s), Some(d)) => Some(format!("{s}\n{d}")),
        (Some(x), None) | (None, Some(x)) => Some(x.to_string()),
        (None, None) => None,
    }
}

fn ts_of(v: &Value) -> Option<TimestampMs> {
    str_of(v, "timestamp").and_then(parse_rfc3339_ms)
}

/// The events of a replayed chat: thread metadata, items, raw records.
pub(crate) fn events(chat: Chat, ctx: &FileContext) -> Vec<ParsedEvent> {
    let mut out = Out {
        events: Vec::new(),
        last_seq: i64::MIN,
        next: 0,
    };
    let mut thread = ThreadPatch {
        cwd: ctx.cwd.clone(),
        parent_session_id: ctx.parent_session_id.clone(),
        created_at: chat
            .meta
            .get("startTime")
            .and_then(Value::as_str)
            .and_then(parse_rfc3339_ms),
        ..ThreadPatch::default()
    };
    for m in &chat.messages {
        let Some(id) = non_empty(str_of(m, "id")) else {
            continue;
        };
        let ts = ts_of(m);
        if let Some(t) = ts {
            thread.created_at = Some(thread.created_at.map_or(t, |c| c.min(t)));
        }
        out.start_message(ts);
        match str_of(m, "type") {
            Some("user") => {
                if let Some(text) = user_prompt(m) {
                    if thread.title.is_none() {
                        thread.title = title_from_prompt(&text);
                    }
                    out.push(ItemPatch::text(
                        format!("u-{id}"),
                        0,
                        ItemKind::User,
                        ts,
                        text,
                    ));
                }
            }
            Some("gemini") => {
                let model = non_empty(str_of(m, "model"));
                if let Some(model) = model {
                    thread.model = Some(model.to_string());
                }
                gemini_message(m, id, ts, model, &mut out);
            }
            Some("error") => {
                let text = m
                    .get("content")
                    .and_then(parts_text)
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or_else(|| "error".to_string());
                out.push(ItemPatch::text(
                    format!("err-{id}"),
                    0,
                    ItemKind::Error,
                    ts,
                    text,
                ));
            }
            _ => {} // info, warning, unknown: raw only
        }
    }
    let mut events = Vec::with_capacity(out.events.len() + chat.raw.len() + 1);
    if !thread.is_empty() {
        events.push(ParsedEvent::Thread(thread));
    }
    events.append(&mut out.events);
    events.extend(chat.raw.into_iter().map(ParsedEvent::Raw));
    events
}

fn gemini_message(
    m: &Value,
    id: &str,
    ts: Option<TimestampMs>,
    model: Option<&str>,
    out: &mut Out,
) {
    if let Some(thoughts) = m.get("thoughts").and_then(Value::as_array) {
        for (i, t) in thoughts.iter().enumerate() {
            if let Some(text) = thought_text(t) {
                out.push(ItemPatch::text(
                    format!("r-{id}.{i}"),
                    0,
                    ItemKind::Reasoning,
                    ts_of(t).or(ts),
                    text,
                ));
            }
        }
    }
    if let Some(text) = m
        .get("content")
        .and_then(parts_text)
        .filter(|t| !t.trim().is_empty())
    {
        out.push(ItemPatch::text(
            format!("a-{id}"),
            0,
            ItemKind::Assistant,
            ts,
            text,
        ));
    }
    if let Some(calls) = m.get("toolCalls").and_then(Value::as_array) {
        for (i, c) in calls.iter().enumerate() {
            tool_call(c, id, i, ts, out);
        }
    }
    if let Some(tokens) = m.get("tokens").filter(|t| t.is_object()) {
        let mut data = tokens.clone();
        if let (Value::Object(map), Some(model)) = (&mut data, model) {
            map.insert("model".into(), Value::String(model.to_string()));
        }
        out.push(ItemPatch {
            key: format!("usage-{id}"),
            seq: 0,
            kind: ItemKind::Usage,
            ts,
            text: None,
            tool: None,
            data: Some(data),
        });
    }
}

fn tool_call(c: &Value, msg_id: &str, i: usize, ts: Option<TimestampMs>, out: &mut Out) {
    let name = non_empty(str_of(c, "name")).unwrap_or("tool");
    let call_id = non_empty(str_of(c, "id")).map(str::to_string);
    let args = c.get("args").cloned().unwrap_or(Value::Null);
    let command = match name {
        "run_shell_command" => str_of(&args, "command").map(str::to_string),
        _ => None,
    };
    let output = c.get("result").and_then(result_text);
    let status = tool_status(str_of(c, "status"));
    let exit = match (&command, &output) {
        (Some(_), Some(o)) => exit_code(o),
        _ => None,
    };
    // As for the other agents, a command that exited non-zero failed, even
    // though the tool itself ran successfully.
    let status = match (status, exit) {
        (ToolStatus::Completed, Some(code)) if code != 0 => ToolStatus::Failed,
        (status, _) => status,
    };
    let call_ts = ts_of(c);
    let finished = status != ToolStatus::InProgress;
    let tool = ToolPatch {
        call_id: call_id.clone(),
        tool_kind: Some(tool_kind(name).to_string()),
        name: Some(name.to_string()),
        command,
        input: Some(args.to_string()),
        output,
        exit_code: exit,
        status: Some(status),
        started_at: ts.or(call_ts),
        ended_at: if finished { call_ts.or(ts) } else { None },
    };
    let key = call_id
        .as_ref()
        .map_or_else(|| format!("c-{msg_id}.{i}"), |c| format!("call-{c}"));
    out.push(ItemPatch::tool(key, 0, ts, tool));
    if name == "write_todos" {
        if let Some(todos) = args.get("todos").and_then(Value::as_array) {
            let key = call_id.map_or_else(|| format!("p-{msg_id}.{i}"), |c| format!("plan-{c}"));
            out.push(ItemPatch {
                key,
                seq: 0,
                kind: ItemKind::Plan,
                ts,
                text: Some(plan_text(todos)),
                tool: None,
                data: Some(Value::Array(todos.clone())),
            });
        }
    }
}
