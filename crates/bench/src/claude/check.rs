//! Checking a Claude Code corpus for the shapes Tinyvex relies on.

use std::collections::HashSet;
use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use crate::clock::parse_rfc3339;
use crate::validate::CheckReport;

use super::listing::{is_uuid, list_jsonl};

pub(super) const MODELS: &[&str] = &[
    "claude-sonnet-4-20250514",
    "claude-opus-4-1-20250805",
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-5-20251101",
    "claude-opus-4-6",
    "claude-sonnet-4-6",
];

/// Checks every `.jsonl` under `config_dir/projects`: JSON objects, `sessionId` = file name
/// for session files, sub-agent files all sidechain with their `agentId` (and a valid
/// `.meta.json` in the 2.1 layout), `parentUuid`s point to earlier lines, every `tool_result`
/// answers an earlier `tool_use` of the same file, timestamps are RFC 3339.
pub fn check_corpus(config_dir: &Path) -> Result<CheckReport> {
    let mut r = CheckReport::default();
    for path in list_jsonl(&config_dir.join("projects"))? {
        let bytes = std::fs::read(&path)?;
        check_file(&path, &bytes, &mut r);
    }
    Ok(r)
}

/// Checks one Claude file's bytes, adding to `r`.
pub fn check_file(path: &Path, bytes: &[u8], r: &mut CheckReport) {
    r.files += 1;
    r.bytes += bytes.len() as u64;
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        r.error(path, "last line has no newline".into());
    }
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    let agent = stem.strip_prefix("agent-").map(str::to_string);
    let in_subagents = path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n == "subagents");
    if agent.is_none() && !is_uuid(&stem) {
        r.error(
            path,
            "file name is neither <uuid>.jsonl nor agent-<id>.jsonl".into(),
        );
    }
    if let (Some(a), true) = (&agent, in_subagents) {
        let meta = path.with_file_name(format!("agent-{a}.meta.json"));
        match std::fs::read(&meta) {
            Ok(b) if serde_json::from_slice::<Value>(&b).is_ok_and(|v| v.is_object()) => {}
            Ok(_) => r.error(path, format!("{} is not a JSON object", meta.display())),
            Err(_) => r.error(path, format!("no {}", meta.display())),
        }
    }
    let parent_dir_session = in_subagents
        .then(|| {
            path.parent()?
                .parent()?
                .file_name()?
                .to_str()
                .map(str::to_string)
        })
        .flatten();
    let mut uuids: HashSet<String> = HashSet::new();
    let mut tool_uses: HashSet<String> = HashSet::new();
    let mut session: Option<String> = None;
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
        let ty = v["type"].as_str().unwrap_or("?");
        let content = v.pointer("/message/content");
        let first_block = content
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(|b| b["type"].as_str());
        let kind = match (ty, first_block) {
            ("system", _) => format!("system:{}", v["subtype"].as_str().unwrap_or("?")),
            ("assistant", Some(b)) => format!("assistant:{b}"),
            ("user", Some("tool_result")) => "user:tool_result".into(),
            ("attachment", _) => format!(
                "attachment:{}",
                v["attachment"]["type"].as_str().unwrap_or("?")
            ),
            _ => ty.to_string(),
        };
        *r.kinds.entry(kind).or_default() += 1;
        if let Some(sid) = v.get("sessionId").and_then(Value::as_str) {
            if agent.is_none() && sid != stem {
                r.error(
                    path,
                    format!("line {}: sessionId {sid} is not the file name", n + 1),
                );
            }
            match &session {
                Some(s) if s != sid => {
                    r.error(path, format!("line {}: sessionId {sid} after {s}", n + 1))
                }
                None => {
                    if let Some(d) = &parent_dir_session {
                        if d != sid {
                            r.error(path, format!("sessionId {sid} is not the folder's {d}"));
                        }
                    }
                    session = Some(sid.to_string());
                }
                _ => {}
            }
        }
        if let Some(a) = &agent {
            if v.get("uuid").is_some() {
                if v["isSidechain"] != true {
                    r.error(
                        path,
                        format!("line {}: not isSidechain in a sub-agent file", n + 1),
                    );
                }
                if v["agentId"].as_str().is_some_and(|x| x != a) {
                    r.error(
                        path,
                        format!("line {}: agentId is not the file's {a}", n + 1),
                    );
                }
            }
        }
        if let Some(ts) = v.get("timestamp").and_then(Value::as_str) {
            if parse_rfc3339(ts).is_none() {
                r.error(path, format!("line {}: bad timestamp {ts}", n + 1));
            }
        }
        if let Some(p) = v.get("parentUuid").and_then(Value::as_str) {
            if !uuids.contains(p) {
                r.error(
                    path,
                    format!("line {}: parentUuid {p} not seen before", n + 1),
                );
            }
        }
        if let Some(u) = v.get("uuid").and_then(Value::as_str) {
            uuids.insert(u.to_string());
        }
        for b in content.and_then(Value::as_array).into_iter().flatten() {
            match b["type"].as_str() {
                Some("tool_use") => {
                    if let Some(id) = b["id"].as_str() {
                        tool_uses.insert(id.to_string());
                    }
                }
                Some("tool_result") => {
                    let id = b["tool_use_id"].as_str().unwrap_or_default();
                    if !tool_uses.contains(id) {
                        r.error(
                            path,
                            format!("line {}: tool_result for unknown tool_use {id}", n + 1),
                        );
                    }
                }
                _ => {}
            }
        }
    }
}
