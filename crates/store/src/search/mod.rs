//! Full-text search over items, on the FTS5 index of migration 4.
//!
//! [`SearchQuery::parse`] reads the query language ([`parse`]);
//! [`Reader::search`] runs it: FTS5 finds and ranks candidates by BM25
//! (commands weigh more than text, outputs less), filters run in the same
//! SQL statement, then a recency boost reorders the candidates and the
//! best hits get a snippet with their matches marked.

use std::str::FromStr;

use rusqlite::types::Value;
use serde::Serialize;
use tinyvex_model::{format_ms, item_id, now_ms, ProviderKind, Revision, TimestampMs};

use crate::{Reader, Result};

pub mod parse;

pub use parse::QueryError;

/// Most hits one search returns.
pub const MAX_HITS: usize = 500;

/// Which items a search looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// What the user wrote.
    User,
    /// What the agent answered.
    Assistant,
    /// The agent's reasoning.
    Reasoning,
    /// Tool calls: commands and their output.
    Tool,
    /// Plans.
    Plan,
    /// Errors.
    Error,
}

impl SearchKind {
    fn item_kind(self) -> &'static str {
        match self {
            SearchKind::User => "user",
            SearchKind::Assistant => "assistant",
            SearchKind::Reasoning => "reasoning",
            SearchKind::Tool => "tool_call",
            SearchKind::Plan => "plan",
            SearchKind::Error => "error",
        }
    }
}

impl FromStr for SearchKind {
    type Err = &'static str;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(match s {
            "user" => SearchKind::User,
            "assistant" => SearchKind::Assistant,
            "reasoning" => SearchKind::Reasoning,
            "tool" | "tool_call" => SearchKind::Tool,
            "plan" => SearchKind::Plan,
            "error" => SearchKind::Error,
            _ => return Err("one of user, assistant, reasoning, tool, plan, error"),
        })
    }
}

/// A parsed search: the FTS5 expression plus filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// FTS5 match expression, built by [`SearchQuery::parse`] (every term
    /// quoted: never raw user input).
    pub fts: String,
    /// Only this provider.
    pub provider: Option<ProviderKind>,
    /// Only threads whose working directory is this folder or below it.
    pub cwd: Option<String>,
    /// Only this thread (its id; resolve prefixes and aliases first).
    pub thread: Option<String>,
    /// Only items at or after this time.
    pub after: Option<TimestampMs>,
    /// Only items before this time.
    pub before: Option<TimestampMs>,
    /// Only these kinds (empty: all).
    pub kinds: Vec<SearchKind>,
    /// Only items changed after this revision (live search).
    pub changed_after: Option<Revision>,
    /// Most hits (clamped to 1..=[`MAX_HITS`]).
    pub limit: usize,
}

impl SearchQuery {
    /// Parse the query language (see [`parse`]) with a limit of 20.
    pub fn parse(input: &str) -> std::result::Result<SearchQuery, QueryError> {
        let mut q = SearchQuery {
            limit: 20,
            ..SearchQuery::default()
        };
        parse::parse_into(input, &mut q, now_ms())?;
        Ok(q)
    }
}

/// One matching item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchHit {
    /// The item's thread.
    pub thread_id: String,
    /// The item.
    pub item_id: String,
    /// Item kind (`user`, `assistant`, `reasoning`, `tool_call`, ...).
    pub kind: String,
    /// Position in the thread.
    pub seq: i64,
    /// Item time, RFC 3339.
    pub ts: Option<String>,
    /// Relevance with the recency boost; higher is better.
    pub score: f64,
    /// A fragment around the matches, plain text.
    pub snippet: String,
    /// Matched ranges of `snippet`, as `[start, end)` offsets in Unicode
    /// characters.
    pub highlights: Vec<[usize; 2]>,
    /// The thread's provider.
    pub provider: String,
    /// The thread's title.
    pub thread_title: Option<String>,
    /// The thread's working directory.
    pub cwd: Option<String>,
    /// Revision of the item's last change.
    pub revision: u64,
}

/// BM25 column weights: text, command, output. A command is short and
/// says what was done; outputs are long and noisy.
const RANK: &str = "bm25(1.0, 2.0, 0.5)";

/// Recency factor: 1.5 for an item of today, 1.25 at a month, towards 1.
fn recency(ts: Option<TimestampMs>, now: TimestampMs) -> f64 {
    let Some(ts) = ts else { return 1.0 };
    let days = ((now - ts).max(0) as f64) / 86_400_000.0;
    1.0 + 0.5 / (1.0 + days / 30.0)
}

/// Turn FTS5 `snippet()` output with \x02 / \x03 markers into plain text
/// and character ranges.
fn highlights(marked: &str) -> (String, Vec<[usize; 2]>) {
    let mut text = String::with_capacity(marked.len());
    let mut ranges = Vec::new();
    let mut chars = 0;
    let mut start = None;
    for c in marked.chars() {
        match c {
            '\u{2}' => start = Some(chars),
            '\u{3}' => {
                if let Some(s) = start.take() {
                    ranges.push([s, chars]);
                }
            }
            c => {
                text.push(c);
                chars += 1;
            }
        }
    }
    (text, ranges)
}

struct Candidate {
    rowid: i64,
    score: f64,
    hit: SearchHit,
}

impl Reader {
    /// Parse `input` (the query language), resolve its `thread:` filter
    /// (id, alias, session id or unique prefix) and run it.
    pub fn search_text(
        &self,
        input: &str,
        limit: usize,
        changed_after: Option<Revision>,
    ) -> Result<Vec<SearchHit>> {
        let mut q = SearchQuery::parse(input)?;
        q.limit = limit;
        q.changed_after = changed_after;
        if let Some(thread) = q.thread.take() {
            let row = self.thread(&thread)?;
            q.thread = Some(row.ok_or(QueryError::UnknownThread(thread))?.id);
        }
        self.search(&q)
    }

    /// Run a search; hits best first. Every filter is applied in SQL.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        let limit = q.limit.clamp(1, MAX_HITS);
        // Rank more candidates than asked for, so the recency boost can
        // promote a slightly less relevant but much newer item.
        let candidates = (limit * 4).clamp(50, 2_000);
        let mut sql = format!(
            "SELECT items_fts.rowid, rank, i.ts, i.key, i.seq, i.kind, i.revision,
                    t.id, t.provider, t.title, t.cwd
             FROM items_fts
             JOIN items i ON i.rowid = items_fts.rowid
             JOIN threads t ON t.rowid = i.thread
             WHERE items_fts MATCH ?1 AND rank MATCH '{RANK}'"
        );
        let mut args: Vec<Value> = vec![Value::Text(q.fts.clone())];
        let mut arg = |sql: &mut String, clause: &str, v: Value| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(p) = q.provider {
            arg(
                &mut sql,
                " AND t.provider = ?",
                Value::Text(p.as_str().into()),
            );
        }
        if let Some(cwd) = &q.cwd {
            let cwd = cwd.trim_end_matches('/');
            arg(&mut sql, " AND (t.cwd = ?", Value::Text(cwd.into()));
            arg(
                &mut sql,
                " OR t.cwd GLOB ?)",
                Value::Text(format!("{}/*", crate::query::glob_escape(cwd))),
            );
        }
        if let Some(thread) = &q.thread {
            arg(&mut sql, " AND t.id = ?", Value::Text(thread.clone()));
        }
        if let Some(after) = q.after {
            arg(&mut sql, " AND i.ts >= ?", Value::Integer(after));
        }
        if let Some(before) = q.before {
            arg(&mut sql, " AND i.ts < ?", Value::Integer(before));
        }
        if let Some(rev) = q.changed_after {
            arg(
                &mut sql,
                " AND i.revision > ?",
                Value::Integer(rev.0 as i64),
            );
        }
        if !q.kinds.is_empty() {
            sql.push_str(" AND i.kind IN (");
            for (n, kind) in q.kinds.iter().enumerate() {
                let sep = if n == 0 { "?" } else { ", ?" };
                arg(&mut sql, sep, Value::Text(kind.item_kind().into()));
            }
            sql.push(')');
        }
        arg(
            &mut sql,
            " ORDER BY rank LIMIT ?",
            Value::Integer(candidates as i64),
        );
        let now = now_ms();
        let mut stmt = self.connection().prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            let rank: f64 = r.get(1)?;
            let ts: Option<i64> = r.get(2)?;
            let key: String = r.get(3)?;
            let thread_id: String = r.get(7)?;
            Ok(Candidate {
                rowid: r.get(0)?,
                score: -rank * recency(ts, now),
                hit: SearchHit {
                    item_id: item_id(&thread_id, &key),
                    seq: r.get(4)?,
                    kind: r.get(5)?,
                    revision: r.get::<_, i64>(6)? as u64,
                    thread_id,
                    ts: ts.map(format_ms),
                    score: 0.0,
                    snippet: String::new(),
                    highlights: Vec::new(),
                    provider: r.get(8)?,
                    thread_title: r.get(9)?,
                    cwd: r.get(10)?,
                },
            })
        })?;
        let mut found: Vec<Candidate> = rows.collect::<rusqlite::Result<_>>()?;
        found.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.rowid.cmp(&b.rowid)));
        found.truncate(limit);
        let mut snippet = self.connection().prepare_cached(
            "SELECT snippet(items_fts, -1, char(2), char(3), '…', 24)
             FROM items_fts WHERE items_fts MATCH ?1 AND rowid = ?2",
        )?;
        let mut hits = Vec::with_capacity(found.len());
        for c in found {
            let marked: String = snippet
                .query_row(rusqlite::params![q.fts, c.rowid], |r| r.get(0))
                .unwrap_or_default();
            let (text, ranges) = highlights(&marked);
            hits.push(SearchHit {
                score: c.score,
                snippet: text,
                highlights: ranges,
                ..c.hit
            });
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_markers_become_character_ranges() {
        let (text, ranges) = highlights("…fix the \u{2}wébhook\u{3} \u{2}sig\u{3}nature");
        assert_eq!(text, "…fix the wébhook signature");
        assert_eq!(ranges, vec![[9, 16], [17, 20]]);
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(chars[9..16].iter().collect::<String>(), "wébhook");
    }

    #[test]
    fn newer_items_get_a_bigger_boost() {
        let now = 1_800_000_000_000;
        assert!(recency(Some(now), now) > recency(Some(now - 30 * 86_400_000), now));
        assert!(recency(Some(now - 3650 * 86_400_000), now) > 1.0);
        assert_eq!(recency(None, now), 1.0);
    }
}
