//! The `tinyvex` binary: CLI definition in [`cli`], one module per
//! subcommand in [`commands`], output through [`printer`].

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod paths;
mod printer;

use cli::{Cli, Command};

// Ingestion allocates and frees many line-sized buffers on several threads;
// mimalloc keeps that off the profile (glibc's malloc spent ~15% of reader
// time there, and mmap'd every buffer over 128 KiB). mimalloc asks for
// transparent huge pages (where the system allows them on request): the
// search indexer's term table and arena are hundreds of MiB read at random,
// and with 4 KiB pages nearly every lookup also missed the TLB. Indexing a
// million items took about 6 CPU-s less (of about 100) for about 100 MiB
// more peak RSS; an idle server holds about 13 MiB more. `MIMALLOC_ALLOW_THP=0`
// turns it off.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose, cli.global.quiet);
    let result = match cli.command {
        Command::Ingest(args) => commands::ingest::run(&cli.global, args),
        Command::Threads(args) => commands::threads::run(&cli.global, args),
        Command::Show(args) => commands::show::run(&cli.global, args),
        Command::Status(args) => commands::status::run(&cli.global, args),
        Command::Search(args) => commands::search::run(&cli.global, args),
        Command::Serve(args) => commands::serve::run(&cli.global, args),
        Command::Token(args) => commands::token::run(&cli.global, args),
        Command::Export(args) => commands::export::run(&cli.global, args),
        Command::TwoWay(args) => commands::two_way::run(&cli.global, args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`tinyvex threads | head`) is not an error.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr. `-v` raises the default level, `RUST_LOG` overrides it.
fn init_tracing(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .init();
}
