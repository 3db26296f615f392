//! The indexer: a thread beside the writer that follows the change feed
//! into the search index. It wakes on every commit (and once a second, for
//! commits of other processes), reads the items changed after its cursor
//! in `(revision, rowid)` order and upserts them. Commits to the index are
//! grouped: at once when it has caught up (so a new item is searchable
//! within a few milliseconds), at most every [`BUSY_COMMIT_INTERVAL`]
//! during a bulk ingest. A crash loses nothing: the index's cursor is
//! committed with it, and what came after is read again on restart.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection};
use tinyvex_model::Revision;
use tinyvex_search::{Cursor, IndexUpdater, IndexedItem, SearchIndex};

use crate::control::stored_revision;
use crate::{Result, WriterClient};

/// Items read per query.
const CHUNK: i64 = 2_000;
/// Text read per query, at most (and one item): a chunk is held in memory
/// while it is indexed.
pub(crate) const CHUNK_BYTES: usize = 64 << 20;
/// Longest time between index commits while items keep coming. Searches
/// never wait for the index (items past its cursor are checked one by
/// one), so this only bounds that extra work and what a crash makes the
/// indexer redo. Each commit closes the segments being built, so commits
/// every few seconds during a bulk ingest made dozens of small segments
/// and a merge cascade: on 1M items, 5 s cost about 20 CPU-seconds more
/// than 60 s, and left twice the segments for queries to visit.
const BUSY_COMMIT_INTERVAL: Duration = Duration::from_secs(60);
/// How often to look for commits of other processes.
const POLL: Duration = Duration::from_secs(1);
/// Memory of the index writer (split between its threads). A thread's
/// buffer fills before it writes a segment, so this sets the size of the
/// segments of a bulk ingest, and with it how much merging follows: 512 MiB
/// made 4 to 8 segments of 1M items where 128 MiB made 14 to 17, for about
/// 20 CPU-seconds less. It is only taken while a bulk ingest fills it (a
/// live update commits long before); the peak RSS of that ingest goes from
/// about 540 to 800 MB.
pub(crate) const HEAP_BYTES: usize = 512 << 20;
/// Indexing threads: two, so a bulk catch-up uses both cores of a small
/// machine once the ingest is done (while it runs, they share them).
pub(crate) const THREADS: usize = 2;
/// How much the indexer's threads lower their priority (see
/// [`lower_priority`]).
#[cfg(target_os = "linux")]
const INDEXER_NICE: i32 = 10;
/// Sent on the wake channel to stop the thread.
const STOP: Revision = Revision(u64::MAX);

/// What one catch-up did.
#[derive(Clone, Copy, Debug, Default)]
pub struct CatchUp {
    /// Items read from the store and applied.
    pub items: u64,
    /// Where the index is now.
    pub cursor: Cursor,
}

/// Bring the index up to the store's current revision, reading at most
/// `chunk_bytes` of text (and one item) per query, reporting items applied
/// to `progress` after each chunk.
pub(crate) fn catch_up(
    conn: &Connection,
    updater: &mut IndexUpdater,
    chunk_bytes: usize,
    mut progress: impl FnMut(u64),
) -> Result<CatchUp> {
    // Read before the items: every item of this revision or before is
    // visible to the queries below.
    let target = stored_revision(conn)? as u64;
    let mut cursor = updater.cursor();
    let mut done = CatchUp { items: 0, cursor };
    let mut last_commit = Instant::now();
    let mut stmt = conn.prepare_cached(
        "SELECT i.rowid, i.thread, i.kind, i.ts, i.revision, i.text, i.command, i.output,
                t.provider
         FROM items i JOIN threads t ON t.rowid = i.thread
         WHERE (i.revision, i.rowid) > (?1, ?2) ORDER BY i.revision, i.rowid LIMIT ?3",
    )?;
    let mut chunk = Vec::with_capacity(CHUNK as usize);
    loop {
        // Copy the chunk out, then index it: the read transaction ends with
        // the query. Indexing while reading kept a reader open nearly all
        // the time, and SQLite cannot restart a WAL while a reader uses it:
        // during a bulk ingest the WAL grew to the size of the store (3.5 GB
        // for 1M items) and the last checkpoint took seconds. The copy is
        // the index's document itself, built from the row's text in place.
        chunk.clear();
        let mut bytes = 0;
        let mut rows = stmt.query(params![cursor.revision as i64, cursor.rowid, CHUNK])?;
        let mut more = false;
        while let Some(r) = rows.next()? {
            let item = read_item(r)?;
            bytes += item.text_bytes();
            let at = Cursor {
                revision: item.revision,
                rowid: item.rowid,
            };
            chunk.push((at, updater.prepare(&item)));
            // Huge tool outputs: stop early rather than hold gigabytes;
            // the next query goes on after the last row read.
            if bytes >= chunk_bytes {
                more = true;
                break;
            }
        }
        drop(rows);
        more |= chunk.len() as i64 == CHUNK;
        for (at, item) in chunk.drain(..) {
            updater.upsert_prepared(item)?;
            cursor = at;
            done.items += 1;
        }
        progress(done.items);
        if !more {
            break;
        }
        if last_commit.elapsed() >= BUSY_COMMIT_INTERVAL {
            updater.commit(cursor)?;
            last_commit = Instant::now();
        }
    }
    // The last commits may have changed no item (a thread's title, a
    // file's cursor): the index is current to the store's revision all the
    // same, and saying so spares every search the look for unindexed items.
    if target > cursor.revision {
        cursor = Cursor {
            revision: target,
            rowid: i64::MAX,
        };
    }
    if cursor != updater.cursor() {
        updater.commit(cursor)?;
    }
    done.cursor = cursor;
    Ok(done)
}

/// One row of the query in [`catch_up`], its text borrowed from SQLite.
fn read_item<'r>(r: &'r rusqlite::Row<'_>) -> rusqlite::Result<IndexedItem<'r>> {
    let text =
        |i: usize| -> rusqlite::Result<Option<&'r str>> { Ok(r.get_ref(i)?.as_str_or_null()?) };
    Ok(IndexedItem {
        rowid: r.get(0)?,
        thread: r.get(1)?,
        kind: text(2)?.unwrap_or_default(),
        ts: r.get(3)?,
        revision: r.get::<_, i64>(4)? as u64,
        text: text(5)?,
        command: text(6)?,
        output: text(7)?,
        provider: text(8)?.unwrap_or_default(),
    })
}

/// What the indexer thread has done, for whoever waits on it.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Items applied since the thread started.
    pub(crate) applied: AtomicU64,
    /// Every item of this store revision and before is in the index.
    pub(crate) caught_up_to: AtomicU64,
    /// The last catch-up failed (logged); it is retried on every wake.
    pub(crate) failing: AtomicBool,
}

/// The running indexer thread; see the module docs.
pub(crate) struct Indexer {
    wake: Sender<Revision>,
    handle: JoinHandle<()>,
    progress: Arc<Progress>,
}

impl Indexer {
    /// Start following `writer`'s commits with a read connection of its
    /// own, and attach to the writer (which stops it after its last
    /// catch-up). Nothing is started when another process holds the index
    /// (it keeps it current).
    pub(crate) fn start(
        conn: Connection,
        index: &SearchIndex,
        writer: &WriterClient,
    ) -> Result<()> {
        let (wake, rx) = mpsc::channel();
        let (ready_tx, ready) = mpsc::sync_channel::<Result<bool>>(1);
        let progress = Arc::new(Progress::default());
        let shared = Arc::clone(&progress);
        let index = index.clone();
        let handle = std::thread::Builder::new()
            .name("tinyvex-indexer".into())
            .spawn(move || {
                // Before the index writer exists: its indexing and merge
                // threads are spawned from this one and inherit its priority.
                lower_priority();
                let updater = match index.writer(THREADS, HEAP_BYTES) {
                    Ok(Some(updater)) => updater,
                    Ok(None) => {
                        tracing::info!(dir = %index.dir().display(), "search index kept current by another process");
                        let _ = ready_tx.send(Ok(false));
                        return;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(true));
                run(conn, updater, rx, &shared)
            })?;
        match ready.recv() {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => return Ok(()),
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                let _ = handle.join();
                tracing::error!("the search indexer panicked while opening the index");
                return Ok(());
            }
        }
        writer.add_subscriber(wake.clone());
        // A commit between the thread's first catch-up and the subscription
        // would otherwise wait for the next poll.
        let _ = wake.send(Revision(0));
        writer.attach_indexer(Indexer {
            wake,
            handle,
            progress,
        });
        Ok(())
    }

    /// What the thread has done so far.
    pub(crate) fn progress(&self) -> Arc<Progress> {
        Arc::clone(&self.progress)
    }

    /// Index what is left, then stop.
    pub(crate) fn stop(self) {
        let _ = self.wake.send(STOP);
        if self.handle.join().is_err() {
            tracing::error!("the search indexer panicked");
        }
    }
}

/// Make the calling thread (and the threads it starts) yield the CPU to the
/// ingest: indexing is background work, and on a small machine running it
/// at the same priority as the writer slows the ingest it follows. Linux
/// only, where the nice value belongs to the thread (elsewhere it would
/// lower the whole process).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::nice(INDEXER_NICE) {
        tracing::debug!(error = %e, "could not lower the search indexer's priority");
    }
}

/// One catch-up, recorded in `progress`.
fn catch_up_recorded(
    conn: &Connection,
    updater: &mut IndexUpdater,
    progress: &Progress,
) -> Result<CatchUp> {
    let before = progress.applied.load(Ordering::Relaxed);
    let done = catch_up(conn, updater, CHUNK_BYTES, |n| {
        progress.applied.store(before + n, Ordering::Relaxed)
    })?;
    progress
        .caught_up_to
        .fetch_max(done.cursor.revision, Ordering::AcqRel);
    Ok(done)
}

fn run(conn: Connection, mut updater: IndexUpdater, wake: Receiver<Revision>, progress: &Progress) {
    loop {
        let started = Instant::now();
        let failing = progress.failing.load(Ordering::Acquire);
        match catch_up_recorded(&conn, &mut updater, progress) {
            Ok(done) => {
                progress.failing.store(false, Ordering::Release);
                if done.items > 0 {
                    tracing::debug!(
                        items = done.items,
                        revision = done.cursor.revision,
                        ms = started.elapsed().as_millis() as u64,
                        "search index updated"
                    );
                }
            }
            Err(e) => {
                progress.failing.store(true, Ordering::Release);
                // Logged once per failure streak; retried on every wake.
                if !failing {
                    tracing::error!(error = %e, "search index update failed; search falls back to scanning new items");
                }
            }
        }
        let mut stop = false;
        match wake.recv_timeout(POLL) {
            Ok(rev) => stop = rev == STOP,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => stop = true,
        }
        // Coalesce a burst of commits into one catch-up.
        while let Ok(rev) = wake.try_recv() {
            stop |= rev == STOP;
        }
        if stop {
            if let Err(e) = catch_up_recorded(&conn, &mut updater, progress) {
                progress.failing.store(true, Ordering::Release);
                tracing::error!(error = %e, "search index: last update failed");
            }
            if let Err(e) = updater.finish() {
                tracing::warn!(error = %e, "search index: waiting for merges failed");
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use tinyvex_model::{ItemKind, ItemPatch, ParsedEvent};

    use super::*;
    use crate::writer::tests::batch;
    use crate::Store;

    #[test]
    fn a_catch_up_reads_at_most_its_byte_budget_per_query_and_misses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        // Hold the index: the writer's indexer leaves it to us.
        let index = store.read().unwrap().search_index().unwrap();
        let mut updater = index.writer(1, 15 << 20).unwrap().unwrap();
        let writer = store.start_writer().unwrap();
        let events = (0..10)
            .map(|i| {
                ParsedEvent::Item(ItemPatch::text(
                    format!("u{i}"),
                    i,
                    ItemKind::User,
                    Some(1),
                    format!("word{i} {}", "x".repeat(600)),
                ))
            })
            .collect();
        writer.submit(batch("/a", "a", events)).unwrap();
        writer.shutdown().unwrap();
        let conn = Connection::open(store.path()).unwrap();
        let mut chunks = 0;
        let done = catch_up(&conn, &mut updater, 1_000, |_| chunks += 1).unwrap();
        assert_eq!(done.items, 10);
        assert_eq!(
            chunks, 6,
            "two items of about 600 bytes per chunk, then an empty one"
        );
        assert_eq!(index.view().num_docs(), 10);
    }
}
