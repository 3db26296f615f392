//! Pure builders of one scripted Anthropic Messages API answer (`POST /v1/messages`), as a
//! `text/event-stream` body or, for `stream: false` requests, as one JSON message.
//!
//! Mapping of [`Reply`] to content blocks (block index = position in the answer):
//! * `Text` / `Commentary` → `text` block;
//! * `Reasoning` → `thinking` block (`thinking_delta`s, then a `signature_delta` with
//!   `mock-signature-{n}-{k}`);
//! * `ShellCall` → `tool_use` `Bash` with `{"command": ..}`;
//! * `Plan` → `tool_use` `TodoWrite` with `{"todos": [{content, status, activeForm}]}`;
//! * `FunctionCall` → `tool_use` with that name and `arguments` as the input object;
//! * `ApplyPatch` → `tool_use` `apply_patch` with `{"patch": ..}` (Claude has no such tool);
//! * `Item(block)` → that content block as-is (a `tool_use` block's `input` is streamed as an
//!   `input_json_delta`);
//! * `ApiError` → handled by the server (HTTP error, Anthropic error body).
//!
//! Tool use ids are `toolu_{n}_{k}`, message ids `msg_mock_{n}`; `stop_reason` is `tool_use`
//! when the answer has a tool use, else `end_turn`.

use serde_json::{json, Value};

use crate::mock_model::Reply;

/// The content block for one reply, complete (tool `input` as an object).
fn block(n: usize, k: usize, reply: &Reply) -> Value {
    let tool = |name: &str, input: Value| json!({"type": "tool_use", "id": format!("toolu_{n}_{k}"), "name": name, "input": input});
    match reply {
        Reply::Text(text) | Reply::Commentary(text) => json!({"type": "text", "text": text}),
        Reply::Reasoning { summary } => json!({"type": "thinking", "thinking": summary,
            "signature": format!("mock-signature-{n}-{k}")}),
        Reply::ShellCall { command } => tool("Bash", json!({ "command": command })),
        Reply::Plan { steps, .. } => {
            let todos: Vec<Value> = steps
                .iter()
                .map(|s| {
                    json!({"content": s.step, "status": s.status.as_str(), "activeForm": s.step})
                })
                .collect();
            tool("TodoWrite", json!({ "todos": todos }))
        }
        Reply::FunctionCall { name, arguments } => tool(name, arguments.clone()),
        Reply::ApplyPatch(patch) => tool("apply_patch", json!({ "patch": patch })),
        Reply::Item(item) => item.clone(),
        Reply::ApiError { .. } => json!(null),
    }
}

fn tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4).max(1)
}

fn usage(input_tokens: u64, output_tokens: u64) -> Value {
    json!({"input_tokens": input_tokens, "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "service_tier": "standard"})
}

fn stop_reason(blocks: &[Value]) -> &'static str {
    if blocks.iter().any(|b| b["type"] == "tool_use") {
        "tool_use"
    } else {
        "end_turn"
    }
}

fn blocks(n: usize, items: &[Reply]) -> Vec<Value> {
    items
        .iter()
        .enumerate()
        .filter(|(_, r)| !matches!(r, Reply::ApiError { .. }))
        .map(|(k, r)| block(n, k, r))
        .collect()
}

/// Splits text into up to three pieces at char boundaries.
fn deltas(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let step = chars.len().div_ceil(3).max(1);
    chars.chunks(step).map(|c| c.iter().collect()).collect()
}

/// The non-streaming answer (`stream` absent or false).
pub(crate) fn message_json(n: usize, model: &str, items: &[Reply], input_tokens: u64) -> String {
    let blocks = blocks(n, items);
    let output: u64 = blocks.iter().map(|b| tokens(&b.to_string())).sum();
    json!({"id": format!("msg_mock_{n}"), "type": "message", "role": "assistant", "model": model,
        "content": blocks, "stop_reason": stop_reason(&blocks), "stop_sequence": null,
        "usage": usage(input_tokens, output)})
    .to_string()
}

/// The SSE answer: `message_start`, per block `content_block_start` / `_delta`s /
/// `content_block_stop`, `message_delta` (stop reason, usage), `message_stop`.
pub(crate) fn stream_body(n: usize, model: &str, items: &[Reply], input_tokens: u64) -> String {
    let blocks = blocks(n, items);
    let mut events: Vec<Value> = Vec::new();
    events.push(json!({"type": "message_start", "message": {
        "id": format!("msg_mock_{n}"), "type": "message", "role": "assistant", "model": model,
        "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": usage(input_tokens, 1)}}));
    let mut output_tokens = 0;
    for (index, block) in blocks.iter().enumerate() {
        output_tokens += tokens(&block.to_string());
        let mut start = block.clone();
        let mut deltas_of_block = Vec::new();
        match block["type"].as_str().unwrap_or_default() {
            "text" => {
                start["text"] = json!("");
                for d in deltas(block["text"].as_str().unwrap_or_default()) {
                    deltas_of_block.push(json!({"type": "text_delta", "text": d}));
                }
            }
            "thinking" => {
                start["thinking"] = json!("");
                start["signature"] = json!("");
                for d in deltas(block["thinking"].as_str().unwrap_or_default()) {
                    deltas_of_block.push(json!({"type": "thinking_delta", "thinking": d}));
                }
                deltas_of_block
                    .push(json!({"type": "signature_delta", "signature": block["signature"]}));
            }
            "tool_use" | "server_tool_use" => {
                start["input"] = json!({});
                let input = block.get("input").cloned().unwrap_or(json!({}));
                deltas_of_block
                    .push(json!({"type": "input_json_delta", "partial_json": input.to_string()}));
            }
            _ => {}
        }
        events.push(json!({"type": "content_block_start", "index": index, "content_block": start}));
        for delta in deltas_of_block {
            events.push(json!({"type": "content_block_delta", "index": index, "delta": delta}));
        }
        events.push(json!({"type": "content_block_stop", "index": index}));
    }
    events.push(json!({"type": "message_delta",
        "delta": {"stop_reason": stop_reason(&blocks), "stop_sequence": null},
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens.max(1),
                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}));
    events.push(json!({"type": "message_stop"}));

    let mut body = String::new();
    for event in events {
        let kind = event["type"].as_str().unwrap_or_default().to_owned();
        body.push_str(&format!("event: {kind}\ndata: {event}\n\n"));
    }
    body
}

/// Anthropic-style error body (`{"type":"error","error":{"type","message"}}`).
pub(crate) fn error_body(status: u16, message: &str) -> String {
    let kind = match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    json!({"type": "error", "error": {"type": kind, "message": message}}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PlanStatus;

    #[test]
    fn streams_thinking_text_and_tool_use() {
        let body = stream_body(
            2,
            "claude-x",
            &[
                Reply::reasoning("hmm"),
                Reply::text("ok"),
                Reply::shell("echo hi"),
                Reply::plan([("a", PlanStatus::Pending)]),
            ],
            10,
        );
        let events: Vec<Value> = body
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds[0], "message_start");
        assert_eq!(kinds[kinds.len() - 2..], ["message_delta", "message_stop"]);
        assert!(body.contains(r#""signature_delta""#) && body.contains("mock-signature-2-0"));
        assert!(
            body.contains(r#""partial_json":"{\"command\":\"echo hi\"}""#),
            "{body}"
        );
        assert!(body.contains(r#""name":"Bash""#) && body.contains(r#""id":"toolu_2_2""#));
        assert!(body.contains(r#""name":"TodoWrite""#));
        assert_eq!(events[events.len() - 2]["delta"]["stop_reason"], "tool_use");
        let msg: Value =
            serde_json::from_str(&message_json(1, "m", &[Reply::text("x")], 3)).unwrap();
        assert_eq!(msg["stop_reason"], "end_turn");
        assert_eq!(msg["content"][0]["text"], "x");
    }
}
