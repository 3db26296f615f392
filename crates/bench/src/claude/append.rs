//! Continuing existing Claude session files (`gen --append`).

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::append::AppendReport;
use crate::clock::parse_rfc3339;
use crate::rng::Rng;

use super::check::MODELS;
use super::conv::Conv;
use super::listing::list_sessions;
use super::profile::Profile;
use super::Gen;

/// `gen --append` for Claude corpora: continues `opts.files` session files with exactly
/// `opts.lines` lines each (new turns chained to the file's last line; no new sub-agents).
pub fn append(opts: &crate::append::AppendOptions) -> Result<AppendReport> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let all = list_sessions(&opts.dir)?;
    if all.is_empty() {
        bail!("no session files under {}/projects", opts.dir.display());
    }
    let mut total_size = 0u64;
    for p in &all {
        total_size += std::fs::metadata(p)?.len();
    }
    let mut rng = Rng::derive(opts.seed ^ 0xC1A0DE, total_size);
    let mut idx: Vec<usize> = (0..all.len()).collect();
    let k = opts.files.min(all.len());
    for i in 0..k {
        let j = i + rng.below(idx.len() - i);
        idx.swap(i, j);
    }
    let mut report = AppendReport::default();
    for (n, &i) in idx[..k].iter().enumerate() {
        let path = &all[i];
        let file_rng = Rng::derive(rng.next_u64(), n as u64);
        let mut f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        let start = len.saturating_sub(2 << 20);
        f.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        f.read_to_end(&mut tail)?;
        let tail = String::from_utf8_lossy(&tail);
        let mut lines: Vec<&str> = tail.lines().collect();
        if start > 0 && !lines.is_empty() {
            lines.remove(0);
        }
        let sid = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let mut p = Profile {
            gen: Gen::V21,
            session_id: sid,
            cwd: String::new(),
            branch: String::new(),
            version: String::new(),
            model: "claude-opus-4-6",
            entrypoint: "cli",
        };
        let (mut now, mut leaf) = (0, None);
        for l in &lines {
            let Ok(v) = serde_json::from_str::<Value>(l) else {
                continue;
            };
            let s = |k: &str| v.get(k).and_then(Value::as_str);
            if let Some(t) = s("timestamp").and_then(parse_rfc3339) {
                now = now.max(t);
            }
            if let Some(u) = s("uuid") {
                leaf = Some(u.to_string());
            }
            if let Some(x) = s("cwd") {
                p.cwd = x.to_string();
            }
            if let Some(x) = s("version") {
                p.version = x.to_string();
            }
            if let Some(x) = s("gitBranch") {
                p.branch = x.to_string();
            }
            if let Some(m) = v.pointer("/message/model").and_then(Value::as_str) {
                p.model = MODELS
                    .iter()
                    .copied()
                    .find(|k| *k == m)
                    .unwrap_or("claude-opus-4-6");
            }
            if s("entrypoint") == Some("claude-vscode") {
                p.entrypoint = "claude-vscode";
            }
        }
        if p.cwd.is_empty() || p.version.is_empty() {
            bail!(
                "{} does not look like a Claude Code session",
                path.display()
            );
        }
        p.gen = Gen::of_version(&p.version);
        let mut c = Conv::new(p, file_rng, None, now + 60_000, u64::MAX);
        c.spawn_agents = false;
        c.leaf = leaf;
        c.turns = 1;
        while c.out.iter().filter(|&&b| b == b'\n').count() < opts.lines {
            c.turn(usize::MAX);
        }
        let cut = c
            .out
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == b'\n')
            .nth(opts.lines.saturating_sub(1))
            .map_or(0, |(i, _)| i + 1);
        let bytes = if opts.lines == 0 {
            &[][..]
        } else {
            &c.out[..cut]
        };
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)?
            .write_all(bytes)
            .with_context(|| format!("appending to {}", path.display()))?;
        report.bytes += bytes.len() as u64;
        report.lines += opts.lines;
        report.files.push((path.clone(), bytes.len() as u64));
    }
    Ok(report)
}
