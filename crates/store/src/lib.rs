//! The Tinyvex store: one SQLite database holding threads, items, source
//! file cursors and a bounded raw event log.
//!
//! * **One writer.** [`Store::start_writer`] spawns the only thread that
//!   writes. It owns the write connection, drains whatever [`FileBatch`]es
//!   are queued and applies them in one transaction (group commit).
//! * **Revisions.** Every transaction that changes at least one row bumps a
//!   global [`Revision`] and stamps it on each row it touched, so "what
//!   changed since R" is `WHERE revision > R`. A transaction that changes
//!   nothing (re-ingesting identical data) leaves the revision alone.
//! * **Readers.** [`Store::read`] lends a pooled read-only connection
//!   ([`Reader`]); queries run in SQL, counts are maintained by the writer.
//! * **Change feed.** [`Reader::changes_since`] returns every thread and
//!   item changed after a revision, read in one transaction together with
//!   the revision it reaches; [`Reader::snapshot`] runs any set of queries
//!   on one consistent state. [`Reader::store_id`] identifies the database
//!   so that a revision is never compared across databases, and
//!   [`Reader::min_resume_revision`] bounds how far back a feed may resume.
//! * **Control writes.** Settings and thread aliases ([`ControlWrite`]) go
//!   through the same single writer ([`WriterClient::control`]): they bump
//!   the revision (only when something changed) and notify commit
//!   subscribers like batches do, so live clients see them as changes too.
//!   A short command writes one without a writer thread
//!   ([`Store::write_control`]); every commit continues from the revision
//!   stored in the database, so commits of two processes never share one.
//!   Change-feed consumers save their cursor the same way
//!   ([`ControlWrite::SetCursor`], [`Reader::cursor`]), without a revision.
//! * **Migrations.** Numbered SQL scripts, tracked by `PRAGMA user_version`
//!   (see [`migrations`]).
//!
//! [`FileBatch`]: tinyvex_model::FileBatch
//! [`Revision`]: tinyvex_model::Revision

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tinyvex_model::Revision;

mod apply;
mod changes;
mod control;
pub mod migrations;
mod pool;
mod query;
pub mod raw;
mod rows;
pub mod search;
mod writer;

pub use changes::ChangeSet;
pub use control::ControlWrite;
pub use pool::Reader;
pub use rows::{ItemQuery, ItemRow, ProviderStatus, ThreadPageCursor, ThreadQuery, ThreadRow};
pub use search::{CatchUp, QueryError, SearchHit, SearchKind, SearchQuery};
pub use writer::WriterClient;

/// How long a connection waits for a lock held by another connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An SQLite error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A filesystem error (creating the database directory).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A migration script failed; the database is left at the previous version.
    #[error("migration {version} failed: {source}")]
    Migration {
        /// The 1-based number of the failing migration.
        version: usize,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The database was written by a newer Tinyvex.
    #[error("the database schema is version {found}, newer than this build supports ({supported}); upgrade tinyvex")]
    SchemaTooNew {
        /// `user_version` found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: usize,
    },
    /// [`Store::start_writer`] was called twice on the same store.
    #[error("the writer of this store was already started")]
    WriterAlreadyStarted,
    /// The writer thread has stopped (shut down or crashed).
    #[error("the store writer has stopped")]
    WriterStopped,
    /// The disk is full: the writer could not commit.
    #[error("the disk is full: cannot write to the store ({0})\nhint: free some space and run the command again; it resumes where it stopped and nothing stored is lost")]
    DiskFull(String),
    /// The writer could not commit batches for a reason that is not specific
    /// to one batch (I/O error, read-only file, corruption).
    #[error("the store writer failed: {0}")]
    Writer(String),
    /// A thread id prefix matches more than one thread.
    #[error("`{prefix}` matches several threads: {}{}", .candidates.join(", "), if *.more { ", ..." } else { "" })]
    AmbiguousThread {
        /// What was asked for.
        prefix: String,
        /// A few of the matching thread ids.
        candidates: Vec<String>,
        /// True when there are more matches than listed.
        more: bool,
    },
    /// A [`ControlWrite`] that cannot be stored (an empty key or alias).
    #[error("invalid control write: {0}")]
    InvalidControl(String),
    /// A change feed asked to resume from a revision older than
    /// [`Reader::min_resume_revision`]: the changes in between may be gone,
    /// so the client must take a fresh snapshot instead.
    #[error("cannot resume from revision {since}: the oldest resumable revision is {min}; take a fresh snapshot")]
    ResumeTooOld {
        /// The revision asked for.
        since: Revision,
        /// The oldest revision a feed may resume from.
        min: Revision,
    },
    /// A search query could not be understood.
    #[error("{0}")]
    Query(#[from] search::QueryError),
    /// The search index failed (it is rebuilt from the store when needed).
    #[error(transparent)]
    Search(#[from] tinyvex_search::Error),
    /// Stored JSON did not parse.
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// True for a full disk (`SQLITE_FULL`), directly or as reported by the writer.
    pub fn is_disk_full(&self) -> bool {
        match self {
            Error::DiskFull(_) => true,
            Error::Sqlite(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            _ => false,
        }
    }
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Tuning knobs of a [`Store`].
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Upper bound of the raw event log, in bytes of record text. The oldest
    /// records are pruned down to 90% of it once it is exceeded.
    pub raw_retention_bytes: u64,
    /// Number of read-only connections kept for [`Store::read`].
    pub read_pool_size: usize,
    /// Most batches applied in one transaction.
    pub max_batches_per_commit: usize,
    /// Bytes of source data (`FileBatch::bytes_read`) that may wait in the
    /// writer's queue before [`WriterClient::submit`] blocks (backpressure).
    pub queue_bytes: u64,
    /// Whether the writer keeps the search index current. Off, nothing
    /// indexes while items are stored; a search reads every item past the
    /// index's cursor, and [`Store::catch_up_search`] (what `tinyvex
    /// search` runs first) brings the index up to date. For measuring
    /// what indexing costs an ingest, and for machines that never search.
    pub search_index: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            raw_retention_bytes: 512 << 20,
            read_pool_size: 4,
            max_batches_per_commit: 512,
            queue_bytes: 8 << 20,
            search_index: true,
        }
    }
}

/// A handle to an open store. Cheap to clone; every clone shares the read
/// pool and the (single) writer slot.
#[derive(Clone)]
pub struct Store {
    inner: Arc<StoreInner>,
}

struct StoreInner {
    path: PathBuf,
    options: StoreOptions,
    /// The write connection, until [`Store::start_writer`] hands it to the
    /// writer thread; `None` afterwards, which is how a second call is refused.
    write_conn: Mutex<Option<Connection>>,
    pool: Arc<pool::Pool>,
}

impl Store {
    /// Open (creating if needed) the store at `path` with default options.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_with(path, StoreOptions::default())
    }

    /// Open (creating if needed) the store at `path`: creates the parent
    /// directory, sets the pragmas and runs pending migrations.
    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure_writer(&conn)?;
        migrations::run(&mut conn)?;
        let store_id: String =
            conn.query_row("SELECT value FROM meta WHERE key = 'store_id'", [], |r| {
                r.get(0)
            })?;
        let pool = Arc::new(pool::Pool::new(
            path.to_path_buf(),
            options.read_pool_size,
            store_id,
        ));
        tracing::debug!(path = %path.display(), "store opened");
        Ok(Store {
            inner: Arc::new(StoreInner {
                path: path.to_path_buf(),
                options,
                write_conn: Mutex::new(Some(conn)),
                pool,
            }),
        })
    }

    /// Spawn the writer thread. Only one writer per store: a second call
    /// returns [`Error::WriterAlreadyStarted`].
    pub fn start_writer(&self) -> Result<WriterClient> {
        let conn = self
            .inner
            .write_conn
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or(Error::WriterAlreadyStarted)?;
        let writer = WriterClient::start(conn, &self.inner.options)?;
        if self.inner.options.search_index {
            let index = self.inner.pool.search_index()?;
            search::indexer::Indexer::start(self.inner.pool.connect()?, &index, &writer)?;
        }
        Ok(writer)
    }

    /// Apply one control write (a setting, say) right away on this
    /// process's write connection, without starting the writer thread or
    /// the search indexer: for a short command such as `tinyvex two-way on`,
    /// possibly next to a running server, whose writer then continues from
    /// the revision this commit reached. [`Error::WriterAlreadyStarted`]
    /// once this store's writer runs (use [`WriterClient::control`]).
    pub fn write_control(&self, write: ControlWrite) -> Result<Revision> {
        write.validate()?;
        let mut guard = self
            .inner
            .write_conn
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let conn = guard.as_mut().ok_or(Error::WriterAlreadyStarted)?;
        let (revision, _) = control::commit_control(conn, &write, 0)?;
        Ok(Revision(revision as u64))
    }

    /// Bring the search index up to the store's revision now, in this
    /// thread (`progress` gets the items applied so far). `None` when
    /// another process holds the index: it keeps it current itself.
    pub fn catch_up_search(&self, progress: impl FnMut(u64)) -> Result<Option<CatchUp>> {
        let index = self.inner.pool.search_index()?;
        let Some(mut updater) =
            index.writer(search::indexer::THREADS, search::indexer::HEAP_BYTES)?
        else {
            return Ok(None);
        };
        let conn = self.inner.pool.connect()?;
        let done =
            search::indexer::catch_up(&conn, &mut updater, search::indexer::CHUNK_BYTES, progress)?;
        updater.finish()?;
        Ok(Some(done))
    }

    /// Items stored after the search index's cursor (at most `limit + 1`
    /// are counted): how far the index is behind.
    pub fn search_lag(&self, limit: u64) -> Result<u64> {
        let cursor = self.inner.pool.search_index()?.view().cursor;
        let reader = self.read()?;
        Ok(reader.connection().query_row(
            "SELECT count(*) FROM (SELECT 1 FROM items WHERE (revision, rowid) > (?1, ?2) LIMIT ?3)",
            rusqlite::params![
                cursor.revision as i64,
                cursor.rowid,
                limit.min(i64::MAX as u64 - 1) as i64 + 1
            ],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Borrow a read-only connection from the pool (blocking while all are
    /// in use). It goes back to the pool when the [`Reader`] is dropped.
    pub fn read(&self) -> Result<Reader> {
        pool::Pool::get(&self.inner.pool)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.inner.options
    }

    /// Run `f` on the write connection before the writer starts (tests).
    #[cfg(test)]
    pub(crate) fn with_write_conn<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        let guard = self.inner.write_conn.lock().unwrap();
        f(guard.as_ref().expect("writer not started"))
    }
}

/// The search index's folder: beside the database, named after it.
pub fn search_dir(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-search");
    PathBuf::from(name)
}

/// Pragmas of the write connection.
fn configure_writer(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Only takes effect on a new, empty database (before WAL is enabled).
    conn.execute_batch("PRAGMA page_size = 16384")?;
    // journal_mode returns a row, so it cannot go through execute_batch.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "could not switch the store to WAL mode");
    }
    // NORMAL in WAL mode only syncs at checkpoints: a crash can lose the last
    // commits but never corrupts, and the cursors roll back with the data.
    // A larger autocheckpoint batches checkpoint I/O at ingest rates; the
    // journal size limit truncates the WAL back afterwards. The cache is
    // moderate to keep the process under its memory target.
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = OFF;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16384;
         PRAGMA wal_autocheckpoint = 4096;
         PRAGMA journal_size_limit = 67108864;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}
