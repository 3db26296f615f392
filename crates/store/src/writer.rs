//! The single writer thread and its client handle.
//!
//! Clients put requests on a bounded channel; the thread blocks for the
//! first one, drains whatever else is queued without blocking and applies
//! all batches in one transaction (group commit), then answers the flushes
//! of that drain. Fewer, larger transactions are what makes ingest fast:
//! a commit costs about the same for one batch as for hundreds.
//!
//! Control writes ([`ControlWrite`]) travel on the same queue. Each is
//! applied in its own small transaction after the batches of its drain, so
//! that a rejected control write cannot fail ingested batches and its reply
//! carries the revision of its own commit.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use tinyvex_model::{now_ms, FileBatch, Revision};

use crate::apply::{ThreadCache, Tx};
use crate::control::{commit_control, set_stored_revision, stored_revision};
use crate::search::indexer::Indexer;
use crate::{ControlWrite, Error, Result, StoreOptions};

/// Fixed queue cost of a batch on top of its source bytes, so that batches
/// carrying only a cursor or an error still count against the budget.
const BATCH_OVERHEAD: u64 = 512;

enum Request {
    // Boxed: batches are large and flushes are tiny.
    Batch(Box<FileBatch>),
    Flush(SyncSender<Result<Revision>>),
    Control(ControlWrite, SyncSender<Result<Revision>>),
    Shutdown,
}

/// A failure that is not about one batch (full disk, I/O error): kept until
/// the next [`WriterClient::flush`] reports it.
#[derive(Clone)]
struct Fatal {
    disk_full: bool,
    message: String,
}

impl Fatal {
    fn to_error(&self) -> Error {
        if self.disk_full {
            Error::DiskFull(self.message.clone())
        } else {
            Error::Writer(self.message.clone())
        }
    }
}

/// State shared by the clients and the writer thread.
struct Shared {
    /// Bytes of batches waiting in the queue (backpressure budget).
    queued: Mutex<u64>,
    dequeued: Condvar,
    queue_limit: u64,
    stopped: AtomicBool,
    failed_batches: AtomicU64,
    revision: AtomicU64,
    fatal: Mutex<Option<Fatal>>,
    subscribers: Mutex<Vec<Sender<Revision>>>,
    /// [`StoreOptions::raw_retention_bytes`], for readers that plan around it.
    raw_retention_bytes: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn release(&self, cost: u64) {
        let mut queued = lock(&self.queued);
        *queued = queued.saturating_sub(cost);
        self.dequeued.notify_all();
    }
}

/// A handle to the writer thread. Clones share the thread; the thread stops
/// after [`WriterClient::shutdown`] or when the last clone is dropped
/// (dropping the last clone also waits for the queue to be committed).
#[derive(Clone)]
pub struct WriterClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    tx: Option<SyncSender<Request>>,
    shared: Arc<Shared>,
    handle: Mutex<Option<JoinHandle<()>>>,
    /// Follows the commits into the search index; stopped after the writer.
    indexer: Mutex<Option<Indexer>>,
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        // The indexer's read connection closes before the writer's, so the
        // writer's close is the last one and removes the WAL file. What is
        // committed after it stopped is indexed on the next start.
        if let Some(indexer) = lock(&self.indexer).take() {
            indexer.stop();
        }
        // Disconnect first so the thread sees the end of the queue, then wait
        // for it to commit what is left.
        drop(self.tx.take());
        if let Some(handle) = lock(&self.handle).take() {
            let _ = handle.join();
        }
    }
}

impl WriterClient {
    pub(crate) fn start(conn: Connection, options: &StoreOptions) -> Result<WriterClient> {
        let revision = read_meta(&conn, "revision")?;
        let raw_bytes = read_meta(&conn, "raw_bytes")?;
        let shared = Arc::new(Shared {
            queued: Mutex::new(0),
            dequeued: Condvar::new(),
            queue_limit: options.queue_bytes.max(1),
            stopped: AtomicBool::new(false),
            failed_batches: AtomicU64::new(0),
            revision: AtomicU64::new(revision as u64),
            fatal: Mutex::new(None),
            subscribers: Mutex::new(Vec::new()),
            raw_retention_bytes: options.raw_retention_bytes,
        });
        let max_group = options.max_batches_per_commit.max(1);
        let (tx, rx) = mpsc::sync_channel(max_group);
        let mut writer = Writer {
            conn,
            rx,
            shared: Arc::clone(&shared),
            cache: ThreadCache::new(),
            revision,
            raw_bytes,
            raw_limit: i64::try_from(options.raw_retention_bytes).unwrap_or(i64::MAX),
            max_group,
        };
        let handle = std::thread::Builder::new()
            .name("tinyvex-writer".into())
            .spawn(move || writer.run())?;
        tracing::debug!(revision, "store writer started");
        Ok(WriterClient {
            inner: Arc::new(ClientInner {
                tx: Some(tx),
                shared,
                handle: Mutex::new(Some(handle)),
                indexer: Mutex::new(None),
            }),
        })
    }

    /// Notify `tx` of every commit, like [`WriterClient::subscribe_commits`].
    pub(crate) fn add_subscriber(&self, tx: Sender<Revision>) {
        lock(&self.inner.shared.subscribers).push(tx);
    }

    /// Wait until the search index holds everything committed before this
    /// call, calling `progress` with the items indexed since the call (read
    /// from the indexer's counters: no query). False at once when this
    /// process does not keep the index (another one held it when the writer
    /// started), and when the indexer fails (it logs why; search still
    /// finds everything, checking unindexed items one by one).
    pub fn wait_for_search_index(&self, mut progress: impl FnMut(u64)) -> bool {
        let Some(p) = lock(&self.inner.indexer).as_ref().map(Indexer::progress) else {
            return false;
        };
        let target = self.revision().0;
        let start = p.applied.load(Ordering::Relaxed);
        loop {
            progress(p.applied.load(Ordering::Relaxed).saturating_sub(start));
            if p.caught_up_to.load(Ordering::Acquire) >= target {
                return true;
            }
            if p.failing.load(Ordering::Acquire) {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Stop `indexer` (after its last catch-up) when the writer stops.
    pub(crate) fn attach_indexer(&self, indexer: Indexer) {
        *lock(&self.inner.indexer) = Some(indexer);
    }

    fn send(&self, request: Request) -> Result<()> {
        let tx = self.inner.tx.as_ref().ok_or(Error::WriterStopped)?;
        tx.send(request).map_err(|_| Error::WriterStopped)
    }

    /// Queue a batch for the next commit. Returns at once unless the queue
    /// is over its byte budget, in which case it waits for the writer.
    /// Fails if the writer stopped or a fatal error (full disk) is pending.
    pub fn submit(&self, batch: FileBatch) -> Result<()> {
        let shared = &self.inner.shared;
        if let Some(fatal) = lock(&shared.fatal).as_ref() {
            return Err(fatal.to_error());
        }
        let cost = batch.bytes_read.saturating_add(BATCH_OVERHEAD);
        {
            let mut queued = lock(&shared.queued);
            // An empty queue takes any batch, however large: no deadlock.
            while *queued > 0 && queued.saturating_add(cost) > shared.queue_limit {
                if shared.stopped.load(Ordering::Acquire) {
                    return Err(Error::WriterStopped);
                }
                queued = shared
                    .dequeued
                    .wait(queued)
                    .unwrap_or_else(|e| e.into_inner());
            }
            *queued += cost;
        }
        self.send(Request::Batch(Box::new(batch)))
            .inspect_err(|_| shared.release(cost))
    }

    /// Wait until everything submitted before this call is committed and
    /// return the current revision. Reports (once) a fatal error met since
    /// the previous flush; failures of single batches are only logged and
    /// counted ([`WriterClient::failed_batches`]).
    pub fn flush(&self) -> Result<Revision> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.send(Request::Flush(tx))?;
        rx.recv().map_err(|_| Error::WriterStopped)?
    }

    /// Apply a control write (setting or alias) and return the revision
    /// once it is committed: a new one when the write changed something,
    /// the current one when it did not (writing a stored value again is a
    /// no-op). Commit subscribers are notified as for batches. Batches
    /// submitted before this call are committed first. An empty key or
    /// alias is [`Error::InvalidControl`].
    pub fn control(&self, write: ControlWrite) -> Result<Revision> {
        write.validate()?;
        let (tx, rx) = mpsc::sync_channel(1);
        self.send(Request::Control(write, tx))?;
        rx.recv().map_err(|_| Error::WriterStopped)?
    }

    /// Commit everything queued, stop the writer thread and wait for it.
    /// Other clones fail with [`Error::WriterStopped`] afterwards.
    pub fn shutdown(self) -> Result<()> {
        let flushed = self.flush().map(|_| ());
        // Index everything flushed, and close the indexer's read connection
        // before the writer's (the last close removes the WAL file).
        if let Some(indexer) = lock(&self.inner.indexer).take() {
            indexer.stop();
        }
        let sent = self.send(Request::Shutdown);
        if let Some(handle) = lock(&self.inner.handle).take() {
            if handle.join().is_err() {
                return Err(Error::Writer("the writer thread panicked".into()));
            }
        }
        flushed.and(sent)
    }

    /// A channel that receives each new revision after its commit. Never
    /// coalesced; drop the receiver to unsubscribe.
    pub fn subscribe_commits(&self) -> Receiver<Revision> {
        let (tx, rx) = mpsc::channel();
        self.add_subscriber(tx);
        rx
    }

    /// The revision of the last commit.
    pub fn revision(&self) -> Revision {
        Revision(self.inner.shared.revision.load(Ordering::Acquire))
    }

    /// How many bytes of compressed raw records the store keeps
    /// ([`StoreOptions::raw_retention_bytes`]): past it the oldest are deleted.
    pub fn raw_retention_bytes(&self) -> u64 {
        self.inner.shared.raw_retention_bytes
    }

    /// Batches that could not be committed (logged with `tracing::error`).
    pub fn failed_batches(&self) -> u64 {
        self.inner.shared.failed_batches.load(Ordering::Relaxed)
    }
}

fn read_meta(conn: &Connection, key: &str) -> Result<i64> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))?)
}

/// Errors that are about the database or the disk, not one batch: retrying
/// batch by batch would only repeat them.
fn is_fatal(e: &Error) -> bool {
    let Error::Sqlite(e) = e else { return false };
    matches!(
        e.sqlite_error_code(),
        Some(
            ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::ReadOnly
                | ErrorCode::CannotOpen
                | ErrorCode::DatabaseCorrupt
                | ErrorCode::NotADatabase
                | ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::OutOfMemory
        )
    )
}

/// The writer thread's state.
struct Writer {
    conn: Connection,
    rx: Receiver<Request>,
    shared: Arc<Shared>,
    cache: ThreadCache,
    revision: i64,
    raw_bytes: i64,
    raw_limit: i64,
    max_group: usize,
}

/// Marks the writer stopped even when its thread unwinds, so that clients
/// waiting for queue budget do not wait forever.
struct StopGuard(Arc<Shared>);

impl Drop for StopGuard {
    fn drop(&mut self) {
        self.0.stopped.store(true, Ordering::Release);
        let _queued = lock(&self.0.queued);
        self.0.dequeued.notify_all();
    }
}

impl Writer {
    fn run(&mut self) {
        let _guard = StopGuard(Arc::clone(&self.shared));
        let mut batches = Vec::new();
        let mut flushes = Vec::new();
        let mut controls = Vec::new();
        loop {
            let Ok(first) = self.rx.recv() else { break };
            let mut stop = self.take(first, &mut batches, &mut flushes, &mut controls);
            while !stop && batches.len() < self.max_group {
                match self.rx.try_recv() {
                    Ok(request) => {
                        stop = self.take(request, &mut batches, &mut flushes, &mut controls)
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        stop = true;
                        break;
                    }
                }
            }
            if !batches.is_empty() {
                self.commit_group(&batches);
                batches.clear();
            }
            for (write, reply) in controls.drain(..) {
                let _ = reply.send(self.control(&write));
            }
            if !flushes.is_empty() {
                let reply = match lock(&self.shared.fatal).take() {
                    Some(fatal) => Err(fatal),
                    None => Ok(Revision(self.revision as u64)),
                };
                for flush in flushes.drain(..) {
                    let _ = flush.send(reply.clone().map_err(|f| f.to_error()));
                }
            }
            if stop {
                break;
            }
        }
        // Leave an empty WAL behind. Read-only connections, which may close
        // after this one, cannot checkpoint; a WAL left full would make the
        // next process replay it on open and pay the checkpoint inside its
        // first small commit.
        if let Err(e) = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
            tracing::debug!("final checkpoint skipped: {e}");
        }
        tracing::debug!(revision = self.revision, "store writer stopped");
    }

    /// Sort one request into the group; true for a shutdown request.
    fn take(
        &self,
        request: Request,
        batches: &mut Vec<FileBatch>,
        flushes: &mut Vec<SyncSender<Result<Revision>>>,
        controls: &mut Vec<(ControlWrite, SyncSender<Result<Revision>>)>,
    ) -> bool {
        match request {
            Request::Batch(batch) => {
                // The budget covers the queue only; the group in hand is
                // bounded by max_batches_per_commit.
                self.shared
                    .release(batch.bytes_read.saturating_add(BATCH_OVERHEAD));
                batches.push(*batch);
                false
            }
            Request::Flush(reply) => {
                flushes.push(reply);
                false
            }
            Request::Control(write, reply) => {
                controls.push((write, reply));
                false
            }
            Request::Shutdown => true,
        }
    }

    /// Commit a group; on failure retry its batches one by one so that a
    /// bad batch cannot take the others down with it.
    fn commit_group(&mut self, batches: &[FileBatch]) {
        let Err(e) = self.commit(batches) else { return };
        if batches.len() > 1 && !is_fatal(&e) {
            tracing::warn!(error = %e, batches = batches.len(), "group commit failed; retrying batch by batch");
            for batch in batches {
                if let Err(e) = self.commit(std::slice::from_ref(batch)) {
                    self.fail(&e, std::slice::from_ref(batch));
                }
            }
        } else {
            self.fail(&e, batches);
        }
    }

    fn fail(&mut self, e: &Error, batches: &[FileBatch]) {
        self.shared
            .failed_batches
            .fetch_add(batches.len() as u64, Ordering::Relaxed);
        for b in batches {
            tracing::error!(error = %e, provider = %b.provider, path = %b.path, "could not store batch");
        }
        if is_fatal(e) {
            let disk_full = e.is_disk_full();
            *lock(&self.shared.fatal) = Some(Fatal {
                disk_full,
                message: e.to_string(),
            });
        }
    }

    /// Apply `batches` in one transaction and commit it.
    fn commit(&mut self, batches: &[FileBatch]) -> Result<()> {
        let result = self.try_commit(batches);
        if result.is_err() {
            // The rollback may have removed thread rows the cache points at.
            self.cache.clear();
        }
        result
    }

    fn try_commit(&mut self, batches: &[FileBatch]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have committed since (a control write of the
        // CLI next to a running server): continue from its revision, so two
        // commits never share one and readers following "revision > R"
        // miss neither.
        let base = self.revision.max(stored_revision(&tx)?);
        let next_rev = base + 1;
        let mut st = Tx {
            conn: &tx,
            next_rev,
            changed: false,
            raw_delta: 0,
            now: now_ms(),
        };
        for batch in batches {
            st.apply(&mut self.cache, batch)?;
        }
        st.prune_raw(self.raw_bytes + st.raw_delta, self.raw_limit)?;
        let (changed, raw_delta) = (st.changed, st.raw_delta);
        if changed {
            set_stored_revision(&tx, next_rev)?;
        }
        if raw_delta != 0 {
            tx.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'raw_bytes'")?
                .execute([self.raw_bytes + raw_delta])?;
        }
        tx.commit()?;
        self.raw_bytes += raw_delta;
        if changed {
            self.publish(next_rev);
        } else if base > self.revision {
            self.publish(base);
        }
        tracing::trace!(
            batches = batches.len(),
            changed,
            revision = self.revision,
            "committed"
        );
        Ok(())
    }

    /// Apply one control write in its own transaction. Its errors go back
    /// to the caller only: they are not batch failures, and a fatal one
    /// (full disk) will also fail the next batch commit, which records it.
    fn control(&mut self, write: &ControlWrite) -> Result<Revision> {
        let (revision, changed) = commit_control(&mut self.conn, write, self.revision)?;
        if revision > self.revision {
            self.publish(revision);
        }
        tracing::trace!(?write, changed, revision = self.revision, "control write");
        Ok(Revision(self.revision as u64))
    }

    /// Make a committed revision current and tell the subscribers.
    fn publish(&mut self, rev: i64) {
        self.revision = rev;
        self.shared.revision.store(rev as u64, Ordering::Release);
        lock(&self.shared.subscribers).retain(|s| s.send(Revision(rev as u64)).is_ok());
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
pub(crate) mod tests;
