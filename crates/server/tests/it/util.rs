//! A server on a temp home with a Codex session, and a small JSON-RPC
//! WebSocket client.

use std::collections::VecDeque;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tinyvex_providers::SourceEnv;
use tinyvex_server::{Server, ServerConfig, Token};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const TOKEN: &str = "test-token-0123456789";
pub const SESSION: &str = "01a20040-17cf-78f2-80e0-f2cc1b712842";
pub const THREAD: &str = "codex-01a20040-17cf-78f2-80e0-f2cc1b712842";

/// Generous bound for anything that should take milliseconds; a test that
/// hits it has failed, it never decides success. 30 s, not 10: on two cores
/// under a parallel build, a 40 MB append (stored, indexed and fanned out
/// to two clients) twice kept a test's next message past 10 s.
pub const WAIT: Duration = Duration::from_secs(30);

pub struct TestServer {
    pub server: Option<Server>,
    pub dir: tempfile::TempDir,
    pub session_file: PathBuf,
}

impl TestServer {
    /// A server over a temp home holding one Codex session with one user message.
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let sessions = dir.path().join("home/.codex/sessions/2026/01/01");
        std::fs::create_dir_all(&sessions).unwrap();
        let session_file = sessions.join(format!("rollout-2026-01-01T00-00-00-{SESSION}.jsonl"));
        let meta = json!({"timestamp":"2026-01-01T00:00:00.000Z","type":"session_meta",
            "payload":{"id":SESSION,"timestamp":"2026-01-01T00:00:00.000Z","cwd":"/w","originator":"test","cli_version":"0.1"}});
        std::fs::write(&session_file, format!("{meta}\n{}\n", user_line("first"))).unwrap();
        let mut t = TestServer {
            server: None,
            dir,
            session_file,
        };
        t.restart().await;
        t
    }

    /// Start (again) on the same home and store.
    pub async fn restart(&mut self) {
        let config = ServerConfig {
            db: self.dir.path().join("data/data.sqlite3"),
            sources: SourceEnv {
                home: self.dir.path().join("home"),
                vars: Default::default(),
            },
            listen: "127.0.0.1:0".parse().unwrap(),
            token: Token::new(TOKEN),
            allow_origins: Vec::new(),
            rescan_every: Duration::from_secs(10),
            store: Default::default(),
        };
        self.server = Some(Server::start(config).await.unwrap());
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.as_ref().unwrap().local_addr()
    }

    pub async fn stop(&mut self) {
        self.server.take().unwrap().shutdown().await.unwrap();
    }

    /// Append user messages to the session file, one write per line.
    pub fn append(&self, texts: &[&str]) {
        append_lines(&self.session_file, texts);
    }

    /// A connected, authenticated client that has seen the first pass finish
    /// (the thread exists).
    pub async fn client(&self) -> Client {
        let mut c = Client::connect(self.addr(), Some(TOKEN)).await.unwrap();
        c.wait_for_thread(THREAD).await;
        c
    }
}

pub fn user_line(text: &str) -> String {
    json!({"timestamp":"2026-01-01T00:00:01.000Z","type":"event_msg",
        "payload":{"type":"user_message","message":text}})
    .to_string()
}

pub fn append_lines(path: &Path, texts: &[&str]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for t in texts {
        f.write_all(format!("{}\n", user_line(t)).as_bytes())
            .unwrap();
        f.flush().unwrap();
    }
}

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: i64,
    /// Notifications received while waiting for a response.
    pub pending: VecDeque<Value>,
}

impl Client {
    pub async fn connect(
        addr: SocketAddr,
        token: Option<&str>,
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
        if let Some(t) = token {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Client {
            ws,
            next_id: 1,
            pending: VecDeque::new(),
        })
    }

    pub async fn send_text(&mut self, text: String) {
        self.ws.send(Message::Text(text.into())).await.unwrap();
    }

    /// Send, ignoring a failure (the server may have closed already).
    pub async fn try_send_text(&mut self, text: String) {
        let _ = self.ws.send(Message::Text(text.into())).await;
    }

    /// The next message of any kind, as JSON; `None` when the socket closed.
    pub async fn recv(&mut self) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no message from the server in time")?;
            match msg.ok()? {
                Message::Text(t) => return Some(serde_json::from_str(&t).unwrap()),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The next response (notifications are kept in `pending`).
    pub async fn response(&mut self) -> Value {
        loop {
            let msg = self
                .recv()
                .await
                .expect("socket closed while waiting for a response");
            if msg.get("method").is_none() {
                return msg;
            }
            self.pending.push_back(msg);
        }
    }

    /// The close frame (code, reason) the server ends with.
    pub async fn recv_close(&mut self) -> Option<(u16, String)> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no close from the server in time")?;
            match msg {
                Ok(Message::Close(frame)) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.to_string()))
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    /// Call a method and return the whole response object.
    pub async fn call_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let req = json!({"jsonrpc":"2.0","id":id,"method":method,"params":params});
        self.send_text(req.to_string()).await;
        loop {
            let msg = self
                .recv()
                .await
                .expect("socket closed while waiting for a response");
            if msg.get("id") == Some(&json!(id)) {
                return msg;
            }
            self.pending.push_back(msg);
        }
    }

    /// Call a method and return its result (panics on an error).
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let response = self.call_raw(method, params).await;
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// The next notification.
    pub async fn notification(&mut self) -> Value {
        if let Some(n) = self.pending.pop_front() {
            return n;
        }
        self.recv().await.expect("socket closed")
    }

    /// The next `changes` notification.
    pub async fn changes(&mut self) -> Value {
        loop {
            let n = self.notification().await;
            if n["method"] == "changes" {
                return n["params"].clone();
            }
        }
    }

    /// Poll `threads.get` until the thread exists.
    pub async fn wait_for_thread(&mut self, thread: &str) {
        let start = Instant::now();
        loop {
            let r = self
                .call_raw("threads.get", json!({"thread": thread}))
                .await;
            if r.get("result").is_some() {
                return;
            }
            assert!(
                start.elapsed() < WAIT,
                "thread {thread} never appeared: {r}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Collect user texts from `changes` of a thread subscription until
    /// `want` texts arrived; returns (texts, last revision).
    pub async fn collect_texts(&mut self, want: usize) -> (Vec<String>, u64) {
        let mut texts = Vec::new();
        let mut revision = 0;
        while texts.len() < want {
            let d = self.changes().await;
            revision = d["revision"].as_u64().unwrap();
            texts.extend(item_texts(&d));
        }
        (texts, revision)
    }
}

/// The user texts of a delivery's items, in order.
pub fn item_texts(delivery: &Value) -> Vec<String> {
    delivery["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|i| i["kind"] == "user")
                .map(|i| i["text"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A plain HTTP/1.1 GET (status line and headers lowercased, body) over a
/// fresh connection; `headers` are extra request headers.
pub async fn http_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> HttpReply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .expect("no HTTP answer in time")
        .unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    HttpReply {
        status,
        headers,
        body: body.to_string(),
    }
}

pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}
