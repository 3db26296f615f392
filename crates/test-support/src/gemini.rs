//! Pure builders of one scripted Gemini API answer (`POST /v1beta/models/<model>:
//! streamGenerateContent?alt=sse` or `:generateContent`): `GenerateContentResponse` chunks.
//!
//! Mapping of [`Reply`] to parts (tool names are Gemini CLI's):
//! * `Text` / `Commentary` → `{text}`; `Reasoning` → `{text, thought: true}`;
//! * `ShellCall` → `functionCall` `run_shell_command` with `{"command"}`;
//! * `Plan` → `functionCall` `write_todos` with `{"todos": [{description, status}]}`;
//! * `FunctionCall` → that `functionCall`; `ApplyPatch` → `apply_patch` with `{"patch"}`;
//! * `Item(part)` → that raw part.
//!
//! Function call ids are `call_{n}_{k}`. Every part is one SSE chunk; the last chunk carries
//! `finishReason: "STOP"` and `usageMetadata`.

use serde_json::{json, Value};

use crate::mock_model::Reply;

fn tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4).max(1)
}

fn part(n: usize, k: usize, reply: &Reply) -> Option<Value> {
    let call = |name: &str, args: Value| json!({"functionCall": {"id": format!("call_{n}_{k}"), "name": name, "args": args}});
    Some(match reply {
        Reply::Text(text) | Reply::Commentary(text) => json!({ "text": text }),
        Reply::Reasoning { summary } => json!({"text": summary, "thought": true}),
        Reply::ShellCall { command } => call("run_shell_command", json!({ "command": command })),
        Reply::Plan { steps, .. } => {
            let todos: Vec<Value> = steps
                .iter()
                .map(|s| json!({"description": s.step, "status": s.status.as_str()}))
                .collect();
            call("write_todos", json!({ "todos": todos }))
        }
        Reply::FunctionCall { name, arguments } => call(name, arguments.clone()),
        Reply::ApplyPatch(patch) => call("apply_patch", json!({ "patch": patch })),
        Reply::Item(part) => part.clone(),
        Reply::ApiError { .. } => return None,
    })
}

fn response(parts: Vec<Value>, model: &str, last: Option<(u64, u64, u64)>) -> Value {
    let mut candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
    let mut response = json!({"candidates": [], "modelVersion": model,
        "responseId": "mock-response"});
    if let Some((input, output, thoughts)) = last {
        candidate["finishReason"] = json!("STOP");
        response["usageMetadata"] = json!({"promptTokenCount": input,
            "candidatesTokenCount": output, "thoughtsTokenCount": thoughts,
            "totalTokenCount": input + output + thoughts});
    }
    response["candidates"] = json!([candidate]);
    response
}

fn counts(n: usize, items: &[Reply]) -> (Vec<Value>, u64, u64) {
    let mut parts = Vec::new();
    let (mut output, mut thoughts) = (0, 0);
    for (k, reply) in items.iter().enumerate() {
        if let Some(part) = part(n, k, reply) {
            if part["thought"] == true {
                thoughts += tokens(&part.to_string());
            } else {
                output += tokens(&part.to_string());
            }
            parts.push(part);
        }
    }
    (parts, output, thoughts)
}

/// `streamGenerateContent?alt=sse` body: one `data:` chunk per part, usage on the last.
pub(crate) fn stream_body(n: usize, model: &str, items: &[Reply], input_tokens: u64) -> String {
    let (parts, output, thoughts) = counts(n, items);
    let mut body = String::new();
    let count = parts.len();
    if count == 0 {
        let last = response(vec![json!({"text": ""})], model, Some((input_tokens, 1, 0)));
        body.push_str(&format!("data: {last}\r\n\r\n"));
    }
    for (i, part) in parts.into_iter().enumerate() {
        let last = (i + 1 == count).then_some((input_tokens, output, thoughts));
        body.push_str(&format!(
            "data: {}\r\n\r\n",
            response(vec![part], model, last)
        ));
    }
    body
}

/// `generateContent` body: one response with every part.
pub(crate) fn response_json(n: usize, model: &str, items: &[Reply], input_tokens: u64) -> String {
    let (parts, output, thoughts) = counts(n, items);
    response(parts, model, Some((input_tokens, output, thoughts))).to_string()
}

/// Google-style error body.
pub(crate) fn error_body(status: u16, message: &str) -> String {
    let kind = match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    };
    json!({"error": {"code": status, "message": message, "status": kind}}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_one_chunk_per_part() {
        let body = stream_body(1, "g", &[Reply::reasoning("r"), Reply::shell("ls")], 5);
        let chunks: Vec<Value> = body
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        assert_eq!(chunks.len(), 2);
        assert_eq!(
            chunks[0]["candidates"][0]["content"]["parts"][0]["thought"],
            true
        );
        let call = &chunks[1]["candidates"][0]["content"]["parts"][0]["functionCall"];
        assert_eq!(call["name"], "run_shell_command");
        assert_eq!(chunks[1]["candidates"][0]["finishReason"], "STOP");
    }
}
