//! Numbered schema migrations.
//!
//! [`MIGRATIONS`]`[i]` upgrades a database from version `i` to `i + 1`;
//! `PRAGMA user_version` records the version reached. Each script runs in
//! its own transaction together with the version bump, so a failed script
//! leaves the database at the previous version. Scripts are append-only:
//! never edit one that has shipped, add a new one.

use rusqlite::Connection;

use crate::{Error, Result};

/// The migration scripts, in order.
pub const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value
) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES ('revision', 0), ('raw_bytes', 0);

CREATE TABLE threads (
    rowid             INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    provider          TEXT NOT NULL,
    session_id        TEXT NOT NULL,
    title             TEXT,
    cwd               TEXT,
    git_branch        TEXT,
    model             TEXT,
    agent_version     TEXT,
    parent_session_id TEXT,
    created_at        INTEGER,
    updated_at        INTEGER,
    item_count        INTEGER NOT NULL DEFAULT 0,
    source_missing    INTEGER NOT NULL DEFAULT 0,
    revision          INTEGER NOT NULL
);
-- Listing order is (updated_at DESC, id DESC) with unknown times last; the
-- indexes use the same ifnull() expression as the queries so they apply.
CREATE INDEX threads_by_updated ON threads(ifnull(updated_at, 0) DESC, id DESC);
CREATE INDEX threads_by_provider_updated ON threads(provider, ifnull(updated_at, 0) DESC, id DESC);
CREATE INDEX threads_by_revision ON threads(revision);
CREATE INDEX threads_by_session ON threads(session_id);

CREATE TABLE items (
    rowid      INTEGER PRIMARY KEY,
    thread     INTEGER NOT NULL REFERENCES threads(rowid),
    key        TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    ts         INTEGER,
    text       TEXT,
    call_id    TEXT,
    tool_kind  TEXT,
    name       TEXT,
    command    TEXT,
    input      TEXT,
    output     TEXT,
    exit_code  INTEGER,
    status     TEXT,
    started_at INTEGER,
    ended_at   INTEGER,
    data       TEXT,
    revision   INTEGER NOT NULL,
    UNIQUE(thread, key)
);
CREATE INDEX items_by_seq ON items(thread, seq);
CREATE INDEX items_by_thread_revision ON items(thread, revision);
CREATE INDEX items_by_revision ON items(revision);

CREATE TABLE files (
    rowid          INTEGER PRIMARY KEY,
    provider       TEXT NOT NULL,
    path           TEXT NOT NULL,
    thread         INTEGER REFERENCES threads(rowid),
    dev            INTEGER NOT NULL DEFAULT 0,
    ino            INTEGER NOT NULL DEFAULT 0,
    size           INTEGER NOT NULL DEFAULT 0,
    mtime_ns       INTEGER NOT NULL DEFAULT 0,
    offset         INTEGER NOT NULL DEFAULT 0,
    parser_state   TEXT NOT NULL DEFAULT '',
    bytes_ingested INTEGER NOT NULL DEFAULT 0,
    line_errors    INTEGER NOT NULL DEFAULT 0,
    file_error     TEXT,
    last_error     TEXT,
    last_error_at  INTEGER,
    revision       INTEGER NOT NULL,
    UNIQUE(provider, path)
);
CREATE INDEX files_by_thread ON files(thread);

-- Verbatim source records, a chunk per batch: consecutive records of one
-- file, framed and LZ4-compressed (codec in raw.rs). `bytes` is the stored
-- (compressed) size, which the size-based retention counts.
CREATE TABLE raw_chunks (
    rowid        INTEGER PRIMARY KEY,
    file         INTEGER NOT NULL REFERENCES files(rowid),
    first_offset INTEGER NOT NULL,
    records      INTEGER NOT NULL,
    raw_bytes    INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    data         BLOB NOT NULL,
    revision     INTEGER NOT NULL,
    UNIQUE(file, first_offset)
);

CREATE TABLE ingest_errors (
    file    INTEGER NOT NULL REFERENCES files(rowid),
    offset  INTEGER NOT NULL,
    message TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY(file, offset)
) WITHOUT ROWID;
"#,
    // 2: source files that disappeared (their threads keep their items).
    r#"
ALTER TABLE files ADD COLUMN missing INTEGER NOT NULL DEFAULT 0;
"#,
    // 3: control state (settings, thread aliases) and change-feed metadata.
    // `store_id` tells clients holding a revision of another database to
    // resnapshot; `min_resume_revision` is the oldest revision a change feed
    // may resume from. `settings_revision` / `aliases_revision` record the
    // last revision that changed each table, removals included (a removed
    // alias leaves no row whose revision could say so).
    r#"
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, revision INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE aliases (alias TEXT PRIMARY KEY, thread_id TEXT NOT NULL, revision INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX aliases_by_thread ON aliases(thread_id);
INSERT INTO meta(key, value) VALUES ('store_id', lower(hex(randomblob(16)))), ('min_resume_revision', 0);
INSERT INTO meta(key, value) VALUES ('settings_revision', 0), ('aliases_revision', 0);
"#,
    // 4: was an FTS5 index kept by triggers in the writer's transaction;
    // replaced before release by the tantivy index beside the database
    // (`tinyvex_search`), which costs the writer nothing and answers broad
    // queries far faster (docs/search-engine-choice.md). Kept as a no-op so
    // version numbers stay stable.
    "SELECT 1;",
    // 5: drop that FTS5 index from stores that ran migration 4.
    r#"
DROP TRIGGER IF EXISTS items_fts_insert;
DROP TRIGGER IF EXISTS items_fts_delete;
DROP TRIGGER IF EXISTS items_fts_update;
DROP TABLE IF EXISTS items_fts;
"#,
    // 6: when the thread's title was said (`ThreadPatch::title_at`), so a title from earlier in the session replaces one
    // read first from a later part of it.
    r#"
ALTER TABLE threads ADD COLUMN title_ts INTEGER;
"#,
];

/// Bring the database up to the newest schema version.
pub fn run(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > MIGRATIONS.len() as i64 {
        return Err(Error::SchemaTooNew {
            found: current,
            supported: MIGRATIONS.len(),
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let version = index + 1;
        let fail = |source| Error::Migration { version, source };
        // IMMEDIATE: two processes opening a fresh store at once must not
        // both run the same script; the loser waits, then sees it done.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        let now: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(fail)?;
        if now >= version as i64 {
            continue;
        }
        tx.execute_batch(sql).map_err(fail)?;
        tx.execute_batch(&format!("PRAGMA user_version = {version}"))
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
        tracing::info!(version, "store migrated");
    }
    Ok(())
}

/// The newest schema version.
pub fn latest_version() -> usize {
    MIGRATIONS.len()
}
