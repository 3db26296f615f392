//! `gen --append`: continue existing rollout files with new turns, as an agent resuming
//! or still running a session would (same format, timestamps and ordinals go on).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::clock::parse_rfc3339;
use crate::corpus::list_rollouts;
use crate::rng::Rng;
use crate::session::{Budget, Format, Profile, Resume, Session, Usage};

/// What to append.
#[derive(Debug, Clone)]
pub struct AppendOptions {
    /// The `CODEX_HOME` of an existing corpus.
    pub dir: PathBuf,
    /// How many files to continue.
    pub files: usize,
    /// Exactly this many lines are appended to each file.
    pub lines: usize,
    /// Seed (mixed with the corpus' current size, so repeated appends differ).
    pub seed: u64,
}

/// What was appended.
#[derive(Debug, Clone, Default)]
pub struct AppendReport {
    /// The files continued, with the bytes appended to each.
    pub files: Vec<(PathBuf, u64)>,
    /// Total bytes appended.
    pub bytes: u64,
    /// Total lines appended.
    pub lines: usize,
}

const TAIL: u64 = 2 << 20;

/// Appends `opts.lines` lines of new turns to `opts.files` files of the corpus.
pub fn append(opts: &AppendOptions) -> Result<AppendReport> {
    let all = list_rollouts(&opts.dir.join("sessions"))?;
    if all.is_empty() {
        bail!("no rollout files under {}/sessions", opts.dir.display());
    }
    let mut total_size = 0u64;
    for p in &all {
        total_size += std::fs::metadata(p)?.len();
    }
    let mut rng = Rng::derive(opts.seed, total_size);
    let mut idx: Vec<usize> = (0..all.len()).collect();
    let k = opts.files.min(all.len());
    for i in 0..k {
        let j = i + rng.below(idx.len() - i);
        idx.swap(i, j);
    }
    let mut report = AppendReport::default();
    for (n, &i) in idx[..k].iter().enumerate() {
        let path = &all[i];
        let mut file_rng = Rng::derive(rng.next_u64(), n as u64);
        let bytes = continuation(path, &mut file_rng, opts.lines)?;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        f.write_all(&bytes)
            .with_context(|| format!("appending to {}", path.display()))?;
        report.bytes += bytes.len() as u64;
        report.lines += opts.lines;
        report.files.push((path.clone(), bytes.len() as u64));
    }
    Ok(report)
}

/// The bytes that continue `path` with exactly `lines` lines.
pub fn continuation(path: &Path, rng: &mut Rng, lines: usize) -> Result<Vec<u8>> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let len = f.metadata()?.len();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(&mut f), &mut first)?;
    let meta: Value = serde_json::from_str(first.trim_end())
        .with_context(|| format!("first line of {}", path.display()))?;
    let start = len.saturating_sub(TAIL);
    f.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail)?;
    let tail = String::from_utf8_lossy(&tail);
    let mut tail_lines: Vec<&str> = tail.lines().collect();
    if start > 0 && !tail_lines.is_empty() {
        tail_lines.remove(0); // starts mid-line
    }
    let (profile, resume) = recover(&meta, &tail_lines, rng)
        .with_context(|| format!("{} does not look like a Codex rollout", path.display()))?;
    Ok(Session::new(
        profile,
        rng,
        Some(resume),
        Budget {
            bytes: u64::MAX,
            lines,
        },
    )
    .fill())
}

fn usage_of(v: &Value) -> Usage {
    let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    Usage {
        input: n("input_tokens"),
        cached: n("cached_input_tokens"),
        output: n("output_tokens"),
        reasoning: n("reasoning_output_tokens"),
    }
}

fn leak(s: &str) -> &'static str {
    // Profiles hold `&'static str`s for the few enumerated fields; map back to constants.
    const KNOWN: &[&str] = &[
        "codex_cli_rs",
        "codex_vscode",
        "codex_exec",
        "Codex Desktop",
        "cli",
        "vscode",
        "exec",
        "gpt-5",
        "gpt-5-codex",
        "gpt-5.1-codex",
        "gpt-5.3-codex",
        "gpt-5.4",
        "gpt-5.5",
        "medium",
        "high",
        "xhigh",
        "low",
    ];
    KNOWN.iter().copied().find(|k| *k == s).unwrap_or("unknown")
}

/// Rebuilds the profile and where the file left off from its first line and its tail.
fn recover(meta: &Value, tail: &[&str], rng: &mut Rng) -> Option<(Profile, Resume)> {
    let legacy = meta.get("type").is_none() && meta.get("id").is_some();
    let m = if legacy { meta } else { meta.get("payload")? };
    let cli_version = m
        .get("cli_version")
        .and_then(Value::as_str)
        .unwrap_or("0.25.0")
        .to_string();
    let minor: u32 = cli_version
        .split('.')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let format = if legacy {
        Format::Legacy
    } else if m.get("history_mode").and_then(Value::as_str) == Some("paginated") {
        Format::Paginated
    } else if minor < 50 {
        Format::V040
    } else {
        Format::Current
    };
    let s = |k: &str| {
        m.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut profile = Profile {
        format,
        id: s("id"),
        cwd: if legacy {
            "/home/dev/src/legacy".into()
        } else {
            s("cwd")
        },
        cli_version,
        minor,
        originator: leak(&s("originator")),
        source: leak(&s("source")),
        model: "gpt-5",
        effort: "high",
        start_ms: parse_rfc3339(&s("timestamp")).unwrap_or(0),
        base_instructions: None,
        user_instructions: None,
        developer_instructions: None,
        git_commit: String::new(),
        git_branch: String::new(),
    };
    let mut resume = Resume {
        now: profile.start_ms,
        turns: 1,
        ..Resume::default()
    };
    for line in tail {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if let Some(t) = v
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(parse_rfc3339)
        {
            resume.now = resume.now.max(t);
        }
        if let Some(o) = v.get("ordinal").and_then(Value::as_u64) {
            resume.next_ordinal = resume.next_ordinal.max(o + 1);
        }
        if let Some(h) = v
            .pointer("/metadata/history_sequence")
            .and_then(Value::as_u64)
        {
            resume.history_seq = resume.history_seq.max(h);
        }
        let p = &v["payload"];
        if let Some(t) = p.pointer("/info/total_token_usage") {
            resume.totals = usage_of(t);
        }
        if v["type"] == "turn_context" {
            profile.model = leak(p["model"].as_str().unwrap_or_default());
            profile.effort = leak(p["effort"].as_str().unwrap_or("high"));
            profile.user_instructions = p["user_instructions"].as_str().map(Into::into);
            profile.developer_instructions = p["developer_instructions"].as_str().map(Into::into);
        }
    }
    if legacy {
        // Legacy lines carry no timestamps: continue from "a while after creation".
        resume.now = profile.start_ms + rng.range(60_000, 7_200_000);
    }
    Some((profile, resume))
}
