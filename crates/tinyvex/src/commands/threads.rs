//! `tinyvex threads`: newest first.

use std::process::ExitCode;

use std::io::Write;

use anyhow::Result;
use tinyvex_model::Revision;
use tinyvex_store::ThreadQuery;

use crate::cli::{GlobalArgs, ThreadsArgs};
use crate::printer;

pub fn run(global: &GlobalArgs, args: ThreadsArgs) -> Result<ExitCode> {
    let store = super::open_store(global)?;
    let reader = store.read()?;
    let mut out = std::io::stdout().lock();
    let query = ThreadQuery {
        provider: args.provider,
        limit: args.limit,
        since: args.since.map(Revision),
        ..ThreadQuery::default()
    };
    let threads = reader.threads(&query)?;
    if args.json {
        printer::json(&threads)?;
        return Ok(ExitCode::SUCCESS);
    }
    if threads.is_empty() {
        match args.since {
            Some(rev) => eprintln!("no thread changed after revision {rev}"),
            None => eprintln!("no threads yet: run `tinyvex ingest` first"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{:<46} {:<9} {:>6} {:<10} TITLE",
        "ID", "PROVIDER", "ITEMS", "UPDATED"
    )?;
    for t in &threads {
        let updated = t
            .updated_at
            .as_deref()
            .or(t.created_at.as_deref())
            .and_then(tinyvex_model::parse_rfc3339_ms);
        writeln!(
            out,
            "{:<46} {:<9} {:>6} {:<10} {}",
            t.id,
            t.provider,
            t.item_count,
            printer::relative_time(updated),
            printer::clip(t.title.as_deref().unwrap_or("(untitled)"), 70),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
