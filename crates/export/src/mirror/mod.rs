//! Continuous two-way: threads of other agents mirrored into Codex's
//! sessions folder as they grow.
//!
//! [`MirrorClient::start`] spawns one thread, the only one that writes
//! mirror files, so writes to a file are serialized by construction. It is
//! a consumer of the change feed, like live queries and the search
//! indexer: woken by each commit of the writer (and once a second, for the
//! setting and for commits of other processes), it reads the threads
//! changed after its cursor. While the setting [`TWO_WAY_SETTING`] is
//! `"true"`, every changed thread whose provider is not Codex is rendered
//! again ([`crate::export`], [`ExportKind::Mirror`](crate::ExportKind))
//! and written atomically to `$CODEX_HOME/sessions/tinyvex/<file>`
//! ([`crate::write_export`]: temporary file, fsync, rename), at most once
//! per [`MirrorOptions::interval`] per thread; a render whose bytes are
//! already on disk writes nothing.
//!
//! ```text
//!  writer ──commit──▶ mirror thread ──changes_since(cursor)──▶ threads changed
//!                          │                                        │
//!                          │◀──── due (per thread, debounced) ◀─────┘
//!                          ▼
//!            export() ─▶ write_export() ─▶ $CODEX_HOME/sessions/tinyvex/rollout-….jsonl
//! ```
//!
//! * **Cursor.** Saved as the consumer cursor [`CURSOR_CONSUMER`]
//!   (`tinyvex_store::ControlWrite::SetCursor`, no revision) at most every
//!   2 s and when the mirror stops or is turned off: the revision before
//!   the oldest change not yet written. A restart resumes there; writing a
//!   thread again is harmless (unchanged bytes are not rewritten).
//! * **Turning it on** mirrors everything changed after the saved cursor:
//!   the first time, every thread (a backfill). **Off** stops mirroring;
//!   files already written stay.
//! * **A file continued in Codex** (it has lines after the marker's count)
//!   is never replaced: the thread is no longer mirrored (until the server
//!   restarts and the thread changes again, when the refusal is met and
//!   logged again), a warning is logged once and [`MirrorStats::continued`]
//!   counts it. The Codex provider reads what was appended as a thread of
//!   its own (`docs/providers/codex.md`).
//! * **Never under a running Codex**: each write holds Codex's own writer
//!   lock of the session (`lock.rs`); while a Codex holds it, the file is
//!   left alone and tried again a second later.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tinyvex_store::{Reader, Store, WriterClient};

mod lock;
mod schedule;
mod worker;

/// The persisted setting that turns mirroring on (`"true"`) or off.
pub const TWO_WAY_SETTING: &str = "two_way";

/// Whether two-way is on ([`TWO_WAY_SETTING`] is `"true"`).
pub fn enabled(reader: &Reader) -> Result<bool, tinyvex_store::Error> {
    Ok(reader.setting(TWO_WAY_SETTING)?.as_deref() == Some("true"))
}

/// Name of the mirror's saved cursor (`tinyvex_store::Reader::cursor`).
pub const CURSOR_CONSUMER: &str = "mirror";

/// The mirror folder, relative to `$CODEX_HOME`. Codex finds a rollout
/// there by id (`codex resume <id>`); its picker lists only
/// `sessions/YYYY/MM/DD/`.
pub const MIRROR_DIR: &str = "sessions/tinyvex";

/// The mirror folder of a Codex home.
pub fn mirror_dir(codex_home: &Path) -> PathBuf {
    codex_home.join(MIRROR_DIR)
}

/// How the mirror runs.
#[derive(Clone, Debug)]
pub struct MirrorOptions {
    /// `$CODEX_HOME` (default `~/.codex`); files go to [`MIRROR_DIR`] in it.
    pub codex_home: PathBuf,
    /// Shortest time between two writes of one thread's file.
    pub interval: Duration,
    /// How often the setting and the store are looked at without a commit
    /// of this process (a `tinyvex two-way on` or `ingest` of another one).
    pub poll: Duration,
    /// Longest stretch of writing (a backfill) before the mirror looks at
    /// its messages again (stop, setting, new commits).
    pub budget: Duration,
}

impl MirrorOptions {
    /// The defaults for a Codex home: 500 ms per thread, polls every second.
    pub fn new(codex_home: PathBuf) -> MirrorOptions {
        MirrorOptions {
            codex_home,
            interval: Duration::from_millis(500),
            poll: Duration::from_secs(1),
            budget: Duration::from_millis(250),
        }
    }
}

/// The mirror's figures, since the process started (status document
/// `mirror`, `docs/protocol.md`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorStats {
    /// Two-way is on (the setting `two_way` is `"true"`).
    pub enabled: bool,
    /// Where mirror files are written: `$CODEX_HOME/sessions/tinyvex`.
    pub dir: String,
    /// Every change up to this revision is mirrored (the cursor saved last).
    pub cursor: u64,
    /// Threads that changed and wait for their next write.
    pub pending: u64,
    /// Threads whose mirror file is up to date (written, or found
    /// unchanged) since start.
    pub threads: u64,
    /// Files written (created or replaced).
    pub files_written: u64,
    /// Renders whose bytes were already on disk (nothing written).
    pub unchanged: u64,
    /// Threads no longer mirrored because their file was continued in Codex
    /// (or is otherwise not the mirror's own); those files are left alone.
    pub continued: u64,
    /// Threads that cannot be mirrored yet: no absolute working directory
    /// (Gemini CLI ≤ 0.28 records none) or nothing to export.
    pub skipped: u64,
    /// When a file was last written (RFC 3339).
    pub last_write_at: Option<String>,
    /// The last failure or refusal, with the file it concerns.
    pub last_error: Option<String>,
    /// When it happened (RFC 3339).
    pub last_error_at: Option<String>,
}

enum Msg {
    /// A commit of this process: worth a look while two-way is on.
    Commit,
    /// Look now, on or off (the setting changed, or the mirror started).
    Wake,
    /// Save the cursor and end.
    Stop,
}

/// Handle of the mirror thread. Cheap to clone; the thread stops with
/// [`MirrorClient::stop`] or when the last clone is dropped.
#[derive(Clone)]
pub struct MirrorClient {
    inner: Arc<Inner>,
}

struct Inner {
    tx: Sender<Msg>,
    stats: Arc<Mutex<MirrorStats>>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Inner {
    /// Tell the thread to stop and wait for it (once; later calls return).
    fn stop(&self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(handle) = lock(&self.handle).take() {
            if handle.join().is_err() {
                tracing::error!("the mirror thread panicked");
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop();
    }
}

impl MirrorClient {
    /// Start the mirror thread on `store`, saving its cursor through
    /// `writer` (stop it before the writer). It reads the setting at once:
    /// with two-way on, it starts mirroring from the saved cursor.
    pub fn start(
        store: Store,
        writer: &WriterClient,
        options: MirrorOptions,
    ) -> std::io::Result<MirrorClient> {
        let (tx, rx) = mpsc::channel();
        let commits = writer.subscribe_commits();
        let bridge = tx.clone();
        // The writer notifies on a channel of its own; forward each commit
        // as a wake-up. Ends when the writer or the mirror goes away.
        std::thread::Builder::new()
            .name("tinyvex-mirror-commits".into())
            .spawn(move || {
                while commits.recv().is_ok() {
                    if bridge.send(Msg::Commit).is_err() {
                        break;
                    }
                }
            })?;
        let stats = Arc::new(Mutex::new(MirrorStats {
            dir: mirror_dir(&options.codex_home).display().to_string(),
            ..MirrorStats::default()
        }));
        let worker = worker::Worker::new(store, writer.clone(), options, rx, Arc::clone(&stats));
        let handle = std::thread::Builder::new()
            .name("tinyvex-mirror".into())
            .spawn(move || worker.run())?;
        // Read the setting now rather than at the first commit or poll.
        let _ = tx.send(Msg::Wake);
        Ok(MirrorClient {
            inner: Arc::new(Inner {
                tx,
                stats,
                handle: Mutex::new(Some(handle)),
            }),
        })
    }

    /// Look at the setting and the store now (after `control.two_way`).
    pub fn wake(&self) {
        let _ = self.inner.tx.send(Msg::Wake);
    }

    /// The current figures.
    pub fn stats(&self) -> MirrorStats {
        lock(&self.inner.stats).clone()
    }

    /// Save the cursor and stop the thread (waits for the write in hand).
    pub fn stop(&self) {
        self.inner.stop();
    }
}

#[cfg(test)]
mod tests;
