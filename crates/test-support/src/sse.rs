//! Pure builder of one scripted Responses API answer as a `text/event-stream` body.

use serde_json::{json, Value};

use crate::mock_model::Reply;

/// Usage numbers reported in `response.completed`.
pub(crate) struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
}

/// The SSE body answering request number `n` (1-based) with `items`, as the real API streams it:
/// `response.created`, `response.in_progress`, per item `response.output_item.added`, its
/// deltas/done events and `response.output_item.done`, then `response.completed` with usage.
pub(crate) fn stream_body(n: usize, model: &str, items: &[Reply], input_tokens: u64) -> String {
    let rid = format!("resp_mock_{n}");
    let mut events: Vec<Value> = Vec::new();
    let shell = |status: &str, output: Vec<Value>| {
        json!({"id": rid, "object": "response", "created_at": 0, "status": status,
               "model": model, "output": output})
    };
    events.push(json!({"type": "response.created", "response": shell("in_progress", vec![])}));
    events.push(json!({"type": "response.in_progress", "response": shell("in_progress", vec![])}));

    let mut output = Vec::new();
    let mut usage = Usage {
        input_tokens,
        output_tokens: 0,
        reasoning_tokens: 0,
    };
    for (k, reply) in items.iter().enumerate() {
        let item = item_events(n, k, reply, &mut events, &mut usage);
        output.push(item);
    }

    let mut done = shell("completed", output);
    done["usage"] = json!({
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    });
    events.push(json!({"type": "response.completed", "response": done}));

    let mut body = String::new();
    for (seq, mut event) in events.into_iter().enumerate() {
        event["sequence_number"] = json!(seq);
        let kind = event["type"].as_str().unwrap_or_default().to_owned();
        body.push_str(&format!("event: {kind}\ndata: {event}\n\n"));
    }
    body
}

fn tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4).max(1)
}

/// Splits text into up to three deltas (at char boundaries), like a real stream.
fn deltas(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let step = chars.len().div_ceil(3).max(1);
    chars.chunks(step).map(|c| c.iter().collect()).collect()
}

/// Pushes the streaming events of one output item; returns the finished item.
fn item_events(n: usize, k: usize, reply: &Reply, ev: &mut Vec<Value>, usage: &mut Usage) -> Value {
    let oi = k;
    match reply {
        Reply::Text(text) => message(format!("msg_{n}_{k}"), oi, text, "final_answer", ev, usage),
        Reply::Commentary(text) => {
            message(format!("msg_{n}_{k}"), oi, text, "commentary", ev, usage)
        }
        Reply::Reasoning { summary } => {
            let id = format!("rs_{n}_{k}");
            ev.push(
                json!({"type": "response.output_item.added", "output_index": oi,
                "item": {"id": id, "type": "reasoning", "summary": []}}),
            );
            let empty = json!({"type": "summary_text", "text": ""});
            ev.push(
                json!({"type": "response.reasoning_summary_part.added", "item_id": id,
                "output_index": oi, "summary_index": 0, "part": empty}),
            );
            for delta in deltas(summary) {
                ev.push(
                    json!({"type": "response.reasoning_summary_text.delta", "item_id": id,
                    "output_index": oi, "summary_index": 0, "delta": delta}),
                );
            }
            ev.push(
                json!({"type": "response.reasoning_summary_text.done", "item_id": id,
                "output_index": oi, "summary_index": 0, "text": summary}),
            );
            let part = json!({"type": "summary_text", "text": summary});
            ev.push(
                json!({"type": "response.reasoning_summary_part.done", "item_id": id,
                "output_index": oi, "summary_index": 0, "part": part}),
            );
            usage.reasoning_tokens += tokens(summary);
            usage.output_tokens += tokens(summary);
            let item = json!({"id": id, "type": "reasoning", "summary": [part]});
            ev.push(json!({"type": "response.output_item.done", "output_index": oi, "item": item}));
            item
        }
        Reply::ShellCall { command } => {
            let args = json!({ "cmd": command }).to_string();
            function_call(n, k, "exec_command", &args, ev, usage)
        }
        Reply::Plan { explanation, steps } => {
            let plan: Vec<Value> = steps
                .iter()
                .map(|s| json!({"step": s.step, "status": s.status.as_str()}))
                .collect();
            let mut args = json!({ "plan": plan });
            if let Some(explanation) = explanation {
                args["explanation"] = json!(explanation);
            }
            function_call(n, k, "update_plan", &args.to_string(), ev, usage)
        }
        Reply::FunctionCall { name, arguments } => {
            function_call(n, k, name, &arguments.to_string(), ev, usage)
        }
        Reply::ApplyPatch(patch) => {
            let (id, call_id) = (format!("ctc_{n}_{k}"), format!("call_{n}_{k}"));
            let mut item = json!({"id": id, "type": "custom_tool_call", "status": "in_progress",
                "call_id": call_id, "name": "apply_patch", "input": ""});
            ev.push(
                json!({"type": "response.output_item.added", "output_index": oi, "item": item}),
            );
            ev.push(
                json!({"type": "response.custom_tool_call_input.delta", "item_id": id,
                "output_index": oi, "delta": patch}),
            );
            ev.push(
                json!({"type": "response.custom_tool_call_input.done", "item_id": id,
                "output_index": oi, "input": patch}),
            );
            item["status"] = json!("completed");
            item["input"] = json!(patch);
            usage.output_tokens += tokens(patch);
            ev.push(json!({"type": "response.output_item.done", "output_index": oi, "item": item}));
            item
        }
        Reply::Item(item) => {
            ev.push(
                json!({"type": "response.output_item.added", "output_index": oi, "item": item}),
            );
            ev.push(json!({"type": "response.output_item.done", "output_index": oi, "item": item}));
            usage.output_tokens += tokens(&item.to_string());
            item.clone()
        }
        // Handled before streaming starts (the whole answer is an HTTP error).
        Reply::ApiError { .. } => json!(null),
    }
}

fn message(
    id: String,
    oi: usize,
    text: &str,
    phase: &str,
    ev: &mut Vec<Value>,
    usage: &mut Usage,
) -> Value {
    ev.push(
        json!({"type": "response.output_item.added", "output_index": oi,
        "item": {"id": id, "type": "message", "status": "in_progress", "role": "assistant",
                 "content": [], "phase": phase}}),
    );
    let empty = json!({"type": "output_text", "text": "", "annotations": []});
    ev.push(
        json!({"type": "response.content_part.added", "item_id": id, "output_index": oi,
        "content_index": 0, "part": empty}),
    );
    for delta in deltas(text) {
        ev.push(
            json!({"type": "response.output_text.delta", "item_id": id, "output_index": oi,
            "content_index": 0, "delta": delta, "logprobs": []}),
        );
    }
    ev.push(
        json!({"type": "response.output_text.done", "item_id": id, "output_index": oi,
        "content_index": 0, "text": text, "logprobs": []}),
    );
    let part = json!({"type": "output_text", "text": text, "annotations": []});
    ev.push(
        json!({"type": "response.content_part.done", "item_id": id, "output_index": oi,
        "content_index": 0, "part": part}),
    );
    usage.output_tokens += tokens(text);
    let item = json!({"id": id, "type": "message", "status": "completed", "role": "assistant",
        "content": [part], "phase": phase});
    ev.push(json!({"type": "response.output_item.done", "output_index": oi, "item": item}));
    item
}

fn function_call(
    n: usize,
    k: usize,
    name: &str,
    args: &str,
    ev: &mut Vec<Value>,
    usage: &mut Usage,
) -> Value {
    let (id, call_id) = (format!("fc_{n}_{k}"), format!("call_{n}_{k}"));
    let mut item = json!({"id": id, "type": "function_call", "status": "in_progress",
        "name": name, "call_id": call_id, "arguments": ""});
    ev.push(json!({"type": "response.output_item.added", "output_index": k, "item": item}));
    ev.push(
        json!({"type": "response.function_call_arguments.delta", "item_id": id,
        "output_index": k, "delta": args}),
    );
    ev.push(
        json!({"type": "response.function_call_arguments.done", "item_id": id,
        "output_index": k, "arguments": args}),
    );
    item["status"] = json!("completed");
    item["arguments"] = json!(args);
    usage.output_tokens += tokens(args);
    ev.push(json!({"type": "response.output_item.done", "output_index": k, "item": item}));
    item
}
