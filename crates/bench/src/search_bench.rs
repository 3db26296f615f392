//! `tinyvex-bench search`: what full-text search costs and how fast it answers.
//!
//! 1. Index cost on ingest: `tinyvex ingest` of the same corpus into a fresh store with the
//!    binary under test and (optionally) a baseline, alternating, `--ingest-runs` each;
//!    throughput, store size and the index's size. The baseline is the binary under test run
//!    with `--no-search-index` (`--baseline-no-index`), or a build from before search existed.
//! 2. Query latency: `tinyvex serve` on the last store (empty HOME: no ingest work), the round
//!    trip of the `search` method over one warm WebSocket for a query set drawn from the
//!    store ([`crate::search_queries`]); and the whole `tinyvex search --json` process.
//! 3. Searchable latency: append → `changes` of a live search subscription, on a small fresh
//!    store and on the big one ([`crate::search_live`]).
//!
//! Same environment as `tinyvex-bench ingest`: HOME is an empty temp dir, CODEX_HOME the corpus.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::claude::Agent;
use crate::latency_report::Stats;
use crate::measure::{self, RssMethod};
use crate::runner::{corpus_size, count_items, db_bytes, median, sum_field, ENV_REMOVE};
use crate::search_live::{latency_json, query_latency, searchable_latency};
use crate::search_queries::{count_matches, have_sqlite3, table_sizes, Vocabulary};

/// Bytes of the files in `dir` (0 when missing).
fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}
use crate::search_report;

/// Options of `tinyvex-bench search`.
#[derive(Debug, Clone, clap::Args)]
pub struct SearchOptions {
    /// The tinyvex binary with search (build it with --release)
    #[arg(long, value_name = "PATH")]
    pub tinyvex: PathBuf,
    /// A tinyvex built from before search landed, for the ingest comparison
    #[arg(long, value_name = "PATH", conflicts_with = "baseline_no_index")]
    pub baseline_tinyvex: Option<PathBuf>,
    /// Compare the ingest with the binary under test run with `--no-search-index`: the
    /// same code, nothing indexed (what the ingest target means by "without search")
    #[arg(long)]
    pub baseline_no_index: bool,
    /// A Codex corpus (a CODEX_HOME with sessions/, from `tinyvex-bench gen`)
    #[arg(long, value_name = "DIR")]
    pub corpus: PathBuf,
    /// Write results.json and README.md into this directory (default: print only)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Ingest runs per binary (they alternate: baseline, search, baseline, ...)
    #[arg(long, default_value_t = 2)]
    pub ingest_runs: usize,
    /// Skip the ingest phase and measure queries on this store (made by `tinyvex ingest` of
    /// --corpus with the binary under test); it is modified by the live phase
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Measured passes over the query set (after one warm-up pass)
    #[arg(long, default_value_t = 10)]
    pub repeat: usize,
    /// `limit` of every search
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Measured appends of the live phase, per store (after 5 warm-up appends)
    #[arg(long, default_value_t = 50)]
    pub live_samples: usize,
    /// Pause between live samples, in milliseconds
    #[arg(long, default_value_t = 20)]
    pub interval_ms: u64,
    /// Seed of the query set
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where temporary stores go [default: the system temp dir]
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Keep the store of the last ingest (its path is printed)
    #[arg(long)]
    pub keep: bool,
}

/// Warm-up appends of the live phase.
const LIVE_WARMUP: usize = 5;
/// Queries of the whole-process CLI timing, and runs of each.
const CLI_QUERIES: usize = 5;
const CLI_RUNS: usize = 3;

fn log(msg: &str) {
    eprintln!("{msg}");
}

/// The 1-minute load average (other work on the machine skews every figure).
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU time the hypervisor gave to other guests (`steal` in `/proc/stat`,
/// in USER_HZ ticks of 1/100 s), summed over the cores. On a shared VM it
/// takes cores from a CPU-bound run and says why two runs of the same
/// binary differ.
fn steal_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: u64 = stat
        .lines()
        .next()?
        .split_whitespace()
        .nth(8)?
        .parse()
        .ok()?;
    Some(ticks as f64 / 100.0)
}

/// The baseline of the ingest comparison: a binary and the arguments its
/// `ingest` gets after `--json`.
fn baseline(o: &SearchOptions) -> Option<(PathBuf, &'static [&'static str])> {
    if o.baseline_no_index {
        Some((o.tinyvex.clone(), &["--no-search-index"]))
    } else {
        o.baseline_tinyvex.clone().map(|b| (b, &[][..]))
    }
}

/// Runs `tinyvex --db DB args…` with HOME=home and CODEX_HOME=codex_home.
fn tinyvex(
    bin: &Path,
    db: &Path,
    home: &Path,
    codex_home: &Path,
    args: &[&str],
    scratch: &Path,
) -> Result<measure::Measured> {
    let db_s = db.to_string_lossy().into_owned();
    let mut all = vec!["--db", db_s.as_str()];
    all.extend_from_slice(args);
    let env = [("HOME", home), ("CODEX_HOME", codex_home)];
    let m = measure::run(&RssMethod::detect(), bin, &all, &env, ENV_REMOVE, scratch)?;
    if !m.status.success() {
        bail!(
            "`{} {}` failed ({}): {}",
            bin.display(),
            all.join(" "),
            m.status,
            m.stderr.trim()
        );
    }
    Ok(m)
}

/// One full ingest into a fresh store under `dir`; returns its figures and the store path.
fn ingest_once(
    bin: &Path,
    extra: &[&str],
    label: &str,
    corpus: &Path,
    corpus_bytes: u64,
    dir: &Path,
) -> Result<(Value, PathBuf)> {
    let home = dir.join("home");
    std::fs::create_dir_all(&home)?;
    let db = dir.join("data.sqlite3");
    let load = load_average();
    let steal_before = steal_s();
    let mut args = vec!["ingest", "--json"];
    args.extend_from_slice(extra);
    let m = tinyvex(bin, &db, &home, corpus, &args, dir)?;
    let steal = steal_s()
        .zip(steal_before)
        .map(|(after, before)| after - before);
    let status = tinyvex(bin, &db, &home, corpus, &["status", "--json"], dir)?;
    let status: Value = serde_json::from_str(status.stdout.trim()).unwrap_or(Value::Null);
    let items = count_items(&status);
    let wall = m.wall.as_secs_f64();
    // `tinyvex ingest` reports when everything was stored; with search it
    // then waits for the index to catch up, which the wall time includes.
    let stored_s = serde_json::from_str::<Value>(m.stdout.trim())
        .ok()
        .and_then(|v| v["elapsed_ms"].as_f64())
        .map(|ms| ms / 1000.0);
    let sizes = table_sizes(&db);
    // The search index: tantivy's folder beside the store (an older build's FTS5 tables).
    let mut index_dir = db.as_os_str().to_owned();
    index_dir.push("-search");
    let fts_bytes = sizes
        .as_ref()
        .map(|s| {
            s.iter()
                .filter(|(n, _)| n.starts_with("items_fts"))
                .map(|(_, b)| b)
                .sum::<u64>()
        })
        .map(|b| b + dir_size(Path::new(&index_dir)));
    let v = json!({
        "binary": label, "wall_s": wall, "stored_s": stored_s,
        "mb_per_s": corpus_bytes as f64 / 1e6 / wall.max(1e-9),
        "items": items, "items_per_s": items.map(|n| n as f64 / wall.max(1e-9)),
        "errors": sum_field(&status, "errors"),
        "db_bytes": db_bytes(&db), "fts_bytes": fts_bytes,
        "tables": sizes.map(|s| s.into_iter().take(12).map(|(n, b)| json!({"name": n, "bytes": b})).collect::<Vec<_>>()),
        "max_rss_kib": m.max_rss_kib, "user_s": m.user_s, "sys_s": m.sys_s,
        "load_average_before": load, "steal_s": steal,
    });
    Ok((v, db))
}

/// Phase 1: alternating ingests; returns the figures and the last store of the binary
/// under test (kept for the next phases; the directory holding it is returned too).
fn ingest_phase(o: &SearchOptions, corpus_bytes: u64, work: &Path) -> Result<(Value, PathBuf)> {
    let mut bins = Vec::new();
    if let Some((b, extra)) = baseline(o) {
        bins.push(("baseline", b, extra));
    }
    bins.push(("search", o.tinyvex.clone(), &[][..]));
    let mut runs = Vec::new();
    let mut last_store = None;
    for r in 0..o.ingest_runs.max(1) {
        for (label, bin, extra) in &bins {
            log(&format!(
                "ingest {}/{} with {label}…",
                r + 1,
                o.ingest_runs.max(1)
            ));
            let dir = work.join(format!("ingest-{label}-{r}"));
            std::fs::create_dir_all(&dir)?;
            let (v, db) = ingest_once(bin, extra, label, &o.corpus, corpus_bytes, &dir)?;
            log(&format!(
                "  {:.1} s, {:.1} MB/s, {} items",
                v["wall_s"].as_f64().unwrap_or(0.0),
                v["mb_per_s"].as_f64().unwrap_or(0.0),
                v["items"]
            ));
            runs.push(v);
            if *label == "search" {
                if let Some(prev) = last_store.replace(db) {
                    std::fs::remove_dir_all(Path::new(&prev).parent().unwrap_or(work))?;
                }
            } else {
                std::fs::remove_dir_all(&dir)?;
            }
        }
    }
    let med = |label: &str, key: &str| {
        median(
            &runs
                .iter()
                .filter(|r| r["binary"] == label)
                .filter_map(|r| r[key].as_f64())
                .collect::<Vec<_>>(),
        )
    };
    let summary = |label: &str| {
        json!({"mb_per_s_median": med(label, "mb_per_s"), "items_per_s_median": med(label, "items_per_s"),
               "wall_s_median": med(label, "wall_s"), "stored_s_median": med(label, "stored_s"),
               "db_bytes": med(label, "db_bytes"),
               "fts_bytes": med(label, "fts_bytes")})
    };
    let search = summary("search");
    let baseline = baseline(o).map(|_| summary("baseline"));
    let ratio = baseline.as_ref().map(|b| {
        search["mb_per_s_median"].as_f64().unwrap_or(f64::NAN)
            / b["mb_per_s_median"].as_f64().unwrap_or(f64::NAN)
    });
    // Stored (not yet all searchable) with search on, against the
    // baseline's whole ingest: what indexing costs the ingest itself.
    let stored_ratio = baseline.as_ref().map(|b| {
        b["wall_s_median"].as_f64().unwrap_or(f64::NAN)
            / search["stored_s_median"].as_f64().unwrap_or(f64::NAN)
    });
    let store = last_store.context("no ingest ran")?;
    Ok((
        json!({"runs": runs, "search": search, "baseline": baseline,
               "throughput_ratio": ratio, "stored_ratio": stored_ratio, "target_ratio": 0.7,
               "met": ratio.map(|r| r >= 0.7)}),
        store,
    ))
}

/// `tinyvex search --json` as a whole process, `CLI_RUNS` times per query after one
/// unrecorded run; the median per query and over all runs.
fn cli_phase(o: &SearchOptions, store: &Path, work: &Path, queries: &[String]) -> Result<Value> {
    let home = work.join("cli-home");
    std::fs::create_dir_all(&home)?;
    let limit = o.limit.to_string();
    let mut per = Vec::new();
    let mut all = Vec::new();
    for q in queries {
        let args = ["search", "--json", "-n", limit.as_str(), q.as_str()];
        tinyvex(&o.tinyvex, store, &home, &home, &args, work)?;
        let mut walls = Vec::new();
        let mut hits = 0;
        for _ in 0..CLI_RUNS {
            let m = tinyvex(&o.tinyvex, store, &home, &home, &args, work)?;
            hits = serde_json::from_str::<Value>(m.stdout.trim())
                .ok()
                .and_then(|v| v.as_array().map(|a| a.len()))
                .unwrap_or(0);
            walls.push(m.wall);
        }
        all.extend(walls.iter().copied());
        per.push(json!({"query": q, "hits": hits, "wall": Stats::of(&walls).to_json()}));
    }
    Ok(json!({"runs_per_query": CLI_RUNS, "queries": per, "overall": Stats::of(&all).to_json()}))
}

/// Runs the benchmark; prints (and with --out saves) the results. False when a target is
/// missed or a live sample was lost.
pub fn run(o: SearchOptions) -> Result<bool> {
    let canon = |p: &Path| {
        p.canonicalize()
            .with_context(|| format!("no such file: {}", p.display()))
    };
    let o = SearchOptions {
        tinyvex: canon(&o.tinyvex)?,
        baseline_tinyvex: o.baseline_tinyvex.as_deref().map(canon).transpose()?,
        corpus: canon(&o.corpus)?,
        store: o.store.as_deref().map(canon).transpose()?,
        ..o
    };
    if !have_sqlite3() {
        bail!(
            "the sqlite3 shell is needed to read the store's vocabulary (apt-get install sqlite3)"
        );
    }
    let (files, corpus_bytes) = corpus_size(&o.corpus, Agent::Codex)?;
    let files = files.len();
    if files == 0 {
        bail!("no rollouts under {}/sessions", o.corpus.display());
    }
    let work = match &o.work_dir {
        Some(d) => tempfile::Builder::new()
            .prefix("tinyvex-search-")
            .tempdir_in(d)?,
        None => tempfile::Builder::new()
            .prefix("tinyvex-search-")
            .tempdir()?,
    };
    let version = |b: &Path| {
        std::process::Command::new(b)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let (ingest, store) = match &o.store {
        Some(s) => (Value::Null, s.clone()),
        None => {
            log(&format!(
                "reading the corpus once ({files} files) so every ingest finds it cached"
            ));
            for f in crate::corpus::list_rollouts(&o.corpus.join("sessions"))? {
                std::io::copy(&mut std::fs::File::open(f)?, &mut std::io::sink())?;
            }
            ingest_phase(&o, corpus_bytes, work.path())?
        }
    };

    log("reading the vocabulary and sampling items…");
    let vocab = Vocabulary::read(&store)?;
    let queries = vocab.queries(o.seed)?;
    log(&format!(
        "{} items, {} terms; {} queries; {} passes after a warm-up pass…",
        vocab.items,
        vocab.docs.len(),
        queries.len(),
        o.repeat
    ));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let load_q = load_average();
    let timings = query_latency(
        &rt,
        &o.tinyvex,
        &store,
        work.path(),
        &queries,
        o.repeat,
        o.limit,
    )?;
    let mut per_query: Vec<Value> = Vec::new();
    for t in &timings {
        let mut v = t.query.to_json();
        v["hits"] = json!(t.hits);
        v["fts_matches"] = json!(count_matches(&store, &t.query.fts));
        v["latency"] = Stats::of(&t.times).to_json();
        per_query.push(v);
    }
    let mut latency = latency_json(&timings);
    latency["load_average_before"] = json!(load_q);
    latency["queries"] = json!(per_query);

    // Five queries of different shapes for the whole-process figure.
    let cli_q: Vec<String> = ["1 word", "2 words", "filtered", "prefix", "phrase"]
        .iter()
        .filter_map(|c| queries.iter().find(|q| q.class == *c))
        .map(|q| q.text.clone())
        .take(CLI_QUERIES)
        .collect();
    log("timing the tinyvex search CLI…");
    let cli = cli_phase(&o, &store, work.path(), &cli_q)?;

    log("live search on a small fresh store…");
    let interval = Duration::from_millis(o.interval_ms);
    let small_dir = work.path().join("live-small");
    std::fs::create_dir_all(&small_dir)?;
    let small_store = small_dir.join("data.sqlite3");
    let live_small = searchable_latency(
        &rt,
        &o.tinyvex,
        &small_store,
        &small_dir,
        LIVE_WARMUP,
        o.live_samples,
        interval,
    )?;
    log("live search on the big store…");
    let big_dir = work.path().join("live-big");
    std::fs::create_dir_all(&big_dir)?;
    let live_big = searchable_latency(
        &rt,
        &o.tinyvex,
        &store,
        &big_dir,
        LIVE_WARMUP,
        o.live_samples,
        interval,
    )?;

    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let results = json!({
        "bench": {"version": env!("CARGO_PKG_VERSION"), "kind": "search",
                  "date": crate::clock::date(now_ms), "repeat": o.repeat, "limit": o.limit,
                  "live_samples": o.live_samples, "live_warmup": LIVE_WARMUP,
                  "interval_ms": o.interval_ms, "seed": o.seed},
        "tinyvex": {"path": o.tinyvex, "version": version(&o.tinyvex)},
        "baseline": baseline(&o).map(|(b, extra)| json!({"path": b, "version": version(&b), "ingest_args": extra})),
        "machine": crate::report::machine_info(),
        "corpus": {"dir": o.corpus, "files": files, "bytes": corpus_bytes},
        "store": {"path": store, "items": vocab.items, "terms_3_to_20_letters": vocab.docs.len(),
                  "bytes_before_live_phase": db_bytes(&store)},
        "ingest": ingest,
        "query_latency": latency,
        "cli": cli,
        "searchable": {"small": live_small, "big": live_big},
    });
    let (summary, ok) = search_report::table(&results);
    print!("{summary}");
    if let Some(dir) = &o.out {
        search_report::save(
            dir,
            &results,
            &summary,
            &std::env::args().collect::<Vec<_>>(),
        )?;
        log(&format!("results written to {}", dir.display()));
    }
    if o.keep && o.store.is_none() {
        let kept = work.keep();
        log(&format!(
            "work dir kept at {}; the store is {}",
            kept.display(),
            store.display()
        ));
    }
    Ok(ok)
}
