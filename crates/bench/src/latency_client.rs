//! The moving parts of `tinyvex-bench latency`: a `tinyvex serve` child process, a minimal
//! JSON-RPC 2.0 WebSocket client, and the subscriber task that timestamps `changes`.
//!
//! The server is treated as a black box: it is started as a separate process exactly as a user
//! would start it, so the figures include everything between a file append and a client's
//! socket (filesystem events, ingest, SQLite commit, fan-out, WebSocket framing).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Variables that could point the server at data other than the bench's temp HOME / store.
pub const ENV_REMOVE: &[&str] = &[
    "CODEX_HOME",
    "CLAUDE_CONFIG_DIR",
    "GEMINI_CLI_HOME",
    "OPENCODE_DATA_DIR",
    "XDG_DATA_HOME",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "XDG_CACHE_HOME",
    "CODEXD_HISTORY_DIR",
    "TINYVEX_LISTEN",
    "RUST_LOG",
];

/// JSON-RPC error code of "thread not found" (the first ingest pass has not created it yet).
pub const THREAD_NOT_FOUND: i64 = -32001;

/// A running `tinyvex serve`.
pub struct ServerProcess {
    child: Child,
    /// When `spawn` returned: the zero of startup figures.
    pub spawned: Instant,
    /// Where its stderr goes (shown when something fails).
    pub stderr_path: PathBuf,
    /// The JSON line, once read (see [`ServerProcess::wait_ready`]).
    lines: std_mpsc::Receiver<(Instant, String)>,
}

/// What the server's `--json` line says.
#[derive(Debug, Clone)]
pub struct Ready {
    /// When the bench read the line.
    pub at: Instant,
    /// `listen` address.
    pub addr: SocketAddr,
    /// The token (trimmed content of `token_file`).
    pub token: String,
}

impl ServerProcess {
    /// Starts `tinyvex serve --listen LISTEN --json --rescan-every 60` with `HOME=home` and
    /// `TINYVEX_DB=db`. The long rescan period keeps the periodic rescan out of the figures:
    /// every delivery measured must come from the filesystem-event path.
    pub fn spawn(
        tinyvex: &Path,
        home: &Path,
        db: &Path,
        listen: &str,
        scratch: &Path,
    ) -> Result<ServerProcess> {
        let stderr_path = scratch.join(format!("serve-{}.stderr", std::process::id()));
        let stderr = std::fs::File::create(&stderr_path)?;
        let mut cmd = Command::new(tinyvex);
        cmd.args([
            "serve",
            "--listen",
            listen,
            "--json",
            "--rescan-every",
            "60",
        ])
        .env("HOME", home)
        .env("TINYVEX_DB", db)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr);
        for k in ENV_REMOVE {
            cmd.env_remove(k);
        }
        let spawned = Instant::now();
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", tinyvex.display()))?;
        let out = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = std_mpsc::channel();
        // A plain thread: the line must be timestamped the moment it arrives, whatever the
        // bench's async runtime is doing, and the pipe must keep draining afterwards.
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        Ok(ServerProcess {
            child,
            spawned,
            stderr_path,
            lines,
        })
    }

    /// Waits (up to `timeout`) for the `--json` line and reads the token file it names.
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<Ready> {
        let (at, line) = match self.lines.recv_timeout(timeout) {
            Ok(x) => x,
            Err(_) => bail!(
                "tinyvex serve printed no JSON line within {timeout:?}{}",
                self.stderr_tail()
            ),
        };
        let v: Value = serde_json::from_str(&line)
            .with_context(|| format!("tinyvex serve printed `{line}`, not JSON"))?;
        let addr = v["listen"]
            .as_str()
            .ok_or_else(|| anyhow!("no `listen` in `{line}`"))?
            .parse()?;
        let token_file = v["token_file"]
            .as_str()
            .ok_or_else(|| anyhow!("no `token_file` in `{line}`"))?;
        let token = std::fs::read_to_string(token_file)
            .with_context(|| format!("reading {token_file}"))?
            .trim()
            .to_string();
        Ok(Ready { at, addr, token })
    }

    /// The last lines of its stderr, for error messages.
    pub fn stderr_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        if tail.is_empty() {
            String::new()
        } else {
            format!("\nserver stderr:\n{tail}")
        }
    }

    /// SIGTERM (the documented way to stop it: clients are closed, what was read is committed),
    /// then waits up to `timeout`; kills it if it does not exit. `None`: it had to be killed.
    pub fn stop(mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        // `kill` the program: the workspace forbids `unsafe`, so no libc::kill.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait()? {
                let _ = std::fs::remove_file(&self.stderr_path);
                return Ok(Some(s));
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A WebSocket JSON-RPC client (the same protocol as `crates/server/tests/it/util.rs`).
pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: i64,
}

impl Client {
    /// Connects to `ws://addr/ws` with `Authorization: Bearer token`.
    pub async fn connect(addr: SocketAddr, token: &str) -> Result<Client> {
        let mut request = format!("ws://{addr}/ws").into_client_request()?;
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Client { ws, next_id: 1 })
    }

    /// The next text message as JSON, with the instant its frame was read; `None` once closed.
    pub async fn recv(&mut self) -> Result<Option<(Instant, Value)>> {
        loop {
            let Some(msg) = self.ws.next().await else {
                return Ok(None);
            };
            match msg? {
                Message::Text(t) => {
                    // Stamped before parsing: the bench's own JSON parsing (500 clients on the
                    // same cores) is not the server's latency.
                    let at = Instant::now();
                    return Ok(Some((at, serde_json::from_str(&t)?)));
                }
                Message::Close(_) => return Ok(None),
                _ => continue,
            }
        }
    }

    /// Calls `method` and returns the whole response (notifications before it are dropped:
    /// callers only use this before they subscribe).
    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let req = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.ws.send(Message::Text(req.to_string().into())).await?;
        loop {
            let Some((_, msg)) = self.recv().await? else {
                bail!("socket closed while waiting for the `{method}` response");
            };
            if msg.get("id") == Some(&json!(id)) {
                return Ok(msg);
            }
        }
    }
}

/// What a subscriber task reports to the driver.
#[derive(Debug)]
pub enum Event {
    /// Client `0` has subscribed.
    Ready(usize),
    /// Client `0` received the line with sequence number `1` at `2`.
    Seen(usize, usize, Instant),
    /// Client `0` failed (connect, subscribe, a protocol error, an unexpected close).
    Failed(usize, String),
    /// Client `0`'s socket closed (expected at the end: the server is stopped).
    Closed(usize),
}

/// The sequence number of a bench line: `warmup-J` is `J`, `bench-I` is `warmup + I`, so one
/// counter checks order across warm-up and measured samples.
pub fn seq_of(text: &str, warmup: usize) -> Option<usize> {
    if let Some(j) = text.strip_prefix("warmup-") {
        return j.parse().ok();
    }
    text.strip_prefix("bench-")?
        .parse::<usize>()
        .ok()
        .map(|i| i + warmup)
}

/// The user texts of a `changes` notification, in order.
pub fn user_texts(params: &Value) -> Vec<&str> {
    params["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|i| i["kind"] == "user")
                .filter_map(|i| i["text"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// One subscriber: connects (retrying: 500 simultaneous connects may overflow the accept
/// backlog), subscribes to `thread` (retrying while it does not exist yet), then reports
/// every bench line it sees in a `changes` notification until the socket closes.
pub async fn subscriber(
    id: usize,
    addr: SocketAddr,
    token: String,
    thread: String,
    warmup: usize,
    events: mpsc::UnboundedSender<Event>,
) {
    if let Err(e) = subscriber_inner(id, addr, &token, &thread, warmup, &events).await {
        let _ = events.send(Event::Failed(id, format!("{e:#}")));
    }
}

async fn subscriber_inner(
    id: usize,
    addr: SocketAddr,
    token: &str,
    thread: &str,
    warmup: usize,
    events: &mpsc::UnboundedSender<Event>,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut client = loop {
        match Client::connect(addr, token).await {
            Ok(c) => break c,
            Err(e) if Instant::now() > deadline => return Err(e.context("connect")),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    let params = json!({"query": {"type": "thread", "thread": thread}});
    loop {
        let r = client.call("subscribe", params.clone()).await?;
        if r.get("result").is_some() {
            break;
        }
        if r["error"]["code"].as_i64() != Some(THREAD_NOT_FOUND) || Instant::now() > deadline {
            bail!("subscribe failed: {r}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = events.send(Event::Ready(id));
    while let Some((at, msg)) = client.recv().await? {
        if msg.get("error").is_some() {
            bail!("error from the server: {msg}");
        }
        if msg["method"] != "changes" {
            continue; // `job` notifications and the like
        }
        for text in user_texts(&msg["params"]) {
            if let Some(seq) = seq_of(text, warmup) {
                let _ = events.send(Event::Seen(id, seq, at));
            }
        }
    }
    let _ = events.send(Event::Closed(id));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_span_warmup_and_samples() {
        assert_eq!(seq_of("warmup-0", 20), Some(0));
        assert_eq!(seq_of("warmup-19", 20), Some(19));
        assert_eq!(seq_of("bench-0", 20), Some(20));
        assert_eq!(seq_of("bench-7", 20), Some(27));
        assert_eq!(seq_of("seed", 20), None);
        assert_eq!(seq_of("bench-x", 20), None);
    }

    #[test]
    fn user_texts_of_a_delivery() {
        let p = json!({"items": [{"kind": "user", "text": "bench-1"}, {"kind": "agent", "text": "x"},
            {"kind": "user", "text": "bench-2"}]});
        assert_eq!(user_texts(&p), vec!["bench-1", "bench-2"]);
        assert!(user_texts(&json!({"thread": {}})).is_empty());
    }
}
