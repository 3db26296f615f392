//! Live ingestion: one service thread watches the providers' roots with
//! `notify`, reads the files that changed within milliseconds of a write,
//! and runs a cheap full pass every few seconds to catch missed events.
//!
//! Thread model: [`WatchService::start`] spawns one thread (`tinyvex-watch`)
//! that owns the providers and the ingestor. A single `std::sync::mpsc`
//! channel carries both filesystem events (sent by notify's own thread) and
//! commands from [`WatchClient`]s, so events and commands are handled in
//! arrival order and nothing needs locking except the stats. Long jobs
//! (initial pass, rescan, backfill) run in bounded chunks with the channel
//! drained between them: a live append never waits behind a backfill, and
//! shutdown is prompt.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tinyvex_model::ProviderKind;
use tinyvex_providers::Provider;
use tinyvex_store::{Store, WriterClient};

use crate::{Error, IngestOptions, IngestSummary};

mod job;
mod route;
mod service;

pub use route::{source_of, Router};

/// The filesystem watcher the service uses.
pub(crate) type FsWatcher = notify::RecommendedWatcher;

/// Settings of the watch service.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// Period of the cheap full pass (stat only for unchanged files) that
    /// catches missed events. Default 10 s.
    pub rescan_every: Duration,
    /// After the first filesystem event, wait this long for more before
    /// reading (coalescing). Default 1 ms.
    pub settle: Duration,
    /// Providers enabled at start, by index into `providers` (persisted by
    /// the caller). Missing entries count as enabled.
    pub enabled: Vec<bool>,
    /// Options of every pass.
    pub ingest: IngestOptions,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            rescan_every: Duration::from_secs(10),
            settle: Duration::from_millis(1),
            enabled: Vec::new(),
            ingest: IngestOptions::default(),
        }
    }
}

/// Receives what the service does (implemented by the server to push
/// notifications). Called on the service thread (and, for `job` progress
/// within a chunk, on its reader threads): keep implementations quick.
pub trait WatchEvents: Send + Sync + 'static {
    /// A job (initial pass, rescan or backfill) started/advanced/ended.
    fn job(&self, _progress: &JobProgress) {}
    /// A pass committed: for each provider touched, the lag from the newest
    /// source write (file mtime) to the commit ([`crate::ProviderSummary::lag_ms`]).
    fn committed(&self, _summary: &IngestSummary) {}
}

/// Events that go nowhere.
pub struct NoWatchEvents;
impl WatchEvents for NoWatchEvents {}

/// What a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// The full pass when the service starts.
    Initial,
    /// A full pass asked for with [`WatchClient::rescan`].
    Rescan,
    /// A re-read of everything from the start ([`WatchClient::backfill`]).
    Backfill,
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Started or advancing.
    Running,
    /// Finished.
    Done,
    /// Stopped by an error (see [`JobProgress::error`]); the next rescan retries.
    Failed,
}

/// Progress of one job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobProgress {
    /// Identifies the job (as returned by [`WatchClient::rescan`] and
    /// [`WatchClient::backfill`]).
    pub job_id: u64,
    /// What the job is.
    pub kind: JobKind,
    /// Where it is.
    pub state: JobState,
    /// Files the job will read.
    pub files_total: u64,
    /// Files read so far.
    pub files_done: u64,
    /// Bytes the job expects to read.
    pub bytes_total: u64,
    /// Bytes read so far.
    pub bytes_done: u64,
    /// Why the job failed.
    pub error: Option<String>,
}

/// Watcher figures of one provider, from in-memory counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderWatchStats {
    /// The provider (`codex`, `claude`, ...).
    pub provider: String,
    /// Whether it is watched and read.
    pub enabled: bool,
    /// Files in the known set.
    pub files_known: u64,
    /// Roots currently under a notify watch.
    pub watched_roots: Vec<String>,
    /// Filesystem events received.
    pub fs_events: u64,
    /// Targeted and full passes that read something.
    pub passes: u64,
    /// When the last pass that read something committed (RFC 3339).
    pub last_commit_at: Option<String>,
    /// Newest source write (mtime) to commit, in the last pass.
    pub last_lag_ms: Option<u64>,
    /// The largest such lag seen.
    pub max_lag_ms: Option<u64>,
    /// The last error met (a pass or a watch); cleared by a successful full pass.
    pub last_error: Option<String>,
}

/// What the service thread receives.
pub(crate) enum Msg {
    Fs(notify::Result<notify::Event>),
    Cmd(Command),
}

/// Requests from clients.
pub(crate) enum Command {
    SetEnabled(usize, bool),
    Rescan(u64),
    Backfill(u64, Vec<usize>),
    Shutdown,
}

/// State shared between the service thread and the clients.
pub(crate) struct Shared {
    pub stop: AtomicBool,
    pub next_job: AtomicU64,
    pub stats: Mutex<Vec<ProviderWatchStats>>,
}

impl Shared {
    pub fn stats(&self) -> MutexGuard<'_, Vec<ProviderWatchStats>> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn job_id(&self) -> u64 {
        self.next_job.fetch_add(1, Ordering::Relaxed)
    }
}

/// The live ingestion service; see the module documentation.
pub struct WatchService;

impl WatchService {
    /// Start the service thread: first an [`JobKind::Initial`] job (a full
    /// pass of the enabled providers, progress reported), then watch.
    /// `writer` must be the store's writer; `store` is used for reads.
    pub fn start(
        providers: Vec<Box<dyn Provider>>,
        store: Store,
        writer: WriterClient,
        options: WatchOptions,
        events: Arc<dyn WatchEvents>,
    ) -> Result<WatchClient, Error> {
        let (tx, rx) = mpsc::channel();
        let fs_tx = tx.clone();
        // notify calls this on its own thread; a send only fails once the
        // service is gone, when nothing needs the event anymore.
        let watcher = notify::recommended_watcher(move |event| {
            let _ = fs_tx.send(Msg::Fs(event));
        })?;
        let enabled: Vec<bool> = (0..providers.len())
            .map(|i| options.enabled.get(i).copied().unwrap_or(true))
            .collect();
        let stats = providers
            .iter()
            .zip(&enabled)
            .map(|(p, &enabled)| ProviderWatchStats {
                provider: p.kind().to_string(),
                enabled,
                ..Default::default()
            })
            .collect();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            next_job: AtomicU64::new(1),
            stats: Mutex::new(stats),
        });
        let kinds = providers.iter().map(|p| p.kind()).collect();
        let initial = shared.job_id();
        let service = service::Service::new(
            providers,
            store,
            writer,
            options,
            enabled,
            events,
            rx,
            watcher,
            Arc::clone(&shared),
        );
        let handle = std::thread::Builder::new()
            .name("tinyvex-watch".into())
            .spawn(move || service.run(initial))?;
        Ok(WatchClient {
            inner: Arc::new(ClientInner {
                tx,
                shared,
                kinds,
                handle: Mutex::new(Some(handle)),
            }),
        })
    }
}

/// A cloneable handle to the watch service. The service stops when
/// [`WatchClient::shutdown`] is called or the last clone is dropped.
#[derive(Clone)]
pub struct WatchClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    tx: Sender<Msg>,
    shared: Arc<Shared>,
    kinds: Vec<ProviderKind>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl ClientInner {
    fn stop(&self) {
        self.shared.stop.store(true, Ordering::Release);
        // Wakes the thread if it is waiting for the next rescan.
        let _ = self.tx.send(Msg::Cmd(Command::Shutdown));
        let handle = self.handle.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            if handle.join().is_err() {
                tracing::error!("the watch service thread panicked");
            }
        }
    }
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        self.stop();
    }
}

impl WatchClient {
    fn indices(&self, kind: ProviderKind) -> Vec<usize> {
        let found: Vec<usize> = (0..self.inner.kinds.len())
            .filter(|&i| self.inner.kinds[i] == kind)
            .collect();
        if found.is_empty() {
            tracing::warn!(provider = %kind, "no such provider in the watch service");
        }
        found
    }

    fn send(&self, command: Command) {
        if self.inner.tx.send(Msg::Cmd(command)).is_err() {
            tracing::warn!("the watch service has stopped; command dropped");
        }
    }

    /// Enable or disable a provider. Disabled providers are neither watched
    /// nor read; enabling one runs a pass of it.
    pub fn set_enabled(&self, provider: ProviderKind, enabled: bool) {
        for i in self.indices(provider) {
            // Shown at once, even before the thread gets to the command.
            if let Some(s) = self.inner.shared.stats().get_mut(i) {
                s.enabled = enabled;
            }
            self.send(Command::SetEnabled(i, enabled));
        }
    }

    /// Queue a cheap full pass of the enabled providers now; returns the job id.
    pub fn rescan(&self) -> u64 {
        let id = self.inner.shared.job_id();
        self.send(Command::Rescan(id));
        id
    }

    /// Queue a re-read of everything from the start (of one provider, or of
    /// all enabled ones) in bounded chunks with progress; returns the job id.
    /// A disabled provider is not read: its job ends at once.
    pub fn backfill(&self, provider: Option<ProviderKind>) -> u64 {
        let id = self.inner.shared.job_id();
        let indices = match provider {
            Some(kind) => self.indices(kind),
            None => (0..self.inner.kinds.len()).collect(),
        };
        self.send(Command::Backfill(id, indices));
        id
    }

    /// Figures per provider, from in-memory counters (never walks the tree).
    pub fn stats(&self) -> Vec<ProviderWatchStats> {
        self.inner.shared.stats().clone()
    }

    /// Stop the service: the current chunk is finished and flushed, then the
    /// thread is joined. Other clones become inert.
    pub fn shutdown(self) {
        self.inner.stop();
    }
}

#[cfg(test)]
mod tests {
    /// The server keeps a client in shared state across tasks.
    #[test]
    fn client_is_send_and_sync() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<super::WatchClient>();
    }
}
