//! `tinyvex-bench compare-search` (feature `compare-search`): SQLite FTS5 against tantivy on
//! the items of a real Tinyvex store, for `docs/search-engine-choice.md`.
//!
//! Reads only `items(rowid, thread, kind, ts, text, command, output)` and
//! `threads(rowid, provider)` of the store, so it works with or without the store's own FTS
//! migration. It copies those rows into a fresh SQLite file ([`fts`]) and builds the store's
//! FTS5 table there (by `'rebuild'` and row by row), builds a tantivy index of the same rows
//! ([`tant`]; bulk and commit-per-10k), then runs the [`queries`] set warm on both (latency),
//! compares their top 10 (overlap), runs a known-item test (recall@10) and shows how code
//! identifiers and paths behave. [`report`] prints the table and writes `results.json` and
//! `README.md`.

pub mod fts;
pub mod queries;
pub mod report;
pub mod tant;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};

use queries::{KnownItem, Query, Shape};

/// Options of `compare-search`.
#[derive(Debug, Args)]
pub struct CompareOptions {
    /// The Tinyvex store (`data.sqlite3`) to read items from
    #[arg(long)]
    pub store: PathBuf,
    /// Write `results.json` and `README.md` here
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where to build the indexes [default: a temporary directory, removed at the end]
    #[arg(long)]
    pub work: Option<PathBuf>,
    /// Index at most this many items (the first by rowid)
    #[arg(long)]
    pub limit: Option<u64>,
    /// Timed repetitions per query (after one warm-up run)
    #[arg(long, default_value_t = 20)]
    pub reps: usize,
    /// Known-item test size
    #[arg(long, default_value_t = 100)]
    pub known: usize,
    /// tantivy indexing threads
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// tantivy writer memory budget in MiB (all threads)
    #[arg(long, default_value_t = 256)]
    pub budget_mib: usize,
    /// Skip the live-ingestion builds (FTS5 row by row, tantivy commit per 10k)
    #[arg(long)]
    pub no_live: bool,
    /// Seed of the query and known-item selection
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Peak resident set size of this process (`VmHWM`), resettable through `clear_refs`.
pub mod rss {
    fn status(key: &str) -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with(key))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }

    /// Resets the peak to the current RSS; returns the current RSS in KiB.
    pub fn reset_peak() -> u64 {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        status("VmRSS:")
    }

    /// Peak RSS in KiB since the last reset.
    pub fn peak() -> u64 {
        status("VmHWM:")
    }
}

/// p50 and p99 (nearest rank) of `v` in microseconds.
pub fn percentiles(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    (at(0.50), at(0.99))
}

/// Times `f` `reps` times after one warm-up call; returns the samples in µs and the last result.
fn time<T>(reps: usize, mut f: impl FnMut() -> Result<T>) -> Result<(Vec<f64>, T)> {
    let mut last = f()?;
    let mut samples = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        last = f()?;
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    Ok((samples, last))
}

/// |A ∩ B| / max(|A|, |B|) over the first 10 of each (1 when both are empty).
fn overlap<T: PartialEq + Clone + Eq + std::hash::Hash>(a: &[T], b: &[T]) -> f64 {
    let (a, b) = (&a[..a.len().min(10)], &b[..b.len().min(10)]);
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let sa: HashSet<_> = a.iter().cloned().collect();
    let common = b
        .iter()
        .collect::<HashSet<_>>()
        .into_iter()
        .filter(|x| sa.contains(x))
        .count();
    common as f64 / a.len().max(b.len()) as f64
}

/// Runs the comparison and writes the report.
pub fn run(o: CompareOptions) -> Result<bool> {
    let tmp;
    let work = match &o.work {
        Some(w) => {
            std::fs::create_dir_all(w)?;
            w.clone()
        }
        None => {
            tmp = tempfile::Builder::new()
                .prefix("compare-search")
                .tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let live = !o.no_live;
    eprintln!("copying items and building FTS5 in {}", work.display());
    let (conn, fb) = fts::build(&o.store, &work.join("fts.sqlite3"), o.limit, live)?;
    eprintln!(
        "  {} items, {} MB text; rebuild {:.1}s; row-by-row {:?}s",
        fb.items,
        fb.text_bytes / 1_000_000,
        fb.rebuild_secs,
        fb.live_secs.map(|s| s.round())
    );
    let budget = o.budget_mib << 20;
    eprintln!("building tantivy (bulk)");
    let (tindex, tb) = tant::build(&conn, &work.join("tantivy"), o.threads, budget, None)?;
    eprintln!("  {:.1}s, {} segments", tb.secs, tb.segments);
    let tlive = if live {
        eprintln!("building tantivy (commit per 10k)");
        let dir = work.join("tantivy-live");
        let (_, b) = tant::build(&conn, &dir, o.threads, budget, Some(10_000))?;
        eprintln!("  {:.1}s, {} segments", b.secs, b.segments);
        std::fs::remove_dir_all(&dir)?;
        Some(b)
    } else {
        None
    };

    let (kinds, providers) = fts::kinds_providers(&conn)?;
    let mut vocab = queries::Vocab::open(&conn, "items_fts")?;
    let kind_names: Vec<String> = kinds.iter().map(|k| k.0.clone()).collect();
    let prov_names: Vec<String> = providers.iter().map(|k| k.0.clone()).collect();
    let qs = queries::query_set(&conn, &mut vocab, o.seed, &kind_names, &prov_names)?;
    let known = queries::known_items(&conn, &mut vocab, o.seed, o.known)?;
    let f = fts::Fts {
        conn: &conn,
        table: "items_fts",
    };
    let flive = fts::Fts {
        conn: &conn,
        table: "items_fts_live",
    };
    let t = tant::Tantivy::open(&tindex)?;

    eprintln!("timing {} queries x {} reps", qs.len(), o.reps);
    let mut rows = Vec::new();
    let (mut all_f, mut all_t, mut all_fl) = (Vec::new(), Vec::new(), Vec::new());
    for q in &qs {
        let (mut sf, rf) = time(o.reps, || f.search(q, 20))?;
        let (mut st, rt) = time(o.reps, || t.search(q, 20))?;
        if live {
            let (sl, _) = time(o.reps.min(5), || flive.search(q, 20))?;
            all_fl.extend(sl);
        }
        all_f.extend(&sf);
        all_t.extend(&st);
        let (cf, ct) = (f.count(q)?, t.count(q)?);
        let texts = |r: &[i64]| -> Result<Vec<String>> {
            r.iter()
                .take(10)
                .map(|&id| fts::item_text(&conn, id))
                .collect()
        };
        let (tf, tt) = (texts(&rf)?, texts(&rt)?);
        rows.push(json!({
            "query": q.label(), "category": q.category,
            "fts5_match": fts::match_expr(q),
            "fts5": {"p50_us": percentiles(&mut sf).0, "p99_us": percentiles(&mut sf).1,
                     "matches": cf, "top10": &rf[..rf.len().min(10)]},
            "tantivy": {"p50_us": percentiles(&mut st).0, "p99_us": percentiles(&mut st).1,
                        "matches": ct, "top10": &rt[..rt.len().min(10)]},
            "overlap10_rowid": overlap(&rf, &rt),
            "overlap10_content": overlap(&tf, &tt),
        }));
    }
    let code = code_identifiers(&f, &t, &qs)?;
    let known_rows = known_item_test(&f, &t, &known)?;
    let stats = |v: &mut Vec<f64>| {
        if v.is_empty() {
            return Value::Null;
        }
        let (p50, p99) = percentiles(v);
        json!({"p50_us": p50, "p99_us": p99, "mean_us": v.iter().sum::<f64>() / v.len() as f64})
    };
    let results = json!({
        "store": o.store, "limit": o.limit, "reps": o.reps, "seed": o.seed,
        "corpus": {"items": fb.items, "text_bytes": fb.text_bytes, "content_table_bytes": fb.content_bytes,
                   "kinds": kinds, "providers": providers},
        "sqlite": {"version": rusqlite::version(), "compile_options": fb.compile_options},
        "fts5": {"copy_secs": fb.copy_secs, "rebuild_secs": fb.rebuild_secs, "rebuild_bytes": fb.rebuild_bytes,
                 "rebuild_peak_rss_growth_kib": fb.rebuild_rss_kib,
                 "rowwise_10k_tx_secs": fb.live_secs, "rowwise_bytes": fb.live_bytes,
                 "rowwise_peak_rss_growth_kib": fb.live_rss_kib,
                 "latency_all": stats(&mut all_f), "latency_all_rowwise_index": stats(&mut all_fl)},
        "tantivy": {"version": tantivy::version_string(), "threads": o.threads, "budget_mib": o.budget_mib,
                    "bulk_secs": tb.secs, "bulk_bytes": tb.bytes, "bulk_segments": tb.segments,
                    "bulk_peak_rss_growth_kib": tb.rss_kib,
                    "commit10k_secs": tlive.as_ref().map(|b| b.secs),
                    "commit10k_bytes": tlive.as_ref().map(|b| b.bytes),
                    "commit10k_segments": tlive.as_ref().map(|b| b.segments),
                    "commit10k_commits": tlive.as_ref().map(|b| b.commits),
                    "commit10k_peak_rss_growth_kib": tlive.as_ref().map(|b| b.rss_kib),
                    "latency_all": stats(&mut all_t)},
        "queries": rows,
        "known_item": known_rows,
        "code_identifiers": code,
    });
    report::emit(&results, o.out.as_deref())?;
    Ok(true)
}

/// Recall@10 (and mean reciprocal rank within the top 10) of each engine on the known items.
fn known_item_test(f: &fts::Fts, t: &tant::Tantivy, known: &[KnownItem]) -> Result<Value> {
    let mut per = Vec::new();
    let (mut hf, mut ht, mut rrf, mut rrt) = (0, 0, 0.0, 0.0);
    for k in known {
        let (rf, rt) = (f.search(&k.query, 10)?, t.search(&k.query, 10)?);
        let pf = rf.iter().position(|&r| r == k.rowid);
        let pt = rt.iter().position(|&r| r == k.rowid);
        hf += pf.is_some() as usize;
        ht += pt.is_some() as usize;
        rrf += pf.map_or(0.0, |p| 1.0 / (p + 1) as f64);
        rrt += pt.map_or(0.0, |p| 1.0 / (p + 1) as f64);
        per.push(
            json!({"rowid": k.rowid, "source": k.source, "query": k.query.label(),
            "fts5_rank": pf.map(|p| p + 1), "tantivy_rank": pt.map(|p| p + 1),
            "fts5_matches": f.count(&k.query)?, "tantivy_matches": t.count(&k.query)?}),
        );
    }
    let n = known.len().max(1) as f64;
    let by_source = |src: &str| {
        let v: Vec<_> = per.iter().filter(|p| p["source"] == src).collect();
        let hits = |e: &str| v.iter().filter(|p| !p[e].is_null()).count();
        json!({"n": v.len(), "fts5_hits": hits("fts5_rank"), "tantivy_hits": hits("tantivy_rank")})
    };
    Ok(json!({
        "n": known.len(),
        "fts5_recall10": hf as f64 / n, "tantivy_recall10": ht as f64 / n,
        "fts5_mrr10": rrf / n, "tantivy_mrr10": rrt / n,
        "by_source": {"ident": by_source("ident"), "path": by_source("path"), "phrase3": by_source("phrase3")},
        "items": per,
    }))
}

/// For each identifier/path query: matches and top 3 excerpts per engine, and the same for
/// the identifier's first component alone (does a word find the identifier containing it?).
fn code_identifiers(f: &fts::Fts, t: &tant::Tantivy, qs: &[Query]) -> Result<Value> {
    let mut out = Vec::new();
    for q in qs
        .iter()
        .filter(|q| q.category == "ident" || q.category == "path")
    {
        let Shape::Phrase(id) = &q.shape else {
            continue;
        };
        let part = id
            .split(|c: char| !c.is_alphanumeric())
            .find(|s| s.len() >= 3)
            .unwrap_or(id)
            .to_lowercase();
        let pq = Query {
            category: "component",
            shape: Shape::Terms(vec![part.clone()]),
            provider: None,
            kind: None,
        };
        // Items holding the identifier that a search for its component alone misses.
        let missed_f = f.count_raw(&format!(
            "{} NOT {}",
            fts::match_expr(q),
            fts::match_expr(&pq)
        ))?;
        let excerpts = |ids: Vec<i64>| -> Result<Vec<String>> {
            ids.into_iter()
                .take(3)
                .map(|id| {
                    Ok(format!(
                        "#{id}: {}",
                        excerpt(&fts::item_text(f.conn, id)?, &part)
                    ))
                })
                .collect()
        };
        out.push(json!({
            "query": q.label(), "fts5_match": fts::match_expr(q),
            "fts5_matches": f.count(q)?, "tantivy_matches": t.count(q)?,
            "fts5_top3": excerpts(f.search(q, 3)?)?, "tantivy_top3": excerpts(t.search(q, 3)?)?,
            "component": part, "component_fts5_matches": f.count(&pq)?,
            "component_tantivy_matches": t.count(&pq)?,
            // tantivy indexes `snake_case` as `snake` `case`: a component always finds it.
            "identifier_items_missed_by_component_fts5": missed_f,
        }));
    }
    Ok(Value::Array(out))
}

/// ~90 characters of `s` around the first case-insensitive occurrence of `needle`.
fn excerpt(s: &str, needle: &str) -> String {
    let lower = s.to_lowercase();
    let at = if lower.len() == s.len() {
        lower.find(needle).unwrap_or(0)
    } else {
        0
    };
    let mut start = at.saturating_sub(30);
    while !s.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + 90).min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[start..end].replace(['\n', '\r', '\t'], " ")
}
