//! The rollout parser: one line in, normalized events out, following
//! `docs/providers/codex.md`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tinyvex_model::{
    parse_rfc3339_ms, ItemKind, ItemPatch, LineError, ParsedEvent, RawRecord, ThreadPatch,
    TimestampMs,
};

use super::records::{self, Line, Tag, Usage};
use crate::text::{invalid_record, line_text, title_from_prompt};
use crate::{Error, LineParser};

mod events;
mod response;

/// What the parser remembers between lines; saved with the file cursor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct State {
    /// Thread id: the first `session_meta.id`, or the file name's uuid.
    session_id: Option<String>,
    /// A `session_meta` (or legacy meta) was seen; later ones are forks' copies.
    meta_seen: bool,
    /// The file is in the pre-0.31 format (no envelope).
    legacy: bool,
    /// Whether a cwd is known (else the next `turn_context` provides it).
    cwd_known: bool,
    /// A title was emitted.
    titled: bool,
    /// Meta timestamp, the only time legacy files have.
    meta_ts: Option<TimestampMs>,
    /// Turns started so far (one per user item).
    turn: u32,
    /// Cumulative usage when the current turn started.
    turn_start_total: Usage,
    /// Latest cumulative usage seen.
    latest_total: Usage,
    /// `seq` of the current turn's usage item, once it exists.
    usage_seq: Option<i64>,
    /// The file is a copy written by Tinyvex's two-way mirror.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mirror: Option<Mirror>,
}

/// A rollout written by Tinyvex's two-way mirror (`tinyvex_export.mirror`):
/// its own lines are a copy of another agent's thread, already stored, so
/// they make nothing (no thread, no items, no raw records): reading them
/// would duplicate every mirrored thread, and re-read the copy after each
/// rewrite. Lines beyond the marker's count were appended by Codex (the
/// session was resumed): they are read as usual, as a thread of its own
/// that starts with the first of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Mirror {
    /// Mirrored lines still to skip.
    skip: u64,
    /// The first line's thread fields, emitted with the first appended line.
    meta: Option<ThreadPatch>,
}

/// Parses one Codex rollout file (current or legacy format).
pub struct RolloutParser {
    state: State,
}

/// Sort position of the `n`th item produced by the line at `offset`.
fn seq(offset: u64, n: i64) -> i64 {
    offset as i64 * 8 + n
}

fn line_key(offset: u64) -> String {
    format!("L{offset}")
}

/// The uuid at the end of `rollout-<timestamp>-<uuid>.jsonl`.
fn uuid_from_file_name(path: &Path) -> Option<String> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".jsonl")?;
    // A uuid is 36 characters: 8-4-4-4-12 hex digits.
    let cut = stem.len().checked_sub(36)?;
    let tail = stem.get(cut..)?;
    let ok = tail.len() == 36
        && tail.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    ok.then(|| tail.to_string())
}

impl RolloutParser {
    /// A parser for `path`, resumed from a saved state or fresh.
    pub fn resume(path: &Path, state: Option<&str>) -> Result<RolloutParser, Error> {
        let state = match state {
            Some(s) if !s.is_empty() => {
                serde_json::from_str(s).map_err(|source| Error::BadState {
                    path: path.to_path_buf(),
                    source,
                })?
            }
            _ => State {
                session_id: uuid_from_file_name(path),
                ..State::default()
            },
        };
        Ok(RolloutParser { state })
    }

    fn line(
        &mut self,
        offset: u64,
        line: &Line<'_>,
        raw_line: &str,
        out: &mut Vec<ParsedEvent>,
    ) -> String {
        let ts = line.timestamp.as_deref().and_then(parse_rfc3339_ms);
        match (line.kind.as_deref(), line.payload) {
            (Some(kind), Some(payload)) => {
                let tag = Tag::of(payload.get());
                let tag = tag.as_deref();
                match (kind, tag) {
                    ("session_meta", _) => self.session_meta(payload, false, out),
                    ("turn_context", _) => self.turn_context(payload, out),
                    ("response_item", Some(t)) => {
                        self.response_item(offset, ts, t, payload.get(), out)
                    }
                    ("event_msg", Some(t)) => self.event_msg(offset, ts, t, payload, out),
                    _ => {}
                }
                match tag {
                    Some(t) => format!("{kind}:{t}"),
                    None => kind.to_string(),
                }
            }
            (None, None) if line.record_type.is_some() => "legacy:state".to_string(),
            (None, None) if line.id.is_some() && !self.state.meta_seen => {
                self.state.legacy = true;
                if let Ok(raw) = serde_json::from_str::<&RawValue>(raw_line) {
                    self.session_meta(raw, true, out);
                }
                "legacy:session_meta".to_string()
            }
            (Some(kind), None) => {
                let ts = ts.or(self.state.meta_ts);
                self.response_item(offset, ts, kind, raw_line, out);
                format!("legacy:{kind}")
            }
            _ => "unknown".to_string(),
        }
    }

    fn session_meta(&mut self, payload: &RawValue, legacy: bool, out: &mut Vec<ParsedEvent>) {
        if self.state.meta_seen {
            return; // forks embed their parent's meta after their own: the first wins.
        }
        let Ok(meta) = serde_json::from_str::<records::SessionMeta<'_>>(payload.get()) else {
            return;
        };
        self.state.meta_seen = true;
        if let Some(id) = meta.id.as_deref().filter(|s| !s.is_empty()) {
            self.state.session_id = Some(id.to_string());
        }
        let created_at = meta.timestamp.as_deref().and_then(parse_rfc3339_ms);
        if legacy {
            self.state.meta_ts = created_at;
        }
        let parent = meta
            .forked_from_id
            .as_deref()
            .or(meta.parent_thread_id.as_deref())
            .map(str::to_string)
            .or_else(|| {
                let spawn = meta.source.as_ref()?.get("subagent")?.get("thread_spawn")?;
                spawn.get("parent_thread_id")?.as_str().map(str::to_string)
            })
            .or_else(|| meta.tinyvex_export.as_ref()?.source_session.clone());
        let mirrored = meta
            .tinyvex_export
            .as_ref()
            .filter(|m| m.mirror)
            .and_then(|m| m.lines);
        let cwd = meta
            .cwd
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        self.state.cwd_known = cwd.is_some();
        let patch = ThreadPatch {
            cwd,
            git_branch: meta.git.and_then(|g| g.branch).filter(|b| !b.is_empty()),
            created_at,
            parent_session_id: parent,
            agent_version: meta.cli_version.map(|v| v.into_owned()),
            ..ThreadPatch::default()
        };
        if let Some(lines) = mirrored.filter(|_| !legacy) {
            self.state.mirror = Some(Mirror {
                skip: lines,
                meta: Some(patch),
            });
            return;
        }
        if !patch.is_empty() {
            out.push(ParsedEvent::Thread(patch));
        }
    }

    fn turn_context(&mut self, payload: &RawValue, out: &mut Vec<ParsedEvent>) {
        let Ok(tc) = serde_json::from_str::<records::TurnContext<'_>>(payload.get()) else {
            return;
        };
        let mut patch = ThreadPatch {
            model: tc.model.map(|m| m.into_owned()),
            ..ThreadPatch::default()
        };
        if !self.state.cwd_known {
            if let Some(cwd) = tc.cwd.filter(|c| !c.is_empty()) {
                patch.cwd = Some(cwd.into_owned());
                self.state.cwd_known = true;
            }
        }
        if !patch.is_empty() {
            out.push(ParsedEvent::Thread(patch));
        }
    }

    /// A user prompt: starts a turn, titles the thread if it is the first.
    fn user(
        &mut self,
        offset: u64,
        ts: Option<TimestampMs>,
        text: String,
        out: &mut Vec<ParsedEvent>,
    ) {
        if text.trim().is_empty() {
            return;
        }
        self.state.turn += 1;
        self.state.turn_start_total = self.state.latest_total;
        self.state.usage_seq = None;
        if !self.state.titled {
            if let Some(title) = title_from_prompt(&text) {
                self.state.titled = true;
                out.push(ParsedEvent::Thread(ThreadPatch {
                    title: Some(title),
                    ..ThreadPatch::default()
                }));
            }
        }
        out.push(ParsedEvent::Item(ItemPatch::text(
            line_key(offset),
            seq(offset, 0),
            ItemKind::User,
            ts,
            text,
        )));
    }
}

impl LineParser for RolloutParser {
    fn session_id(&self) -> Option<&str> {
        self.state.session_id.as_deref()
    }

    fn parse_line(
        &mut self,
        offset: u64,
        line: &[u8],
        out: &mut Vec<ParsedEvent>,
    ) -> Result<(), LineError> {
        if let Some(mirror) = &mut self.state.mirror {
            if mirror.skip > 0 {
                mirror.skip -= 1;
                return Ok(());
            }
            // The first line Codex appended to a mirror: the thread starts here.
            if let Some(meta) = mirror.meta.take().filter(|m| !m.is_empty()) {
                out.push(ParsedEvent::Thread(meta));
            }
        }
        let text = line_text(offset, line)?;
        let parsed: Line<'_> = serde_json::from_str(text).map_err(|e| {
            out.push(invalid_record(offset, text));
            LineError {
                offset,
                message: format!("not a JSON object: {e}"),
            }
        })?;
        let was_mirror = self.state.mirror.is_some();
        let kind = self.line(offset, &parsed, text, out);
        if !was_mirror && self.state.mirror.is_some() {
            return Ok(()); // the mirror's first line: kept as nothing, like the rest
        }
        out.push(ParsedEvent::Raw(RawRecord {
            offset,
            kind,
            text: text.to_string(),
        }));
        Ok(())
    }

    fn save_state(&self) -> String {
        serde_json::to_string(&self.state).unwrap_or_default()
    }

    fn is_own_copy(&self) -> bool {
        self.state.mirror.is_some()
    }
}

#[cfg(test)]
mod tests;
