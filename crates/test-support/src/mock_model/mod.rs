//! `MockModel`: a scripted model server on 127.0.0.1 (plain std HTTP/1.1) speaking the OpenAI
//! Responses API (codex), the Anthropic Messages API (Claude Code), OpenAI Chat Completions
//! (OpenCode) and the Gemini API (Gemini CLI) from one script.

mod dispatch;
mod http;
mod reply;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

pub use dispatch::SIDE_REPLY_TEXT;
pub use reply::{PlanStatus, PlanStep, Reply};

use dispatch::handle;

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
    /// Answers held back (scripted request n, 1-based), to keep an agent running mid-turn
    /// while a test watches what it wrote so far: until the gate opens, at most that long.
    holds: std::collections::HashMap<usize, (AnswerGate, Duration)>,
}

/// Opens a held answer (see [`MockModel::hold_answer`]). Cheap to clone.
#[derive(Clone, Default)]
pub struct AnswerGate(Arc<(Mutex<bool>, Condvar)>);

impl AnswerGate {
    /// Let the held answer go (now, or as soon as it is asked for).
    pub fn open(&self) {
        let (open, changed) = &*self.0;
        *open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        changed.notify_all();
    }

    pub(crate) fn wait(&self, max: Duration) {
        let (open, changed) = &*self.0;
        let guard = open.lock().unwrap_or_else(|e| e.into_inner());
        let _ = changed
            .wait_timeout_while(guard, max, |open| !*open)
            .unwrap_or_else(|e| e.into_inner());
    }
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

    /// Hold back the answer to scripted model request `n` (1-based) until the returned gate
    /// opens, or `max` passes: the agent stays mid-turn exactly as long as a test needs to see
    /// what it wrote so far, however slow the machine, and no longer.
    pub fn hold_answer(&self, n: usize, max: Duration) -> AnswerGate {
        let gate = AnswerGate::default();
        self.lock().holds.insert(n, (gate.clone(), max));
        gate
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

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

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
