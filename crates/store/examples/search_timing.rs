//! Time searches in-process on an existing store, warm: each query runs
//! `--repeat` times after one warm-up run; prints the median and max per
//! query. With `RUST_LOG=tinyvex_store=debug`, each search also logs its
//! phases (index, unindexed items, rows, snippets).
//!
//! ```console
//! cargo run --release -p tinyvex-store --example search_timing -- STORE.sqlite3 "query" ["query"...]
//! ```

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber_init();
    let mut args = std::env::args().skip(1);
    let db = args.next().ok_or("usage: search_timing STORE QUERY...")?;
    let repeat: usize = std::env::var("REPEAT")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10);
    let store = tinyvex_store::Store::open(std::path::Path::new(&db))?;
    // Index whatever the index lacks first (all of it after a layout change).
    let t = Instant::now();
    if let Some(done) = store.catch_up_search(|_| {})? {
        if done.items > 0 {
            println!(
                "indexed {} items in {:.1} s",
                done.items,
                t.elapsed().as_secs_f64()
            );
        }
    }
    let reader = store.read()?;
    for query in args {
        reader.search_text(&query, 20, None)?;
        let mut ms: Vec<f64> = (0..repeat)
            .map(|_| {
                let t = Instant::now();
                let hits = reader.search_text(&query, 20, None).map(|h| h.len());
                let _ = hits;
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        println!(
            "{:>8.2} ms median {:>8.2} ms max  {query}",
            ms[ms.len() / 2],
            ms[ms.len() - 1]
        );
    }
    Ok(())
}

/// Logs to stderr as RUST_LOG says.
fn tracing_subscriber_init() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
}
