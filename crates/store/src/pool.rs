//! A small pool of read-only connections, opened lazily and reused.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use rusqlite::{Connection, OpenFlags};
use tinyvex_search::SearchIndex;

use crate::{Result, BUSY_TIMEOUT};

/// The read pool shared by every clone of a [`crate::Store`], and the
/// search index that its readers search.
pub(crate) struct Pool {
    path: PathBuf,
    /// The store's id, which the search index is checked against.
    store_id: String,
    /// Opened on first use: most commands never search.
    search: OnceLock<SearchIndex>,
    size: usize,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Connection>,
    /// Connections that exist, idle or lent out.
    open: usize,
}

impl Pool {
    pub(crate) fn new(path: PathBuf, size: usize, store_id: String) -> Pool {
        Pool {
            path,
            store_id,
            search: OnceLock::new(),
            size: size.max(1),
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        }
    }

    /// Lend a connection: an idle one, a new one while under the pool size,
    /// or wait for one to come back.
    pub(crate) fn get(pool: &Arc<Pool>) -> Result<Reader> {
        let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Reader {
                    conn: Some(conn),
                    pool: Arc::clone(pool),
                });
            }
            if state.open < pool.size {
                state.open += 1;
                // Open outside the lock: it touches the filesystem.
                drop(state);
                return match pool.connect() {
                    Ok(conn) => Ok(Reader {
                        conn: Some(conn),
                        pool: Arc::clone(pool),
                    }),
                    Err(e) => {
                        pool.state.lock().unwrap_or_else(|e| e.into_inner()).open -= 1;
                        pool.returned.notify_one();
                        Err(e)
                    }
                };
            }
            state = pool.returned.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The search index beside the database, opened (or rebuilt) on the
    /// first call.
    pub(crate) fn search_index(&self) -> Result<SearchIndex> {
        if let Some(index) = self.search.get() {
            return Ok(index.clone());
        }
        let index = SearchIndex::open(&crate::search_dir(&self.path), &self.store_id)?;
        // Two first calls at once: the loser's index is dropped, the
        // winner's kept (both are the same folder).
        Ok(self.search.get_or_init(|| index).clone())
    }

    pub(crate) fn connect(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.execute_batch("PRAGMA cache_size = -8192; PRAGMA temp_store = MEMORY;")?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(conn)
    }
}

/// A pooled read-only connection; see the query methods. Returned to the
/// pool on drop.
pub struct Reader {
    conn: Option<Connection>,
    pool: Arc<Pool>,
}

impl Reader {
    /// The underlying read-only connection, for ad-hoc queries.
    pub fn connection(&self) -> &Connection {
        self.conn.as_ref().expect("connection present until drop")
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut state = self.pool.state.lock().unwrap_or_else(|e| e.into_inner());
            // A connection left inside a transaction (a panic mid-query)
            // would pin an old snapshot forever: close it instead.
            if conn.is_autocommit() {
                state.idle.push(conn);
            } else {
                state.open -= 1;
            }
            drop(state);
            self.pool.returned.notify_one();
        }
    }
}
