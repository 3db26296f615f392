//! `tinyvex search`: full-text search over every agent's history.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use tinyvex_store::SearchHit;

use crate::cli::{GlobalArgs, SearchArgs};
use crate::printer;

/// Unindexed items above which `search` indexes before searching.
const CATCH_UP_ABOVE: u64 = 2_000;

/// The query text with the flags appended as filters of the query language.
fn query_text(args: &SearchArgs) -> String {
    let mut parts = vec![args.query.join(" ")];
    let mut filter = |key: &str, value: &str| {
        let value = if value.contains(char::is_whitespace) {
            format!("\"{value}\"")
        } else {
            value.to_string()
        };
        parts.push(format!("{key}:{value}"));
    };
    if let Some(p) = args.provider {
        filter("provider", p.as_str());
    }
    if let Some(cwd) = &args.cwd {
        filter("cwd", cwd);
    }
    if let Some(thread) = &args.thread {
        filter("thread", thread);
    }
    for kind in &args.kind {
        filter("kind", kind);
    }
    if let Some(after) = &args.after {
        filter("after", after);
    }
    if let Some(before) = &args.before {
        filter("before", before);
    }
    parts.join(" ")
}

pub fn run(global: &GlobalArgs, args: SearchArgs) -> Result<ExitCode> {
    let store = super::open_store(global)?;
    // A few unindexed items are checked one by one; many (an index being
    // rebuilt, no `serve` running since the last ingest) are indexed first,
    // unless another process holds the index and is doing just that.
    if store.search_lag(CATCH_UP_ABOVE)? > CATCH_UP_ABOVE {
        let show = !global.quiet && std::io::stderr().is_terminal();
        if show {
            eprintln!("indexing new items for search…");
        }
        if let Some(done) = store.catch_up_search(|_| {})? {
            tracing::info!(items = done.items, "search index caught up");
        }
    }
    let reader = store.read()?;
    let hits = reader.search_text(&query_text(&args), args.limit, None)?;
    if args.json {
        printer::json(&hits)?;
        return Ok(ExitCode::SUCCESS);
    }
    if hits.is_empty() {
        eprintln!("no matches");
        return Ok(ExitCode::SUCCESS);
    }
    print_grouped(&hits, std::io::stdout().is_terminal())?;
    Ok(ExitCode::SUCCESS)
}

/// Hits grouped by thread, threads in the order of their best hit.
fn print_grouped(hits: &[SearchHit], color: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let mut threads: Vec<&str> = Vec::new();
    for h in hits {
        if !threads.contains(&h.thread_id.as_str()) {
            threads.push(&h.thread_id);
        }
    }
    for (n, thread) in threads.iter().enumerate() {
        let first = hits
            .iter()
            .find(|h| h.thread_id == *thread)
            .expect("listed");
        if n > 0 {
            writeln!(out)?;
        }
        let title = printer::clip(first.thread_title.as_deref().unwrap_or("(untitled)"), 70);
        let (bold, reset) = if color {
            ("\x1b[1m", "\x1b[0m")
        } else {
            ("", "")
        };
        writeln!(out, "{bold}{title}{reset}  [{}] {thread}", first.provider)?;
        if let Some(cwd) = &first.cwd {
            writeln!(out, "  {cwd}")?;
        }
        for h in hits.iter().filter(|h| h.thread_id == *thread) {
            let when =
                printer::relative_time(h.ts.as_deref().and_then(tinyvex_model::parse_rfc3339_ms));
            writeln!(
                out,
                "  {:<10} {:<9} {}",
                h.kind,
                when,
                highlighted(h, color)
            )?;
        }
    }
    Ok(())
}

/// The snippet on one line, matches in bold yellow on a terminal.
fn highlighted(hit: &SearchHit, color: bool) -> String {
    let chars: Vec<char> = hit
        .snippet
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    if !color {
        return chars.into_iter().collect();
    }
    let mut out = String::new();
    let mut at = 0;
    for [start, end] in &hit.highlights {
        let (start, end) = ((*start).min(chars.len()), (*end).min(chars.len()));
        if start < at {
            continue;
        }
        out.extend(&chars[at..start]);
        out.push_str("\x1b[1;33m");
        out.extend(&chars[start..end]);
        out.push_str("\x1b[0m");
        at = end;
    }
    out.extend(&chars[at..]);
    out
}
