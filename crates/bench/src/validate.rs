//! `tinyvex-bench check`: structural checks of a corpus (ours or a real `CODEX_HOME`).
//!
//! Every line is a JSON object; the file name's uuid is the first meta's id and its date
//! directories match the name; `ordinal`s, where present, go up by one; timestamps never go
//! back; every tool output follows its call (same `call_id`) and every call gets an output.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use crate::corpus::list_rollouts;

/// Result of checking a corpus.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Files checked.
    pub files: usize,
    /// Lines checked.
    pub lines: u64,
    /// Bytes checked.
    pub bytes: u64,
    /// Lines per record kind (`type` or `type:payload.type`; legacy: `legacy:<type>`).
    pub kinds: BTreeMap<String, u64>,
    /// Problems found, `path: message` (at most 100 kept).
    pub errors: Vec<String>,
    /// Number of problems found.
    pub error_count: usize,
}

impl CheckReport {
    pub(crate) fn error(&mut self, path: &Path, msg: String) {
        self.error_count += 1;
        if self.errors.len() < 100 {
            self.errors.push(format!("{}: {msg}", path.display()));
        }
    }
}

/// Checks every rollout under `codex_home/sessions`.
pub fn check_corpus(codex_home: &Path) -> Result<CheckReport> {
    let mut r = CheckReport::default();
    for path in list_rollouts(&codex_home.join("sessions"))? {
        let bytes = std::fs::read(&path)?;
        check_file(&path, &bytes, &mut r);
    }
    Ok(r)
}

/// `(date dirs, uuid)` from `.../YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<uuid>.jsonl`.
fn name_parts(path: &Path) -> Option<(String, String, String)> {
    let name = path
        .file_name()?
        .to_str()?
        .strip_prefix("rollout-")?
        .strip_suffix(".jsonl")?;
    let (stamp, uuid) = (name.get(..19)?, name.get(20..)?);
    let dirs: Vec<_> = path
        .iter()
        .rev()
        .skip(1)
        .take(3)
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let dirs = format!("{}-{}-{}", dirs.get(2)?, dirs.get(1)?, dirs.first()?);
    Some((dirs, stamp[..10].to_string(), uuid.to_string()))
}

/// Checks one file's bytes, adding to `r`.
pub fn check_file(path: &Path, bytes: &[u8], r: &mut CheckReport) {
    r.files += 1;
    r.bytes += bytes.len() as u64;
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        r.error(path, "last line has no newline".into());
    }
    let Some((dirs, date, uuid)) = name_parts(path) else {
        r.error(path, "file name is not rollout-<stamp>-<uuid>.jsonl".into());
        return;
    };
    if dirs != date {
        r.error(
            path,
            format!("date directories {dirs} do not match the name's date {date}"),
        );
    }
    let mut last_ordinal: Option<u64> = None;
    let mut last_ts = String::new();
    let mut open_calls: HashSet<String> = HashSet::new();
    let mut legacy = false;
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        r.lines += 1;
        let v: Value = match serde_json::from_slice(line) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                r.error(path, format!("line {}: not an object", n + 1));
                continue;
            }
            Err(e) => {
                r.error(path, format!("line {}: {e}", n + 1));
                continue;
            }
        };
        if n == 0 {
            legacy = v.get("type").is_none();
            let id = if legacy {
                v.get("id")
            } else {
                v.pointer("/payload/id")
            };
            if !legacy && v["type"] != "session_meta" {
                r.error(path, "first line is not a session_meta".into());
            }
            if id.and_then(Value::as_str) != Some(uuid.as_str()) {
                r.error(
                    path,
                    format!("meta id {:?} is not the file name's uuid {uuid}", id),
                );
            }
        }
        let item = if legacy { &v } else { &v["payload"] };
        let kind = match (legacy, v.get("record_type")) {
            (true, Some(_)) => "legacy:state".to_string(),
            (true, None) => format!("legacy:{}", item["type"].as_str().unwrap_or("meta")),
            (false, _) => match item.get("type").and_then(Value::as_str) {
                Some(t) => format!("{}:{t}", v["type"].as_str().unwrap_or("?")),
                None => v["type"].as_str().unwrap_or("?").to_string(),
            },
        };
        *r.kinds.entry(kind).or_default() += 1;
        match (v.get("ordinal").and_then(Value::as_u64), last_ordinal) {
            (Some(o), Some(prev)) if o != prev + 1 => {
                r.error(path, format!("line {}: ordinal {o} after {prev}", n + 1))
            }
            (None, Some(_)) => r.error(path, format!("line {}: ordinal missing", n + 1)),
            _ => {}
        }
        if let Some(o) = v.get("ordinal").and_then(Value::as_u64) {
            last_ordinal = Some(o);
        }
        if let Some(ts) = v
            .get("timestamp")
            .and_then(Value::as_str)
            .filter(|_| !legacy)
        {
            if ts < last_ts.as_str() {
                r.error(
                    path,
                    format!("line {}: timestamp {ts} before {last_ts}", n + 1),
                );
            }
            last_ts = ts.to_string();
        }
        let call_id = item.get("call_id").and_then(Value::as_str);
        match (item.get("type").and_then(Value::as_str), call_id) {
            (Some("function_call" | "custom_tool_call"), Some(c))
                if !open_calls.insert(c.to_string()) =>
            {
                r.error(path, format!("line {}: call_id {c} used twice", n + 1));
            }
            (Some("function_call_output" | "custom_tool_call_output"), Some(c))
                if !open_calls.remove(c) =>
            {
                r.error(
                    path,
                    format!("line {}: output for unknown call_id {c}", n + 1),
                );
            }
            _ => {}
        }
    }
    if !open_calls.is_empty() {
        r.error(
            path,
            format!("{} calls without an output", open_calls.len()),
        );
    }
}
