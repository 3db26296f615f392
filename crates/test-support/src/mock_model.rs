//! `MockModel`: a scripted model server on 127.0.0.1 (plain std HTTP/1.1) speaking the OpenAI
//! Responses API (codex), the Anthropic Messages API (Claude Code), OpenAI Chat Completions
//! (OpenCode) and the Gemini API (Gemini CLI) from one script.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

use crate::{anthropic, chat, gemini, sse};

/// One output item of a scripted model answer. A model answer is a `Vec<Reply>`; each scripted
/// model request (see [`MockModel`]) consumes the next answer of the script, whatever its wire
/// protocol. The variants are named after Codex's items; each protocol maps them onto its own
/// shapes and the agent's own tool names (see the table in [`MockModel`]).
///
/// Ids are predictable: in answer `n` (1-based, counting every scripted model request) item `k`
/// (0-based) gets `call_id` `call_{n}_{k}` (Responses, Chat Completions, Gemini) or
/// `toolu_{n}_{k}` (Anthropic), and Responses item ids `msg_/rs_/fc_/ctc_{n}_{k}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Assistant message, `phase: "final_answer"`.
    Text(String),
    /// Assistant message, `phase: "commentary"` (interim narration before tool calls).
    Commentary(String),
    /// Reasoning item with one summary part.
    Reasoning { summary: String },
    /// Codex's shell tool: function call `exec_command` with `{"cmd": command}`. Codex runs it
    /// and sends the output back in the next request (`function_call_output`).
    ShellCall { command: String },
    /// Freeform `apply_patch` custom tool call (`*** Begin Patch ... *** End Patch`).
    ApplyPatch(String),
    /// Function call `update_plan` with `{"plan":[{step,status}], "explanation"?}`. Codex 0.169
    /// `exec` does not advertise this tool; see the crate report for how it reacts.
    Plan {
        explanation: Option<String>,
        steps: Vec<PlanStep>,
    },
    /// Any other function call (`arguments` is serialized to the JSON string the API sends).
    FunctionCall { name: String, arguments: Value },
    /// A raw output item, streamed as-is (`output_item.added` + `output_item.done`).
    Item(Value),
    /// Answer the request with this HTTP status and an OpenAI-style error body instead of a
    /// stream. Put it alone in its answer.
    ApiError { status: u16, message: String },
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Self {
        Reply::Text(text.into())
    }
    pub fn commentary(text: impl Into<String>) -> Self {
        Reply::Commentary(text.into())
    }
    pub fn reasoning(summary: impl Into<String>) -> Self {
        Reply::Reasoning {
            summary: summary.into(),
        }
    }
    pub fn shell(command: impl Into<String>) -> Self {
        Reply::ShellCall {
            command: command.into(),
        }
    }
    pub fn apply_patch(patch: impl Into<String>) -> Self {
        Reply::ApplyPatch(patch.into())
    }
    pub fn plan<S: Into<String>>(steps: impl IntoIterator<Item = (S, PlanStatus)>) -> Self {
        let steps = steps.into_iter().map(|(step, status)| PlanStep {
            step: step.into(),
            status,
        });
        Reply::Plan {
            explanation: None,
            steps: steps.collect(),
        }
    }
    pub fn api_error(status: u16, message: impl Into<String>) -> Self {
        Reply::ApiError {
            status,
            message: message.into(),
        }
    }
}

/// One step of an `update_plan` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    pub step: String,
    pub status: PlanStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStatus {
    Pending,
    InProgress,
    Completed,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Pending => "pending",
            PlanStatus::InProgress => "in_progress",
            PlanStatus::Completed => "completed",
        }
    }
}

/// Every HTTP request the mock received, in arrival order.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Parsed JSON body, or `Value::String` with the raw text when it is not JSON, or `Null`.
    pub body: Value,
    /// Whether this was a scripted model request (it consumed an answer of the script and its
    /// body is in [`MockModel::requests`]).
    pub scripted: bool,
}

#[derive(Default)]
struct State {
    script: Vec<Vec<Reply>>,
    /// Model requests answered so far (index of the next answer).
    answered: usize,
    /// Model requests that arrived after the script ran out (answered with a stock text).
    overrun: usize,
    model_requests: Vec<Value>,
    all: Vec<RecordedRequest>,
}

/// A mock model API on `127.0.0.1:<random port>`, answering scripted model requests from a
/// script and recording every request. Runs on background threads; stops when dropped.
///
/// Scripted model requests (each consumes the next answer; bodies in [`MockModel::requests`]):
///
/// | request | protocol / agent | `ShellCall` | `Plan` | `Reasoning` |
/// |---|---|---|---|---|
/// | `POST .../responses` | OpenAI Responses, codex | `exec_command {cmd}` | `update_plan` | reasoning summary |
/// | `POST .../messages` with `tools` | Anthropic Messages (SSE if `stream`), Claude Code | `Bash {command}` | `TodoWrite {todos}` | `thinking` + signature |
/// | `POST .../chat/completions` with `tools` | Chat Completions SSE, OpenCode | `bash {command, description}` | `todowrite {todos}` | `reasoning_content` |
/// | `POST .../models/M:streamGenerateContent` / `:generateContent` with `tools` | Gemini API, Gemini CLI | `run_shell_command {command}` | `write_todos {todos}` | `thought: true` part |
///
/// Everything else is a *side request*, answered without touching the script (so an agent's
/// helper calls cannot eat the answers meant for the conversation) and recorded only in
/// [`MockModel::all_requests`] (`scripted: false`): tool-less model calls (Claude/OpenCode
/// titles, Gemini routing/next-speaker checks) get the text [`SIDE_REPLY_TEXT`] (Gemini JSON-mode
/// calls a JSON object satisfying its helper schemas), `POST .../messages/count_tokens` and
/// `...:countTokens` a token count, `GET .../models` an empty list, anything else `404`.
///
/// A scripted [`Reply::ApiError`] becomes that HTTP status with the protocol's error body.
pub struct MockModel {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl MockModel {
    /// Starts the server with a script: one `Vec<Reply>` per model request, in order.
    pub fn start(script: Vec<Vec<Reply>>) -> MockModel {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State {
            script,
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::Builder::new()
                .name("mock-model".into())
                .spawn(move || accept_loop(listener, state, stop))
                .expect("spawn mock-model thread")
        };
        MockModel {
            addr,
            state,
            stop,
            acceptor: Some(acceptor),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:<port>/v1` – the provider `base_url` for OpenAI-style clients (codex,
    /// OpenCode). Anthropic and Gemini clients take the bare `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// JSON bodies of every scripted model request so far (any protocol), in order.
    pub fn requests(&self) -> Vec<Value> {
        self.lock().model_requests.clone()
    }

    /// Every HTTP request received (any path), in order.
    pub fn all_requests(&self) -> Vec<RecordedRequest> {
        self.lock().all.clone()
    }

    /// Scripted answers not consumed yet.
    pub fn remaining(&self) -> usize {
        let state = self.lock();
        state.script.len().saturating_sub(state.answered)
    }

    /// Scripted model requests that arrived after the script ran out (they got a stock text
    /// answer).
    pub fn overrun(&self) -> usize {
        self.lock().overrun
    }

    /// Appends answers to the script (e.g. before a resumed second turn).
    pub fn push(&self, answer: Vec<Reply>) {
        self.lock().script.push(answer);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for MockModel {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: TcpListener, state: Arc<Mutex<State>>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let state = state.clone();
                // One thread per connection; connections are closed after one response.
                let _ = std::thread::Builder::new()
                    .name("mock-model-conn".into())
                    .spawn(move || {
                        let _ = handle(stream, &state);
                    });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(stream: &TcpStream) -> std::io::Result<Request> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            break;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; size + 2]; // data + CRLF
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Ok(Request {
        method,
        path,
        headers,
        body,
    })
}

fn write_response(
    mut stream: &TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         cache-control: no-cache\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

fn error_body(status: u16, message: &str) -> String {
    let kind = if status >= 500 {
        "server_error"
    } else {
        "invalid_request_error"
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": null}}).to_string()
}

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

fn handle(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
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
            Some((n + 1, answer))
        } else {
            None
        }
    };

    let Some((n, answer)) = answer else {
        return side_answer(&stream, &request.method, &path, &body);
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn http(mock: &MockModel, request: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", mock.port())).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    fn post(mock: &MockModel, body: &str) -> String {
        http(
            mock,
            &format!(
                "POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
    }

    #[test]
    fn answers_in_script_order_and_records() {
        let mock = MockModel::start(vec![
            vec![Reply::reasoning("think"), Reply::shell("echo hi")],
            vec![Reply::api_error(429, "slow down")],
        ]);
        let first = post(&mock, r#"{"model":"m","input":[]}"#);
        assert!(first.starts_with("HTTP/1.1 200"));
        let kinds: Vec<&str> = first
            .lines()
            .filter_map(|l| l.strip_prefix("event: "))
            .filter(|k| !k.contains(".delta") && !k.contains("part."))
            .collect();
        assert_eq!(
            kinds,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.reasoning_summary_text.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed"
            ]
        );
        assert!(
            first.contains(r#""arguments":"{\"cmd\":\"echo hi\"}""#),
            "{first}"
        );
        assert!(first.contains(r#""call_id":"call_1_1""#));

        let second = post(&mock, r#"{"n":2}"#);
        assert!(second.starts_with("HTTP/1.1 429"), "{second}");
        assert!(second.contains("slow down"));
        let third = post(&mock, "{}");
        assert!(third.contains("script exhausted"));
        assert_eq!(mock.overrun(), 1);

        let models = http(&mock, "GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n");
        assert!(models.starts_with("HTTP/1.1 200"));
        assert_eq!(mock.requests().len(), 3);
        assert_eq!(mock.requests()[1]["n"], 2);
        assert_eq!(mock.all_requests().len(), 4);
    }

    fn post_to(mock: &MockModel, path: &str, body: &str) -> String {
        http(
            mock,
            &format!(
                "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
    }

    #[test]
    fn routes_each_protocol_and_keeps_side_requests_off_the_script() {
        let mock = MockModel::start(vec![
            vec![Reply::text("anthropic")],
            vec![Reply::text("chat")],
            vec![Reply::text("gemini")],
            vec![Reply::api_error(529, "overloaded")],
        ]);
        let tools = r#""tools":[{"name":"t"}]"#;
        // Side requests first: none of them consumes an answer.
        let title = post_to(&mock, "/v1/messages", r#"{"model":"haiku","messages":[]}"#);
        assert!(title.contains(SIDE_REPLY_TEXT) && title.contains(r#""type":"message""#));
        let count = post_to(&mock, "/v1/messages/count_tokens", &format!("{{{tools}}}"));
        assert!(count.contains("input_tokens"), "{count}");
        let check = post_to(
            &mock,
            "/v1beta/models/g:generateContent",
            r#"{"generationConfig":{"responseMimeType":"application/json"}}"#,
        );
        assert!(check.contains(r#"next_speaker"#), "{check}");
        assert_eq!(mock.remaining(), 4);

        let a = post_to(
            &mock,
            "/v1/messages?beta=true",
            &format!(r#"{{"model":"c","stream":true,{tools}}}"#),
        );
        assert!(
            a.contains("event: message_start") && a.contains("text_delta"),
            "{a}"
        );
        let c = post_to(
            &mock,
            "/v1/chat/completions",
            &format!(r#"{{"model":"m","stream":true,{tools}}}"#),
        );
        assert!(
            c.contains(r#""content":"chat""#) && c.contains("data: [DONE]"),
            "{c}"
        );
        let g = post_to(
            &mock,
            "/v1beta/models/gemini-x:streamGenerateContent?alt=sse",
            &format!("{{{tools}}}"),
        );
        assert!(g.contains(r#""text":"gemini""#) && g.contains(r#""modelVersion":"gemini-x""#));
        let e = post_to(&mock, "/v1/messages", &format!("{{{tools}}}"));
        assert!(
            e.starts_with("HTTP/1.1 529") && e.contains("overloaded_error"),
            "{e}"
        );

        assert_eq!(mock.requests().len(), 4);
        let scripted: Vec<bool> = mock.all_requests().iter().map(|r| r.scripted).collect();
        assert_eq!(scripted, [false, false, false, true, true, true, true]);
    }
}
