//! Pure builder of one scripted OpenAI **Chat Completions** answer (`POST .../chat/completions`,
//! `stream: true`) as a `text/event-stream` body: `chat.completion.chunk`s, a final chunk with
//! `finish_reason`, a usage chunk and `data: [DONE]`. Used by OpenCode's
//! `@ai-sdk/openai-compatible` provider.
//!
//! Mapping of [`Reply`] (tool names are OpenCode's):
//! * `Text` / `Commentary` → `delta.content`;
//! * `Reasoning` → `delta.reasoning_content`;
//! * `ShellCall` → tool call `bash` with `{"command", "description"}`;
//! * `Plan` → tool call `todowrite` with `{"todos": [{content, status, priority: "medium"}]}`;
//! * `FunctionCall` → that tool call; `ApplyPatch` → `apply_patch` with `{"patchText"}`;
//! * `Item(delta)` → a chunk with that raw `delta` object.
//!
//! Tool call ids are `call_{n}_{k}`; `finish_reason` is `tool_calls` when there is one.

use serde_json::{json, Value};

use crate::mock_model::Reply;

fn tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4).max(1)
}

pub(crate) fn stream_body(n: usize, model: &str, items: &[Reply], input_tokens: u64) -> String {
    let id = format!("chatcmpl-mock-{n}");
    let chunk = |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut chunks = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    let mut output_tokens = 0;
    let mut tool_index = 0;
    let mut tool_call = |k: usize, name: &str, args: String| {
        let call = json!({"index": tool_index, "id": format!("call_{n}_{k}"), "type": "function",
            "function": {"name": name, "arguments": args}});
        tool_index += 1;
        json!({ "tool_calls": [call] })
    };
    for (k, reply) in items.iter().enumerate() {
        let delta = match reply {
            Reply::Text(text) | Reply::Commentary(text) => json!({ "content": text }),
            Reply::Reasoning { summary } => json!({ "reasoning_content": summary }),
            Reply::ShellCall { command } => tool_call(
                k,
                "bash",
                json!({"command": command, "description": format!("Run {command}")}).to_string(),
            ),
            Reply::Plan { steps, .. } => {
                let todos: Vec<Value> = steps
                    .iter()
                    .map(|s| {
                        json!({"content": s.step, "status": s.status.as_str(), "priority": "medium"})
                    })
                    .collect();
                tool_call(k, "todowrite", json!({ "todos": todos }).to_string())
            }
            Reply::FunctionCall { name, arguments } => tool_call(k, name, arguments.to_string()),
            Reply::ApplyPatch(patch) => {
                tool_call(k, "apply_patch", json!({ "patchText": patch }).to_string())
            }
            Reply::Item(delta) => delta.clone(),
            Reply::ApiError { .. } => continue,
        };
        output_tokens += tokens(&delta.to_string());
        chunks.push(chunk(delta, Value::Null));
    }
    let finish = if tool_index > 0 { "tool_calls" } else { "stop" };
    chunks.push(chunk(json!({}), json!(finish)));
    chunks.push(
        json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": model,
        "choices": [], "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens}}),
    );

    let mut body = String::new();
    for chunk in chunks {
        body.push_str(&format!("data: {chunk}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    body
}

/// A non-streaming `chat.completion` with one text message (tool-less side requests).
pub(crate) fn completion_json(model: &str, text: &str, input_tokens: u64) -> String {
    json!({"id": "chatcmpl-mock-side", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": input_tokens, "completion_tokens": tokens(text),
                  "total_tokens": input_tokens + tokens(text)}})
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_chunks_tool_calls_and_done() {
        let body = stream_body(3, "m", &[Reply::reasoning("r"), Reply::shell("ls")], 5);
        assert!(body.ends_with("data: [DONE]\n\n"));
        assert!(body.contains(r#""reasoning_content":"r""#));
        assert!(body.contains(r#""name":"bash""#) && body.contains(r#""id":"call_3_1""#));
        assert!(body.contains(r#""finish_reason":"tool_calls""#));
    }
}
