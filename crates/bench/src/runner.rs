//! `tinyvex-bench ingest`: whole-process timings of `tinyvex ingest` on a corpus.
//!
//! Phases: a full ingest into an empty store; re-ingests with nothing new; catch-up ingests
//! after appending a few hundred lines to a few files. Each `tinyvex` runs with
//! `CODEX_HOME=<corpus>` (Claude corpora: `CLAUDE_CONFIG_DIR=<corpus>` and an empty `CODEX_HOME`)
//! and `HOME=<empty dir>` so it sees the corpus and nothing else.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::append::{append, AppendOptions};
use crate::claude::{self, Agent};
use crate::corpus::list_rollouts;
use crate::measure::{self, Measured, RssMethod};
use crate::report;
use crate::size::format_bytes;

/// Options of `tinyvex-bench ingest`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunOptions {
    /// The tinyvex binary to measure (build it with --release)
    #[arg(long, value_name = "PATH")]
    pub tinyvex: PathBuf,
    /// The corpus: a CODEX_HOME with sessions/ or a Claude config dir with projects/ (from
    /// `tinyvex-bench gen`). The catch-up phase appends to it
    #[arg(long, value_name = "DIR")]
    pub corpus: PathBuf,
    /// Corpus kind; a Claude corpus runs tinyvex with CLAUDE_CONFIG_DIR=<corpus> and an empty
    /// CODEX_HOME [default: detected from the layout]
    #[arg(long, value_enum)]
    pub agent: Option<Agent>,
    /// Print one JSON object on stdout instead of the summary
    #[arg(long)]
    pub json: bool,
    /// Label of the run folder RUNS_DIR/DATE-LABEL/
    #[arg(long, default_value = "local")]
    pub label: String,
    /// Where run folders are written
    #[arg(long, value_name = "DIR", default_value = report::DEFAULT_RUNS_DIR)]
    pub runs_dir: PathBuf,
    /// Do not write a run folder
    #[arg(long)]
    pub no_save: bool,
    /// Runs of the unchanged and of the catch-up phase (medians are reported)
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Files appended to before each catch-up run
    #[arg(long, default_value_t = 5)]
    pub append_files: usize,
    /// Lines appended to each of those files
    #[arg(long, default_value_t = 250)]
    pub append_lines: usize,
    /// Seed for the appended lines
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where the temporary store and empty HOME go [default: the system temp dir]
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Keep the temporary store afterwards (its path is printed)
    #[arg(long)]
    pub keep: bool,
    /// Do not read the corpus once before timing (then the full ingest may include disk reads)
    #[arg(long)]
    pub no_prewarm: bool,
    /// Catch-up target in milliseconds (reported as met or not)
    #[arg(long, default_value_t = 50)]
    pub catch_up_target_ms: u64,
}

/// Variables that could point tinyvex at other data: removed from its environment.
pub(crate) const ENV_REMOVE: &[&str] = &[
    "TINYVEX_DB",
    "CODEXD_HISTORY_DIR",
    "XDG_DATA_HOME",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "XDG_CACHE_HOME",
    "RUST_LOG",
    "CLAUDE_CONFIG_DIR",
    "GEMINI_CLI_HOME",
    "OPENCODE_DATA_DIR",
];

struct Ctx {
    opts: RunOptions,
    agent: Agent,
    /// An empty directory for the other agent's variable.
    empty: PathBuf,
    method: RssMethod,
    home: PathBuf,
    db: PathBuf,
    scratch: PathBuf,
}

impl Ctx {
    fn tinyvex(&self, args: &[&str]) -> Result<Measured> {
        let db = self.db.to_string_lossy().into_owned();
        let mut all = vec!["--db", db.as_str()];
        all.extend_from_slice(args);
        let env: Vec<(&str, &Path)> = match self.agent {
            Agent::Codex => vec![("CODEX_HOME", &self.opts.corpus), ("HOME", &self.home)],
            Agent::Claude => vec![
                ("CLAUDE_CONFIG_DIR", &self.opts.corpus),
                ("CODEX_HOME", &self.empty),
                ("HOME", &self.home),
            ],
        };
        let m = measure::run(
            &self.method,
            &self.opts.tinyvex,
            &all,
            &env,
            ENV_REMOVE,
            &self.scratch,
        )?;
        if !m.status.success() {
            bail!(
                "`tinyvex {}` failed ({}):\n{}{}",
                all.join(" "),
                m.status,
                tail(&m.stderr, 3000),
                tail(&m.stdout, 1000)
            );
        }
        Ok(m)
    }

    fn ingest(&self) -> Result<Measured> {
        self.tinyvex(&["ingest", "--json"])
    }

    /// `(items, raw status JSON)`.
    fn status(&self) -> Result<(Option<u64>, Value)> {
        let m = self.tinyvex(&["status", "--json"])?;
        let v = parse_json(&m.stdout);
        Ok((count_items(&v), v))
    }
}

fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Parses a command's stdout as JSON; non-JSON output is kept as a string.
fn parse_json(s: &str) -> Value {
    serde_json::from_str(s.trim()).unwrap_or_else(|_| Value::String(s.trim().to_string()))
}

/// Total `items` in a `status --json` answer, whatever its exact shape: an array of
/// per-provider objects, an object keyed by provider, or an object with a list inside.
pub fn count_items(v: &Value) -> Option<u64> {
    sum_field(v, "items")
}

/// Sum of the numeric `key` members found in `v` (not looking inside objects that have one).
pub fn sum_field(v: &Value, key: &str) -> Option<u64> {
    let sum = |it: &mut dyn Iterator<Item = &Value>| {
        it.filter_map(|x| sum_field(x, key))
            .fold(None, |acc: Option<u64>, n| Some(acc.unwrap_or(0) + n))
    };
    match v {
        Value::Array(a) => sum(&mut a.iter()),
        Value::Object(o) => match o.get(key) {
            Some(Value::Number(n)) => n.as_u64(),
            _ => sum(&mut o.values().filter(|x| x.is_object() || x.is_array())),
        },
        _ => None,
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

pub(crate) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        0.0
    } else {
        s[s.len() / 2]
    }
}

fn measured_json(m: &Measured) -> Value {
    json!({
        "wall_s": secs(m.wall), "max_rss_kib": m.max_rss_kib, "user_s": m.user_s, "sys_s": m.sys_s,
        "summary": parse_json(&m.stdout),
    })
}

/// Bytes of a SQLite database with its WAL and shared-memory files.
pub(crate) fn db_bytes(db: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", db.display())).ok())
        .map(|m| m.len())
        .sum()
}

/// Files and bytes of every rollout (or Claude transcript) the corpus holds.
pub(crate) fn corpus_size(corpus: &Path, agent: Agent) -> Result<(Vec<PathBuf>, u64)> {
    let mut files = match agent {
        Agent::Codex => list_rollouts(&corpus.join("sessions"))?,
        Agent::Claude => claude::list_jsonl(&corpus.join("projects"))?,
    };
    let archived = corpus.join("archived_sessions");
    if agent == Agent::Codex && archived.is_dir() {
        files.extend(list_rollouts(&archived)?);
    }
    let mut bytes = 0;
    for f in &files {
        bytes += std::fs::metadata(f)?.len();
    }
    Ok((files, bytes))
}

fn log(opts: &RunOptions, msg: &str) {
    if !opts.json {
        eprintln!("{msg}");
    }
}

/// Runs the benchmark and prints/saves the results.
pub fn run(opts: RunOptions) -> Result<()> {
    let tinyvex = opts
        .tinyvex
        .canonicalize()
        .with_context(|| format!("no tinyvex binary at {}", opts.tinyvex.display()))?;
    let corpus = opts
        .corpus
        .canonicalize()
        .with_context(|| format!("no corpus at {}", opts.corpus.display()))?;
    let opts = RunOptions {
        tinyvex,
        corpus,
        ..opts
    };
    let agent = Agent::detect(opts.agent, &opts.corpus);
    let (files, corpus_bytes) = corpus_size(&opts.corpus, agent)?;
    if files.is_empty() {
        bail!(
            "no {} files under {} (make one with `tinyvex-bench gen`)",
            if agent == Agent::Claude {
                "Claude transcript"
            } else {
                "rollout"
            },
            opts.corpus.display()
        );
    }
    let work = match &opts.work_dir {
        Some(d) => tempfile::Builder::new()
            .prefix("tinyvex-bench-")
            .tempdir_in(d)?,
        None => tempfile::Builder::new()
            .prefix("tinyvex-bench-")
            .tempdir()?,
    };
    let home = work.path().join("home");
    std::fs::create_dir_all(&home)?;
    let empty = work.path().join("empty-agent-home");
    std::fs::create_dir_all(&empty)?;
    let method = RssMethod::detect();
    if matches!(method, RssMethod::ProcPoll) {
        log(&opts, "note: GNU time not found at /usr/bin/time (apt-get install time); peak RSS is polled from /proc (lower bound)");
    }
    let ctx = Ctx {
        agent,
        empty,
        method,
        home,
        db: work.path().join("data.sqlite3"),
        scratch: work.path().to_path_buf(),
        opts: opts.clone(),
    };
    let version = measure::run(
        &ctx.method,
        &opts.tinyvex,
        &["--version"],
        &[],
        &[],
        &ctx.scratch,
    )
    .map(|m| m.stdout.trim().to_string())
    .unwrap_or_default();
    // The floor of any whole-process figure: start, print the version, exit.
    let mut startup = Vec::new();
    for _ in 0..5 {
        startup.push(secs(
            measure::run(
                &ctx.method,
                &opts.tinyvex,
                &["--version"],
                &[],
                &[],
                &ctx.scratch,
            )?
            .wall,
        ));
    }

    if !opts.no_prewarm {
        log(
            &opts,
            &format!(
                "reading the corpus once ({} in {} files) so every phase starts with it cached",
                format_bytes(corpus_bytes),
                files.len()
            ),
        );
        for f in &files {
            std::io::copy(&mut std::fs::File::open(f)?, &mut std::io::sink())?;
        }
    }

    log(&opts, "full ingest…");
    let full = ctx.ingest()?;
    let (items, status_full) = ctx.status()?;
    let full_db = db_bytes(&ctx.db);
    let full_s = secs(full.wall);

    let mut unchanged = Vec::new();
    for i in 0..opts.repeat.max(1) {
        log(
            &opts,
            &format!("unchanged ingest {}/{}…", i + 1, opts.repeat.max(1)),
        );
        unchanged.push(ctx.ingest()?);
    }
    let (items_after_unchanged, _) = ctx.status()?;

    let mut catch_up = Vec::new();
    let mut items_prev = items_after_unchanged;
    for i in 0..opts.repeat.max(1) {
        let o = AppendOptions {
            dir: opts.corpus.clone(),
            files: opts.append_files,
            lines: opts.append_lines,
            seed: opts.seed.wrapping_add(i as u64),
        };
        let a = match agent {
            Agent::Codex => append(&o)?,
            Agent::Claude => claude::append(&o)?,
        };
        log(
            &opts,
            &format!(
                "catch-up ingest {}/{} after appending {}…",
                i + 1,
                opts.repeat.max(1),
                format_bytes(a.bytes)
            ),
        );
        let m = ctx.ingest()?;
        let (items_now, _) = ctx.status()?;
        let added = match (items_now, items_prev) {
            (Some(n), Some(p)) => Some(n as i64 - p as i64),
            _ => None,
        };
        items_prev = items_now;
        catch_up.push(json!({
            "appended_bytes": a.bytes, "appended_lines": a.lines, "files": a.files.len(),
            "items_added": added, "run": measured_json(&m),
        }));
    }
    let unchanged_walls: Vec<f64> = unchanged.iter().map(|m| secs(m.wall)).collect();
    let catch_walls: Vec<f64> = catch_up
        .iter()
        .filter_map(|c| c["run"]["wall_s"].as_f64())
        .collect();
    let catch_median = median(&catch_walls);
    let target_s = opts.catch_up_target_ms as f64 / 1000.0;

    let results = json!({
        "bench": {"version": env!("CARGO_PKG_VERSION"), "label": opts.label, "rss_method": ctx.method.describe(),
                   "prewarmed": !opts.no_prewarm, "repeat": opts.repeat.max(1)},
        "tinyvex": {"path": opts.tinyvex, "version": version},
        "machine": report::machine_info(),
        "corpus": {"dir": opts.corpus, "agent": format!("{agent:?}").to_lowercase(), "files": files.len(), "bytes": corpus_bytes},
        "startup": {"median_s": median(&startup), "runs": startup},
        "full": {
            "wall_s": full_s,
            "mb_per_s": corpus_bytes as f64 / 1e6 / full_s.max(1e-9),
            "items": items,
            "items_per_s": items.map(|n| n as f64 / full_s.max(1e-9)),
            "errors": sum_field(&status_full, "errors"),
            "db_bytes": full_db,
            "max_rss_kib": full.max_rss_kib, "user_s": full.user_s, "sys_s": full.sys_s,
            "summary": parse_json(&full.stdout),
            "status": status_full,
        },
        "unchanged": {
            "median_s": median(&unchanged_walls),
            "items_changed": items_after_unchanged != items,
            "runs": unchanged.iter().map(measured_json).collect::<Vec<_>>(),
        },
        "catch_up": {
            "median_s": catch_median,
            "target_s": target_s,
            "meets_target": catch_median < target_s,
            "runs": catch_up,
        },
    });
    let summary = report::human_summary(&results);
    if opts.json {
        println!("{results}");
    } else {
        print!("{summary}");
    }
    if !opts.no_save {
        let dir = report::save(
            &opts.runs_dir,
            &opts.label,
            &results,
            &summary,
            &std::env::args().collect::<Vec<_>>(),
        )?;
        log(&opts, &format!("results written to {}", dir.display()));
    }
    if opts.keep {
        let kept = work.keep();
        log(
            &opts,
            &format!("store kept at {}", kept.join("data.sqlite3").display()),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_items_in_any_shape() {
        let a = json!([{"provider": "codex", "items": 10, "files": 2}, {"provider": "claude", "items": 5}]);
        assert_eq!(count_items(&a), Some(15));
        let b = json!({"providers": [{"items": 3}], "revision": 7});
        assert_eq!(count_items(&b), Some(3));
        let c = json!({"codex": {"items": 4}, "gemini": {"items": 0}});
        assert_eq!(count_items(&c), Some(4));
        assert_eq!(count_items(&json!({"revision": 1})), None);
        assert_eq!(count_items(&json!("not json")), None);
    }
}
