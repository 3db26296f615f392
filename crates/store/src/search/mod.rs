//! Full-text search over items.
//!
//! The index lives beside the database (`<db>-search/`, tantivy; see
//! `tinyvex_search`) and follows the change feed: the [`indexer`] thread
//! upserts every item committed after the index's cursor. A search asks the
//! index for its best candidates among what it holds, checks the items
//! after the cursor one by one with the same query ([`Matcher`]), so the
//! answer is exact at the reader's revision however far the index lags,
//! applies a recency boost and adds snippets with their matches marked.
//! Filters on threads (provider, folder, thread) are resolved to thread
//! rowids in SQL first; kind, time and revision filters run in the index.

use std::collections::HashSet;

use rusqlite::types::Value;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use tinyvex_model::{format_ms, item_id, now_ms, Revision, TimestampMs};
use tinyvex_search::{Candidate, Filters, Matcher, SearchIndex, View};

use crate::{Reader, Result};

pub(crate) mod indexer;
mod newest;

pub use indexer::CatchUp;
pub use tinyvex_search::{QueryError, SearchKind, SearchQuery, MAX_HITS};

/// Most not-yet-indexed items a search checks one by one. Past that (an
/// index far behind, being rebuilt), the newest items may be missing from
/// results until the indexer catches up, and a warning says so.
const TAIL_LIMIT: i64 = 20_000;

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

/// Recency factor: 1.5 for an item of today, 1.25 at a month, towards 1.
fn recency(ts: Option<TimestampMs>, now: TimestampMs) -> f64 {
    let Some(ts) = ts else { return 1.0 };
    let days = ((now - ts).max(0) as f64) / 86_400_000.0;
    1.0 + 0.5 / (1.0 + days / 30.0)
}

/// An SQL statement being built with numbered arguments.
struct Sql {
    text: String,
    args: Vec<Value>,
}

impl Sql {
    fn new(text: &str, args: Vec<Value>) -> Sql {
        Sql {
            text: text.to_string(),
            args,
        }
    }

    /// Append `clause`, its `?` bound to `v` (as `?N`).
    fn arg(&mut self, clause: &str, v: Value) {
        self.args.push(v);
        let n = format!("?{}", self.args.len());
        self.text.push_str(&clause.replace('?', &n));
    }

    /// Conditions on the thread alias `t` for the query's thread filters.
    fn thread_filters(&mut self, q: &SearchQuery) {
        if let Some(p) = q.provider {
            self.arg(" AND t.provider = ?", Value::Text(p.as_str().into()));
        }
        if let Some(cwd) = &q.cwd {
            let cwd = cwd.trim_end_matches('/');
            self.arg(" AND (t.cwd = ?", Value::Text(cwd.into()));
            let below = format!("{}/*", crate::query::glob_escape(cwd));
            self.arg(" OR t.cwd GLOB ?)", Value::Text(below));
        }
        if let Some(thread) = &q.thread {
            self.arg(" AND t.id = ?", Value::Text(thread.clone()));
        }
    }

    /// Conditions on items `i` (joined to their thread `t`) for every
    /// filter of the query but the revision ones.
    fn item_filters(&mut self, q: &SearchQuery) {
        self.thread_filters(q);
        if let Some(after) = q.after {
            self.arg(" AND i.ts >= ?", Value::Integer(after));
        }
        if let Some(before) = q.before {
            self.arg(" AND i.ts < ?", Value::Integer(before));
        }
        for (n, kind) in q.kinds.iter().enumerate() {
            let clause = if n == 0 { " AND i.kind IN (?" } else { ", ?" };
            self.arg(clause, Value::Text(kind.item_kind().into()));
        }
        if !q.kinds.is_empty() {
            self.text.push(')');
        }
    }
}

/// Columns of a [`TailItem`] (see [`tail_item`]), items aliased `i`.
const TAIL_COLUMNS: &str = "i.rowid, i.ts, i.revision, i.text, i.command, i.output";

/// An item read with its text, to be checked by the matcher.
struct TailItem {
    candidate: Candidate,
    text: ItemText,
}

/// An item's `text`, `command` and `output`.
type ItemText = [Option<String>; 3];

/// The fields of an [`ItemText`], as the matcher takes them.
fn fields(text: &ItemText) -> [Option<&str>; 3] {
    std::array::from_fn(|i| text[i].as_deref())
}

/// A row of [`TAIL_COLUMNS`].
fn tail_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<TailItem> {
    Ok(TailItem {
        candidate: Candidate {
            rowid: r.get(0)?,
            score: 0.0,
            ts: r.get(1)?,
            revision: r.get::<_, i64>(2)? as u64,
        },
        text: [r.get(3)?, r.get(4)?, r.get(5)?],
    })
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

    /// Run a search; hits best first, exact at this reader's revision.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        let started = std::time::Instant::now();
        let view = self.search_index()?.view();
        let limit = q.limit.clamp(1, MAX_HITS);
        // Rank more candidates than asked for, so the recency boost can
        // promote a slightly less relevant but much newer item.
        let wanted = (limit * 4).clamp(50, 2_000);
        let revision = self.revision()?.0;
        let since = q.changed_after.map_or(0, |r| r.0);
        let threads = self.thread_rowids(q)?;
        if threads.as_ref().is_some_and(|t| t.is_empty()) {
            return Ok(Vec::new());
        }
        let filters = Filters {
            provider: self.provider_filter(q)?,
            threads,
            kinds: q.kinds.iter().map(|k| k.item_kind()).collect(),
            after: q.after,
            before: q.before,
            revision_after: q.changed_after.map(|r| r.0),
            revision_max: Some(revision),
        };
        let mut matcher = Matcher::new(&q.clauses);
        let newest = if view.has_broad_prefix(&q.clauses) {
            self.newest_matches(q, &view, since, revision, wanted, &mut matcher)?
        } else {
            None
        };
        let t_index;
        let mut tail_len = 0;
        let candidates = match newest {
            // The newest matches, read from the store: nothing to add.
            Some(found) => {
                t_index = started.elapsed();
                found
            }
            None => {
                let mut candidates = if since >= view.cursor.revision {
                    Vec::new()
                } else {
                    view.top(&q.clauses, &filters, wanted, limit)?
                };
                t_index = started.elapsed();
                let tail = self.unindexed(q, &view, since, revision)?;
                tail_len = tail.len();
                let changed: HashSet<i64> = tail.iter().map(|t| t.candidate.rowid).collect();
                candidates.retain(|c| !changed.contains(&c.rowid));
                for item in &tail {
                    if let Some(m) = matcher.matches(fields(&item.text)) {
                        candidates.push(Candidate {
                            score: matcher.score(&m, &view),
                            ..item.candidate
                        });
                    }
                }
                candidates
            }
        };
        let t_tail = started.elapsed();
        let now = now_ms();
        let mut ranked: Vec<(f64, Candidate)> = candidates
            .into_iter()
            .map(|c| (c.score as f64 * recency(c.ts, now), c))
            .collect();
        // Equal scores: the newer item (larger rowid) first.
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.rowid.cmp(&a.1.rowid)));
        ranked.truncate(limit);
        let mut hits = Vec::with_capacity(ranked.len());
        for (score, c) in ranked {
            let Some(mut hit) = self.hit_row(&c)? else {
                continue;
            };
            let text = self.item_text(c.rowid)?;
            (hit.snippet, hit.highlights) = matcher.snippet_of(fields(&text));
            hit.score = score;
            hits.push(hit);
        }
        tracing::debug!(
            index_us = t_index.as_micros() as u64,
            tail_us = (t_tail - t_index).as_micros() as u64,
            tail = tail_len,
            hits_us = (started.elapsed() - t_tail).as_micros() as u64,
            hits = hits.len(),
            "search"
        );
        Ok(hits)
    }

    /// The store's search index (opened on first use, rebuilt if unusable).
    pub fn search_index(&self) -> Result<SearchIndex> {
        self.pool().search_index()
    }

    /// The provider filter for the index; `None` also when every thread is
    /// of that provider (the filter would only cost time).
    fn provider_filter(&self, q: &SearchQuery) -> Result<Option<String>> {
        let Some(p) = q.provider else {
            return Ok(None);
        };
        // Two ranges rather than `<>`, so threads_by_provider_updated answers.
        let others: bool = self.connection().query_row(
            "SELECT EXISTS(SELECT 1 FROM threads WHERE provider < ?1)
                 OR EXISTS(SELECT 1 FROM threads WHERE provider > ?1)",
            [p.as_str()],
            |r| r.get(0),
        )?;
        Ok(others.then(|| p.as_str().to_string()))
    }

    /// Rowids of the threads the query's folder and thread filters allow;
    /// `None` when it has none (the provider is filtered in the index).
    fn thread_rowids(&self, q: &SearchQuery) -> Result<Option<Vec<i64>>> {
        if q.cwd.is_none() && q.thread.is_none() {
            return Ok(None);
        }
        let mut sql = Sql::new("SELECT t.rowid FROM threads t WHERE 1", Vec::new());
        sql.thread_filters(q);
        let mut stmt = self.connection().prepare_cached(&sql.text)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(sql.args.iter()), |r| r.get(0))?;
        Ok(Some(rows.collect::<rusqlite::Result<_>>()?))
    }

    /// Items with text changed after both the index's cursor and `since`,
    /// up to `revision`, that pass the query's filters.
    fn unindexed(
        &self,
        q: &SearchQuery,
        view: &View,
        since: u64,
        revision: u64,
    ) -> Result<Vec<TailItem>> {
        if view.cursor.revision >= revision {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            &format!(
                // CROSS JOIN: items first, by revision. With a provider
                // filter SQLite preferred threads first, which visits every
                // thread of the provider (9 ms for 3,000 threads) however
                // few items are unindexed.
                "SELECT {TAIL_COLUMNS} FROM items i CROSS JOIN threads t ON t.rowid = i.thread
                 WHERE (i.revision, i.rowid) > (?1, ?2) AND i.revision > ?3 AND i.revision <= ?4
                   AND coalesce(i.text, i.command, i.output) IS NOT NULL"
            ),
            vec![
                Value::Integer(view.cursor.revision as i64),
                Value::Integer(view.cursor.rowid),
                Value::Integer(since as i64),
                Value::Integer(revision as i64),
            ],
        );
        sql.item_filters(q);
        sql.arg(
            " ORDER BY i.revision, i.rowid LIMIT ?",
            Value::Integer(TAIL_LIMIT + 1),
        );
        let mut stmt = self.connection().prepare_cached(&sql.text)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(sql.args.iter()), tail_item)?;
        let mut items: Vec<TailItem> = rows.collect::<rusqlite::Result<_>>()?;
        if items.len() as i64 > TAIL_LIMIT {
            items.truncate(TAIL_LIMIT as usize);
            tracing::warn!(
                indexed = view.cursor.revision,
                revision,
                "search index is far behind the store: the newest items may be missing from results until it catches up"
            );
        }
        Ok(items)
    }

    /// A hit's row (no snippet yet); `None` if the item is gone. Reads
    /// only the columns stored before the item's text: time and revision
    /// come from the candidate.
    fn hit_row(&self, c: &Candidate) -> Result<Option<SearchHit>> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT i.key, i.seq, i.kind, t.id, t.provider, t.title, t.cwd
             FROM items i JOIN threads t ON t.rowid = i.thread WHERE i.rowid = ?1",
        )?;
        let mut rows = stmt.query(params![c.rowid])?;
        let Some(r) = rows.next()? else {
            return Ok(None);
        };
        let key: String = r.get(0)?;
        let thread_id: String = r.get(3)?;
        Ok(Some(SearchHit {
            item_id: item_id(&thread_id, &key),
            seq: r.get(1)?,
            kind: r.get(2)?,
            revision: c.revision,
            thread_id,
            ts: c.ts.map(format_ms),
            score: 0.0,
            snippet: String::new(),
            highlights: Vec::new(),
            provider: r.get(4)?,
            thread_title: r.get(5)?,
            cwd: r.get(6)?,
        }))
    }

    /// An item's text; all `None` if the item is gone.
    fn item_text(&self, rowid: i64) -> Result<ItemText> {
        let mut stmt = self
            .connection()
            .prepare_cached("SELECT text, command, output FROM items WHERE rowid = ?1")?;
        Ok(stmt
            .query_row(params![rowid], |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?]))
            .optional()?
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_items_get_a_bigger_boost() {
        let now = 1_800_000_000_000;
        assert!(recency(Some(now), now) > recency(Some(now - 30 * 86_400_000), now));
        assert!(recency(Some(now - 3650 * 86_400_000), now) > 1.0);
        assert_eq!(recency(None, now), 1.0);
    }
}
