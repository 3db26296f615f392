//! `tinyvex export`: write a thread as a Codex rollout or a Claude Code
//! transcript, where that agent looks for sessions (`docs/export.md`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use tinyvex_export::{
    codex_model_provider, export, unstored_notes, write_export, ExportKind, ExportOptions,
    NotCarried, Target,
};
use tinyvex_store::ItemQuery;

use crate::cli::{ExportArgs, ExportTo, GlobalArgs};
use crate::{paths, printer};

/// The `--json` output (`docs/cli.md`).
#[derive(Serialize)]
struct Exported<'a> {
    target: Target,
    source_thread: &'a str,
    path: String,
    session_id: &'a str,
    cwd: &'a str,
    resume_command: String,
    lines: usize,
    replaced: bool,
    unchanged: bool,
    not_carried: &'a [NotCarried],
}

pub fn run(global: &GlobalArgs, args: ExportArgs) -> Result<ExitCode> {
    let store = super::open_store(global)?;
    let reader = store.read()?;
    let Some(thread) = reader.thread(&args.thread)? else {
        bail!(
            "no thread matches `{}`\nhint: `tinyvex threads` lists thread ids",
            args.thread
        );
    };
    let items = reader.items(&thread.id, ItemQuery::All)?;
    let (target, root) = match args.to {
        ExportTo::Codex => (Target::Codex, paths::codex_home()),
        ExportTo::Claude => (Target::Claude, paths::claude_config_dir()),
    };
    let options = ExportOptions {
        cwd: args.cwd.clone(),
        codex_model_provider: match (target, &root) {
            (Target::Codex, Ok(home)) => codex_model_provider(home),
            _ => None,
        },
        utc_offset_minutes: None,
        kind: ExportKind::Export,
    };
    let mut exported = export(&thread, &items, target, &options).map_err(|e| match e {
        tinyvex_export::Error::NoCwd { .. } => {
            anyhow::anyhow!("{e}\nhint: pass --cwd DIR (the folder the session should continue in)")
        }
        e => e.into(),
    })?;
    // What only the raw event log holds (images, attached files) is not
    // exported either: say so.
    if let Ok(provider) = thread.provider.parse::<tinyvex_model::ProviderKind>() {
        for file in &thread.source_files {
            let records = reader.raw_records(provider, file)?;
            exported.not_carried.extend(unstored_notes(
                &thread.provider,
                &thread.session_id,
                &records,
            ));
        }
    }
    let dir: PathBuf = match &args.out {
        Some(out) => out.clone(),
        None => root?.join(&exported.dir),
    };
    let path = dir.join(&exported.file_name);
    // Never write into the source agent's files (the ids differ, so only a
    // perverse --out could get here).
    if thread
        .source_files
        .iter()
        .any(|f| Path::new(f) == path.as_path())
    {
        bail!(
            "{} is a source file of {}; refusing to write into it",
            path.display(),
            thread.id
        );
    }
    let written = write_export(&path, &exported)
        .with_context(|| format!("cannot export {} to {target}", thread.id))?;
    let out = Exported {
        target,
        source_thread: &thread.id,
        path: written.path.display().to_string(),
        session_id: &exported.session_id,
        cwd: &exported.cwd,
        resume_command: exported.resume_command(),
        lines: exported.lines.len(),
        replaced: written.replaced,
        unchanged: written.unchanged,
        not_carried: &exported.not_carried,
    };
    if args.json {
        printer::json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut w = std::io::stdout().lock();
    let what = if written.unchanged {
        "unchanged"
    } else if written.replaced {
        "replaced the earlier export"
    } else {
        "new"
    };
    writeln!(
        w,
        "exported {} to {target}: {} ({} lines, {what})",
        thread.id, out.path, out.lines
    )?;
    writeln!(w, "session id: {}", exported.session_id)?;
    match target {
        Target::Codex => writeln!(w, "resume:     {}", out.resume_command)?,
        Target::Claude => writeln!(
            w,
            "resume:     cd {} && {}   (Claude Code finds sessions by working directory)",
            exported.cwd, out.resume_command
        )?,
    }
    if args.out.is_some() {
        writeln!(
            w,
            "note: written with --out; the agent only finds it under {}",
            exported.dir.display()
        )?;
    }
    if exported.not_carried.is_empty() {
        writeln!(w, "everything was carried over")?;
    } else {
        writeln!(w, "not carried over:")?;
        for note in &exported.not_carried {
            writeln!(w, "  {note}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
