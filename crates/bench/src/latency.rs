//! `tinyvex-bench latency`: end-to-end latency of `tinyvex serve`, from a line appended to a
//! Codex session file to the `changes` notification on every subscribed WebSocket client, and
//! the server's startup time on an existing store.
//!
//! Whole-process like `ingest`: the bench spawns the real `tinyvex` binary on a temp HOME and
//! store and talks to it only through files and sockets ([`crate::latency_client`]). The bench's
//! clients share the machine's cores with the server, so on a small machine the figures for
//! many clients include the bench's own receive work; the README of a run says how many cores.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::latency_client::{subscriber, Client, Event, ServerProcess};
use crate::latency_report::{self, Stats};

/// Options of `tinyvex-bench latency`.
#[derive(Debug, Clone, clap::Args)]
pub struct LatencyOptions {
    /// The tinyvex binary to measure (build it with --release)
    #[arg(long, value_name = "PATH")]
    pub tinyvex: PathBuf,
    /// Numbers of subscribed clients, one server run each
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "1,500"
    )]
    pub clients: Vec<usize>,
    /// Measured appends per client count (after the warm-up)
    #[arg(long, default_value_t = 300)]
    pub samples: usize,
    /// Unrecorded appends before the measured ones
    #[arg(long, default_value_t = 20)]
    pub warmup: usize,
    /// Pause between one append's last delivery and the next append, in milliseconds
    #[arg(long, default_value_t = 20)]
    pub interval_ms: u64,
    /// Also time `tinyvex serve` starting on this existing store (made by `tinyvex ingest`),
    /// with an empty HOME so it has no sources to read
    #[arg(long, value_name = "PATH")]
    pub startup_store: Option<PathBuf>,
    /// Timed starts on --startup-store (after one unrecorded start)
    #[arg(long, default_value_t = 10)]
    pub startup_runs: usize,
    /// Write results.json and README.md into this directory (default: print only)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print one JSON object on stdout instead of the table
    #[arg(long)]
    pub json: bool,
}

/// The Codex session every client subscribes to.
const SESSION: &str = "0b3c7a10-5e1d-4c8a-9f00-be0c4b3e0001";
/// How long one append may take to reach every client before it counts as lost.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server may take to print its JSON line or accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

fn log(opts: &LatencyOptions, msg: &str) {
    if !opts.json {
        eprintln!("{msg}");
    }
}

/// A Codex `user_message` line (as the Codex CLI writes it).
fn user_line(text: &str) -> String {
    let v = json!({"timestamp": "2026-01-01T00:00:01.000Z", "type": "event_msg",
        "payload": {"type": "user_message", "message": text}});
    format!("{v}\n")
}

/// Writes `$home/.codex/sessions/2026/01/01/rollout-…-SESSION.jsonl` with the session header
/// and one user message (so the thread has an item before the bench appends); returns its path.
fn write_session(home: &Path) -> Result<PathBuf> {
    let dir = home.join(".codex/sessions/2026/01/01");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("rollout-2026-01-01T00-00-00-{SESSION}.jsonl"));
    let meta = json!({"timestamp": "2026-01-01T00:00:00.000Z", "type": "session_meta",
        "payload": {"id": SESSION, "timestamp": "2026-01-01T00:00:00.000Z", "cwd": "/w",
                    "originator": "bench", "cli_version": "0.1"}});
    std::fs::write(&path, format!("{meta}\n{}", user_line("seed")))?;
    Ok(path)
}

/// The soft limit on open files (`Max open files` of /proc/self/limits), if readable.
fn open_files_limit() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = s.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Everything one client count's run observed.
struct Observed {
    /// `lat[client][seq]`: receive instant − append instant.
    lat: Vec<Vec<Option<Duration>>>,
    /// Order, duplicate and unexpected-sequence violations, in the words of the report.
    violations: Vec<String>,
    /// Client failures (connect, subscribe, protocol errors, resets).
    failures: Vec<String>,
    /// Appends not seen by every client within [`DELIVERY_TIMEOUT`].
    timed_out: Vec<usize>,
    /// Clients whose socket the server closed cleanly when stopped.
    closed: usize,
    /// How long connecting and subscribing every client took.
    connect: Duration,
}

/// The checks of one `Seen` event: every client must see every line once, in order.
struct Checker {
    t0: Vec<Option<Instant>>,
    next: Vec<usize>,
    seen: Vec<usize>,
    obs: Observed,
}

impl Checker {
    fn seen(&mut self, c: usize, seq: usize, at: Instant) {
        let Some(t0) = self.t0.get(seq).copied().flatten() else {
            self.obs.violations.push(format!(
                "client {c} saw line {seq}, which was never written"
            ));
            return;
        };
        if self.obs.lat[c][seq].is_some() {
            self.obs
                .violations
                .push(format!("client {c} saw line {seq} twice"));
            return;
        }
        if seq != self.next[c] {
            self.obs.violations.push(format!(
                "client {c} saw line {seq} when line {} was due (out of order or skipped)",
                self.next[c]
            ));
        }
        self.next[c] = self.next[c].max(seq + 1);
        self.obs.lat[c][seq] = Some(at.saturating_duration_since(t0));
        self.seen[seq] += 1;
    }

    fn handle(&mut self, e: Event) {
        match e {
            Event::Seen(c, seq, at) => self.seen(c, seq, at),
            Event::Failed(c, msg) => self.obs.failures.push(format!("client {c}: {msg}")),
            Event::Closed(_) => self.obs.closed += 1,
            Event::Ready(_) => {}
        }
    }
}

/// Connects `clients` subscribers to a running server, appends the lines and collects what
/// every client saw.
async fn drive(
    opts: &LatencyOptions,
    clients: usize,
    addr: SocketAddr,
    token: &str,
    file: &Path,
    server: ServerProcess,
) -> Result<(Observed, Option<std::process::ExitStatus>)> {
    let total = opts.warmup + opts.samples;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    for c in 0..clients {
        tokio::spawn(subscriber(
            c,
            addr,
            token.to_string(),
            format!("codex-{SESSION}"),
            opts.warmup,
            tx.clone(),
        ));
    }
    drop(tx);
    let mut ready = 0;
    while ready < clients {
        match tokio::time::timeout(START_TIMEOUT, rx.recv()).await {
            Ok(Some(Event::Ready(_))) => ready += 1,
            Ok(Some(Event::Failed(c, msg))) => bail!("client {c} could not subscribe: {msg}"),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => bail!("only {ready} of {clients} clients subscribed"),
        }
    }
    let connect = started.elapsed();
    let mut ck = Checker {
        t0: vec![None; total],
        next: vec![0; clients],
        seen: vec![0; total],
        obs: Observed {
            lat: vec![vec![None; total]; clients],
            violations: Vec::new(),
            failures: Vec::new(),
            timed_out: Vec::new(),
            closed: 0,
            connect,
        },
    };
    // One handle opened with O_APPEND, as an agent CLI keeps its rollout open: each sample is a
    // single write(2), so the server never sees half a line.
    let mut f = std::fs::OpenOptions::new().append(true).open(file)?;
    for seq in 0..total {
        let text = if seq < opts.warmup {
            format!("warmup-{seq}")
        } else {
            format!("bench-{}", seq - opts.warmup)
        };
        let line = user_line(&text);
        let t0 = Instant::now();
        f.write_all(line.as_bytes())?;
        ck.t0[seq] = Some(t0);
        let deadline = tokio::time::Instant::now() + DELIVERY_TIMEOUT;
        while ck.seen[seq] < clients {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(e)) => ck.handle(e),
                Ok(None) | Err(_) => break,
            }
        }
        if ck.seen[seq] < clients {
            ck.obs.timed_out.push(seq);
        }
        tokio::time::sleep(Duration::from_millis(opts.interval_ms)).await;
    }
    // Anything still queued (late or duplicate deliveries) is checked before stopping.
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
        ck.handle(e);
    }
    let status = tokio::task::spawn_blocking(move || server.stop(Duration::from_secs(20)))
        .await
        .context("stopping the server")??;
    // Each client ends with Closed (or Failed): wait for all of them, briefly.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Some(e)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        ck.handle(e);
    }
    Ok((ck.obs, status))
}

/// Starts a server on a fresh temp HOME and store, measures `clients` subscribers, stops it.
fn run_clients(
    opts: &LatencyOptions,
    rt: &tokio::runtime::Runtime,
    clients: usize,
) -> Result<Value> {
    let work = tempfile::Builder::new()
        .prefix("tinyvex-latency-")
        .tempdir()?;
    let home = work.path().join("home");
    let file = write_session(&home)?;
    let db = work.path().join("store/data.sqlite3");
    let mut server = ServerProcess::spawn(&opts.tinyvex, &home, &db, "127.0.0.1:0", work.path())?;
    let ready = server.wait_ready(START_TIMEOUT)?;
    let stderr_hint = server.stderr_tail();
    let (obs, status) = rt.block_on(drive(
        opts,
        clients,
        ready.addr,
        &ready.token,
        &file,
        server,
    ))?;
    let measured: Vec<Duration> = obs
        .lat
        .iter()
        .flat_map(|l| l[opts.warmup..].iter().flatten().copied())
        .collect();
    // Per append, the latency of its slowest client: when "everyone has it".
    let slowest: Vec<Duration> = (opts.warmup..opts.warmup + opts.samples)
        .filter_map(|s| obs.lat.iter().filter_map(|l| l[s]).max())
        .collect();
    let expected = clients * opts.samples;
    let lost = expected - measured.len();
    let warmup_lost = clients * opts.warmup
        - obs
            .lat
            .iter()
            .map(|l| l[..opts.warmup].iter().flatten().count())
            .sum::<usize>();
    let ok = lost == 0
        && warmup_lost == 0
        && obs.violations.is_empty()
        && obs.failures.is_empty()
        && status.is_some_and(|s| s.success());
    Ok(json!({
        "clients": clients,
        "ok": ok,
        "samples": opts.samples,
        "expected": expected,
        "received": measured.len(),
        "lost": lost,
        "warmup_lost": warmup_lost,
        "latency": Stats::of(&measured).to_json(),
        "slowest_client": Stats::of(&slowest).to_json(),
        "connect_and_subscribe_s": obs.connect.as_secs_f64(),
        "timed_out_lines": obs.timed_out,
        "violations_count": obs.violations.len(),
        "violations": obs.violations.iter().take(20).collect::<Vec<_>>(),
        "failures_count": obs.failures.len(),
        "failures": obs.failures.iter().take(20).collect::<Vec<_>>(),
        "closed_cleanly": obs.closed,
        "server_exit": status.map(|s| s.to_string()).unwrap_or_else(|| "did not exit within 20 s of SIGTERM: killed".into()),
        "server_stderr_at_start": stderr_hint,
    }))
}

/// A port that was free a moment ago (bind port 0, read it, close).
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Spawn → first accepted TCP connect, spawn → first `hello` answer, spawn → JSON line.
fn one_start(
    opts: &LatencyOptions,
    rt: &tokio::runtime::Runtime,
    store: &Path,
    home: &Path,
    scratch: &Path,
    token: Option<&str>,
) -> Result<(Value, String)> {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let mut server = ServerProcess::spawn(&opts.tinyvex, home, store, &addr.to_string(), scratch)?;
    let t0 = server.spawned;
    // Polling connect every millisecond: the port is known in advance, so this sees the
    // listener the moment it exists, independent of when the server prints its line.
    let tcp = loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            break t0.elapsed();
        }
        if t0.elapsed() > START_TIMEOUT {
            bail!(
                "nothing listening on {addr} after {START_TIMEOUT:?}{}",
                server.stderr_tail()
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let hello = match token {
        Some(token) => Some(rt.block_on(async {
            loop {
                if let Ok(mut c) = Client::connect(addr, token).await {
                    let r = c.call("hello", json!({})).await?;
                    if r.get("result").is_some() {
                        return anyhow::Ok(t0.elapsed());
                    }
                    bail!("hello failed: {r}");
                }
                if t0.elapsed() > START_TIMEOUT {
                    bail!("no WebSocket connection after {START_TIMEOUT:?}");
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })?),
        None => None,
    };
    let ready = server.wait_ready(START_TIMEOUT)?;
    let line = ready.at.saturating_duration_since(t0);
    let status = server.stop(Duration::from_secs(20))?;
    if !status.is_some_and(|s| s.success()) {
        bail!("tinyvex serve did not exit cleanly on SIGTERM: {status:?}");
    }
    let v = json!({"tcp_s": tcp.as_secs_f64(), "hello_s": hello.map(|d| d.as_secs_f64()),
                   "json_line_s": line.as_secs_f64()});
    Ok((v, ready.token))
}

/// Times `tinyvex serve` starting on an existing store with no sources.
fn startup(opts: &LatencyOptions, rt: &tokio::runtime::Runtime, store: &Path) -> Result<Value> {
    let store = store
        .canonicalize()
        .with_context(|| format!("no store at {}", store.display()))?;
    let work = tempfile::Builder::new()
        .prefix("tinyvex-startup-")
        .tempdir()?;
    let home = work.path().join("empty-home");
    std::fs::create_dir_all(&home)?;
    // The first start creates the token file (next to the store) and may run one-off work;
    // it is reported apart, not mixed into the timed starts.
    let (first, token) = one_start(opts, rt, &store, &home, work.path(), None)?;
    let mut runs = Vec::new();
    for i in 0..opts.startup_runs.max(1) {
        log(
            opts,
            &format!("  start {}/{}…", i + 1, opts.startup_runs.max(1)),
        );
        runs.push(one_start(opts, rt, &store, &home, work.path(), Some(&token))?.0);
    }
    let col = |k: &str| -> Vec<Duration> {
        runs.iter()
            .filter_map(|r| r[k].as_f64())
            .map(Duration::from_secs_f64)
            .collect()
    };
    let bytes = crate::runner::db_bytes(&store);
    Ok(json!({
        "store": store, "store_bytes": bytes, "runs_count": runs.len(),
        "tcp": Stats::of(&col("tcp_s")).to_json(),
        "hello": Stats::of(&col("hello_s")).to_json(),
        "json_line": Stats::of(&col("json_line_s")).to_json(),
        "first_start": first, "runs": runs,
    }))
}

/// Runs the benchmark, prints (and with --out saves) the results; false when the server lost,
/// repeated or reordered a delivery, or failed a client.
pub fn run(opts: LatencyOptions) -> Result<bool> {
    let tinyvex = opts
        .tinyvex
        .canonicalize()
        .with_context(|| format!("no tinyvex binary at {}", opts.tinyvex.display()))?;
    let opts = LatencyOptions { tinyvex, ..opts };
    if opts.clients.is_empty() || opts.clients.contains(&0) {
        bail!("--clients needs positive numbers");
    }
    // Each client is one socket here and one in the server (both inherit this limit).
    let need = opts.clients.iter().max().copied().unwrap_or(0) as u64 + 256;
    if let Some(limit) = open_files_limit().filter(|&l| l < need) {
        bail!("the open-file limit is {limit}, {need} are needed: raise it (`ulimit -n {need}`)");
    }
    let version = std::process::Command::new(&opts.tinyvex)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut runs = Vec::new();
    for &c in &opts.clients {
        log(
            &opts,
            &format!("{c} client(s): {} + {} appends…", opts.warmup, opts.samples),
        );
        runs.push(run_clients(&opts, &rt, c)?);
    }
    let startup = match &opts.startup_store {
        Some(store) => {
            log(&opts, &format!("startup on {}…", store.display()));
            Some(startup(&opts, &rt, store)?)
        }
        None => None,
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let results = json!({
        "bench": {"version": env!("CARGO_PKG_VERSION"), "kind": "latency",
                  "date": crate::clock::date(now_ms), "samples": opts.samples,
                  "warmup": opts.warmup, "interval_ms": opts.interval_ms,
                  "delivery_timeout_s": DELIVERY_TIMEOUT.as_secs_f64(),
                  "open_files_limit": open_files_limit()},
        "tinyvex": {"path": opts.tinyvex, "version": version},
        "machine": crate::report::machine_info(),
        "latency": runs,
        "startup": startup,
        "targets": latency_report::targets_json(),
    });
    let ok = runs_ok(&results);
    let summary = latency_report::table(&results);
    if opts.json {
        println!("{results}");
    } else {
        print!("{summary}");
    }
    if let Some(dir) = &opts.out {
        latency_report::save(
            dir,
            &results,
            &summary,
            &std::env::args().collect::<Vec<_>>(),
        )?;
        log(&opts, &format!("results written to {}", dir.display()));
    }
    if !ok {
        eprintln!(
            "error: the server lost, repeated or reordered deliveries or failed clients: see above"
        );
    }
    Ok(ok)
}

fn runs_ok(results: &Value) -> bool {
    results["latency"]
        .as_array()
        .is_some_and(|a| a.iter().all(|r| r["ok"] == true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checker_flags_duplicates_gaps_and_order() {
        let now = Instant::now();
        let mut ck = Checker {
            t0: vec![Some(now); 3],
            next: vec![0; 1],
            seen: vec![0; 3],
            obs: Observed {
                lat: vec![vec![None; 3]; 1],
                violations: Vec::new(),
                failures: Vec::new(),
                timed_out: Vec::new(),
                closed: 0,
                connect: Duration::ZERO,
            },
        };
        ck.seen(0, 0, now);
        assert!(ck.obs.violations.is_empty());
        ck.seen(0, 0, now);
        ck.seen(0, 2, now);
        ck.seen(0, 1, now);
        ck.seen(0, 7, now);
        assert_eq!(ck.obs.violations.len(), 4, "{:?}", ck.obs.violations);
        assert_eq!(ck.seen, vec![1, 1, 1]);
    }

    #[test]
    fn session_file_has_header_and_one_message() {
        let d = tempfile::tempdir().unwrap();
        let p = write_session(d.path()).unwrap();
        let s = std::fs::read_to_string(p).unwrap();
        let lines: Vec<Value> = s
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["payload"]["id"], SESSION);
        assert_eq!(lines[1]["payload"]["message"], "seed");
    }
}
