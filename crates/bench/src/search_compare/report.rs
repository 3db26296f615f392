//! Output of `compare-search`: a table on stdout, and `results.json` (everything measured,
//! per query) plus a `README.md` summary in `--out`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde_json::Value;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn mb(v: &Value) -> String {
    v.as_f64()
        .map_or("—".to_string(), |b| format!("{:.0} MB", b / 1e6))
}

fn secs(v: &Value) -> String {
    v.as_f64().map_or("—".to_string(), |s| format!("{s:.1} s"))
}

fn kib(v: &Value) -> String {
    v.as_f64()
        .map_or("—".to_string(), |k| format!("{:.0} MB", k * 1024.0 / 1e6))
}

/// Markdown summary of `r` (the `results.json` value).
pub fn markdown(r: &Value) -> String {
    let (c, s, t) = (&r["corpus"], &r["fts5"], &r["tantivy"]);
    let mut m = String::new();
    let _ = writeln!(
        m,
        "Corpus: {} items with text/command/output, {} of indexed text (SQLite {}, {}).\n",
        c["items"],
        mb(&c["text_bytes"]),
        r["sqlite"]["version"].as_str().unwrap_or("?"),
        t["version"].as_str().unwrap_or("?")
    );
    let _ = writeln!(m, "| | FTS5 | tantivy |\n|---|---:|---:|");
    let rows = [
        (
            "bulk build (FTS5 `rebuild` / tantivy one commit)",
            secs(&s["rebuild_secs"]),
            secs(&t["bulk_secs"]),
        ),
        (
            "live build (FTS5 row-by-row, 10k/tx / tantivy commit per 10k)",
            secs(&s["rowwise_10k_tx_secs"]),
            secs(&t["commit10k_secs"]),
        ),
        (
            "index size after bulk build",
            mb(&s["rebuild_bytes"]),
            mb(&t["bulk_bytes"]),
        ),
        (
            "index size after live build",
            mb(&s["rowwise_bytes"]),
            mb(&t["commit10k_bytes"]),
        ),
        (
            "peak RSS growth, bulk build",
            kib(&s["rebuild_peak_rss_growth_kib"]),
            kib(&t["bulk_peak_rss_growth_kib"]),
        ),
        (
            "peak RSS growth, live build",
            kib(&s["rowwise_peak_rss_growth_kib"]),
            kib(&t["commit10k_peak_rss_growth_kib"]),
        ),
        (
            "query latency p50, all queries (top 20)",
            format!("{:.0} µs", f(&s["latency_all"]["p50_us"])),
            format!("{:.0} µs", f(&t["latency_all"]["p50_us"])),
        ),
        (
            "query latency p99, all queries (top 20)",
            format!("{:.0} µs", f(&s["latency_all"]["p99_us"])),
            format!("{:.0} µs", f(&t["latency_all"]["p99_us"])),
        ),
        (
            "known-item recall@10",
            format!("{:.2}", f(&r["known_item"]["fts5_recall10"])),
            format!("{:.2}", f(&r["known_item"]["tantivy_recall10"])),
        ),
        (
            "known-item MRR@10",
            format!("{:.2}", f(&r["known_item"]["fts5_mrr10"])),
            format!("{:.2}", f(&r["known_item"]["tantivy_mrr10"])),
        ),
    ];
    for (k, a, b) in rows {
        let _ = writeln!(m, "| {k} | {a} | {b} |");
    }
    let _ = writeln!(
        m,
        "\nFTS5 latency on the row-by-row index: p50 {:.0} µs, p99 {:.0} µs. \
         tantivy: {} threads, {} MiB writer budget, {} segments after bulk, {} after live.\n",
        f(&s["latency_all_rowwise_index"]["p50_us"]),
        f(&s["latency_all_rowwise_index"]["p99_us"]),
        t["threads"],
        t["budget_mib"],
        t["bulk_segments"],
        t["commit10k_segments"]
    );
    let _ = writeln!(
        m,
        "### Per query (warm, {} reps; latency in µs)\n",
        r["reps"]
    );
    let _ = writeln!(
        m,
        "| category | query | FTS5 p50 | FTS5 p99 | tantivy p50 | tantivy p99 | FTS5 matches | tantivy matches | overlap@10 rowid | overlap@10 content |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let empty = Vec::new();
    let queries = r["queries"].as_array().unwrap_or(&empty);
    for q in queries {
        let _ = writeln!(
            m,
            "| {} | `{}` | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} | {:.1} | {:.1} |",
            q["category"].as_str().unwrap_or(""),
            q["query"].as_str().unwrap_or("").replace('|', "\\|"),
            f(&q["fts5"]["p50_us"]),
            f(&q["fts5"]["p99_us"]),
            f(&q["tantivy"]["p50_us"]),
            f(&q["tantivy"]["p99_us"]),
            q["fts5"]["matches"],
            q["tantivy"]["matches"],
            f(&q["overlap10_rowid"]),
            f(&q["overlap10_content"]),
        );
    }
    let mean =
        |k: &str| queries.iter().map(|q| f(&q[k])).sum::<f64>() / queries.len().max(1) as f64;
    let _ = writeln!(
        m,
        "\nMean overlap@10: {:.2} by rowid, {:.2} by content (identical indexed text counts as the same hit).\n",
        mean("overlap10_rowid"),
        mean("overlap10_content")
    );
    let k = &r["known_item"];
    let _ = writeln!(m, "### Known-item test ({} random items)\n", k["n"]);
    let _ = writeln!(
        m,
        "| query source | n | FTS5 in top 10 | tantivy in top 10 |\n|---|---:|---:|---:|"
    );
    for src in ["ident", "path", "phrase3"] {
        let b = &k["by_source"][src];
        let _ = writeln!(
            m,
            "| {src} | {} | {} | {} |",
            b["n"], b["fts5_hits"], b["tantivy_hits"]
        );
    }
    let _ = writeln!(m, "\n### Code identifiers and paths\n");
    let _ = writeln!(
        m,
        "| query | FTS5 matches | tantivy matches | component | component: FTS5 | component: tantivy | identifier items a component search misses (FTS5) |\n|---|---:|---:|---|---:|---:|---:|"
    );
    for c in r["code_identifiers"].as_array().unwrap_or(&empty) {
        let _ = writeln!(
            m,
            "| `{}` | {} | {} | `{}` | {} | {} | {} |",
            c["query"].as_str().unwrap_or(""),
            c["fts5_matches"],
            c["tantivy_matches"],
            c["component"].as_str().unwrap_or(""),
            c["component_fts5_matches"],
            c["component_tantivy_matches"],
            c["identifier_items_missed_by_component_fts5"],
        );
    }
    for c in r["code_identifiers"].as_array().unwrap_or(&empty) {
        let _ = writeln!(m, "\n`{}`:", c["query"].as_str().unwrap_or(""));
        for (e, key) in [("FTS5", "fts5_top3"), ("tantivy", "tantivy_top3")] {
            for x in c[key].as_array().unwrap_or(&empty) {
                let _ = writeln!(m, "- {e}: `{}`", x.as_str().unwrap_or("").replace('`', "'"));
            }
        }
    }
    m
}

/// Prints the summary and writes `results.json` and `README.md` into `out`.
pub fn emit(r: &Value, out: Option<&Path>) -> Result<()> {
    let md = markdown(r);
    println!("{md}");
    if let Some(dir) = out {
        std::fs::create_dir_all(dir)?;
        std::fs::write(
            dir.join("results.json"),
            serde_json::to_string_pretty(r)? + "\n",
        )?;
        let readme = format!(
            "# Search engine comparison: SQLite FTS5 vs tantivy\n\n\
             Produced by `tinyvex-bench compare-search` (feature `compare-search`); method and \
             conclusions in `docs/search-engine-choice.md`; every figure per query in \
             `results.json`.\n\n{md}"
        );
        std::fs::write(dir.join("README.md"), readme)?;
    }
    Ok(())
}
