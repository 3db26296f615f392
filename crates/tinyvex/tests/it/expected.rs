//! What a Codex rollout file should become, computed straight from its raw
//! bytes with `serde_json::Value` and the rules of `docs/providers/codex.md`
//! (field rules in `rules.rs`). Shares no code with `tinyvex-providers`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::rules::{
    command_from_args, complete_lines, figures, is_injected, non_empty, output_of, parse_object,
    part_texts, s, title_of, uuid_in_name, Figures, SHELL_TOOLS,
};
use crate::util::{canonical_json, rfc3339_ms};

/// One expected tool call. `input` is the text as written for function and
/// custom calls, canonical JSON for local shell and web search calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tool {
    pub call_id: Option<String>,
    pub tool_kind: Option<String>,
    pub name: Option<String>,
    pub command: Option<String>,
    pub input: Option<String>,
    pub output: Option<String>,
    pub exit_code: Option<i64>,
    pub status: Option<String>,
}

/// One expected item (usage items are in [`Expected::usage`]).
#[derive(Clone, Debug)]
pub struct Item {
    pub seq: i64,
    pub key: String,
    pub kind: &'static str,
    /// Epoch ms of the line (envelope files; legacy lines have no time).
    pub ts: Option<i64>,
    pub text: Option<String>,
    pub tool: Option<Tool>,
    /// Compare the tool input as canonical JSON.
    pub json_input: bool,
    /// Plans: canonical JSON of `data`, when the page defines it.
    pub data: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    pub key: String,
    pub turn: Figures,
    pub thread_total: Figures,
}

/// Everything the tests assert about one file.
#[derive(Debug, Default)]
pub struct Expected {
    pub session_id: Option<String>,
    pub cwd: Option<String>,
    pub created_at: Option<i64>,
    pub model: Option<String>,
    pub git_branch: Option<String>,
    pub agent_version: Option<String>,
    pub parent_session_id: Option<String>,
    pub title: Option<String>,
    pub legacy: bool,
    /// User, assistant, reasoning, tool-call, plan and error items, by seq.
    pub items: Vec<Item>,
    pub usage: Vec<Usage>,
    /// Complete lines that are not a JSON object (or not UTF-8, or empty).
    pub invalid_lines: usize,
}

impl Expected {
    pub fn texts(&self, kind: &str) -> Vec<String> {
        self.items
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| i.text.clone().unwrap_or_default())
            .collect()
    }

    pub fn tools(&self) -> Vec<Tool> {
        self.items.iter().filter_map(|i| i.tool.clone()).collect()
    }

    /// `<provider>-<session id>` (docs/architecture.md).
    pub fn thread_id(&self) -> Option<String> {
        self.session_id.as_ref().map(|s| format!("codex-{s}"))
    }
}

/// `tool_kind` per the page's "Tool calls" list.
fn tool_kind(tag: &str, name: Option<&str>) -> &'static str {
    let name = name.unwrap_or("");
    match tag {
        "local_shell_call" => "shell",
        "web_search_call" => "web_search",
        _ if SHELL_TOOLS.contains(&name) => "shell",
        _ if name == "apply_patch" => "patch",
        _ if name == "update_plan" => "plan",
        _ if name == "web_search" => "web_search",
        _ if name.starts_with("mcp__") => "mcp",
        "custom_tool_call" => "custom",
        _ => "function",
    }
}

/// The `<cwd>…</cwd>` of an environment-context message, trimmed.
fn env_context_cwd(text: &str) -> Option<String> {
    let start = text.find("<cwd>")? + "<cwd>".len();
    let end = start + text[start..].find("</cwd>")?;
    Some(text[start..end].trim().to_string()).filter(|c| !c.is_empty())
}

/// What arrives for a call on other lines: its output, exec events.
#[derive(Default)]
struct Merge {
    output: Option<(String, Option<i64>)>,
    exec_exit: Option<i64>,
    exec_status: Option<String>,
}

/// The walk over one file's records.
#[derive(Default)]
struct Reader {
    e: Expected,
    meta_seen: bool,
    env_context_seen: bool,
    /// call_id → index of its tool item.
    calls: BTreeMap<String, usize>,
    merges: BTreeMap<String, Merge>,
    turn: u32,
    latest: Figures,
    turn_start: Figures,
    usage: BTreeMap<u32, Usage>,
    /// Offset and time of the line being read.
    offset: u64,
    ts: Option<i64>,
}

/// Reads one rollout file (its complete lines) the way the page says.
pub fn expected(data: &[u8], file_name: &str) -> Expected {
    let mut r = Reader::default();
    r.e.session_id = uuid_in_name(file_name);
    let mut first = true;
    for (offset, raw) in complete_lines(data) {
        let Some(line) = parse_object(raw) else {
            r.e.invalid_lines += 1;
            continue;
        };
        r.offset = offset;
        let is_first = std::mem::replace(&mut first, false);
        if is_first
            && line.get("id").is_some()
            && line.get("timestamp").is_some()
            && line.get("type").is_none()
        {
            r.legacy_meta(&line);
        } else if r.e.legacy {
            // Legacy items: bare ResponseItems; `record_type` state lines are skipped.
            if line.get("record_type").is_none() && line.get("type").is_some() {
                r.ts = None;
                r.response_item(&line);
            }
        } else if let (Some(kind), Some(payload)) = (
            line.get("type").and_then(Value::as_str),
            line.get("payload"),
        ) {
            r.ts = line
                .get("timestamp")
                .and_then(Value::as_str)
                .and_then(rfc3339_ms);
            match kind {
                "session_meta" => r.session_meta(payload),
                "turn_context" => r.turn_context(payload),
                "response_item" => r.response_item(payload),
                "event_msg" => r.event_msg(payload),
                _ => {}
            }
        }
    }
    r.finish()
}

impl Reader {
    fn push(
        &mut self,
        key: String,
        n: i64,
        kind: &'static str,
        text: Option<String>,
        tool: Option<Tool>,
        json: bool,
    ) {
        let seq = self.offset as i64 * 8 + n;
        self.e.items.push(Item {
            seq,
            key,
            kind,
            ts: self.ts,
            text,
            tool,
            json_input: json,
            data: None,
        });
    }

    fn line_key(&self) -> String {
        format!("L{}", self.offset)
    }

    fn user(&mut self, text: String) {
        if let Some(t) = non_empty(text) {
            // A turn starts at each user item.
            self.turn += 1;
            self.turn_start = self.latest;
            self.push(self.line_key(), 0, "user", Some(t), None, false);
        }
    }

    fn legacy_meta(&mut self, line: &Value) {
        self.e.legacy = true;
        self.meta_seen = true;
        self.e.session_id = s(line.get("id")).or(self.e.session_id.take());
        self.e.created_at = line
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(rfc3339_ms);
        self.e.git_branch = s(line.get("git").and_then(|g| g.get("branch")));
    }

    fn session_meta(&mut self, p: &Value) {
        if std::mem::replace(&mut self.meta_seen, true) {
            return; // the first one is canonical
        }
        self.e.session_id = s(p.get("id")).or(self.e.session_id.take());
        self.e.cwd = s(p.get("cwd"))
            .filter(|c| !c.is_empty())
            .or(self.e.cwd.take());
        self.e.created_at = p
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(rfc3339_ms);
        self.e.git_branch = s(p.get("git").and_then(|g| g.get("branch")));
        self.e.agent_version = s(p.get("cli_version"));
        let spawn = p.pointer("/source/subagent/thread_spawn/parent_thread_id");
        self.e.parent_session_id = s(p.get("forked_from_id"))
            .or_else(|| s(p.get("parent_thread_id")))
            .or_else(|| s(spawn));
    }

    fn turn_context(&mut self, p: &Value) {
        if self.e.cwd.is_none() {
            self.e.cwd = s(p.get("cwd")).filter(|c| !c.is_empty());
        }
        if let Some(m) = s(p.get("model")) {
            self.e.model = Some(m); // the latest wins
        }
    }

    fn merge(&mut self, call_id: String) -> &mut Merge {
        self.merges.entry(call_id).or_default()
    }

    fn response_item(&mut self, p: &Value) {
        match p.get("type").and_then(Value::as_str).unwrap_or("") {
            "message" => match p.get("role").and_then(Value::as_str) {
                Some("assistant") => {
                    if let Some(t) =
                        non_empty(part_texts(p.get("content"), &["output_text", "text"], "\n"))
                    {
                        self.push(self.line_key(), 0, "assistant", Some(t), None, false);
                    }
                }
                // Envelope files take prompts from events; only legacy files read these.
                Some("user") if self.e.legacy => {
                    let text = part_texts(p.get("content"), &["input_text", "text"], "\n");
                    if text.trim_start().starts_with("<environment_context>")
                        && !self.env_context_seen
                    {
                        // Legacy cwd: the `<cwd>` of the first environment context.
                        self.env_context_seen = true;
                        if self.e.cwd.is_none() {
                            self.e.cwd = env_context_cwd(&text);
                        }
                    }
                    if !is_injected(&text) {
                        self.user(text);
                    }
                }
                _ => {}
            },
            "reasoning" => {
                let mut text = part_texts(p.get("summary"), &[], "\n\n");
                if text.trim().is_empty() {
                    // "when there is no summary text, content[].text" (separator unspecified; no fixture has one)
                    text = part_texts(p.get("content"), &[], "\n\n");
                }
                if let Some(t) = non_empty(text) {
                    self.push(self.line_key(), 0, "reasoning", Some(t), None, false);
                }
            }
            tag @ ("function_call" | "custom_tool_call" | "local_shell_call"
            | "web_search_call") => self.call(tag, p),
            "function_call_output" | "custom_tool_call_output" => {
                if let Some(c) = s(p.get("call_id")) {
                    self.merge(c).output = Some(output_of(p.get("output")));
                }
            }
            _ => {}
        }
    }

    fn call(&mut self, tag: &str, p: &Value) {
        let call_id = s(p.get("call_id"));
        let action = p.get("action").cloned().unwrap_or(Value::Null);
        let action_json = (!action.is_null()).then(|| canonical_json(&action));
        let (name, input, command, status, json) = match tag {
            "function_call" => {
                let name = s(p.get("name"));
                let args_text = s(p.get("arguments"));
                let args: Value = args_text
                    .as_deref()
                    .and_then(|a| serde_json::from_str(a).ok())
                    .unwrap_or(Value::Null);
                let shell_like = name.as_deref().is_some_and(|n| SHELL_TOOLS.contains(&n));
                let command = if shell_like {
                    command_from_args(&args)
                } else {
                    None
                };
                (name, args_text, command, None, false)
            }
            "custom_tool_call" => (s(p.get("name")), s(p.get("input")), None, None, false),
            "local_shell_call" => {
                let command = action.get("command").and_then(crate::rules::command_of);
                (
                    Some("local_shell".into()),
                    action_json,
                    command,
                    s(p.get("status")),
                    true,
                )
            }
            _ => (
                Some("web_search".into()),
                action_json,
                s(action.get("query")),
                s(p.get("status")),
                true,
            ),
        };
        // Web search calls have no call_id; their own `id` is the closest thing.
        let shown_id = match tag {
            "function_call" | "custom_tool_call" => call_id.clone(),
            _ => call_id.clone().or_else(|| s(p.get("id"))),
        };
        let key = match (&call_id, tag) {
            (Some(c), "function_call" | "custom_tool_call" | "local_shell_call") => {
                format!("call-{c}")
            }
            _ => self.line_key(),
        };
        let tool = Tool {
            call_id: shown_id,
            tool_kind: Some(tool_kind(tag, name.as_deref()).to_string()),
            name: name.clone(),
            command,
            input: input.clone(),
            output: None,
            exit_code: None,
            status,
        };
        self.push(key, 0, "tool_call", None, Some(tool), json);
        if let Some(c) = &call_id {
            self.calls.insert(c.clone(), self.e.items.len() - 1);
        }
        if name.as_deref() == Some("update_plan") {
            let args: Value = input
                .as_deref()
                .and_then(|a| serde_json::from_str(a).ok())
                .unwrap_or(Value::Null);
            if let (Some(steps), Some(c)) = (args.get("plan"), &call_id) {
                if steps.is_array() {
                    self.push(format!("plan-{c}"), 1, "plan", None, None, false);
                    let explanation = args.get("explanation").cloned().unwrap_or(Value::Null);
                    let data = serde_json::json!({"explanation": explanation, "steps": steps});
                    self.e.items.last_mut().unwrap().data = Some(canonical_json(&data));
                }
            }
        }
    }

    fn event_msg(&mut self, p: &Value) {
        match p.get("type").and_then(Value::as_str).unwrap_or("") {
            "user_message" => self.user(s(p.get("message")).unwrap_or_default()),
            "item_completed" => {
                let item = p.get("item").cloned().unwrap_or(Value::Null);
                match item.get("type").and_then(Value::as_str) {
                    Some("UserMessage") => {
                        self.user(part_texts(item.get("content"), &["text"], "\n"))
                    }
                    Some("CommandExecution") => {
                        if let Some(id) = s(item.get("id")) {
                            let m = self.merge(id);
                            m.exec_exit = item
                                .get("exit_code")
                                .and_then(Value::as_i64)
                                .or(m.exec_exit);
                            m.exec_status = s(item.get("status")).or(m.exec_status.take());
                        }
                    }
                    Some("Plan") if s(item.get("text")).and_then(non_empty).is_some() => {
                        self.push(self.line_key(), 0, "plan", s(item.get("text")), None, false);
                    }
                    _ => {}
                }
            }
            "exec_command_end" => {
                if let Some(c) = s(p.get("call_id")) {
                    let m = self.merge(c);
                    m.exec_exit = p.get("exit_code").and_then(Value::as_i64).or(m.exec_exit);
                }
            }
            "token_count" => {
                let info = p.get("info").filter(|i| !i.is_null());
                if let Some(total) = info
                    .and_then(|i| i.get("total_token_usage"))
                    .filter(|t| t.is_object())
                {
                    self.latest = figures(total);
                    let mut turn = [0i64; 5];
                    for (k, t) in turn.iter_mut().enumerate() {
                        *t = self.latest[k] - self.turn_start[k];
                    }
                    let usage = Usage {
                        key: format!("usage-{}", self.turn),
                        turn,
                        thread_total: self.latest,
                    };
                    self.usage.insert(self.turn, usage);
                }
            }
            "error" => {
                if let Some(t) = s(p.get("message")).and_then(non_empty) {
                    self.push(self.line_key(), 0, "error", Some(t), None, false);
                }
            }
            "turn_aborted" => {
                let reason = s(p.get("reason")).unwrap_or_else(|| "unknown".into());
                self.push(
                    self.line_key(),
                    0,
                    "error",
                    Some(format!("turn aborted: {reason}")),
                    None,
                    false,
                );
            }
            _ => {}
        }
    }

    /// Merges outputs and exec events into their calls (by call_id, in any
    /// order), settles statuses, titles the thread.
    fn finish(mut self) -> Expected {
        for (call_id, m) in std::mem::take(&mut self.merges) {
            let Some(&idx) = self.calls.get(&call_id) else {
                continue;
            };
            let tool = self.e.items[idx].tool.as_mut().unwrap();
            let carries_own = matches!(tool.name.as_deref(), Some("web_search" | "local_shell"));
            let mut exit = None;
            if let Some((out, code)) = m.output {
                tool.output = Some(out);
                exit = code;
            }
            tool.exit_code = exit.or(m.exec_exit);
            if let Some(st) = m.exec_status {
                tool.status = Some(st);
            } else if tool.output.is_some() && !carries_own {
                let failed = tool.exit_code.is_some_and(|c| c != 0);
                tool.status = Some(if failed { "failed" } else { "completed" }.into());
            }
        }
        for item in &mut self.e.items {
            if let Some(tool) = item.tool.as_mut() {
                if tool.status.is_none()
                    && tool.output.is_none()
                    && tool.name.as_deref() != Some("web_search")
                {
                    tool.status = Some("in_progress".into());
                }
            }
        }
        let first_user = self.e.items.iter().find(|i| i.kind == "user");
        self.e.title = first_user.and_then(|i| title_of(i.text.as_deref().unwrap_or("")));
        self.e.usage = self.usage.into_values().collect();
        self.e.items.sort_by_key(|i| i.seq);
        self.e
    }
}
