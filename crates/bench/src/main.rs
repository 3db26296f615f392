//! `tinyvex-bench`: generate realistic Codex and Claude Code corpora and time whole `tinyvex` processes on them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand};
use tinyvex_bench::append::{append, AppendOptions};
use tinyvex_bench::claude::{self, Agent};
use tinyvex_bench::corpus::{generate, GenOptions};
use tinyvex_bench::latency::{self, LatencyOptions};
use tinyvex_bench::runner::{run, RunOptions};
use tinyvex_bench::size::{format_bytes, parse_size};
use tinyvex_bench::validate::check_corpus;

/// Benchmarks for Tinyvex: realistic Codex and Claude Code corpus generators and whole-process
/// ingest timings.
#[derive(Debug, Parser)]
#[command(name = "tinyvex-bench", max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a corpus of Codex rollouts or Claude Code transcripts (`--out`), or continue
    /// files of one (`--append`)
    Gen(GenArgs),
    /// Check a corpus: JSON lines, file names, ordinals, call/output pairs
    Check {
        /// The CODEX_HOME (its `sessions/` folder) or Claude config dir (its `projects/`)
        dir: PathBuf,
        /// Corpus kind [default: detected from the layout]
        #[arg(long, value_enum)]
        agent: Option<Agent>,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
    /// Time `tinyvex ingest` on a corpus: full, unchanged, catch-up after appends
    Ingest(RunOptions),
    /// Time `tinyvex serve`: append → `changes` on N WebSocket clients, and startup on a store
    Latency(LatencyOptions),
    /// Time full-text search: index cost on ingest, `search` latency, append → live search hit
    Search(tinyvex_bench::search_bench::SearchOptions),
    /// Compare SQLite FTS5 and tantivy on a store's items: build time, size, latency, quality
    #[cfg(feature = "compare-search")]
    CompareSearch(tinyvex_bench::search_compare::CompareOptions),
}

#[derive(Debug, Args)]
struct GenArgs {
    /// Which agent's files: codex (a CODEX_HOME) or claude (a CLAUDE_CONFIG_DIR) [default:
    /// codex for --out, detected from the layout for --append]
    #[arg(long, value_enum)]
    agent: Option<Agent>,
    /// Write a new corpus into this directory (Codex: `sessions/YYYY/MM/DD/`; Claude:
    /// `projects/<escaped cwd>/`)
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "append",
        required_unless_present = "append"
    )]
    out: Option<PathBuf>,
    /// Append new turns to files of this existing corpus instead
    #[arg(long, value_name = "DIR")]
    append: Option<PathBuf>,
    /// Total size, e.g. 1GiB, 200MB, 64MiB (with --out)
    #[arg(long, value_parser = parse_size, required_unless_present = "append")]
    size: Option<u64>,
    /// Number of files (--out), or of files to append to (--append, default 5)
    #[arg(long)]
    files: Option<usize>,
    /// Mean file size when --files is not given (--out)
    #[arg(long, value_parser = parse_size, default_value = "1MiB", conflicts_with = "files")]
    avg_file_size: u64,
    /// Lines appended to each file (--append)
    #[arg(long, default_value_t = 250)]
    lines: usize,
    /// Seed; the same seed and options give the same bytes
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print the summary as JSON
    #[arg(long)]
    json: bool,
}

fn gen(a: GenArgs) -> Result<()> {
    if let Some(dir) = a.append {
        let agent = Agent::detect(a.agent, &dir);
        let o = AppendOptions {
            dir,
            files: a.files.unwrap_or(5),
            lines: a.lines,
            seed: a.seed,
        };
        let r = match agent {
            Agent::Codex => append(&o)?,
            Agent::Claude => claude::append(&o)?,
        };
        if a.json {
            let files: Vec<_> = r
                .files
                .iter()
                .map(|(p, b)| serde_json::json!({"path": p, "bytes": b}))
                .collect();
            println!(
                "{}",
                serde_json::json!({"files": files, "bytes": r.bytes, "lines": r.lines})
            );
        } else {
            for (p, b) in &r.files {
                println!("{:>10}  {}", format_bytes(*b), p.display());
            }
            println!(
                "appended {} lines, {} to {} files",
                r.lines,
                format_bytes(r.bytes),
                r.files.len()
            );
        }
        return Ok(());
    }
    let (Some(out), Some(size)) = (a.out, a.size) else {
        bail!("--out DIR and --size are required")
    };
    if a.agent == Some(Agent::Claude) {
        return gen_claude(out, size, a.files, a.avg_file_size, a.seed, a.json);
    }
    let sessions = out.join("sessions");
    if std::fs::read_dir(&sessions).is_ok_and(|mut d| d.next().is_some()) {
        bail!(
            "{} is not empty: generate into a new directory (or remove it first)",
            sessions.display()
        );
    }
    let opts = GenOptions {
        out,
        size,
        files: a.files,
        avg_file_size: a.avg_file_size,
        seed: a.seed,
    };
    let mut next_report = size / 10;
    let quiet = a.json;
    let r = generate(&opts, |done| {
        if !quiet && done >= next_report {
            eprint!("\r{} / {}", format_bytes(done), format_bytes(size));
            next_report += size / 10;
        }
    })?;
    if a.json {
        println!("{}", r.to_json());
    } else {
        eprintln!();
        println!(
            "{} files, {} lines, {} in {:.2}s ({:.0} MB/s) under {}",
            r.total.files,
            r.total.lines,
            format_bytes(r.total.bytes),
            r.elapsed.as_secs_f64(),
            r.total.bytes as f64 / 1e6 / r.elapsed.as_secs_f64().max(1e-9),
            opts.out.join("sessions").display()
        );
        for (f, t) in &r.by_format {
            println!(
                "  {:<10} {:>6} files {:>10}",
                f.name(),
                t.files,
                format_bytes(t.bytes)
            );
        }
        println!(
            "  file sizes {} .. {}",
            format_bytes(r.min_max_file.0),
            format_bytes(r.min_max_file.1)
        );
    }
    Ok(())
}

fn gen_claude(
    out: PathBuf,
    size: u64,
    files: Option<usize>,
    avg_file_size: u64,
    seed: u64,
    json: bool,
) -> Result<()> {
    let projects = out.join("projects");
    if std::fs::read_dir(&projects).is_ok_and(|mut d| d.next().is_some()) {
        bail!(
            "{} is not empty: generate into a new directory (or remove it first)",
            projects.display()
        );
    }
    let opts = GenOptions {
        out,
        size,
        files,
        avg_file_size,
        seed,
    };
    let mut next_report = size / 10;
    let r = claude::generate(&opts, |done| {
        if !json && done >= next_report {
            eprint!("\r{} / {}", format_bytes(done), format_bytes(size));
            next_report += size / 10;
        }
    })?;
    if json {
        println!("{}", r.to_json());
        return Ok(());
    }
    eprintln!();
    println!(
        "{} sessions in {} projects, {} files with sub-agents, {} lines, {} in {:.2}s ({:.0} MB/s) under {}",
        r.sessions,
        r.projects,
        r.total.files,
        r.total.lines,
        format_bytes(r.total.bytes),
        r.elapsed.as_secs_f64(),
        r.total.bytes as f64 / 1e6 / r.elapsed.as_secs_f64().max(1e-9),
        projects.display()
    );
    for (g, t) in &r.by_gen {
        println!(
            "  {:<10} {:>6} files {:>10}",
            g.name(),
            t.files,
            format_bytes(t.bytes)
        );
    }
    println!(
        "  file sizes {} .. {}",
        format_bytes(r.min_max_file.0),
        format_bytes(r.min_max_file.1)
    );
    Ok(())
}

fn check(dir: PathBuf, agent: Option<Agent>, json: bool) -> Result<bool> {
    let r = match Agent::detect(agent, &dir) {
        Agent::Codex => check_corpus(&dir)?,
        Agent::Claude => claude::check_corpus(&dir)?,
    };
    if json {
        println!(
            "{}",
            serde_json::json!({"files": r.files, "lines": r.lines, "bytes": r.bytes, "kinds": r.kinds,
                "error_count": r.error_count, "errors": r.errors})
        );
    } else {
        println!(
            "{} files, {} lines, {}",
            r.files,
            r.lines,
            format_bytes(r.bytes)
        );
        for (k, n) in &r.kinds {
            println!("  {n:>9}  {k}");
        }
        for e in &r.errors {
            println!("error: {e}");
        }
        println!("{} problems", r.error_count);
    }
    Ok(r.error_count == 0 && r.files > 0)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Gen(a) => gen(a).map(|()| true),
        Command::Check { dir, agent, json } => check(dir, agent, json),
        Command::Ingest(o) => run(o).map(|()| true),
        Command::Latency(o) => latency::run(o),
        Command::Search(o) => tinyvex_bench::search_bench::run(o),
        #[cfg(feature = "compare-search")]
        Command::CompareSearch(o) => tinyvex_bench::search_compare::run(o),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
