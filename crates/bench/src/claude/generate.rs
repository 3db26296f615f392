//! Generating a whole Claude Code corpus.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::clock::Millis;
use crate::corpus::{GenOptions, Tally};
use crate::rng::Rng;

use super::conv::Conv;
use super::profile::{profile, projects, Profile};
use super::{escape_cwd, ClaudeReport, Gen};

/// Writes one whole session (and its sub-agent files) of about `budget` bytes.
pub(super) fn session(p: Profile, rng: Rng, start: Millis, budget: u64) -> Conv {
    let mut c = Conv::new(p, rng, None, start, budget);
    if c.p.gen != Gen::V21 {
        c.summaries();
    }
    loop {
        c.turn(usize::MAX);
        if c.over() {
            break;
        }
        // Idle time between turns: minutes to a day.
        c.now += c.rng.range(10_000, 3_600_000);
    }
    c
}

/// Generates a Claude Code corpus under `opts.out/projects/`; `progress` is called after each
/// session with the bytes written so far.
pub fn generate(opts: &GenOptions, mut progress: impl FnMut(u64)) -> Result<ClaudeReport> {
    let started = Instant::now();
    let n = opts
        .files
        .unwrap_or_else(|| (opts.size / opts.avg_file_size.max(1)).max(1) as usize)
        .max(1);
    let avg = opts.size as f64 / n as f64;
    let sigma = 1.0;
    let mut plan_rng = Rng::derive(opts.seed ^ 0xC1A0DE, u64::MAX);
    let planned: Vec<f64> = (0..n)
        .map(|_| {
            plan_rng.lognormal(
                avg * (-sigma * sigma / 2.0f64).exp(),
                sigma,
                1,
                (avg * 40.0) as usize,
            ) as f64
        })
        .collect();
    let mut remaining_planned: f64 = planned.iter().sum();
    let projects = projects(opts.seed);
    let mut used_projects = HashSet::new();
    let mut report = ClaudeReport {
        total: Tally::default(),
        by_gen: BTreeMap::new(),
        sessions: 0,
        projects: 0,
        min_max_file: (u64::MAX, 0),
        elapsed: Duration::ZERO,
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<(PathBuf, Vec<u8>)>(16);
    let writer = std::thread::spawn(move || -> Result<()> {
        let mut created_dirs = HashSet::new();
        for (path, bytes) in rx {
            let dir = path.parent().expect("corpus paths have a parent");
            if created_dirs.insert(dir.to_path_buf()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    });
    for (i, plan) in planned.iter().enumerate() {
        let remaining = opts.size.saturating_sub(report.total.bytes) as f64;
        let target = (plan * remaining / remaining_planned.max(1.0)).max(1.0) as u64;
        remaining_planned -= plan;
        let mut rng = Rng::derive(opts.seed ^ 0xC1A0DE, i as u64);
        let (p, start) = profile(&mut rng, &projects);
        let dir = opts.out.join("projects").join(escape_cwd(&p.cwd));
        used_projects.insert(dir.clone());
        let gen = p.gen;
        let main = dir.join(format!("{}.jsonl", p.session_id));
        let c = session(p, rng, start, target);
        let mut files = vec![(main, c.out)];
        files.extend(c.files.into_iter().map(|(rel, b)| (dir.join(rel), b)));
        report.sessions += 1;
        for (path, bytes) in files {
            let jsonl = path.extension().is_some_and(|e| e == "jsonl");
            let len = bytes.len() as u64;
            let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            if tx.send((path, bytes)).is_err() {
                break; // the writer failed: its error is returned below
            }
            if !jsonl {
                continue;
            }
            for t in [&mut report.total, report.by_gen.entry(gen).or_default()] {
                t.files += 1;
                t.bytes += len;
                t.lines += lines;
            }
            report.min_max_file = (
                report.min_max_file.0.min(len),
                report.min_max_file.1.max(len),
            );
        }
        progress(report.total.bytes);
    }
    drop(tx);
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("the writer thread panicked"))??;
    report.projects = used_projects.len();
    report.elapsed = started.elapsed();
    Ok(report)
}
