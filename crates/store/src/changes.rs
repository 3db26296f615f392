//! The change feed of the read side: consistent snapshots, "what changed
//! since revision R", and single-item lookups, for live queries that send a
//! snapshot once and then only differences.
//!
//! Every row carries the revision of its last change, and the indexes on
//! `revision` make `WHERE revision > R` cheap. Reads that must agree with
//! the revision they are tagged with run inside one read transaction
//! ([`Reader::snapshot`]): in WAL mode it sees a single committed state
//! however many commits land meanwhile.

use rusqlite::{params, OptionalExtension, Row};
use tinyvex_model::Revision;

use crate::control::sql_rev;
use crate::query::{item_row, thread_row, ITEM_COLUMNS, THREAD_COLUMNS};
use crate::rows::{ItemRow, ThreadRow};
use crate::{Error, Reader, Result};

/// What changed between two revisions, as read by [`Reader::changes_since`].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ChangeSet {
    /// The revision the changes are counted from (exclusive): the `since`
    /// asked for.
    pub from: Revision,
    /// The revision of the state read: every change up to it is included,
    /// so a client that applies this set is at `to`.
    pub to: Revision,
    /// Threads inserted or changed after `from` (a thread changes with its
    /// items), ordered by revision, then id.
    pub threads: Vec<ThreadRow>,
    /// Items inserted or changed after `from`, ordered by thread id, then
    /// `seq`. `None` when more than the requested limit changed: the caller
    /// should then read the changed threads one by one
    /// ([`Reader::items_since`]) or resnapshot them.
    pub items: Option<Vec<ItemRow>>,
    /// True when a setting changed after `from`.
    pub settings_changed: bool,
    /// True when an alias was set, changed or removed after `from`.
    pub aliases_changed: bool,
}

impl ChangeSet {
    /// True when nothing changed between `from` and `to`.
    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
            && self.items.as_ref().is_some_and(Vec::is_empty)
            && !self.settings_changed
            && !self.aliases_changed
    }
}

/// `limit + 1` as an SQL limit: one row more than allowed tells "too many"
/// without counting them all.
fn over_limit(limit: usize) -> i64 {
    i64::try_from(limit)
        .unwrap_or(i64::MAX - 1)
        .saturating_add(1)
}

/// An item row read together with its thread id (column 18).
fn item_row_with_thread(r: &Row<'_>) -> rusqlite::Result<ItemRow> {
    let thread_id: String = r.get(18)?;
    item_row(&thread_id, r)
}

impl Reader {
    /// Run `f` inside one read transaction, so that [`Reader::revision`] and
    /// every query inside see the same database state: a snapshot and the
    /// revision it is tagged with then agree. The transaction ends when `f`
    /// returns (rolled back if it fails). Nested calls join the outer
    /// transaction.
    pub fn snapshot<T>(&self, f: impl FnOnce(&Reader) -> Result<T>) -> Result<T> {
        let conn = self.connection();
        if !conn.is_autocommit() {
            return f(self);
        }
        conn.execute_batch("BEGIN")?;
        match f(self) {
            Ok(value) => {
                conn.execute_batch("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                // A failed rollback leaves the connection in a transaction;
                // the pool closes such connections instead of reusing them.
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Fail with [`Error::ResumeTooOld`] when changes after `since` may no
    /// longer be complete.
    fn check_resumable(&self, since: Revision) -> Result<()> {
        let min = self.min_resume_revision()?;
        if since < min {
            return Err(Error::ResumeTooOld { since, min });
        }
        Ok(())
    }

    /// Everything that changed after `since`, read in one transaction (see
    /// [`ChangeSet`]). Items are listed only when at most `item_limit`
    /// changed, otherwise `items` is `None`. A `since` at or past the
    /// current revision gives an empty set; one older than
    /// [`Reader::min_resume_revision`] is [`Error::ResumeTooOld`].
    pub fn changes_since(&self, since: Revision, item_limit: usize) -> Result<ChangeSet> {
        self.snapshot(|r| {
            let to = r.revision()?;
            r.check_resumable(since)?;
            let conn = r.connection();
            let since_sql = sql_rev(since);
            let threads = conn
                .prepare_cached(&format!(
                    "SELECT {THREAD_COLUMNS} FROM threads t WHERE t.revision > ?1
                     ORDER BY t.revision, t.id"
                ))?
                .query_map([since_sql], thread_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            // Count at most limit + 1 changed items on items_by_revision
            // before reading (and sorting) any of them.
            let changed: i64 = conn
                .prepare_cached(
                    "SELECT count(*) FROM (SELECT 1 FROM items WHERE revision > ?1 LIMIT ?2)",
                )?
                .query_row(params![since_sql, over_limit(item_limit)], |row| row.get(0))?;
            let items = if changed as u64 > item_limit as u64 {
                None
            } else {
                let rows = conn
                    .prepare_cached(&format!(
                        "SELECT {ITEM_COLUMNS}, t.id AS tid FROM items i
                         JOIN threads t ON t.rowid = i.thread
                         WHERE i.revision > ?1 ORDER BY t.id, i.seq, i.rowid"
                    ))?
                    .query_map([since_sql], item_row_with_thread)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Some(rows)
            };
            let newer =
                |key: &str| -> Result<bool> { Ok(r.meta::<i64>(key)?.unwrap_or(0) > since_sql) };
            Ok(ChangeSet {
                from: since,
                to,
                threads,
                items,
                settings_changed: newer("settings_revision")?,
                aliases_changed: newer("aliases_revision")?,
            })
        })
    }

    /// Items of one thread (by exact public id) inserted or changed after
    /// `since`, in `seq` order; `None` when more than `limit` changed (the
    /// caller should resnapshot the thread instead). An unknown thread has
    /// no changed items. A `since` older than
    /// [`Reader::min_resume_revision`] is [`Error::ResumeTooOld`].
    pub fn items_since(
        &self,
        thread_id: &str,
        since: Revision,
        limit: usize,
    ) -> Result<Option<Vec<ItemRow>>> {
        self.snapshot(|r| {
            r.check_resumable(since)?;
            let conn = r.connection();
            let since_sql = sql_rev(since);
            // Bounded count on items_by_thread_revision first.
            let changed: i64 = conn
                .prepare_cached(
                    "SELECT count(*) FROM (SELECT 1 FROM items
                     WHERE thread = (SELECT rowid FROM threads WHERE id = ?1) AND revision > ?2
                     LIMIT ?3)",
                )?
                .query_row(params![thread_id, since_sql, over_limit(limit)], |row| {
                    row.get(0)
                })?;
            if changed as u64 > limit as u64 {
                return Ok(None);
            }
            let rows = conn
                .prepare_cached(&format!(
                    "SELECT {ITEM_COLUMNS} FROM items i
                     WHERE i.thread = (SELECT rowid FROM threads WHERE id = ?1) AND i.revision > ?2
                     ORDER BY i.seq, i.rowid"
                ))?
                .query_map(params![thread_id, since_sql], |row| {
                    item_row(thread_id, row)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Some(rows))
        })
    }

    /// One item by its public id (`<thread id>/<key>`), of any kind; `None`
    /// when unknown. Thread ids never contain '/', so the id splits at its
    /// first '/' (keys may contain more). Two indexed lookups.
    pub fn item(&self, item_id: &str) -> Result<Option<ItemRow>> {
        let Some((thread_id, key)) = item_id.split_once('/') else {
            return Ok(None);
        };
        Ok(self
            .connection()
            .prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM items i
                 WHERE i.thread = (SELECT rowid FROM threads WHERE id = ?1) AND i.key = ?2"
            ))?
            .query_row(params![thread_id, key], |row| item_row(thread_id, row))
            .optional()?)
    }
}
