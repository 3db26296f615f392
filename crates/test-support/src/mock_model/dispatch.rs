//! Answering one connection: routing its request by protocol to the next scripted answer
//! or to a side answer, and recording it.

use std::net::TcpStream;
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::{anthropic, chat, gemini, sse};

use super::http::{error_body, read_request, write_response};
use super::{RecordedRequest, Reply, State};

/// Which wire protocol a request speaks, and whether it is a scripted model request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// OpenAI Responses API (`POST .../responses`).
    Responses,
    /// Anthropic Messages API (`POST .../messages`).
    Messages { stream: bool },
    /// OpenAI Chat Completions (`POST .../chat/completions`).
    Chat { stream: bool },
    /// Gemini API (`POST .../models/<model>:streamGenerateContent` / `:generateContent`).
    Gemini { stream: bool },
    /// Anything else (answered by [`side_answer`], never from the script).
    Side,
}

/// Whether a JSON body offers tools (conversation requests do; title/quota/summary calls don't).
fn has_tools(body: &Value) -> bool {
    body.get("tools")
        .and_then(Value::as_array)
        .is_some_and(|tools| !tools.is_empty())
}

fn route(method: &str, path: &str, body: &Value) -> Route {
    if method != "POST" {
        return Route::Side;
    }
    let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
    if path.ends_with("/responses") {
        Route::Responses
    } else if !has_tools(body) {
        Route::Side
    } else if path.ends_with("/messages") {
        Route::Messages { stream }
    } else if path.ends_with("/chat/completions") {
        Route::Chat { stream }
    } else if path.ends_with(":streamGenerateContent") {
        Route::Gemini { stream: true }
    } else if path.ends_with(":generateContent") {
        Route::Gemini { stream: false }
    } else {
        Route::Side
    }
}

pub(super) fn handle(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let request = read_request(&stream)?;
    let body: Value = if request.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&request.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&request.body).into()))
    };
    let path = request
        .path
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let route = route(&request.method, &path, &body);

    let answer = {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        state.all.push(RecordedRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            headers: request.headers.clone(),
            body: body.clone(),
            scripted: route != Route::Side,
        });
        if route != Route::Side {
            state.model_requests.push(body.clone());
            let n = state.answered;
            state.answered += 1;
            let answer = state.script.get(n).cloned();
            if answer.is_none() {
                state.overrun += 1;
            }
            Some((n + 1, answer, state.holds.get(&(n + 1)).cloned()))
        } else {
            None
        }
    };

    let Some((n, answer, hold)) = answer else {
        return side_answer(&stream, &request.method, &path, &body);
    };
    if let Some((gate, max)) = hold {
        gate.wait(max);
    }
    let items = answer.unwrap_or_else(|| {
        vec![Reply::text(format!(
            "(mock model: script exhausted at request {n})"
        ))]
    });
    if let Some((status, message)) = items.iter().find_map(|r| match r {
        Reply::ApiError { status, message } => Some((*status, message.clone())),
        _ => None,
    }) {
        let body = match route {
            Route::Messages { .. } => anthropic::error_body(status, &message),
            Route::Gemini { .. } => gemini::error_body(status, &message),
            _ => error_body(status, &message),
        };
        return write_response(&stream, status, "application/json", &body);
    }
    let model = model_of(&path, &body);
    let model = model.as_str();
    let input_tokens = (request.body.len() as u64 / 4).max(1);
    match route {
        Route::Messages { stream: true } => {
            let sse = anthropic::stream_body(n, model, &items, input_tokens);
            write_response(&stream, 200, "text/event-stream", &sse)
        }
        Route::Messages { stream: false } => {
            let json = anthropic::message_json(n, model, &items, input_tokens);
            write_response(&stream, 200, "application/json", &json)
        }
        Route::Chat { .. } => {
            // OpenCode always streams; a non-streaming request gets the stream too (rare).
            let sse = chat::stream_body(n, model, &items, input_tokens);
            write_response(&stream, 200, "text/event-stream", &sse)
        }
        Route::Gemini { stream: true } => {
            let sse = gemini::stream_body(n, model, &items, input_tokens);
            write_response(&stream, 200, "text/event-stream", &sse)
        }
        Route::Gemini { stream: false } => {
            let json = gemini::response_json(n, model, &items, input_tokens);
            write_response(&stream, 200, "application/json", &json)
        }
        _ => {
            let sse = sse::stream_body(n, model, &items, input_tokens);
            write_response(&stream, 200, "text/event-stream", &sse)
        }
    }
}

/// Text of every generic (non-scripted) model answer.
pub const SIDE_REPLY_TEXT: &str = "Mock session";

/// Answers a request that is not a scripted model request: model lists, token counts and
/// tool-less model calls (titles, summaries, quota checks) get a generic success; anything
/// else `404`.
fn side_answer(stream: &TcpStream, method: &str, path: &str, body: &Value) -> std::io::Result<()> {
    let model = model_of(path, body);
    let model = model.as_str();
    let input_tokens = (body.to_string().len() as u64 / 4).max(1);
    let wants_stream = body.get("stream").and_then(Value::as_bool) == Some(true);
    let json_response =
        |value: Value| write_response(stream, 200, "application/json", &value.to_string());
    if method == "GET" && path.ends_with("/models") {
        return json_response(json!({"object": "list", "data": [], "models": []}));
    }
    if method == "POST" && path.ends_with("/messages/count_tokens") {
        return json_response(json!({ "input_tokens": input_tokens }));
    }
    if method == "POST" && path.ends_with("/messages") {
        let items = [Reply::text(SIDE_REPLY_TEXT)];
        return if wants_stream {
            let sse = anthropic::stream_body(0, model, &items, input_tokens);
            write_response(stream, 200, "text/event-stream", &sse)
        } else {
            let json = anthropic::message_json(0, model, &items, input_tokens);
            write_response(stream, 200, "application/json", &json)
        };
    }
    if method == "POST" && path.ends_with("/chat/completions") {
        return if wants_stream {
            let sse = chat::stream_body(0, model, &[Reply::text(SIDE_REPLY_TEXT)], input_tokens);
            write_response(stream, 200, "text/event-stream", &sse)
        } else {
            let json = chat::completion_json(model, SIDE_REPLY_TEXT, input_tokens);
            write_response(stream, 200, "application/json", &json)
        };
    }
    if method == "POST" && path.ends_with(":countTokens") {
        return json_response(json!({ "totalTokens": input_tokens }));
    }
    if method == "POST"
        && (path.ends_with(":streamGenerateContent") || path.ends_with(":generateContent"))
    {
        // Gemini CLI's helper calls (routing, next-speaker and loop checks, summaries) ask for
        // JSON matching a schema; one object with the fields they read satisfies them all.
        let wants_json = body["generationConfig"]["responseMimeType"] == "application/json";
        let text = if wants_json {
            GEMINI_SIDE_JSON.to_owned()
        } else {
            SIDE_REPLY_TEXT.to_owned()
        };
        let items = [Reply::Text(text)];
        return if path.ends_with(":streamGenerateContent") {
            let sse = gemini::stream_body(0, model, &items, input_tokens);
            write_response(stream, 200, "text/event-stream", &sse)
        } else {
            let json = gemini::response_json(0, model, &items, input_tokens);
            write_response(stream, 200, "application/json", &json)
        };
    }
    write_response(
        stream,
        404,
        "application/json",
        &error_body(404, &format!("mock model: no route for {method} {path}")),
    )
}

/// JSON text of generic answers to Gemini CLI's schema-constrained helper calls: model routing
/// (`complexity_*`), next-speaker check (`next_speaker: "user"`: the turn is over) and loop
/// detection (`unproductive_state_*`).
const GEMINI_SIDE_JSON: &str = r#"{"complexity_reasoning":"mock","complexity_score":1,"reasoning":"mock","next_speaker":"user","unproductive_state_analysis":"mock","unproductive_state_confidence":0,"title":"Mock session","summary":"Mock session"}"#;

/// The model of a request: the JSON `model`, or `<model>` of a Gemini `models/<model>:method`.
fn model_of(path: &str, body: &Value) -> String {
    if let Some(model) = body.get("model").and_then(Value::as_str) {
        return model.to_owned();
    }
    path.rsplit_once("/models/")
        .and_then(|(_, rest)| rest.split(':').next())
        .filter(|m| !m.is_empty())
        .unwrap_or("mock-model")
        .to_owned()
}
