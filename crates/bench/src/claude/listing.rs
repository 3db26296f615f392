//! Finding the transcript files of a Claude config dir.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Every `.jsonl` file under `dir` (a `projects/` folder), sorted.
pub fn list_jsonl(dir: &Path) -> Result<Vec<PathBuf>> {
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
            if ty.is_dir() {
                stack.push(e.path());
            } else if ty.is_file() && e.file_name().to_string_lossy().ends_with(".jsonl") {
                out.push(e.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

pub(super) fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| {
            if [8, 13, 18, 23].contains(&i) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

/// Session files (`projects/<dir>/<uuid>.jsonl`), sorted.
pub fn list_sessions(config_dir: &Path) -> Result<Vec<PathBuf>> {
    let root = config_dir.join("projects");
    Ok(list_jsonl(&root)?
        .into_iter()
        .filter(|p| {
            p.parent().and_then(Path::parent) == Some(root.as_path())
                && p.file_stem().and_then(|s| s.to_str()).is_some_and(is_uuid)
        })
        .collect())
}

/// True when `dir` looks like a Claude config dir rather than a `CODEX_HOME`.
pub fn is_claude_corpus(dir: &Path) -> bool {
    dir.join("projects").is_dir() && !dir.join("sessions").is_dir()
}
