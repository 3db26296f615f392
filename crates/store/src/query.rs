//! The read side: queries of a [`Reader`]. Everything is filtered, ordered
//! and counted in SQL; counts come from columns the writer maintains.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension, Row};
use tinyvex_model::{format_ms, item_id, FileCursor, ProviderKind, RawRecord, Revision};

use crate::rows::{ItemQuery, ItemRow, ProviderStatus, ThreadQuery, ThreadRow};
use crate::{Error, Reader, Result};

/// Columns of a [`ThreadRow`], in the order [`thread_row`] reads them.
/// `source_files` is a per-row lookup of a list (indexed by `files.thread`),
/// not a count.
pub(crate) const THREAD_COLUMNS: &str = "t.id, t.provider, t.session_id, t.title, t.cwd, t.git_branch, t.model,
    t.agent_version, t.parent_session_id, t.created_at, t.updated_at, t.item_count,
    t.source_missing, t.revision,
    (SELECT json_group_array(f.path) FROM (SELECT path FROM files WHERE thread = t.rowid ORDER BY path) AS f)";

/// Columns of an [`ItemRow`], in the order [`item_row`] reads them.
pub(crate) const ITEM_COLUMNS: &str = "i.key, i.seq, i.kind, i.ts, i.text, i.revision, i.call_id, i.tool_kind, i.name,
    i.command, i.input, i.output, i.exit_code, i.status, i.started_at, i.ended_at, i.data, i.rowid AS rid";

/// How many candidates an ambiguous prefix error lists.
const AMBIGUOUS_LISTED: usize = 5;

fn opt_time(ms: Option<i64>) -> Option<String> {
    ms.map(format_ms)
}

pub(crate) fn thread_row(r: &Row<'_>) -> rusqlite::Result<ThreadRow> {
    let created_at_ms: Option<i64> = r.get(9)?;
    let updated_at_ms: Option<i64> = r.get(10)?;
    let files: String = r.get(14)?;
    Ok(ThreadRow {
        id: r.get(0)?,
        provider: r.get(1)?,
        session_id: r.get(2)?,
        title: r.get(3)?,
        cwd: r.get(4)?,
        git_branch: r.get(5)?,
        model: r.get(6)?,
        agent_version: r.get(7)?,
        parent_session_id: r.get(8)?,
        created_at: opt_time(created_at_ms),
        updated_at: opt_time(updated_at_ms),
        item_count: r.get::<_, i64>(11)? as u64,
        source_files: serde_json::from_str(&files).unwrap_or_default(),
        source_missing: r.get(12)?,
        revision: r.get::<_, i64>(13)? as u64,
        created_at_ms,
        updated_at_ms,
    })
}

pub(crate) fn item_row(thread_id: &str, r: &Row<'_>) -> rusqlite::Result<ItemRow> {
    let key: String = r.get(0)?;
    let data: Option<String> = r.get(16)?;
    Ok(ItemRow {
        id: item_id(thread_id, &key),
        thread_id: thread_id.to_string(),
        seq: r.get(1)?,
        kind: r.get(2)?,
        ts: opt_time(r.get(3)?),
        text: r.get(4)?,
        revision: r.get::<_, i64>(5)? as u64,
        call_id: r.get(6)?,
        tool_kind: r.get(7)?,
        name: r.get(8)?,
        command: r.get(9)?,
        input: r.get(10)?,
        output: r.get(11)?,
        exit_code: r.get(12)?,
        status: r.get(13)?,
        started_at: opt_time(r.get(14)?),
        ended_at: opt_time(r.get(15)?),
        // Stored by the writer from a serde_json::Value, so it parses; a
        // damaged value is shown as a string rather than failing the query.
        data: data.map(|d| serde_json::from_str(&d).unwrap_or(serde_json::Value::String(d))),
    })
}

/// Columns of a [`FileCursor`], in the order [`cursor_row`] reads them.
const CURSOR_COLUMNS: &str = "dev, ino, size, mtime_ns, offset, parser_state";

/// A [`FileCursor`] from [`CURSOR_COLUMNS`] starting at column `at`.
fn cursor_row(r: &Row<'_>, at: usize) -> rusqlite::Result<FileCursor> {
    Ok(FileCursor {
        // dev and ino are stored as the i64 with the same bits.
        dev: r.get::<_, i64>(at)? as u64,
        ino: r.get::<_, i64>(at + 1)? as u64,
        size: r.get::<_, i64>(at + 2)? as u64,
        mtime_ns: r.get(at + 3)?,
        offset: r.get::<_, i64>(at + 4)? as u64,
        parser_state: r.get(at + 5)?,
    })
}

/// Escape `*`, `?` and `[` for a GLOB pattern.
pub(crate) fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    for c in s.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

fn clamp_limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Reader {
    /// The revision of the last commit.
    pub fn revision(&self) -> Result<Revision> {
        Ok(Revision(
            crate::control::stored_revision(self.connection())? as u64,
        ))
    }

    /// A page of threads, newest first (`updated_at DESC, id DESC`, unknown
    /// times last).
    pub fn threads(&self, q: &ThreadQuery) -> Result<Vec<ThreadRow>> {
        // Every filter is written as "parameter is NULL or condition" so one
        // cached statement serves all queries, except the provider which
        // picks the statement so that its index applies.
        let filters = "(?2 IS NULL OR (ifnull(t.updated_at, 0), t.id) < (?2, ?3))
                       AND (?4 IS NULL OR t.revision > ?4)";
        let sql = match q.provider {
            Some(_) => format!(
                "SELECT {THREAD_COLUMNS} FROM threads t WHERE t.provider = ?1 AND {filters}
                 ORDER BY ifnull(t.updated_at, 0) DESC, t.id DESC LIMIT ?5"
            ),
            None => format!(
                "SELECT {THREAD_COLUMNS} FROM threads t WHERE ?1 IS NULL AND {filters}
                 ORDER BY ifnull(t.updated_at, 0) DESC, t.id DESC LIMIT ?5"
            ),
        };
        let mut stmt = self.connection().prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                q.provider.map(ProviderKind::as_str),
                q.before.as_ref().map(|c| c.updated_at),
                q.before.as_ref().map(|c| c.id.as_str()),
                q.since.map(|r| r.0 as i64),
                clamp_limit(q.limit),
            ],
            thread_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One thread by its exact id (`<provider>-<session id>`), without the
    /// alias, session-id and prefix lookups of [`Reader::thread`].
    pub fn thread_by_id(&self, id: &str) -> Result<Option<ThreadRow>> {
        Ok(self
            .connection()
            .prepare_cached(&format!(
                "SELECT {THREAD_COLUMNS} FROM threads t WHERE t.id = ?1"
            ))?
            .query_row([id], thread_row)
            .optional()?)
    }

    /// Find a thread by exact alias (a client's own id, see
    /// [`crate::ControlWrite::SetAlias`]), else exact id, else exact session
    /// id, else a unique prefix of id or session id. An alias whose thread
    /// is not stored yet falls through to the other lookups. An ambiguous
    /// match is [`Error::AmbiguousThread`].
    pub fn thread(&self, id_or_prefix: &str) -> Result<Option<ThreadRow>> {
        let conn = self.connection();
        if let Some(target) = self.alias(id_or_prefix)? {
            let aliased = self.thread_by_id(&target)?;
            if aliased.is_some() {
                return Ok(aliased);
            }
        }
        let exact = self.thread_by_id(id_or_prefix)?;
        if exact.is_some() {
            return Ok(exact);
        }
        if id_or_prefix.is_empty() {
            return Ok(None);
        }
        let lookups = [
            ("t.session_id = ?1", id_or_prefix.to_string()),
            (
                "(t.id GLOB ?1 OR t.session_id GLOB ?1)",
                format!("{}*", glob_escape(id_or_prefix)),
            ),
        ];
        for (condition, arg) in lookups {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {THREAD_COLUMNS} FROM threads t WHERE {condition} ORDER BY t.id LIMIT ?2"
            ))?;
            let mut found = stmt
                .query_map(params![arg, AMBIGUOUS_LISTED as i64 + 1], thread_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            match found.len() {
                0 => continue,
                1 => return Ok(found.pop()),
                n => {
                    return Err(Error::AmbiguousThread {
                        prefix: id_or_prefix.to_string(),
                        more: n > AMBIGUOUS_LISTED,
                        candidates: found
                            .into_iter()
                            .take(AMBIGUOUS_LISTED)
                            .map(|t| t.id)
                            .collect(),
                    })
                }
            }
        }
        Ok(None)
    }

    /// Items of a thread (by exact public id), in `seq` order. An unknown
    /// thread has no items.
    pub fn items(&self, thread_id: &str, q: ItemQuery) -> Result<Vec<ItemRow>> {
        let base = format!(
            "SELECT {ITEM_COLUMNS} FROM items i
             WHERE i.thread = (SELECT rowid FROM threads WHERE id = ?1)"
        );
        let (sql, arg1, arg2) = match q {
            ItemQuery::All => (format!("{base} ORDER BY i.seq, i.rowid"), None, None),
            ItemQuery::Tail(n) => (
                format!(
                    "SELECT * FROM ({base} ORDER BY i.seq DESC, i.rowid DESC LIMIT ?2)
                     ORDER BY seq, rid"
                ),
                Some(clamp_limit(n)),
                None,
            ),
            ItemQuery::Range { from_seq, limit } => (
                format!("{base} AND i.seq >= ?2 ORDER BY i.seq, i.rowid LIMIT ?3"),
                Some(from_seq),
                Some(clamp_limit(limit)),
            ),
            ItemQuery::Before { before_seq, limit } => (
                format!(
                    "SELECT * FROM ({base} AND i.seq < ?2 ORDER BY i.seq DESC, i.rowid DESC LIMIT ?3)
                     ORDER BY seq, rid"
                ),
                Some(before_seq),
                Some(clamp_limit(limit)),
            ),
            ItemQuery::Since(rev) => (
                format!("{base} AND i.revision > ?2 ORDER BY i.seq, i.rowid"),
                Some(rev.0 as i64),
                None,
            ),
        };
        let mut stmt = self.connection().prepare_cached(&sql)?;
        let map = |r: &Row<'_>| item_row(thread_id, r);
        let rows = match (arg1, arg2) {
            (None, _) => stmt.query_map(params![thread_id], map)?,
            (Some(a), None) => stmt.query_map(params![thread_id, a], map)?,
            (Some(a), Some(b)) => stmt.query_map(params![thread_id, a, b], map)?,
        };
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The tool calls of a thread, in `seq` order.
    pub fn tool_calls(&self, thread_id: &str) -> Result<Vec<ItemRow>> {
        let mut stmt = self.connection().prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM items i
             WHERE i.thread = (SELECT rowid FROM threads WHERE id = ?1) AND i.kind = 'tool_call'
             ORDER BY i.seq, i.rowid"
        ))?;
        let rows = stmt.query_map([thread_id], |r| item_row(thread_id, r))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The stored cursor of every known file of a provider, by path, so
    /// ingestion resumes where it stopped.
    pub fn file_cursors(&self, provider: ProviderKind) -> Result<HashMap<String, FileCursor>> {
        let mut stmt = self.connection().prepare_cached(&format!(
            "SELECT path, {CURSOR_COLUMNS} FROM files WHERE provider = ?1"
        ))?;
        let rows = stmt.query_map([provider.as_str()], |r| {
            Ok((r.get::<_, String>(0)?, cursor_row(r, 1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The stored cursor of one source file (one indexed lookup: live
    /// updates touch a file or two, not a provider's thousands).
    pub fn file_cursor(&self, provider: ProviderKind, path: &str) -> Result<Option<FileCursor>> {
        let mut stmt = self.connection().prepare_cached(&format!(
            "SELECT {CURSOR_COLUMNS} FROM files WHERE provider = ?1 AND path = ?2"
        ))?;
        let mut rows = stmt.query(params![provider.as_str(), path])?;
        match rows.next()? {
            Some(r) => Ok(Some(cursor_row(r, 0)?)),
            None => Ok(None),
        }
    }

    /// The raw records kept for one source file, in file order (those not
    /// yet pruned by the retention policy).
    pub fn raw_records(&self, provider: ProviderKind, path: &str) -> Result<Vec<RawRecord>> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT c.data FROM raw_chunks c JOIN files f ON f.rowid = c.file
             WHERE f.provider = ?1 AND f.path = ?2 ORDER BY c.first_offset",
        )?;
        let mut rows = stmt.query(params![provider.as_str(), path])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let data: Vec<u8> = row.get(0)?;
            out.extend(crate::raw::decode_raw(&data)?);
        }
        Ok(out)
    }

    /// Figures per provider, one entry for each of [`ProviderKind::ALL`].
    pub fn status(&self) -> Result<Vec<ProviderStatus>> {
        let mut out: Vec<ProviderStatus> = ProviderKind::ALL
            .iter()
            .map(|p| ProviderStatus {
                provider: p.as_str().to_string(),
                ..ProviderStatus::default()
            })
            .collect();
        let find =
            |out: &mut Vec<ProviderStatus>, name: &str| out.iter().position(|s| s.provider == name);
        let conn = self.connection();
        let mut files = conn.prepare_cached(
            "SELECT provider, sum(missing = 0), sum(bytes_ingested), sum(line_errors) + sum(file_error IS NOT NULL),
                    sum(missing)
             FROM files GROUP BY provider",
        )?;
        let mut rows = files.query([])?;
        while let Some(r) = rows.next()? {
            if let Some(i) = find(&mut out, &r.get::<_, String>(0)?) {
                out[i].files = r.get::<_, i64>(1)? as u64;
                out[i].bytes_ingested = r.get::<_, i64>(2)? as u64;
                out[i].errors = r.get::<_, i64>(3)? as u64;
                out[i].missing_files = r.get::<_, i64>(4)? as u64;
            }
        }
        let mut threads = conn.prepare_cached(
            "SELECT provider, count(*), sum(item_count) FROM threads GROUP BY provider",
        )?;
        let mut rows = threads.query([])?;
        while let Some(r) = rows.next()? {
            if let Some(i) = find(&mut out, &r.get::<_, String>(0)?) {
                out[i].threads = r.get::<_, i64>(1)? as u64;
                out[i].items = r.get::<_, i64>(2)? as u64;
            }
        }
        // SQLite returns the bare columns of the row holding the max().
        let mut last = conn.prepare_cached(
            "SELECT provider, last_error, path, max(last_error_at) FROM files
             WHERE last_error_at IS NOT NULL GROUP BY provider",
        )?;
        let mut rows = last.query([])?;
        while let Some(r) = rows.next()? {
            if let Some(i) = find(&mut out, &r.get::<_, String>(0)?) {
                out[i].last_error = r.get(1)?;
                out[i].last_error_file = r.get(2)?;
                out[i].last_error_at = opt_time(r.get(3)?);
            }
        }
        Ok(out)
    }
}
