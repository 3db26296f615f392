//! Writing a whole corpus: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<stamp>-<uuid>.jsonl`
//! files of a log-normal size distribution, in a realistic mix of formats, adding up to the
//! requested total size. Deterministic for a given seed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::clock::{date_dirs, date_ms, file_stamp, Millis};
use crate::rng::Rng;
use crate::session::{Budget, Format, Profile, Session};
use crate::text;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// The `CODEX_HOME` to write into (files go under `sessions/`).
    pub out: PathBuf,
    /// Total bytes to write (met within a few percent).
    pub size: u64,
    /// Number of files; when `None`, `size / avg_file_size`.
    pub files: Option<usize>,
    /// Mean file size when `files` is not given.
    pub avg_file_size: u64,
    /// Seed: the same seed and options give byte-identical corpora.
    pub seed: u64,
}

/// Per-format share of files, in percent: mostly current envelope files, a fifth paginated
/// 0.16x files, a fifth 0.40-era files, a few pre-envelope legacy files.
pub const FORMAT_MIX: [(Format, u32); 4] = [
    (Format::Legacy, 5),
    (Format::V040, 20),
    (Format::Current, 55),
    (Format::Paginated, 20),
];

/// Files and bytes of one format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    /// Files.
    pub files: usize,
    /// Bytes.
    pub bytes: u64,
    /// Lines.
    pub lines: u64,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct GenReport {
    /// Totals.
    pub total: Tally,
    /// Totals per format.
    pub by_format: BTreeMap<Format, Tally>,
    /// Smallest and largest file.
    pub min_max_file: (u64, u64),
    /// Wall time.
    pub elapsed: Duration,
}

impl GenReport {
    /// A JSON summary.
    pub fn to_json(&self) -> serde_json::Value {
        let by: serde_json::Map<String, serde_json::Value> = self
            .by_format
            .iter()
            .map(|(f, t)| {
                (
                    f.name().to_string(),
                    serde_json::json!({"files": t.files, "bytes": t.bytes, "lines": t.lines}),
                )
            })
            .collect();
        serde_json::json!({
            "files": self.total.files, "bytes": self.total.bytes, "lines": self.total.lines,
            "by_format": by, "smallest_file": self.min_max_file.0, "largest_file": self.min_max_file.1,
            "seconds": self.elapsed.as_secs_f64(),
        })
    }
}

/// Shared texts: base instructions per CLI version, AGENTS.md per project.
struct Texts {
    seed: u64,
    base: HashMap<u32, Arc<str>>,
    developer: HashMap<u32, Arc<str>>,
    agents_md: HashMap<usize, Arc<str>>,
}

impl Texts {
    fn base(&mut self, minor: u32) -> Arc<str> {
        let seed = self.seed;
        self.base
            .entry(minor)
            .or_insert_with(|| {
                let mut r = Rng::derive(seed ^ 0xBA5E, minor.into());
                text::instructions(&mut r, 13_000 + minor.saturating_sub(50) as usize * 80).into()
            })
            .clone()
    }

    fn developer(&mut self, minor: u32) -> Arc<str> {
        let seed = self.seed;
        self.developer
            .entry(minor)
            .or_insert_with(|| {
                let mut r = Rng::derive(seed ^ 0xDE5, minor.into());
                let n = r.lognormal(2_500.0, 0.8, 500, 7_000);
                text::prose(&mut r, n).into()
            })
            .clone()
    }

    fn agents_md(&mut self, project: usize) -> Arc<str> {
        let seed = self.seed;
        self.agents_md
            .entry(project)
            .or_insert_with(|| {
                let mut r = Rng::derive(seed ^ 0xA6E, project as u64);
                let n = r.lognormal(3_000.0, 0.6, 600, 9_000);
                text::markdown(&mut r, n).into()
            })
            .clone()
    }
}

const USERS: &[&str] = &["dev", "alice", "jnarowski", "mchen", "sam"];
const PROJECTS: &[&str] = &[
    "tinyvex",
    "monorepo-v2",
    "billing-service",
    "web-dashboard",
    "ml-pipeline",
    "infra",
    "mobile-app",
    "cli-tools",
    "docs-site",
    "payments",
    "search-api",
    "data-ingest",
];
const BRANCHES: &[&str] = &[
    "main",
    "master",
    "feat/team-optimization",
    "fix/cursor-offsets",
    "refactor/store",
    "dev",
];

/// Draws the profile of one file: format, date, version, ids and texts.
fn profile(rng: &mut Rng, texts: &mut Texts) -> Profile {
    let weights: Vec<u32> = FORMAT_MIX.iter().map(|(_, w)| *w).collect();
    let format = FORMAT_MIX[rng.weighted(&weights)].0;
    let (from, to, minors) = match format {
        Format::Legacy => (date_ms(2025, 8, 5), date_ms(2025, 9, 8), (20, 30)),
        Format::V040 => (date_ms(2025, 9, 10), date_ms(2025, 10, 31), (31, 47)),
        Format::Current => (date_ms(2025, 11, 1), date_ms(2026, 9, 30), (50, 149)),
        Format::Paginated => (date_ms(2026, 10, 1), date_ms(2026, 11, 20), (150, 169)),
    };
    let frac = rng.unit();
    let start_ms: Millis = from + ((to - from) as f64 * frac) as u64;
    let minor = minors.0 + ((minors.1 - minors.0) as f64 * frac) as u32;
    let id = if format == Format::Legacy {
        text::uuid_v4(rng)
    } else {
        text::uuid_v7(rng, start_ms)
    };
    let project = rng.below(PROJECTS.len());
    let user = rng.pick(USERS);
    let cwd = if rng.chance(0.5) {
        format!("/Users/{user}/Dev/{}", PROJECTS[project])
    } else {
        format!("/home/{user}/src/{}", PROJECTS[project])
    };
    let (originator, source) = match (format, rng.below(10)) {
        (Format::Legacy, _) | (Format::V040, 0..=4) => ("codex_cli_rs", "cli"),
        (Format::V040, _) | (Format::Current, 0..=1) => ("codex_vscode", "vscode"),
        (_, 2..=3) => ("Codex Desktop", "vscode"),
        (_, 4) => ("codex_exec", "exec"),
        _ => ("codex_cli_rs", "cli"),
    };
    let model = match format {
        Format::Legacy => "gpt-5",
        Format::V040 => *rng.pick(&["gpt-5-codex", "gpt-5-codex", "gpt-5"]),
        Format::Current if minor < 90 => "gpt-5.1-codex",
        Format::Current if minor < 120 => "gpt-5.3-codex",
        Format::Current => "gpt-5.4",
        Format::Paginated => "gpt-5.5",
    };
    let envelope_new = matches!(format, Format::Current | Format::Paginated);
    let base_instructions = envelope_new.then(|| texts.base(minor));
    let user_instructions =
        (format == Format::Current && rng.chance(0.5)).then(|| texts.agents_md(project));
    let developer_instructions =
        (format == Format::Current && rng.chance(0.4)).then(|| texts.developer(minor));
    Profile {
        format,
        id,
        cwd,
        cli_version: format!("0.{minor}.0"),
        minor,
        originator,
        source,
        model,
        effort: ["medium", "high", "high", "xhigh"][rng.below(4)],
        start_ms,
        base_instructions,
        user_instructions,
        developer_instructions,
        git_commit: format!(
            "{:016x}{:016x}{:08x}",
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64() as u32
        ),
        git_branch: (*rng.pick(BRANCHES)).to_string(),
    }
}

/// The path of a rollout file under `codex_home`.
pub fn rollout_path(codex_home: &Path, start_ms: Millis, id: &str) -> PathBuf {
    codex_home
        .join("sessions")
        .join(date_dirs(start_ms))
        .join(format!("rollout-{}-{id}.jsonl", file_stamp(start_ms)))
}

/// Generates a corpus as described by `opts`; `progress` is called after each file with
/// the bytes written so far.
pub fn generate(opts: &GenOptions, mut progress: impl FnMut(u64)) -> Result<GenReport> {
    let started = Instant::now();
    let n = opts
        .files
        .unwrap_or_else(|| (opts.size / opts.avg_file_size.max(1)).max(1) as usize)
        .max(1);
    let avg = opts.size as f64 / n as f64;
    let sigma = 1.0;
    let mut plan_rng = Rng::derive(opts.seed, u64::MAX);
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
    let mut texts = Texts {
        seed: opts.seed,
        base: HashMap::new(),
        developer: HashMap::new(),
        agents_md: HashMap::new(),
    };
    let mut report = GenReport {
        total: Tally::default(),
        by_format: BTreeMap::new(),
        min_max_file: (u64::MAX, 0),
        elapsed: Duration::ZERO,
    };
    // Files are written on a second thread so generation and I/O overlap.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(PathBuf, Vec<u8>)>(8);
    let writer = std::thread::spawn(move || -> Result<()> {
        let mut created_dirs = std::collections::HashSet::new();
        for (path, bytes) in rx {
            let dir = path.parent().expect("rollout paths have a parent");
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
        let mut rng = Rng::derive(opts.seed, i as u64);
        let p = profile(&mut rng, &mut texts);
        let path = rollout_path(&opts.out, p.start_ms, &p.id);
        let format = p.format;
        let bytes = Session::new(
            p,
            &mut rng,
            None,
            Budget {
                bytes: target,
                lines: usize::MAX,
            },
        )
        .fill();
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        let len = bytes.len() as u64;
        if tx.send((path, bytes)).is_err() {
            break; // the writer failed: its error is returned below
        }
        for t in [
            &mut report.total,
            report.by_format.entry(format).or_default(),
        ] {
            t.files += 1;
            t.bytes += len;
            t.lines += lines;
        }
        report.min_max_file = (
            report.min_max_file.0.min(len),
            report.min_max_file.1.max(len),
        );
        progress(report.total.bytes);
    }
    drop(tx);
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("the writer thread panicked"))??;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Every rollout file (`rollout-*.jsonl`) under `dir`, sorted.
pub fn list_rollouts(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if d != dir && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", d.display())),
        };
        for e in entries {
            let e = e?;
            let ty = e.file_type()?;
            let name = e.file_name();
            let name = name.to_string_lossy();
            if ty.is_dir() {
                stack.push(e.path());
            } else if ty.is_file() && name.starts_with("rollout-") && name.ends_with(".jsonl") {
                out.push(e.path());
            }
        }
    }
    out.sort();
    Ok(out)
}
