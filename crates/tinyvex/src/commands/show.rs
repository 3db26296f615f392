//! `tinyvex show`: one thread and its items.

use std::process::ExitCode;

use std::io::Write;

use anyhow::{bail, Result};
use serde::Serialize;
use tinyvex_store::{ItemQuery, ItemRow, ThreadRow};

use crate::cli::{GlobalArgs, ShowArgs};
use crate::printer;

#[derive(Serialize)]
struct Shown<'a> {
    thread: &'a ThreadRow,
    items: &'a [ItemRow],
}

pub fn run(global: &GlobalArgs, args: ShowArgs) -> Result<ExitCode> {
    let store = super::open_store(global)?;
    let reader = store.read()?;
    let mut out = std::io::stdout().lock();
    let Some(thread) = reader.thread(&args.thread)? else {
        bail!(
            "no thread matches `{}`\nhint: `tinyvex threads` lists thread ids",
            args.thread
        );
    };
    let query = match args.tail {
        Some(n) => ItemQuery::Tail(n),
        None => ItemQuery::All,
    };
    let items = reader.items(&thread.id, query)?;
    if args.json {
        printer::json(&Shown {
            thread: &thread,
            items: &items,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{} · {}",
        thread.title.as_deref().unwrap_or("(untitled)"),
        thread.id
    )?;
    writeln!(
        out,
        "{} · {} · {} items{}",
        thread.provider,
        thread.cwd.as_deref().unwrap_or("-"),
        thread.item_count,
        thread
            .model
            .as_deref()
            .map(|m| format!(" · {m}"))
            .unwrap_or_default()
    )?;
    for item in &items {
        writeln!(out)?;
        match item.kind.as_str() {
            "tool_call" => {
                let name = item.name.as_deref().unwrap_or("tool");
                let what = item
                    .command
                    .as_deref()
                    .or(item.input.as_deref())
                    .unwrap_or("");
                writeln!(out, "▶ {name}: {}", printer::clip(what, 200))?;
                if let Some(output) = &item.output {
                    for line in output.lines().take(12) {
                        writeln!(out, "  │ {}", printer::clip(line, 160))?;
                    }
                    if output.lines().count() > 12 {
                        writeln!(out, "  │ …")?;
                    }
                }
                if let Some(code) = item.exit_code {
                    writeln!(out, "  └ exit {code}")?;
                }
            }
            "usage" => {
                let total = item
                    .data
                    .as_ref()
                    .and_then(|d| d.get("total_tokens"))
                    .and_then(|v| v.as_i64());
                writeln!(
                    out,
                    "· tokens this turn: {}",
                    total.map_or("?".to_string(), |t| t.to_string())
                )?;
            }
            kind => {
                let label = match kind {
                    "user" => "USER",
                    "assistant" => "ASSISTANT",
                    "reasoning" => "reasoning",
                    "plan" => "PLAN",
                    "error" => "ERROR",
                    other => other,
                };
                writeln!(out, "{label}:")?;
                for line in item.text.as_deref().unwrap_or("").lines() {
                    writeln!(out, "  {line}")?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
