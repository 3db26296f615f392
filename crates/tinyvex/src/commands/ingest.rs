//! `tinyvex ingest`: one pass over every source.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tinyvex_ingest::{IngestOptions, Ingestor, Progress, ProviderSummary};
use tinyvex_providers::{all_providers, SourceEnv};

use crate::cli::{GlobalArgs, IngestArgs};
use crate::printer;

/// The `--json` summary (documented in docs/cli.md).
#[derive(Serialize)]
struct Summary {
    db: String,
    revision: u64,
    elapsed_ms: f64,
    /// Time after the pass until the search index had caught up.
    index_ms: f64,
    files_seen: u64,
    files_read: u64,
    files_unchanged: u64,
    bytes_read: u64,
    lines: u64,
    threads_added: u64,
    items_added: u64,
    errors: u64,
    providers: Vec<ProviderLine>,
}

#[derive(Serialize)]
struct ProviderLine {
    #[serde(flatten)]
    pass: ProviderSummary,
    roots: Vec<String>,
    threads_added: u64,
    items_added: u64,
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, files: u64, bytes: u64) {
        self.0.set_length(bytes);
        self.0.set_message(format!("{files} files"));
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

pub fn run(global: &GlobalArgs, args: IngestArgs) -> Result<ExitCode> {
    let store = super::open_store_with(global, args.store.options())?;
    let env = SourceEnv::from_process();
    let providers = all_providers(&env);
    let reader = store.read()?;
    let before = reader.status()?;
    let writer = store.start_writer()?;

    let bar = if !global.quiet && std::io::stderr().is_terminal() {
        let pb = ProgressBar::new(0);
        pb.set_style(
            ProgressStyle::with_template("{spinner} ingesting {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        pb
    } else {
        ProgressBar::hidden()
    };
    let progress = Bar(bar);
    let ingestor = Ingestor::new(&providers, writer.clone(), IngestOptions::default());
    let pass = ingestor.run_once(&reader, &progress)?;
    progress.0.finish_and_clear();
    writer.flush()?;
    let indexing = std::time::Instant::now();
    if store.options().search_index {
        wait_for_search_index(
            &store,
            &writer,
            !global.quiet && std::io::stderr().is_terminal(),
        )?;
    }
    writer.shutdown()?;
    let index_ms = indexing.elapsed().as_secs_f64() * 1000.0;

    let after = reader.status()?;
    let revision = reader.revision()?.0;
    let mut lines = Vec::new();
    for (p, provider) in pass.providers.into_iter().zip(&providers) {
        let b = before.iter().find(|s| s.provider == p.provider);
        let a = after.iter().find(|s| s.provider == p.provider);
        let diff = |f: fn(&tinyvex_store::ProviderStatus) -> u64| {
            a.map_or(0, f).saturating_sub(b.map_or(0, f))
        };
        lines.push(ProviderLine {
            threads_added: diff(|s| s.threads),
            items_added: diff(|s| s.items),
            roots: provider
                .roots()
                .iter()
                .map(|r| r.display().to_string())
                .collect(),
            pass: p,
        });
    }
    let sum = |f: fn(&ProviderLine) -> u64| lines.iter().map(f).sum::<u64>();
    let summary = Summary {
        db: store.path().display().to_string(),
        revision,
        elapsed_ms: pass.elapsed.as_secs_f64() * 1000.0,
        index_ms,
        files_seen: sum(|l| l.pass.files_seen),
        files_read: sum(|l| l.pass.files_read),
        files_unchanged: sum(|l| l.pass.files_unchanged),
        bytes_read: sum(|l| l.pass.bytes_read),
        lines: sum(|l| l.pass.lines),
        threads_added: sum(|l| l.threads_added),
        items_added: sum(|l| l.items_added),
        errors: sum(|l| l.pass.errors),
        providers: lines,
    };
    if args.json {
        printer::json(&summary)?;
    } else if !global.quiet {
        print_human(&summary);
    }
    Ok(ExitCode::SUCCESS)
}

/// Wait until the writer's indexer has indexed everything committed, with
/// a progress bar on a terminal. Returns at once when another process
/// keeps the index (a running `tinyvex serve`).
fn wait_for_search_index(
    store: &tinyvex_store::Store,
    writer: &tinyvex_store::WriterClient,
    show: bool,
) -> Result<()> {
    let pb = if show {
        // One count for the bar's length; progress comes from the indexer.
        let pb = ProgressBar::new(store.search_lag(u64::MAX)?);
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} indexing for search [{bar:30}] {pos}/{len} items eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        pb
    } else {
        ProgressBar::hidden()
    };
    writer.wait_for_search_index(|n| pb.set_position(n));
    pb.finish_and_clear();
    Ok(())
}

fn print_human(s: &Summary) {
    for p in &s.providers {
        if p.pass.files_seen == 0 {
            eprintln!(
                "{}: no sessions found (looked in {})",
                p.pass.provider,
                p.roots.join(", ")
            );
            continue;
        }
        eprintln!(
            "{}: {} files ({} read, {} unchanged), {} new, {} new threads, {} new items{}",
            p.pass.provider,
            p.pass.files_seen,
            p.pass.files_read,
            p.pass.files_unchanged,
            printer::bytes(p.pass.bytes_read),
            p.threads_added,
            p.items_added,
            if p.pass.errors > 0 {
                format!(", {} errors (see `tinyvex status`)", p.pass.errors)
            } else {
                String::new()
            },
        );
    }
    let secs = s.elapsed_ms / 1000.0;
    let rate = if secs > 0.0 {
        s.bytes_read as f64 / secs / 1e6
    } else {
        0.0
    };
    eprintln!(
        "done in {secs:.2}s ({rate:.1} MB/s), store at revision {} ({})",
        s.revision, s.db
    );
}
