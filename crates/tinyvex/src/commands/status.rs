//! `tinyvex status`: per-provider figures and the last error.

use std::process::ExitCode;

use std::io::Write;

use anyhow::Result;

use crate::cli::{GlobalArgs, StatusArgs};
use crate::printer;

pub fn run(global: &GlobalArgs, args: StatusArgs) -> Result<ExitCode> {
    let store = super::open_store(global)?;
    let reader = store.read()?;
    let mut out = std::io::stdout().lock();
    let status = reader.status()?;
    if args.json {
        printer::json(&status)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "store: {} (revision {})",
        store.path().display(),
        reader.revision()?
    )?;
    writeln!(
        out,
        "{:<9} {:>7} {:>8} {:>9} {:>11} {:>7}",
        "PROVIDER", "FILES", "THREADS", "ITEMS", "BYTES", "ERRORS"
    )?;
    for s in &status {
        writeln!(
            out,
            "{:<9} {:>7} {:>8} {:>9} {:>11} {:>7}",
            s.provider,
            s.files,
            s.threads,
            s.items,
            printer::bytes(s.bytes_ingested),
            s.errors
        )?;
    }
    let two_way = tinyvex_export::mirror::enabled(&reader)?;
    writeln!(
        out,
        "two-way: {} (`tinyvex two-way status` for the mirror)",
        if two_way { "on" } else { "off" }
    )?;
    for s in status.iter().filter(|s| s.errors > 0) {
        if let Some(msg) = &s.last_error {
            writeln!(out, "\n{} last error: {msg}", s.provider)?;
            if let Some(file) = &s.last_error_file {
                writeln!(out, "  in {file}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
