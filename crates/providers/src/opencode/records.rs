//! OpenCode records → events: session info, message info and parts, the
//! same objects whether they come from a JSON file or a database row (whose
//! `data` column gets its id fields back first). Rules:
//! `docs/providers/opencode.md`.

use serde_json::Value;
use tinyvex_model::{
    ItemKind, ItemPatch, ParsedEvent, ThreadPatch, TimestampMs, ToolPatch, ToolStatus,
};

use crate::text::title_from_prompt;

/// Bits of `seq` below the message's id value: the part's place in it.
const PART_BITS: u32 = 14;
/// Largest sub-position; message-level items (usage, errors) take it.
const SUB_END: u64 = (1 << PART_BITS) - 1;
/// Sub-positions below this are milliseconds after the message id, exactly.
const SUB_EXACT: u64 = 12_288;
/// The id value has 48 bits (12 hex digits).
const ID_MASK: u64 = (1 << 48) - 1;

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|t| !t.trim().is_empty())
}

fn int_at(v: &Value, path: &[&str]) -> Option<i64> {
    let mut cur = v;
    for k in path {
        cur = cur.get(k)?;
    }
    cur.as_i64().or_else(|| cur.as_f64().map(|f| f as i64))
}

/// The 48-bit time/counter value of an OpenCode id
/// (`<prefix>_<12 hex digits><14 base62>`): `ms × 4096 + counter`, kept
/// to its low 48 bits by OpenCode itself.
pub(crate) fn id_value(id: &str) -> Option<u64> {
    let (_, rest) = id.split_once('_')?;
    let hex = rest.get(..12)?;
    u64::from_str_radix(hex, 16).ok().map(|v| v & ID_MASK)
}

/// `seq` of an item in message `msg_id`: the message id's value shifted
/// left by 14 bits, plus the part's place: the milliseconds between the
/// message id and the part id (exact below 12 288 ms, then 256 ms steps,
/// capped). `part_id == None` is the end of the message (usage, errors).
/// Ties (parts in the same millisecond) keep insertion order, which is id
/// order because files and rows are read in id order.
pub(crate) fn seq_of(msg_id: &str, part_id: Option<&str>) -> i64 {
    let Some(m) = id_value(msg_id) else {
        return 0;
    };
    let sub = match part_id.map(id_value) {
        None => SUB_END,
        Some(None) => SUB_END - 1,
        Some(Some(p)) => {
            let ms = (p.wrapping_sub(m) & ID_MASK) >> 12;
            if ms < SUB_EXACT {
                ms
            } else {
                (SUB_EXACT + (ms - SUB_EXACT) / 256).min(SUB_END - 1)
            }
        }
    };
    ((m << PART_BITS) | sub) as i64
}

/// Thread metadata from a session info object.
pub(crate) fn session_events(v: &Value, out: &mut Vec<ParsedEvent>) {
    let patch = ThreadPatch {
        cwd: non_empty(str_of(v, "directory")).map(str::to_string),
        created_at: int_at(v, &["time", "created"]),
        parent_session_id: non_empty(str_of(v, "parentID")).map(str::to_string),
        agent_version: non_empty(str_of(v, "version")).map(str::to_string),
        ..ThreadPatch::default()
    };
    if !patch.is_empty() {
        out.push(ParsedEvent::Thread(patch));
    }
}

/// The model of a message: `modelID` (assistant) or `model.modelID` (user).
fn model_of(v: &Value) -> Option<&str> {
    non_empty(str_of(v, "modelID"))
        .or_else(|| non_empty(v.get("model").and_then(|m| str_of(m, "modelID"))))
}

/// Thread model, usage and errors from a message info object.
pub(crate) fn message_events(v: &Value, out: &mut Vec<ParsedEvent>) {
    let Some(id) = non_empty(str_of(v, "id")) else {
        return;
    };
    let role = str_of(v, "role");
    let ts = int_at(v, &["time", "created"]);
    let model = model_of(v);
    let patch = ThreadPatch {
        model: model
            .filter(|_| role == Some("assistant"))
            .map(str::to_string),
        created_at: ts,
        cwd: v
            .get("path")
            .and_then(|p| non_empty(str_of(p, "cwd")))
            .map(str::to_string),
        ..ThreadPatch::default()
    };
    if !patch.is_empty() {
        out.push(ParsedEvent::Thread(patch));
    }
    if role == Some("assistant") {
        if let Some(tokens) = v.get("tokens").filter(|t| t.is_object()) {
            let used = ["input", "output", "reasoning"]
                .iter()
                .any(|k| int_at(tokens, &[k]).unwrap_or(0) > 0);
            if used {
                let mut data = tokens.clone();
                if let Value::Object(map) = &mut data {
                    if let Some(cost) = v.get("cost") {
                        map.insert("cost".into(), cost.clone());
                    }
                    if let Some(m) = model {
                        map.insert("model".into(), Value::String(m.to_string()));
                    }
                    if let Some(p) = non_empty(str_of(v, "providerID")) {
                        map.insert("provider".into(), Value::String(p.to_string()));
                    }
                }
                out.push(ParsedEvent::Item(ItemPatch {
                    key: format!("usage-{id}"),
                    seq: seq_of(id, None),
                    kind: ItemKind::Usage,
                    ts: int_at(v, &["time", "completed"]).or(ts),
                    text: None,
                    tool: None,
                    data: Some(data),
                }));
            }
        }
    }
    if let Some(err) = v.get("error").filter(|e| e.is_object()) {
        let name = str_of(err, "name").unwrap_or("Error");
        let text = err
            .get("data")
            .and_then(|d| non_empty(str_of(d, "message")))
            .map_or_else(|| name.to_string(), |m| format!("{name}: {m}"));
        out.push(ParsedEvent::Item(ItemPatch {
            key: format!("err-{id}"),
            seq: seq_of(id, None),
            kind: ItemKind::Error,
            ts: int_at(v, &["time", "completed"]).or(ts),
            text: Some(text),
            tool: None,
            data: Some(err.clone()),
        }));
    }
}

/// What the part reader knows about the part's message.
#[derive(Clone, Debug, Default)]
pub(crate) struct MessageInfo {
    /// `user` or `assistant`, when the message was found.
    pub role: Option<String>,
    /// Its `time.created`.
    pub created: Option<TimestampMs>,
}

impl MessageInfo {
    /// From a message info object (or its `data` column).
    pub(crate) fn of(v: &Value) -> MessageInfo {
        MessageInfo {
            role: str_of(v, "role").map(str::to_string),
            created: int_at(v, &["time", "created"]),
        }
    }
}

/// The family of a tool by name (`docs/providers/opencode.md`, "Tool calls").
pub(crate) fn tool_kind(name: &str) -> &'static str {
    match name {
        "bash" | "shell" => "shell",
        "edit" | "write" | "patch" | "apply_patch" | "multiedit" => "patch",
        "todowrite" => "plan",
        "webfetch" | "websearch" | "codesearch" => "web_search",
        "task" => "agent",
        "read" | "glob" | "grep" | "list" | "todoread" | "question" | "skill" | "lsp"
        | "invalid" | "batch" => "function",
        n if n.contains('_') => "mcp",
        _ => "function",
    }
}

/// Todos → checklist text (as the Claude and Codex plans).
fn plan_text(todos: &[Value]) -> String {
    let mut text = String::new();
    for t in todos {
        let mark = match str_of(t, "status") {
            Some("completed") => "[x]",
            Some("in_progress") => "[~]",
            Some("cancelled") => "[-]",
            _ => "[ ]",
        };
        text.push_str(&format!("{mark} {}\n", str_of(t, "content").unwrap_or("")));
    }
    text.trim_end().to_string()
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// True for an `error` state that says the user or a rule refused the call.
fn is_declined(error: &str) -> bool {
    error.contains("rejected permission") || error.contains("prevents you from using")
}

/// Items (and the title) from one part object.
pub(crate) fn part_events(v: &Value, msg: &MessageInfo, out: &mut Vec<ParsedEvent>) {
    let (Some(id), Some(msg_id)) = (
        non_empty(str_of(v, "id")),
        non_empty(str_of(v, "messageID")),
    ) else {
        return;
    };
    let key = format!("p-{id}");
    let seq = seq_of(msg_id, Some(id));
    let ts = int_at(v, &["time", "start"]).or(msg.created);
    match str_of(v, "type") {
        Some("text") => {
            if v.get("synthetic").and_then(Value::as_bool) == Some(true) {
                return;
            }
            let Some(text) = non_empty(str_of(v, "text")) else {
                return;
            };
            // Without the message, user parts are told apart by having no `time`.
            let user = match msg.role.as_deref() {
                Some(r) => r == "user",
                None => v.get("time").is_none(),
            };
            if user {
                if let Some(title) = title_from_prompt(text) {
                    // Part files are read in any order: the earliest
                    // prompt must win, whichever is read first.
                    out.push(ParsedEvent::Thread(ThreadPatch {
                        title: Some(title),
                        title_at: ts,
                        ..ThreadPatch::default()
                    }));
                }
            }
            let kind = if user {
                ItemKind::User
            } else {
                ItemKind::Assistant
            };
            out.push(ParsedEvent::Item(ItemPatch::text(
                key,
                seq,
                kind,
                ts,
                text.to_string(),
            )));
        }
        Some("reasoning") => {
            if let Some(text) = non_empty(str_of(v, "text")) {
                out.push(ParsedEvent::Item(ItemPatch::text(
                    key,
                    seq,
                    ItemKind::Reasoning,
                    ts,
                    text.to_string(),
                )));
            }
        }
        Some("tool") => tool_events(v, id, key, seq, msg, out),
        _ => {}
    }
}

fn tool_events(
    v: &Value,
    id: &str,
    key: String,
    seq: i64,
    msg: &MessageInfo,
    out: &mut Vec<ParsedEvent>,
) {
    let name = non_empty(str_of(v, "tool")).unwrap_or("tool");
    let state = v.get("state").cloned().unwrap_or(Value::Null);
    let input = state.get("input").cloned().unwrap_or(Value::Null);
    let started = int_at(&state, &["time", "start"]);
    let ended = int_at(&state, &["time", "end"]);
    let exit_code = state
        .get("metadata")
        .and_then(|m| m.get("exit"))
        .and_then(Value::as_i64);
    let (status, output) = match str_of(&state, "status") {
        Some("completed") => {
            let failed = exit_code.is_some_and(|c| c != 0);
            (
                if failed {
                    ToolStatus::Failed
                } else {
                    ToolStatus::Completed
                },
                state.get("output").map(as_text),
            )
        }
        Some("error") => {
            let err = state.get("error").map(as_text).unwrap_or_default();
            let status = if is_declined(&err) {
                ToolStatus::Declined
            } else {
                ToolStatus::Failed
            };
            (status, Some(err))
        }
        _ => (ToolStatus::InProgress, None),
    };
    let command = match name {
        "bash" | "shell" => str_of(&input, "command").map(str::to_string),
        _ => None,
    };
    let ts = started.or(msg.created);
    out.push(ParsedEvent::Item(ItemPatch::tool(
        key,
        seq,
        ts,
        ToolPatch {
            call_id: non_empty(str_of(v, "callID")).map(str::to_string),
            tool_kind: Some(tool_kind(name).to_string()),
            name: Some(name.to_string()),
            command,
            input: Some(input.to_string()),
            output,
            exit_code,
            status: Some(status),
            started_at: started,
            ended_at: if status == ToolStatus::InProgress {
                None
            } else {
                ended
            },
        },
    )));
    if name == "todowrite" {
        if let Some(todos) = input.get("todos").and_then(Value::as_array) {
            out.push(ParsedEvent::Item(ItemPatch {
                key: format!("plan-{id}"),
                seq,
                kind: ItemKind::Plan,
                ts,
                text: Some(plan_text(todos)),
                tool: None,
                data: Some(Value::Array(todos.clone())),
            }));
        }
    }
}

/// The raw-log kind of a record: `session`, `message:<role>`, `part:<type>`.
pub(crate) fn raw_kind(table: &str, v: &Value) -> String {
    match table {
        "message" => format!("message:{}", str_of(v, "role").unwrap_or("unknown")),
        "part" => format!("part:{}", str_of(v, "type").unwrap_or("unknown")),
        other => other.to_string(),
    }
}
