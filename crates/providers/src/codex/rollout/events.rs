//! `event_msg` records: typed prompts, paginated-mode turn items, token
//! counts, errors and command results.

use serde_json::value::RawValue;
use serde_json::Value;
use tinyvex_model::{ItemKind, ItemPatch, ParsedEvent, TimestampMs, ToolPatch};

use super::{line_key, seq, RolloutParser};
use crate::codex::records;
use crate::codex::tools;

impl RolloutParser {
    pub(super) fn event_msg(
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
