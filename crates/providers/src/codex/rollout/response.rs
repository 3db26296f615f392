//! `response_item` records (and legacy bare items): messages, reasoning,
//! tool calls and their outputs.

use serde_json::Value;
use tinyvex_model::{
    ItemKind, ItemPatch, ParsedEvent, ThreadPatch, TimestampMs, ToolPatch, ToolStatus,
};

use super::{line_key, seq, RolloutParser};
use crate::codex::records::{self, join_text};
use crate::codex::tools;
use crate::text::is_injected_context;

impl RolloutParser {
    pub(super) fn response_item(
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
