//! Reporting of `tinyvex-bench search`: the table, the targets, and the run folder
//! (`results.json` and `README.md` in the `--out` directory).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use crate::report::{binary_line, machine_section, source_line, start_run_readme};
use crate::size::format_bytes;

/// Query latency targets (ms) and the searchable-within target.
const P50_MAX_MS: f64 = 5.0;
const P99_MAX_MS: f64 = 30.0;
const SEARCHABLE_MAX_MS: f64 = 100.0;
/// Ingest throughput with search over without.
const RATIO_MIN: f64 = 0.7;

fn ms(v: &Value) -> String {
    v.as_f64()
        .map(|x| format!("{x:.2}"))
        .unwrap_or_else(|| "-".into())
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

fn bytes(v: &Value) -> String {
    v.as_f64()
        .map(|b| format_bytes(b as u64))
        .unwrap_or_else(|| "-".into())
}

fn stats_row(s: &mut String, label: &str, v: &Value, extra: &str) {
    let _ = writeln!(
        s,
        "  {label:<22} {:>5} {:>8} {:>8} {:>8} {:>8}  {extra}",
        v["n"].to_string(),
        ms(&v["p50_ms"]),
        ms(&v["p90_ms"]),
        ms(&v["p99_ms"]),
        ms(&v["max_ms"])
    );
}

/// The human table of a results object, and whether every target was met.
pub fn table(r: &Value) -> (String, bool) {
    let mut s = String::new();
    let mut ok = true;
    let m = &r["machine"];
    let _ = writeln!(
        s,
        "tinyvex   {}   machine: {} cores, {}   date {}",
        r["tinyvex"]["version"].as_str().unwrap_or("?"),
        m["nproc"].as_str().unwrap_or("?"),
        m["cpu"].as_str().unwrap_or("?"),
        r["bench"]["date"].as_str().unwrap_or("?")
    );
    let _ = writeln!(
        s,
        "corpus    {} files, {}; store {} items",
        r["corpus"]["files"],
        bytes(&r["corpus"]["bytes"]),
        r["store"]["items"]
    );

    let ing = &r["ingest"];
    if !ing.is_null() {
        let _ = writeln!(
            s,
            "\n1. index cost on ingest (full ingest into a fresh store)\n"
        );
        let _ = writeln!(
            s,
            "  {:<9} {:>8} {:>8} {:>9} {:>11} {:>10} {:>10} {:>6} {:>6} {:>7}",
            "binary",
            "wall s",
            "stored s",
            "MB/s",
            "items/s",
            "store",
            "FTS index",
            "load",
            "CPU s",
            "steal s"
        );
        for run in ing["runs"].as_array().into_iter().flatten() {
            let _ = writeln!(
                s,
                "  {:<9} {:>8.2} {:>8.2} {:>9.1} {:>11.0} {:>10} {:>10} {:>6} {:>6.1} {:>7.1}",
                run["binary"].as_str().unwrap_or("?"),
                run["wall_s"].as_f64().unwrap_or(f64::NAN),
                run["stored_s"].as_f64().unwrap_or(f64::NAN),
                run["mb_per_s"].as_f64().unwrap_or(f64::NAN),
                run["items_per_s"].as_f64().unwrap_or(f64::NAN),
                bytes(&run["db_bytes"]),
                bytes(&run["fts_bytes"]),
                run["load_average_before"],
                run["user_s"].as_f64().unwrap_or(f64::NAN)
                    + run["sys_s"].as_f64().unwrap_or(f64::NAN),
                run["steal_s"].as_f64().unwrap_or(f64::NAN)
            );
        }
        match ing["throughput_ratio"].as_f64() {
            Some(ratio) => {
                let met = ratio >= RATIO_MIN;
                ok &= met;
                let _ = writeln!(
                    s,
                    "  median MB/s with search / without: {ratio:.3}; store {} vs {}; target ≥ {RATIO_MIN}: {}",
                    bytes(&ing["search"]["db_bytes"]),
                    bytes(&ing["baseline"]["db_bytes"]),
                    verdict(met)
                );
                if let Some(stored) = ing["stored_ratio"].as_f64() {
                    let _ = writeln!(
                        s,
                        "  (wall s: until the index has caught up; stored s: until the ingest had \
                         stored everything, the index still catching up. Baseline wall / stored \
                         with search: {stored:.3})"
                    );
                }
            }
            None => {
                let _ = writeln!(
                    s,
                    "  (no --baseline-tinyvex or --baseline-no-index: no comparison)"
                );
            }
        }
    }

    let q = &r["query_latency"];
    let _ = writeln!(
        s,
        "\n2. `search` round trip over one warm WebSocket ({} passes after a warm-up pass, limit {})\n",
        r["bench"]["repeat"], r["bench"]["limit"]
    );
    let _ = writeln!(
        s,
        "  {:<22} {:>5} {:>8} {:>8} {:>8} {:>8}  queries / zero-hit / mean hits",
        "class", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    stats_row(&mut s, "all", &q["overall"], "");
    for c in q["classes"].as_array().into_iter().flatten() {
        let extra = format!(
            "{} / {} / {:.1}",
            c["queries"],
            c["zero_hit_queries"],
            c["mean_hits"].as_f64().unwrap_or(0.0)
        );
        stats_row(
            &mut s,
            c["class"].as_str().unwrap_or("?"),
            &c["latency"],
            &extra,
        );
    }
    let p50 = q["overall"]["p50_ms"].as_f64();
    let p99 = q["overall"]["p99_ms"].as_f64();
    let met50 = p50.is_some_and(|x| x <= P50_MAX_MS);
    let met99 = p99.is_some_and(|x| x <= P99_MAX_MS);
    ok &= met50 && met99;
    let _ = writeln!(
        s,
        "  targets (all queries): p50 ≤ {P50_MAX_MS} ms {}, p99 ≤ {P99_MAX_MS} ms {}",
        verdict(met50),
        verdict(met99)
    );
    let mut slow: Vec<&Value> = q["queries"].as_array().into_iter().flatten().collect();
    slow.sort_by(|a, b| {
        b["latency"]["p50_ms"]
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&a["latency"]["p50_ms"].as_f64().unwrap_or(0.0))
    });
    let _ = writeln!(
        s,
        "\n  slowest queries (median ms, FTS matches before filters, hits):"
    );
    for v in slow.iter().take(8) {
        let _ = writeln!(
            s,
            "    {:>8}  {:>8}  {:>3}  {:<9} {}",
            ms(&v["latency"]["p50_ms"]),
            v["fts_matches"].to_string(),
            v["hits"].to_string(),
            v["class"].as_str().unwrap_or(""),
            v["query"].as_str().unwrap_or("")
        );
    }

    let cli = &r["cli"];
    let _ = writeln!(
        s,
        "\n   `tinyvex search --json` whole process, {} queries × {} runs: median {} ms, max {} ms",
        cli["queries"].as_array().map_or(0, |a| a.len()),
        cli["runs_per_query"],
        ms(&cli["overall"]["p50_ms"]),
        ms(&cli["overall"]["max_ms"])
    );

    let _ = writeln!(
        s,
        "\n3. append → live search `changes` holding the hit (target p99 ≤ {SEARCHABLE_MAX_MS} ms)\n"
    );
    for (k, label) in [("small", "small fresh store"), ("big", "the big store")] {
        let l = &r["searchable"][k];
        if l.is_null() {
            continue;
        }
        let lost = l["lost"].as_array().map_or(0, |a| a.len());
        let p99 = l["latency"]["p99_ms"].as_f64();
        let met = lost == 0 && p99.is_some_and(|x| x <= SEARCHABLE_MAX_MS);
        ok &= met;
        stats_row(
            &mut s,
            label,
            &l["latency"],
            &format!("lost {lost}: {}", verdict(met)),
        );
    }
    (s, ok)
}

/// Writes `results.json` and `README.md` into `dir`.
pub fn save(dir: &Path, results: &Value, summary: &str, argv: &[String]) -> Result<()> {
    let m = &results["machine"];
    let mut md = start_run_readme(dir, results, "Search benchmark", summary, argv)?;
    let _ = writeln!(
        md,
        "## Method\n\n\
         - Ingest: `tinyvex --db <fresh> ingest --json` with HOME an empty temp dir and CODEX_HOME \
         the corpus (read once beforehand so it is cached), the baseline and the search binary \
         alternating. FTS index size: `sum(pgsize)` of `dbstat` rows named `items_fts*`.\n\
         - Query latency: `tinyvex serve` on the last store with an empty HOME (nothing to ingest); \
         one WebSocket connection; each `search` call timed from send to the response frame. The \
         query set is drawn from the store: one-word queries by FTS5 document count (rare: 2–50 \
         items, medium: 0.05–1% of items, common: ≥ 10%), multi-word, prefix and phrase queries \
         from sampled items' text, filtered ones with kind/provider/cwd/date filters. One \
         unrecorded pass, then the measured passes round robin.\n\
         - `fts_matches`: items the FTS5 expression matches before filters (counted with the \
         sqlite3 shell): the work of ranking grows with it.\n\
         - CLI: `tinyvex --db <store> search --json -n <limit> <query>` as a whole process, \
         after one unrecorded run per query.\n\
         - Searchable: `tinyvex serve --rescan-every 60` watching a HOME holding one Codex \
         session, a `search` subscription for a word no corpus holds; each sample is one \
         `write(2)` of a `user_message` line holding it, timed until the `changes` notification \
         whose hit's snippet names that sample. On the big store the server also marks the \
         corpus's files as missing at startup (they are not in that HOME); warm-up samples \
         absorb it.\n"
    );
    let _ = writeln!(md, "## Versions\n");
    binary_line(&mut md, "tinyvex", &results["tinyvex"]);
    if !results["baseline"].is_null() {
        binary_line(&mut md, "baseline", &results["baseline"]);
        if let Some(args) = results["baseline"]["ingest_args"]
            .as_array()
            .filter(|a| !a.is_empty())
        {
            let args: Vec<&str> = args.iter().filter_map(Value::as_str).collect();
            let _ = writeln!(md, "  (its ingests ran with `{}`)", args.join(" "));
        }
    }
    source_line(&mut md, m);
    md.push('\n');
    machine_section(&mut md, m, &[]);
    let _ = writeln!(md, "## Raw results\n\nIn `results.json`.");
    std::fs::write(dir.join("README.md"), md)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn targets_are_judged() {
        let lat = |p50: f64, p99: f64| json!({"n": 10, "p50_ms": p50, "p99_ms": p99});
        let mut r = json!({
            "ingest": {"runs": [], "throughput_ratio": 0.8},
            "query_latency": {"overall": lat(2.0, 20.0), "classes": [], "queries": []},
            "cli": {}, "searchable": {"small": {"latency": lat(10.0, 40.0), "lost": []}},
        });
        let (text, ok) = table(&r);
        assert!(ok, "{text}");
        assert!(text.contains("target ≥ 0.7: met"));
        r["query_latency"]["overall"] = lat(2.0, 31.0);
        let (text, ok) = table(&r);
        assert!(!ok);
        assert!(text.contains("p99 ≤ 30 ms NOT met"));
    }
}
