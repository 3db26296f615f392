//! Control state: persisted settings, thread aliases and the cursors of
//! change-feed consumers.
//!
//! Control writes go through the single writer like ingested batches, so
//! they get a [`Revision`] and wake commit subscribers: a live client sees a
//! setting or alias change the same way it sees new items. Consumer cursors
//! are bookkeeping, not data: they stamp no revision. The read side
//! ([`Reader::settings`], [`Reader::alias`], [`Reader::cursor`], ...) lives
//! here too.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension};
use tinyvex_model::Revision;

use crate::{Error, Reader, Result};

/// A change to the control state, applied by [`crate::WriterClient::control`].
///
/// Every write is idempotent: writing the value already stored changes no
/// row and does not bump the revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlWrite {
    /// Set a persisted setting (e.g. "provider.codex.enabled" = "false", "two_way" = "true").
    SetSetting {
        /// Setting name; must not be empty.
        key: String,
        /// New value.
        value: String,
    },
    /// Map a client's own thread id to a stored thread id.
    ///
    /// The target thread need not exist yet: the alias is stored anyway,
    /// since the thread may arrive with a later ingest, and resolves once it
    /// does.
    SetAlias {
        /// The client's id; must not be empty.
        alias: String,
        /// The public id of the stored thread; must not be empty.
        thread_id: String,
    },
    /// Remove an alias (removing an unknown alias changes nothing).
    RemoveAlias {
        /// The alias to remove; must not be empty.
        alias: String,
    },
    /// Record how far a consumer of the change feed (the two-way mirror)
    /// has processed the store, so that it resumes there after a restart
    /// ([`Reader::cursor`]). Bookkeeping, not data: it stamps no revision
    /// and wakes no commit subscriber, so a consumer saving its cursor
    /// never wakes itself.
    SetCursor {
        /// The consumer's name; must not be empty.
        consumer: String,
        /// Every change up to this revision has been processed.
        revision: Revision,
    },
}

impl ControlWrite {
    /// Reject writes that could never be read back (empty keys), before
    /// they reach the writer thread.
    pub(crate) fn validate(&self) -> Result<()> {
        let empty = match self {
            ControlWrite::SetSetting { key, .. } => key.is_empty().then_some("setting key"),
            ControlWrite::SetAlias { alias, thread_id } => {
                if alias.is_empty() {
                    Some("alias")
                } else if thread_id.is_empty() {
                    Some("alias thread id")
                } else {
                    None
                }
            }
            ControlWrite::RemoveAlias { alias } => alias.is_empty().then_some("alias"),
            ControlWrite::SetCursor { consumer, .. } => {
                consumer.is_empty().then_some("cursor's consumer")
            }
        };
        match empty {
            Some(what) => Err(Error::InvalidControl(format!("the {what} is empty"))),
            None => Ok(()),
        }
    }

    /// Apply the write inside the writer's transaction, stamping `rev` on
    /// the row it changes. True when a row changed (the caller then commits
    /// `rev` as the new revision).
    pub(crate) fn apply(&self, conn: &Connection, rev: i64) -> Result<bool> {
        let (changed, meta_key) = match self {
            ControlWrite::SetSetting { key, value } => (
                conn.prepare_cached(
                    "INSERT INTO settings(key, value, revision) VALUES (?1, ?2, ?3)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value, revision = excluded.revision
                     WHERE value IS NOT excluded.value",
                )?
                .execute(params![key, value, rev])?,
                "settings_revision",
            ),
            ControlWrite::SetAlias { alias, thread_id } => (
                conn.prepare_cached(
                    "INSERT INTO aliases(alias, thread_id, revision) VALUES (?1, ?2, ?3)
                     ON CONFLICT(alias) DO UPDATE SET thread_id = excluded.thread_id, revision = excluded.revision
                     WHERE thread_id IS NOT excluded.thread_id",
                )?
                .execute(params![alias, thread_id, rev])?,
                "aliases_revision",
            ),
            ControlWrite::RemoveAlias { alias } => (
                conn.prepare_cached("DELETE FROM aliases WHERE alias = ?1")?
                    .execute([alias])?,
                "aliases_revision",
            ),
            ControlWrite::SetCursor { consumer, revision } => {
                conn.prepare_cached(
                    "INSERT INTO meta(key, value) VALUES (?1, ?2)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                )?
                .execute(params![cursor_key(consumer), sql_rev(*revision)])?;
                return Ok(false);
            }
        };
        if changed == 0 {
            return Ok(false);
        }
        conn.prepare_cached("UPDATE meta SET value = ?2 WHERE key = ?1")?
            .execute(params![meta_key, rev])?;
        Ok(true)
    }
}

/// The `meta` key of a consumer's cursor.
fn cursor_key(consumer: &str) -> String {
    format!("cursor.{consumer}")
}

/// Apply `write` in its own IMMEDIATE transaction on a write connection and
/// commit it. `known` is the newest revision this process has committed;
/// the revision stored in the database wins when it is newer (another
/// process, such as a `tinyvex two-way on` next to a running server,
/// committed meanwhile), so two commits never share a revision. Returns the
/// revision after the commit and whether the write changed something.
pub(crate) fn commit_control(
    conn: &mut Connection,
    write: &ControlWrite,
    known: i64,
) -> Result<(i64, bool)> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let base = known.max(stored_revision(&tx)?);
    let next_rev = base + 1;
    let changed = write.apply(&tx, next_rev)?;
    if changed {
        set_stored_revision(&tx, next_rev)?;
    }
    tx.commit()?;
    Ok((if changed { next_rev } else { base }, changed))
}

/// The revision recorded in the database (inside the caller's transaction).
pub(crate) fn stored_revision(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'revision'")?
        .query_row([], |r| r.get(0))?)
}

/// Record `revision` as the last commit's (inside the caller's transaction).
pub(crate) fn set_stored_revision(conn: &Connection, revision: i64) -> Result<()> {
    conn.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'revision'")?
        .execute([revision])?;
    Ok(())
}

/// Clamp a revision to SQLite's integer range.
pub(crate) fn sql_rev(rev: Revision) -> i64 {
    i64::try_from(rev.0).unwrap_or(i64::MAX)
}

impl Reader {
    /// A value of the `meta` table; `None` when the key is absent.
    pub(crate) fn meta<T: rusqlite::types::FromSql>(&self, key: &str) -> Result<Option<T>> {
        Ok(self
            .connection()
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// Every persisted setting, by key.
    pub fn settings(&self) -> Result<BTreeMap<String, String>> {
        let mut stmt = self
            .connection()
            .prepare_cached("SELECT key, value FROM settings ORDER BY key")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One persisted setting; `None` when it was never set.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .connection()
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// The cursor a change-feed consumer saved with
    /// [`ControlWrite::SetCursor`]; `None` when it never saved one.
    pub fn cursor(&self, consumer: &str) -> Result<Option<Revision>> {
        let value: Option<i64> = self.meta(&cursor_key(consumer))?;
        Ok(value.map(|v| Revision(v.max(0) as u64)))
    }

    /// The thread id an alias maps to (the thread itself may not be stored
    /// yet); `None` for an unknown alias.
    pub fn alias(&self, alias: &str) -> Result<Option<String>> {
        Ok(self
            .connection()
            .prepare_cached("SELECT thread_id FROM aliases WHERE alias = ?1")?
            .query_row([alias], |r| r.get(0))
            .optional()?)
    }

    /// Every alias of a thread, sorted, so a client can find its own id for
    /// a thread it is shown.
    pub fn aliases_of(&self, thread_id: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .connection()
            .prepare_cached("SELECT alias FROM aliases WHERE thread_id = ?1 ORDER BY alias")?;
        let rows = stmt.query_map([thread_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The random id of this database (32 lowercase hex digits), fixed when
    /// it was created. A client holding a revision of a different store id
    /// must take a fresh snapshot: revisions of two databases do not compare.
    pub fn store_id(&self) -> Result<String> {
        self.meta("store_id")?
            .ok_or_else(|| Error::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    }

    /// The oldest revision a change feed may resume from
    /// ([`Reader::changes_since`] refuses older ones): changes before it may
    /// have been deleted and would go unreported.
    pub fn min_resume_revision(&self) -> Result<Revision> {
        let min: Option<i64> = self.meta("min_resume_revision")?;
        Ok(Revision(min.unwrap_or(0).max(0) as u64))
    }
}
