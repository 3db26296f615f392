//! The server-side phases of `tinyvex-bench search`: the round trip of the `search` method
//! over one warm WebSocket connection, and how long a line appended to a watched session takes
//! to reach a live `search` subscription (append → `changes` holding the hit).
//!
//! Both talk to a real `tinyvex serve` process through [`crate::latency_client`].

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::latency_client::{Client, ServerProcess};
use crate::latency_report::Stats;
use crate::search_queries::BenchQuery;

/// How long the server may take to print its JSON line.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long one probe line may take to reach the subscription before it counts as lost.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The Codex session the live phase appends to.
const SESSION: &str = "5e4c7b20-9a1d-4f3e-8c00-5ea4c0b00001";

/// Per-query results of the latency phase.
#[derive(Debug, Clone)]
pub struct QueryTiming {
    /// The query.
    pub query: BenchQuery,
    /// Round trips of the measured repetitions.
    pub times: Vec<Duration>,
    /// Hits returned (the same every repetition; the limit caps it).
    pub hits: usize,
}

/// Starts `tinyvex serve` on `store` with an empty HOME (no sources, so no ingest work) and
/// times `search` for every query: one warm-up pass, then `repeat` passes over the whole set
/// (round robin, so no query is measured twice in a row).
pub fn query_latency(
    rt: &tokio::runtime::Runtime,
    tinyvex: &Path,
    store: &Path,
    scratch: &Path,
    queries: &[BenchQuery],
    repeat: usize,
    limit: usize,
) -> Result<Vec<QueryTiming>> {
    let home = scratch.join("empty-home");
    std::fs::create_dir_all(&home)?;
    let mut server = ServerProcess::spawn(tinyvex, &home, store, "127.0.0.1:0", scratch)?;
    let ready = server.wait_ready(START_TIMEOUT)?;
    let result = rt.block_on(async {
        let mut c = Client::connect(ready.addr, &ready.token).await?;
        let mut out: Vec<QueryTiming> = queries
            .iter()
            .map(|q| QueryTiming {
                query: q.clone(),
                times: Vec::new(),
                hits: 0,
            })
            .collect();
        for pass in 0..=repeat {
            for t in out.iter_mut() {
                let params = json!({"query": t.query.text, "limit": limit});
                let t0 = Instant::now();
                let r = c.call("search", params).await?;
                let dt = t0.elapsed();
                let Some(hits) = r["result"]["hits"].as_array() else {
                    bail!("search `{}` failed: {r}", t.query.text);
                };
                t.hits = hits.len();
                if pass > 0 {
                    t.times.push(dt);
                }
            }
        }
        anyhow::Ok(out)
    });
    let stderr = server.stderr_tail();
    server.stop(Duration::from_secs(30))?;
    result.with_context(|| format!("search over WebSocket{stderr}"))
}

/// Stats of the query timings overall, per class and per frequency band of one-word queries.
pub fn latency_json(timings: &[QueryTiming]) -> Value {
    let all: Vec<Duration> = timings.iter().flat_map(|t| t.times.clone()).collect();
    let mut groups: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    let mut hits: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for t in timings {
        let mut keys = vec![t.query.class.to_string()];
        if !t.query.band.is_empty() {
            keys.push(format!("{} ({})", t.query.class, t.query.band));
        }
        for k in keys {
            groups
                .entry(k.clone())
                .or_default()
                .extend(t.times.iter().copied());
            hits.entry(k).or_default().push(t.hits);
        }
    }
    let classes: Vec<Value> = groups
        .iter()
        .map(|(k, d)| {
            let h = &hits[k];
            json!({"class": k, "queries": h.len(), "latency": Stats::of(d).to_json(),
                   "zero_hit_queries": h.iter().filter(|&&n| n == 0).count(),
                   "mean_hits": h.iter().sum::<usize>() as f64 / h.len().max(1) as f64})
        })
        .collect();
    json!({"overall": Stats::of(&all).to_json(), "classes": classes})
}

/// A Codex `user_message` line.
fn user_line(text: &str) -> String {
    let v = json!({"timestamp": "2026-01-01T00:00:01.000Z", "type": "event_msg",
        "payload": {"type": "user_message", "message": text}});
    format!("{v}\n")
}

/// Writes `$home/.codex/sessions/2026/01/01/rollout-…-SESSION.jsonl` (header and one message).
fn write_session(home: &Path) -> Result<std::path::PathBuf> {
    let dir = home.join(".codex/sessions/2026/01/01");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("rollout-2026-01-01T00-00-00-{SESSION}.jsonl"));
    let meta = json!({"timestamp": "2026-01-01T00:00:00.000Z", "type": "session_meta",
        "payload": {"id": SESSION, "timestamp": "2026-01-01T00:00:00.000Z", "cwd": "/w/live",
                    "originator": "bench", "cli_version": "0.1"}});
    std::fs::write(&path, format!("{meta}\n{}", user_line("live search seed")))?;
    Ok(path)
}

/// The sample numbers `sampleN` found in the snippets of a `changes` notification.
pub fn samples_in(params: &Value) -> Vec<usize> {
    params["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["snippet"].as_str())
        .flat_map(|s| {
            s.split(|c: char| !c.is_ascii_alphanumeric())
                .filter_map(|w| w.strip_prefix("sample")?.parse().ok())
                .collect::<Vec<usize>>()
        })
        .collect()
}

/// A word no corpus holds, different on every run (so a reused store has no old hits).
pub fn probe_word() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!(
        "tvxprobe{:x}",
        (nanos as u64) ^ u64::from(std::process::id())
    )
}

/// Starts `tinyvex serve` on `store` with a HOME holding one live Codex session, subscribes
/// to a live search for a unique word, and appends `warmup + samples` lines holding it, one
/// `write(2)` each, waiting for each hit before the next (then `interval`). Returns the
/// append → `changes` latencies of the measured samples and how many were lost.
#[allow(clippy::too_many_arguments)]
pub fn searchable_latency(
    rt: &tokio::runtime::Runtime,
    tinyvex: &Path,
    store: &Path,
    scratch: &Path,
    warmup: usize,
    samples: usize,
    interval: Duration,
) -> Result<Value> {
    let home = scratch.join("live-home");
    let file = write_session(&home)?;
    let mut server = ServerProcess::spawn(tinyvex, &home, store, "127.0.0.1:0", scratch)?;
    let started = Instant::now();
    let ready = server.wait_ready(START_TIMEOUT)?;
    let ready_after = started.elapsed();
    let word = probe_word();
    let result = rt.block_on(async {
        let mut c = Client::connect(ready.addr, &ready.token).await?;
        let q = json!({"query": {"type": "search", "query": word, "limit": 20}});
        let r = c.call("subscribe", q).await?;
        if r.get("result").is_none() {
            bail!("subscribe failed: {r}");
        }
        let mut f = std::fs::OpenOptions::new().append(true).open(&file)?;
        let mut lat = Vec::new();
        let mut lost = Vec::new();
        for i in 0..warmup + samples {
            let line = user_line(&format!("is this searchable {word} sample{i} yet"));
            let t0 = Instant::now();
            f.write_all(line.as_bytes())?;
            let deadline = tokio::time::Instant::now() + DELIVERY_TIMEOUT;
            let seen = loop {
                match tokio::time::timeout_at(deadline, c.recv()).await {
                    Ok(Ok(Some((at, msg)))) => {
                        if msg.get("error").is_some() {
                            bail!("error from the server: {msg}");
                        }
                        if msg["method"] == "changes" && samples_in(&msg["params"]).contains(&i) {
                            break Some(at.saturating_duration_since(t0));
                        }
                    }
                    Ok(Ok(None)) => bail!("the server closed the socket"),
                    Ok(Err(e)) => return Err(e),
                    Err(_) => break None,
                }
            };
            match (seen, i >= warmup) {
                (Some(d), true) => lat.push(d),
                (None, true) => lost.push(i - warmup),
                _ => {}
            }
            tokio::time::sleep(interval).await;
        }
        anyhow::Ok((lat, lost))
    });
    let stderr = server.stderr_tail();
    let status = server.stop(Duration::from_secs(30))?;
    let (lat, lost) = result.with_context(|| format!("live search{stderr}"))?;
    Ok(json!({
        "store": store, "word": word, "warmup": warmup, "samples": samples,
        "received": lat.len(), "lost": lost,
        "latency": Stats::of(&lat).to_json(),
        "server_ready_s": ready_after.as_secs_f64(),
        "server_exit": status.map(|s| s.to_string()).unwrap_or_else(|| "killed".into()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_numbers_come_from_snippets() {
        let p = json!({"hits": [{"snippet": "is this searchable tvxprobe1 sample7 yet"},
                                {"snippet": "…sample12"}, {"kind": "user"}]});
        assert_eq!(samples_in(&p), vec![7, 12]);
        assert!(samples_in(&json!({})).is_empty());
    }

    #[test]
    fn probe_words_are_one_token() {
        let w = probe_word();
        assert!(w.starts_with("tvxprobe"));
        assert!(w.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
