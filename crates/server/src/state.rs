//! The running server's shared state, and how it starts and stops: store,
//! writer, watcher, change feed, two-way mirror, HTTP listener.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tinyvex_export::mirror::{MirrorClient, MirrorOptions};
use tinyvex_ingest::{
    IngestOptions, IngestSummary, JobProgress, WatchClient, WatchEvents, WatchOptions, WatchService,
};
use tinyvex_model::ProviderKind;
use tinyvex_protocol::Status;
use tinyvex_providers::{all_providers, SourceEnv};
use tinyvex_store::{ChangeSet, Store, StoreOptions, WriterClient};
use tokio::sync::{broadcast, watch};

use crate::{Error, Token};

/// How the server is set up.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The store's SQLite file.
    pub db: PathBuf,
    /// Where the agents' files are (HOME and the agents' variables).
    pub sources: SourceEnv,
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// The token every connection must present.
    pub token: Token,
    /// Browser origins allowed besides the server's own (`*` for any).
    pub allow_origins: Vec<String>,
    /// Period of the cheap full pass that catches missed filesystem events.
    pub rescan_every: Duration,
    /// Store tuning.
    pub store: StoreOptions,
}

/// A server-wide event for every connection.
#[derive(Clone, Debug)]
pub(crate) enum ServerEvent {
    /// A background job advanced.
    Job(JobProgress),
}

/// Recent jobs kept for the status document.
const JOBS_KEPT: usize = 16;

/// Changesets a connection may fall behind before it must catch up by query.
const FEED_CAPACITY: usize = 1024;

/// Everything the connections share.
pub(crate) struct AppState {
    pub config: ServerConfig,
    pub store: Store,
    pub writer: WriterClient,
    pub watch: WatchClient,
    /// The two-way mirror (acts while the setting `two_way` is "true").
    pub mirror: MirrorClient,
    pub store_id: String,
    pub changes: broadcast::Sender<Arc<ChangeSet>>,
    pub events: broadcast::Sender<ServerEvent>,
    pub jobs: Arc<Mutex<VecDeque<JobProgress>>>,
    pub shutdown: watch::Receiver<bool>,
    pub clients: AtomicU64,
    /// Subscriptions caught up by query after their client fell behind.
    pub slow_catch_ups: AtomicU64,
    pub next_subscription: AtomicU64,
    pub started: Instant,
    status_cache: Mutex<Option<(u64, Instant, Status)>>,
}

/// Forwards the watcher's reports to the connections.
struct EventBridge {
    events: broadcast::Sender<ServerEvent>,
    jobs: Arc<Mutex<VecDeque<JobProgress>>>,
}

impl WatchEvents for EventBridge {
    fn job(&self, progress: &JobProgress) {
        {
            let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
            match jobs.iter_mut().find(|j| j.job_id == progress.job_id) {
                Some(j) => *j = progress.clone(),
                None => {
                    if jobs.len() == JOBS_KEPT {
                        jobs.pop_front();
                    }
                    jobs.push_back(progress.clone());
                }
            }
        }
        // No receivers is fine: nobody is connected.
        let _ = self.events.send(ServerEvent::Job(progress.clone()));
    }

    fn committed(&self, _summary: &IngestSummary) {}
}

/// The settings key that disables a provider.
pub(crate) fn provider_setting(kind: ProviderKind) -> String {
    format!("provider.{kind}.enabled")
}

/// The settings key of the two-way switch.
pub(crate) use tinyvex_export::mirror::TWO_WAY_SETTING;

impl AppState {
    /// Open the store, start the writer, the watcher and the change feed.
    /// Returns with the feed running; the watcher's first pass runs in the
    /// background so that connections are accepted at once.
    pub(crate) fn start(
        config: ServerConfig,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<AppState>, Error> {
        let store = Store::open_with(&config.db, config.store.clone())?;
        let writer = store.start_writer()?;
        let (store_id, settings, revision) = {
            let reader = store.read()?;
            (reader.store_id()?, reader.settings()?, reader.revision()?)
        };
        let providers = all_providers(&config.sources);
        let enabled = providers
            .iter()
            .map(|p| {
                settings
                    .get(&provider_setting(p.kind()))
                    .map(String::as_str)
                    != Some("false")
            })
            .collect();
        let (changes, _) = broadcast::channel(FEED_CAPACITY);
        let (events, _) = broadcast::channel(256);
        let jobs = Arc::new(Mutex::new(VecDeque::new()));
        let bridge = Arc::new(EventBridge {
            events: events.clone(),
            jobs: Arc::clone(&jobs),
        });
        let commits = writer.subscribe_commits();
        let watch = WatchService::start(
            providers,
            store.clone(),
            writer.clone(),
            WatchOptions {
                rescan_every: config.rescan_every,
                enabled,
                ingest: IngestOptions::default(),
                ..WatchOptions::default()
            },
            bridge,
        )?;
        let mirror = MirrorClient::start(
            store.clone(),
            &writer,
            MirrorOptions::new(config.sources.codex_home()),
        )
        .map_err(|e| Error::Serve(format!("cannot start the two-way mirror: {e}")))?;
        let state = Arc::new(AppState {
            config,
            store,
            writer,
            watch,
            mirror,
            store_id,
            changes,
            events,
            jobs,
            shutdown,
            clients: AtomicU64::new(0),
            slow_catch_ups: AtomicU64::new(0),
            next_subscription: AtomicU64::new(1),
            started: Instant::now(),
            status_cache: Mutex::new(None),
        });
        crate::feed::start(Arc::clone(&state), commits, revision.0);
        Ok(state)
    }

    /// The status document, rebuilt at most every 200 ms (one SQL aggregate
    /// over the files and threads tables plus in-memory watcher counters;
    /// never a walk of the source folders).
    pub(crate) fn status(&self) -> Result<Status, Error> {
        let revision = self.writer.revision().0;
        {
            let cache = self.status_cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((rev, at, status)) = cache.as_ref() {
                if *rev == revision && at.elapsed() < Duration::from_millis(200) {
                    let mut s = status.clone();
                    s.clients = self.clients.load(Ordering::Relaxed);
                    s.slow_catch_ups = self.slow_catch_ups.load(Ordering::Relaxed);
                    s.mirror = self.mirror.stats();
                    return Ok(s);
                }
            }
        }
        let reader = self.store.read()?;
        let (revision, store_rows, settings) =
            reader.snapshot(|r| Ok((r.revision()?.0, r.status()?, r.settings()?)))?;
        let search_indexed_revision = reader.search_index()?.view().cursor.revision;
        drop(reader);
        let watch = self.watch.stats();
        let providers = watch
            .into_iter()
            .map(|w| {
                let store = store_rows
                    .iter()
                    .find(|s| s.provider == w.provider)
                    .cloned()
                    .unwrap_or_else(|| tinyvex_store::ProviderStatus {
                        provider: w.provider.clone(),
                        ..Default::default()
                    });
                tinyvex_protocol::ProviderView { store, watch: w }
            })
            .collect();
        let status = Status {
            revision,
            store_id: self.store_id.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            uptime_ms: self.started.elapsed().as_millis() as u64,
            providers,
            jobs: self
                .jobs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned()
                .collect(),
            settings,
            failed_batches: self.writer.failed_batches(),
            clients: self.clients.load(Ordering::Relaxed),
            slow_catch_ups: self.slow_catch_ups.load(Ordering::Relaxed),
            search_indexed_revision,
            mirror: self.mirror.stats(),
        };
        *self.status_cache.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((revision, Instant::now(), status.clone()));
        Ok(status)
    }

    /// Forget the cached status (after a control changed what it shows).
    pub(crate) fn invalidate_status(&self) {
        *self.status_cache.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
