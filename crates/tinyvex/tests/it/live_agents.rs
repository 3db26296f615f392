//! End to end: `tinyvex serve` watches while a real agent (Codex, Claude
//! Code) runs against the mock model, and a subscribed WebSocket client
//! receives every item, in order, while the agent is still running.
//!
//! The mock model holds its second answer back until the client has seen
//! the user message and the tool call (or a minute passed), so the agent is
//! provably mid-turn when those items reach the client.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tinyvex_test_support::{
    claude_run, codex_exec, ensure_agents_installed, AnswerGate, MockModel, Reply,
};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// How long the mock holds back the answer to the request after the tool call
/// at most: the client opens it as soon as it has seen the user item and the
/// tool call. A fixed hold (2.5 s, then 6 s) was sometimes too short in CI,
/// with the browser and other real-agent tests on the same two cores.
const HOLD_MAX: Duration = Duration::from_secs(60);

/// `tinyvex serve` on a free port over `home` (store:
/// `<home>/tinyvex/data.sqlite3`), stopped with SIGTERM on drop.
pub struct Serve {
    child: Child,
    pub ws: String,
    pub token: String,
}

impl Serve {
    pub fn start(home: &Path) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tinyvex"))
            .env_clear()
            .env("HOME", home)
            .env("CODEX_HOME", home.join(".codex"))
            .env("CLAUDE_CONFIG_DIR", home.join(".claude"))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", std::env::var_os("RUST_LOG").unwrap_or_default())
            .args(["--db"])
            .arg(home.join("tinyvex/data.sqlite3"))
            .args(["serve", "--listen", "127.0.0.1:0", "--json", "-q"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tinyvex serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("read the listening line");
        let info: Value = serde_json::from_str(&line).expect("serve --json prints JSON");
        let token = std::fs::read_to_string(info["token_file"].as_str().unwrap())
            .unwrap()
            .trim()
            .to_string();
        Serve {
            child,
            ws: info["ws"].as_str().unwrap().to_string(),
            token,
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().expect("wait for tinyvex serve");
        if !std::thread::panicking() {
            assert!(status.success(), "tinyvex serve exited with {status}");
        }
    }
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(serve: &Serve) -> Ws {
    let mut request = serve.ws.as_str().into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", serve.token).parse().unwrap(),
    );
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(60), ws.next())
            .await
            .expect("nothing from the server for 60 s")
            .expect("socket closed")
            .expect("socket error");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

/// Send a request and return its result, keeping notifications aside.
pub async fn call(
    ws: &mut Ws,
    id: i64,
    method: &str,
    params: Value,
    aside: &mut Vec<Value>,
) -> Value {
    let req = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    ws.send(Message::Text(req.to_string().into()))
        .await
        .unwrap();
    loop {
        let msg = next_json(ws).await;
        if msg["id"] == json!(id) {
            assert!(msg.get("error").is_none(), "{method}: {msg}");
            return msg["result"].clone();
        }
        aside.push(msg);
    }
}

/// An item as the client last saw it, and whether the agent was running
/// when it first arrived.
struct Seen {
    seq: i64,
    kind: String,
    item: Value,
    while_running: bool,
}

/// Watch `provider`'s threads from before the agent starts until the
/// thread's final assistant `answer` arrived; returns what the client saw,
/// in arrival order, and the store's items at the end.
async fn watch_agent(
    serve: &Serve,
    provider: &str,
    running: Arc<AtomicBool>,
    subscribed: std::sync::mpsc::Sender<()>,
    answer: &str,
    held: AnswerGate,
) -> (Vec<Seen>, Vec<Value>) {
    let mut ws = connect(serve).await;
    let mut aside = Vec::new();
    let list = call(
        &mut ws,
        1,
        "subscribe",
        json!({"query": {"type": "threads", "provider": provider}}),
        &mut aside,
    )
    .await;
    assert_eq!(
        list["threads"],
        json!([]),
        "no thread before the agent runs"
    );
    subscribed.send(()).unwrap();
    // The agent's thread appears as a change of the thread list.
    let thread_id = loop {
        let msg = match aside.pop() {
            Some(m) => m,
            None => next_json(&mut ws).await,
        };
        if msg["method"] == "changes" {
            if let Some(t) = msg["params"]["threads"].as_array().and_then(|t| t.first()) {
                break t["id"].as_str().unwrap().to_string();
            }
        }
    };
    let mut seen: Vec<Seen> = Vec::new();
    let record = |items: &Value, seen: &mut Vec<Seen>| {
        let now_running = running.load(Ordering::SeqCst);
        for item in items.as_array().into_iter().flatten() {
            match seen.iter_mut().find(|s| s.item["id"] == item["id"]) {
                Some(s) => s.item = item.clone(),
                None => seen.push(Seen {
                    seq: item["seq"].as_i64().unwrap(),
                    kind: item["kind"].as_str().unwrap().to_string(),
                    item: item.clone(),
                    while_running: now_running,
                }),
            }
        }
    };
    let snap = call(
        &mut ws,
        2,
        "subscribe",
        json!({"query": {"type": "thread", "thread": thread_id}}),
        &mut aside,
    )
    .await;
    let sub = snap["subscription"].clone();
    record(&snap["items"], &mut seen);
    while !seen
        .iter()
        .any(|s| s.kind == "assistant" && s.item["text"] == answer)
    {
        // Seen mid-turn: let the agent finish.
        if ["user", "tool_call"]
            .iter()
            .all(|kind| seen.iter().any(|s| s.kind == *kind))
        {
            held.open();
        }
        let msg = match aside.is_empty() {
            false => aside.remove(0),
            true => next_json(&mut ws).await,
        };
        if msg["method"] == "changes" && msg["params"]["subscription"] == sub {
            assert_eq!(
                msg["params"]["snapshot"], false,
                "no resnapshot expected: {msg}"
            );
            record(&msg["params"]["items"], &mut seen);
        }
    }
    while running.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The agent's last writes (token usage) may still be on their way: read
    // deliveries until the client's copy equals the store's.
    for id in 3.. {
        let stored = call(
            &mut ws,
            id,
            "items.list",
            json!({"thread": thread_id, "tail": 1000}),
            &mut aside,
        )
        .await;
        let stored = stored["items"].as_array().unwrap().clone();
        let mut msgs: Vec<Value> = std::mem::take(&mut aside);
        if same(&seen, &stored) && msgs.is_empty() {
            return (seen, stored);
        }
        if msgs.is_empty() {
            msgs.push(next_json(&mut ws).await);
        }
        for msg in msgs {
            if msg["method"] == "changes" && msg["params"]["subscription"] == sub {
                record(&msg["params"]["items"], &mut seen);
            }
        }
    }
    unreachable!()
}

fn same(seen: &[Seen], stored: &[Value]) -> bool {
    seen.len() == stored.len() && seen.iter().zip(stored).all(|(s, i)| &s.item == i)
}

/// Every stored item was delivered, first seen in `seq` order, each in its
/// final state; the ones before the held-back answer came while running.
fn check(seen: &[Seen], stored: &[Value], early_kinds: &[&str]) {
    let seqs: Vec<i64> = seen.iter().map(|s| s.seq).collect();
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    assert_eq!(seqs, sorted, "items must arrive in order");
    let ids: Vec<&Value> = seen.iter().map(|s| &s.item["id"]).collect();
    let stored_ids: Vec<&Value> = stored.iter().map(|i| &i["id"]).collect();
    assert_eq!(ids, stored_ids, "every stored item reached the client");
    for (s, item) in seen.iter().zip(stored) {
        assert_eq!(&s.item, item, "the client's copy is the final state");
    }
    for kind in early_kinds {
        let s = seen
            .iter()
            .find(|s| s.kind == *kind)
            .unwrap_or_else(|| panic!("no {kind} item"));
        assert!(
            s.while_running,
            "the {kind} item arrived only after the agent exited"
        );
    }
    let tool = seen.iter().find(|s| s.kind == "tool_call").unwrap();
    assert_eq!(tool.item["status"], "completed", "{}", tool.item);
}

fn run_scenario(
    provider: &str,
    answer: &'static str,
    run_agent: impl FnOnce(&Path, &MockModel) + Send + 'static,
) {
    ensure_agents_installed();
    let mock = Arc::new(MockModel::start(vec![
        vec![
            Reply::reasoning("Thinking about the greeting."),
            Reply::shell("echo live-from-tool"),
        ],
        vec![Reply::text(answer)],
    ]));
    let held = mock.hold_answer(2, HOLD_MAX);
    let home = tempfile::tempdir().unwrap();
    let serve = Serve::start(home.path());
    let running = Arc::new(AtomicBool::new(true));
    let (subscribed, ready) = std::sync::mpsc::channel();
    let agent = {
        let (home, mock, running) = (
            home.path().to_path_buf(),
            Arc::clone(&mock),
            Arc::clone(&running),
        );
        std::thread::spawn(move || {
            // Start only once the client watches, so every item is a change.
            ready.recv().expect("the client subscribed");
            run_agent(&home, &mock);
            running.store(false, Ordering::SeqCst);
        })
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (seen, stored) = runtime.block_on(watch_agent(
        &serve,
        provider,
        Arc::clone(&running),
        subscribed,
        answer,
        held,
    ));
    agent.join().expect("agent thread");
    check(&seen, &stored, &["user", "tool_call"]);
    drop(serve);
}

#[test]
fn live_codex_run_reaches_a_subscribed_client_while_running() {
    run_scenario("codex", "Live answer from the mock.", |home, mock| {
        let work = home.join("work");
        std::fs::create_dir_all(&work).unwrap();
        codex_exec(home, mock, &work, &["say hello live"]).assert_success();
    });
}

#[test]
fn live_claude_run_reaches_a_subscribed_client_while_running() {
    run_scenario("claude", "Live answer from the mock.", |home, mock| {
        let work = home.join("work");
        std::fs::create_dir_all(&work).unwrap();
        claude_run(home, mock, &work, &["say hello live"]).assert_success();
    });
}
