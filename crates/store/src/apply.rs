//! Applying [`FileBatch`]es inside the writer's transaction.
//!
//! Every statement is written so that applying data that is already stored
//! changes no row: inserts are `ON CONFLICT DO NOTHING` and merges are
//! `UPDATE .. WHERE <something differs>`. The number of changed rows tells
//! whether the transaction needs a new revision at all.

use std::borrow::Cow;
use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use tinyvex_model::{
    thread_id, FileBatch, ItemPatch, ParsedEvent, RawChunk, RawRecord, ThreadPatch, TimestampMs,
    ToolPatch,
};

use crate::Result;

/// The writer keeps at most this many thread rowids cached; past that the
/// cache is cleared rather than evicted piecemeal (it refills in one lookup
/// per thread).
const THREAD_CACHE_MAX: usize = 100_000;

/// The merged tool status: a patch's status wins, except that a finished
/// status is never reset to `in_progress` (re-reading a call after its output).
macro_rules! new_status {
    () => {
        "CASE WHEN ?12 IS NULL OR (?12 = 'in_progress' AND ifnull(status, 'in_progress') <> 'in_progress')
              THEN status ELSE ?12 END"
    };
}

/// Merge of an item patch into the stored item (see `upsert_item`).
const MERGE_ITEM: &str = concat!(
    "UPDATE items SET ts = CASE WHEN kind IS NOT ?17 THEN ifnull(?3, ts)
                                WHEN ?3 < ifnull(ts, ?3 + 1) THEN ?3 ELSE ts END,
                        kind = ?17,
                        text = ifnull(?4, text),
                        call_id = ifnull(?5, call_id), tool_kind = ifnull(?6, tool_kind),
                        name = ifnull(?7, name), command = ifnull(?8, command),
                        input = ifnull(?9, input), output = ifnull(?10, output),
                        exit_code = ifnull(?11, exit_code), status = ", new_status!(), ",
                        started_at = ifnull(?13, started_at), ended_at = ifnull(?14, ended_at),
                        data = ifnull(?15, data), revision = ?16
                     WHERE thread = ?1 AND key = ?2 AND (
                        kind IS NOT ?17 OR ?3 < ifnull(ts, ?3 + 1) OR text IS NOT ifnull(?4, text)
                        OR call_id IS NOT ifnull(?5, call_id) OR tool_kind IS NOT ifnull(?6, tool_kind)
                        OR name IS NOT ifnull(?7, name) OR command IS NOT ifnull(?8, command)
                        OR input IS NOT ifnull(?9, input) OR output IS NOT ifnull(?10, output)
                        OR exit_code IS NOT ifnull(?11, exit_code) OR status IS NOT ", new_status!(), "
                        OR started_at IS NOT ifnull(?13, started_at) OR ended_at IS NOT ifnull(?14, ended_at)
                        OR data IS NOT ifnull(?15, data))"
);

/// State of one write transaction.
pub(crate) struct Tx<'c> {
    pub(crate) conn: &'c Connection,
    /// The revision stamped on every row this transaction changes.
    pub(crate) next_rev: i64,
    /// True once any row was inserted, changed or deleted (except pruning).
    pub(crate) changed: bool,
    /// Change of the raw log size, in bytes of text.
    pub(crate) raw_delta: i64,
    /// Time stamped on new errors.
    pub(crate) now: TimestampMs,
}

/// Thread rowids by public thread id. Only the writer inserts threads, so an
/// entry stays valid until a rollback (the writer clears it then).
pub(crate) type ThreadCache = HashMap<String, i64>;

/// Per-batch figures for the thread row, applied once at the end.
#[derive(Default)]
struct ItemTotals {
    inserted: i64,
    changed: bool,
    min_ts: Option<TimestampMs>,
    max_ts: Option<TimestampMs>,
}

impl Tx<'_> {
    /// Apply one batch: file row, thread, events, line errors.
    pub(crate) fn apply(&mut self, cache: &mut ThreadCache, batch: &FileBatch) -> Result<()> {
        // A thread exists once something of it is known: a file that holds
        // only a half-written first line makes none.
        let has_content = batch
            .events
            .iter()
            .any(|e| !matches!(e, ParsedEvent::Raw(_)));
        let thread = match &batch.session_id {
            Some(sid) if has_content => Some(self.ensure_thread(cache, batch, sid)?),
            _ => None,
        };
        let file = self.ensure_file(batch)?;
        if batch.gone {
            return self.mark_gone(file);
        }
        self.mark_present(file)?;
        if batch.reset {
            self.reset_file(file)?;
        }
        let (new_errors, last_line_error) = self.insert_line_errors(file, batch)?;
        self.update_file(file, thread, batch, new_errors, last_line_error)?;
        if let Some(thread) = thread {
            let mut totals = ItemTotals::default();
            for event in &batch.events {
                if let ParsedEvent::Thread(patch) = event {
                    self.merge_thread(thread, patch)?;
                }
            }
            for item in coalesce_items(&batch.events) {
                self.upsert_item(thread, &item, &mut totals)?;
            }
            if totals.changed {
                self.touch_thread(thread, &totals)?;
            }
        }
        // Raw records belong to the file, whether or not a thread is known yet.
        let raws: Vec<RawRecord> = batch
            .events
            .iter()
            .filter_map(|e| match e {
                ParsedEvent::Raw(raw) => Some(raw.clone()),
                _ => None,
            })
            .collect();
        if let Some(chunk) = crate::raw::encode_raw(&raws) {
            self.insert_raw_chunk(file, &chunk)?;
        }
        if let Some(chunk) = &batch.raw {
            self.insert_raw_chunk(file, chunk)?;
        }
        Ok(())
    }

    fn ensure_thread(
        &mut self,
        cache: &mut ThreadCache,
        batch: &FileBatch,
        sid: &str,
    ) -> Result<i64> {
        let id = thread_id(batch.provider, sid);
        if let Some(&rowid) = cache.get(&id) {
            return Ok(rowid);
        }
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO threads(id, provider, session_id, revision) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(id) DO NOTHING",
            )?
            .execute(params![id, batch.provider.as_str(), sid, self.next_rev])?;
        let rowid = if inserted > 0 {
            self.changed = true;
            self.conn.last_insert_rowid()
        } else {
            self.conn
                .prepare_cached("SELECT rowid FROM threads WHERE id = ?1")?
                .query_row([&id], |r| r.get(0))?
        };
        if cache.len() >= THREAD_CACHE_MAX {
            cache.clear();
        }
        cache.insert(id, rowid);
        Ok(rowid)
    }

    /// The file's rowid, inserting a bare row (updated right after) if new.
    fn ensure_file(&mut self, batch: &FileBatch) -> Result<i64> {
        let provider = batch.provider.as_str();
        let existing: Option<i64> = self
            .conn
            .prepare_cached("SELECT rowid FROM files WHERE provider = ?1 AND path = ?2")?
            .query_row([provider, &batch.path], |r| r.get(0))
            .optional()?;
        if let Some(rowid) = existing {
            return Ok(rowid);
        }
        self.conn
            .prepare_cached("INSERT INTO files(provider, path, revision) VALUES (?1, ?2, ?3)")?
            .execute(params![provider, batch.path, self.next_rev])?;
        self.changed = true;
        Ok(self.conn.last_insert_rowid())
    }

    /// The file disappeared: flag it (its error no longer applies) and, when
    /// none of its thread's files is left, the thread.
    fn mark_gone(&mut self, file: i64) -> Result<()> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE files SET missing = 1, file_error = NULL, revision = ?2
                 WHERE rowid = ?1 AND missing = 0",
            )?
            .execute(params![file, self.next_rev])?;
        if n == 0 {
            return Ok(());
        }
        self.changed = true;
        self.conn
            .prepare_cached(
                "UPDATE threads SET source_missing = 1, revision = ?2
                 WHERE rowid = (SELECT thread FROM files WHERE rowid = ?1) AND source_missing = 0
                   AND NOT EXISTS (SELECT 1 FROM files f WHERE f.thread = threads.rowid AND f.missing = 0)",
            )?
            .execute(params![file, self.next_rev])?;
        Ok(())
    }

    /// A file seen again after it had disappeared.
    fn mark_present(&mut self, file: i64) -> Result<()> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE files SET missing = 0, revision = ?2 WHERE rowid = ?1 AND missing = 1",
            )?
            .execute(params![file, self.next_rev])?;
        if n > 0 {
            self.changed = true;
            self.conn
                .prepare_cached(
                    "UPDATE threads SET source_missing = 0, revision = ?2
                     WHERE rowid = (SELECT thread FROM files WHERE rowid = ?1) AND source_missing = 1",
                )?
                .execute(params![file, self.next_rev])?;
        }
        Ok(())
    }

    /// The file was truncated or replaced: its raw records and line errors
    /// describe content that is gone. Items stay (re-inserts are idempotent).
    fn reset_file(&mut self, file: i64) -> Result<()> {
        let freed: i64 = self
            .conn
            .prepare_cached("SELECT ifnull(sum(bytes), 0) FROM raw_chunks WHERE file = ?1")?
            .query_row([file], |r| r.get(0))?;
        let raws = self
            .conn
            .prepare_cached("DELETE FROM raw_chunks WHERE file = ?1")?
            .execute([file])?;
        let errors = self
            .conn
            .prepare_cached("DELETE FROM ingest_errors WHERE file = ?1")?
            .execute([file])?;
        let file_row = self
            .conn
            .prepare_cached(
                "UPDATE files SET line_errors = 0, revision = ?2 WHERE rowid = ?1 AND line_errors <> 0",
            )?
            .execute(params![file, self.next_rev])?;
        self.raw_delta -= freed;
        if raws + errors + file_row > 0 {
            self.changed = true;
        }
        Ok(())
    }

    /// Record the batch's bad lines; returns how many were new and the
    /// message of the last new one. Known lines (re-reads) are not counted again.
    fn insert_line_errors<'b>(
        &mut self,
        file: i64,
        batch: &'b FileBatch,
    ) -> Result<(i64, Option<&'b str>)> {
        if batch.line_errors.is_empty() {
            return Ok((0, None));
        }
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO ingest_errors(file, offset, message, at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(file, offset) DO NOTHING",
        )?;
        let mut new = 0;
        let mut last = None;
        for e in &batch.line_errors {
            if stmt.execute(params![file, e.offset as i64, e.message, self.now])? > 0 {
                new += 1;
                last = Some(e.message.as_str());
            }
        }
        Ok((new, last))
    }

    fn update_file(
        &mut self,
        file: i64,
        thread: Option<i64>,
        batch: &FileBatch,
        new_errors: i64,
        last_line_error: Option<&str>,
    ) -> Result<()> {
        let c = &batch.cursor;
        // The cursor only moves forward unless the file was reset: replaying
        // an older batch must not rewind it (and so changes nothing).
        // ?11: the newest error is a file error that differs from the stored
        // one, else the last new line error; repeating a known error is not new.
        let n = self
            .conn
            .prepare_cached(
                "UPDATE files SET
                    thread = ifnull(?2, thread),
                    dev = CASE WHEN ?14 OR ?7 >= offset THEN ?3 ELSE dev END,
                    ino = CASE WHEN ?14 OR ?7 >= offset THEN ?4 ELSE ino END,
                    size = CASE WHEN ?14 OR ?7 >= offset THEN ?5 ELSE size END,
                    mtime_ns = CASE WHEN ?14 OR ?7 >= offset THEN ?6 ELSE mtime_ns END,
                    parser_state = CASE WHEN ?14 OR ?7 >= offset THEN ?8 ELSE parser_state END,
                    bytes_ingested = CASE WHEN ?14 OR ?7 >= offset THEN ?7 ELSE bytes_ingested END,
                    offset = CASE WHEN ?14 OR ?7 >= offset THEN ?7 ELSE offset END,
                    file_error = ?9,
                    line_errors = line_errors + ?10,
                    last_error_at = CASE WHEN ?9 IS NOT file_error AND ?9 IS NOT NULL OR ?11 IS NOT NULL
                                         THEN ?12 ELSE last_error_at END,
                    last_error = CASE WHEN ?9 IS NOT file_error AND ?9 IS NOT NULL THEN ?9
                                      WHEN ?11 IS NOT NULL THEN ?11 ELSE last_error END,
                    revision = ?13
                 WHERE rowid = ?1 AND (thread IS NOT ifnull(?2, thread) OR file_error IS NOT ?9 OR ?10 <> 0
                    OR ((?14 OR ?7 >= offset) AND (dev IS NOT ?3 OR ino IS NOT ?4 OR size IS NOT ?5
                        OR mtime_ns IS NOT ?6 OR offset IS NOT ?7 OR bytes_ingested IS NOT ?7
                        OR parser_state IS NOT ?8)))",
            )?
            .execute(params![
                file,
                thread,
                c.dev as i64,
                c.ino as i64,
                c.size as i64,
                c.mtime_ns,
                c.offset as i64,
                c.parser_state,
                batch.file_error,
                new_errors,
                last_line_error,
                self.now,
                self.next_rev,
                batch.reset,
            ])?;
        if n > 0 {
            self.changed = true;
        }
        Ok(())
    }

    /// Merge thread metadata: first value wins for cwd, branch and parent;
    /// for the title too, unless a later patch says (by its `title_at`)
    /// that it comes from earlier in the session than the stored one (files
    /// of one session read in any order, as OpenCode's part files are);
    /// last wins for model and agent version; earliest creation time.
    fn merge_thread(&mut self, thread: i64, p: &ThreadPatch) -> Result<()> {
        if p.is_empty() {
            return Ok(());
        }
        let n = self
            .conn
            .prepare_cached(
                "UPDATE threads SET
                    title = CASE WHEN ?2 IS NOT NULL AND (title IS NULL OR ?10 < title_ts) THEN ?2 ELSE title END,
                    title_ts = CASE WHEN ?2 IS NOT NULL AND (title IS NULL OR ?10 < title_ts) THEN ?10 ELSE title_ts END,
                    cwd = ifnull(cwd, ?3), git_branch = ifnull(git_branch, ?4),
                    parent_session_id = ifnull(parent_session_id, ?5),
                    model = ifnull(?6, model), agent_version = ifnull(?7, agent_version),
                    created_at = CASE WHEN ?8 < ifnull(created_at, ?8 + 1) THEN ?8 ELSE created_at END,
                    updated_at = CASE WHEN ?8 > ifnull(updated_at, ?8 - 1) THEN ?8 ELSE updated_at END,
                    revision = ?9
                 WHERE rowid = ?1 AND (
                    (?2 IS NOT NULL AND (title IS NULL OR ?10 < title_ts)) OR (cwd IS NULL AND ?3 IS NOT NULL)
                    OR (git_branch IS NULL AND ?4 IS NOT NULL) OR (parent_session_id IS NULL AND ?5 IS NOT NULL)
                    OR model IS NOT ifnull(?6, model) OR agent_version IS NOT ifnull(?7, agent_version)
                    OR ?8 < ifnull(created_at, ?8 + 1) OR ?8 > ifnull(updated_at, ?8 - 1))",
            )?
            .execute(params![
                thread,
                p.title,
                p.cwd,
                p.git_branch,
                p.parent_session_id,
                p.model,
                p.agent_version,
                p.created_at,
                self.next_rev,
                p.title_at,
            ])?;
        if n > 0 {
            self.changed = true;
        }
        Ok(())
    }

    /// Insert an item, or merge its non-`None` fields into the stored one.
    fn upsert_item(
        &mut self,
        thread: i64,
        item: &ItemPatch,
        totals: &mut ItemTotals,
    ) -> Result<()> {
        let empty = ToolPatch::default();
        let t = item.tool.as_ref().unwrap_or(&empty);
        let data = item.data.as_ref().map(|v| v.to_string());
        let status = t.status.map(|s| s.as_str());
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO items(thread, key, seq, kind, ts, text, call_id, tool_kind, name, command,
                                   input, output, exit_code, status, started_at, ended_at, data, revision)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                 ON CONFLICT(thread, key) DO NOTHING",
            )?
            .execute(params![
                thread,
                item.key,
                item.seq,
                item.kind.as_str(),
                item.ts,
                item.text,
                t.call_id,
                t.tool_kind,
                t.name,
                t.command,
                t.input,
                t.output,
                t.exit_code,
                status,
                t.started_at,
                t.ended_at,
                data,
                self.next_rev,
            ])?;
        let changed = if inserted > 0 {
            totals.inserted += 1;
            true
        } else {
            // seq is fixed at insert; the kind and the patch's present
            // fields overwrite (a truncated and rewritten file may put
            // another record at the same offset), except two that must not
            // move back when a file is re-read: `ts` keeps the earliest time
            // while the kind stays the same (a call's, not its output's),
            // and a finished tool `status` is never reset to in_progress.
            // Only a real difference touches the row (and the revision).
            self.conn.prepare_cached(MERGE_ITEM)?.execute(params![
                thread,
                item.key,
                item.ts,
                item.text,
                t.call_id,
                t.tool_kind,
                t.name,
                t.command,
                t.input,
                t.output,
                t.exit_code,
                status,
                t.started_at,
                t.ended_at,
                data,
                self.next_rev,
                item.kind.as_str(),
            ])? > 0
        };
        if changed {
            self.changed = true;
            totals.changed = true;
        }
        if let Some(ts) = item.ts {
            totals.min_ts = Some(totals.min_ts.map_or(ts, |m| m.min(ts)));
            totals.max_ts = Some(totals.max_ts.map_or(ts, |m| m.max(ts)));
        }
        Ok(())
    }

    /// Fold a batch's item figures into its thread and stamp the revision.
    fn touch_thread(&mut self, thread: i64, totals: &ItemTotals) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE threads SET item_count = item_count + ?2,
                    updated_at = CASE WHEN ?3 > ifnull(updated_at, ?3 - 1) THEN ?3 ELSE updated_at END,
                    created_at = ifnull(created_at, ?4),
                    revision = ?5
                 WHERE rowid = ?1",
            )?
            .execute(params![thread, totals.inserted, totals.max_ts, totals.min_ts, self.next_rev])?;
        Ok(())
    }

    fn insert_raw_chunk(&mut self, file: i64, chunk: &RawChunk) -> Result<()> {
        let bytes = chunk.data.len() as i64;
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO raw_chunks(file, first_offset, records, raw_bytes, bytes, data, revision)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(file, first_offset) DO NOTHING",
            )?
            .execute(params![
                file,
                chunk.first_offset as i64,
                chunk.records,
                chunk.raw_bytes as i64,
                bytes,
                chunk.data,
                self.next_rev
            ])?;
        if n > 0 {
            self.changed = true;
            self.raw_delta += bytes;
        }
        Ok(())
    }

    /// Delete the oldest raw records until the log is under 90% of `limit`
    /// bytes. Returns the bytes freed (also subtracted from `raw_delta`).
    /// Pruning alone does not make the transaction "changed": it stamps no row.
    pub(crate) fn prune_raw(&mut self, total: i64, limit: i64) -> Result<i64> {
        if total <= limit {
            return Ok(0);
        }
        let to_free = total - limit / 10 * 9;
        let mut freed = 0i64;
        let mut cutoff = 0i64;
        let mut stmt = self.conn.prepare_cached(
            "SELECT rowid, bytes FROM raw_chunks WHERE rowid > ?1 ORDER BY rowid LIMIT 1024",
        )?;
        'scan: loop {
            let mut rows = stmt.query([cutoff])?;
            let mut any = false;
            while let Some(row) = rows.next()? {
                any = true;
                cutoff = row.get(0)?;
                freed += row.get::<_, i64>(1)?;
                if freed >= to_free {
                    break 'scan;
                }
            }
            if !any {
                break;
            }
        }
        drop(stmt);
        self.conn
            .prepare_cached("DELETE FROM raw_chunks WHERE rowid <= ?1")?
            .execute([cutoff])?;
        self.raw_delta -= freed;
        tracing::debug!(freed, cutoff, "pruned raw event log");
        Ok(freed)
    }
}

/// The batch's item patches, each key once ([`ItemPatch::coalesce`]).
fn coalesce_items(events: &[ParsedEvent]) -> Vec<Cow<'_, ItemPatch>> {
    ItemPatch::coalesce(
        events
            .iter()
            .filter_map(|e| match e {
                ParsedEvent::Item(item) => Some(Cow::Borrowed(item)),
                _ => None,
            })
            .collect(),
    )
}
