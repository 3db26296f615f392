//! `tinyvex two-way on|off|status`: the persisted switch of the two-way
//! mirror that `tinyvex serve` runs (`docs/export.md`).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;
use tinyvex_export::mirror::{self, mirror_dir, CURSOR_CONSUMER, TWO_WAY_SETTING};
use tinyvex_store::ControlWrite;

use crate::cli::{GlobalArgs, TwoWayAction, TwoWayArgs};
use crate::{paths, printer};

/// The `--json` output (`docs/cli.md`).
#[derive(Serialize)]
struct TwoWay {
    enabled: bool,
    /// `on` / `off`: the setting was different before.
    #[serde(skip_serializing_if = "Option::is_none")]
    changed: Option<bool>,
    revision: u64,
    dir: String,
    files: usize,
    cursor: Option<u64>,
}

/// Mirror files in `dir` now (`rollout-*.jsonl`).
fn mirror_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("rollout-") && name.ends_with(".jsonl")
            })
            .count()
    })
}

pub fn run(global: &GlobalArgs, args: TwoWayArgs) -> Result<ExitCode> {
    let store = super::open_store(global)?;
    let was = mirror::enabled(&store.read()?)?;
    let (enabled, changed) = match args.action {
        TwoWayAction::Status => (was, None),
        TwoWayAction::On | TwoWayAction::Off => {
            let on = args.action == TwoWayAction::On;
            // Without a writer thread: a running server may hold its own,
            // and continues from the revision this commit reaches.
            store.write_control(ControlWrite::SetSetting {
                key: TWO_WAY_SETTING.into(),
                value: on.to_string(),
            })?;
            (on, Some(on != was))
        }
    };
    let reader = store.read()?;
    let dir = mirror_dir(&paths::codex_home()?);
    let out = TwoWay {
        enabled,
        changed,
        revision: reader.revision()?.0,
        files: mirror_files(&dir),
        dir: dir.display().to_string(),
        cursor: reader.cursor(CURSOR_CONSUMER)?.map(|r| r.0),
    };
    if args.json {
        printer::json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut w = std::io::stdout().lock();
    let state = if enabled { "on" } else { "off" };
    match changed {
        Some(true) => writeln!(
            w,
            "two-way: {state} (was {})",
            if was { "on" } else { "off" }
        )?,
        Some(false) => writeln!(w, "two-way: {state} (unchanged)")?,
        None => writeln!(w, "two-way: {state}")?,
    }
    let files = match out.files {
        1 => "1 file".to_string(),
        n => format!("{n} files"),
    };
    writeln!(w, "mirror folder: {} ({files})", out.dir)?;
    match out.cursor {
        Some(c) => writeln!(
            w,
            "mirrored: changes up to revision {c} (store at {})",
            out.revision
        )?,
        None => writeln!(w, "mirrored: nothing yet")?,
    }
    if changed == Some(true) {
        let note = if enabled {
            "a running `tinyvex serve` starts mirroring within a second (Claude Code, OpenCode and \
             Gemini CLI threads, as they change); without one, the next `tinyvex serve` does"
        } else {
            "a running `tinyvex serve` stops mirroring within a second; files already written stay"
        };
        writeln!(w, "{note}")?;
    }
    Ok(ExitCode::SUCCESS)
}
