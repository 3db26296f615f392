//! The service thread: turns filesystem events and commands into passes.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use notify::event::ModifyKind;
use notify::{EventKind, RecursiveMode, Watcher};
use tinyvex_model::{format_ms, now_ms};
use tinyvex_providers::Provider;
use tinyvex_store::{Store, WriterClient};

use super::job::{chunk, Job};
use super::route::{source_of, Router};
use super::{Command, FsWatcher, JobKind, Msg, Shared, WatchEvents, WatchOptions};
use crate::{Error, IngestSummary, Ingestor, NoProgress};

/// At most this many events are coalesced into one batch, so a storm of
/// events still lets commands and jobs through.
const MAX_BATCH_EVENTS: usize = 4096;
/// More new files than this after an event are read by a (chunked) job
/// instead of at once.
const MAX_TARGETED_NEW: usize = 64;

/// Everything the service thread owns.
pub(crate) struct Service {
    providers: Vec<Box<dyn Provider>>,
    store: Store,
    writer: WriterClient,
    options: WatchOptions,
    enabled: Vec<bool>,
    events: Arc<dyn WatchEvents>,
    rx: Receiver<Msg>,
    watcher: FsWatcher,
    shared: Arc<Shared>,
    /// Roots under a notify watch, per provider.
    watched: Vec<Vec<PathBuf>>,
    /// For roots that do not exist yet (an agent never run on this
    /// machine), their nearest existing ancestor, watched non-recursively so
    /// that the root is picked up as soon as the agent creates it.
    anchors: BTreeSet<PathBuf>,
    router: Router,
    /// Source files discovered, with their provider.
    known: HashMap<PathBuf, usize>,
    /// Paths that triggered discovery but are not session files: their
    /// events are ignored until the next periodic rescan clears this.
    ignored: HashSet<PathBuf>,
    commands: VecDeque<Command>,
    jobs: VecDeque<Job>,
    next_rescan: Instant,
}

impl Service {
    #[allow(clippy::too_many_arguments)] // one call site, all owned parts
    pub fn new(
        providers: Vec<Box<dyn Provider>>,
        store: Store,
        writer: WriterClient,
        options: WatchOptions,
        enabled: Vec<bool>,
        events: Arc<dyn WatchEvents>,
        rx: Receiver<Msg>,
        watcher: FsWatcher,
        shared: Arc<Shared>,
    ) -> Service {
        let n = providers.len();
        Service {
            providers,
            store,
            writer,
            next_rescan: Instant::now() + options.rescan_every,
            options,
            enabled,
            events,
            rx,
            watcher,
            shared,
            watched: vec![Vec::new(); n],
            anchors: BTreeSet::new(),
            router: Router::default(),
            known: HashMap::new(),
            ignored: HashSet::new(),
            commands: VecDeque::new(),
            jobs: VecDeque::new(),
        }
    }

    fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::Acquire)
    }

    fn enabled_indices(&self) -> Vec<usize> {
        (0..self.providers.len())
            .filter(|&i| self.enabled[i])
            .collect()
    }

    /// The thread's body: the initial job, then events, commands, jobs and
    /// periodic rescans until shutdown.
    pub fn run(mut self, initial_job: u64) {
        // Watch before the first pass, so writes during it are not missed.
        self.refresh_watches();
        let providers = self.enabled_indices();
        let events = Some(Arc::clone(&self.events));
        self.jobs
            .push_back(Job::new(initial_job, JobKind::Initial, providers, events));
        while !self.stopping() {
            let busy = !self.jobs.is_empty() || !self.commands.is_empty();
            let wait = if busy {
                Duration::ZERO
            } else {
                self.next_rescan.saturating_duration_since(Instant::now())
            };
            match self.rx.recv_timeout(wait) {
                Ok(Msg::Fs(event)) => self.on_fs(event),
                Ok(Msg::Cmd(command)) => self.commands.push_back(command),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            while let Some(command) = self.commands.pop_front() {
                self.command(command);
            }
            if self.stopping() {
                break;
            }
            if Instant::now() >= self.next_rescan {
                self.periodic();
            }
            self.step_job();
        }
        if let Err(e) = self.writer.flush() {
            tracing::warn!("final flush of the watch service failed: {e}");
        }
        tracing::debug!("watch service stopped");
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Shutdown => self.shared.stop.store(true, Ordering::Release),
            Command::Rescan(id) => {
                let events = Some(Arc::clone(&self.events));
                let job = Job::new(id, JobKind::Rescan, self.enabled_indices(), events);
                self.jobs.push_back(job);
            }
            Command::Backfill(id, providers) => {
                let providers = providers.into_iter().filter(|&i| self.enabled[i]).collect();
                let events = Some(Arc::clone(&self.events));
                self.jobs
                    .push_back(Job::new(id, JobKind::Backfill, providers, events));
            }
            Command::SetEnabled(i, on) => {
                if self.enabled[i] == on {
                    return;
                }
                tracing::info!(provider = %self.providers[i].kind(), enabled = on, "provider switched");
                self.enabled[i] = on;
                self.shared.stats()[i].enabled = on;
                self.refresh_watches();
                if on {
                    // Catch up with what was written while disabled.
                    let id = self.shared.next_job.fetch_add(1, Ordering::Relaxed);
                    self.jobs
                        .push_back(Job::new(id, JobKind::Rescan, vec![i], None));
                } else {
                    self.known.retain(|_, p| *p != i);
                    self.update_known_counts();
                }
            }
        }
    }

    /// Time for the cheap full pass: pick up roots that appeared (or went),
    /// forget ignored paths, and queue a silent rescan unless a job is
    /// already going to look at everything.
    fn periodic(&mut self) {
        self.next_rescan = Instant::now() + self.options.rescan_every;
        self.ignored.clear();
        self.refresh_watches();
        if self.jobs.is_empty() {
            let id = self.shared.next_job.fetch_add(1, Ordering::Relaxed);
            let job = Job::new(id, JobKind::Rescan, self.enabled_indices(), None);
            self.jobs.push_back(job);
        }
    }

    /// Make the notify watches match the enabled providers' existing roots.
    fn refresh_watches(&mut self) {
        // A root found missing can appear before the watch on its anchor
        // that would have reported it (an agent making `~/.codex` and then
        // `~/.codex/sessions` at once): then watch again, a few times at
        // most, rather than leave it to the next periodic rescan.
        for _ in 0..3 {
            self.watch_roots();
            if !self.refresh_anchors() {
                break;
            }
        }
        let mut stats = self.shared.stats();
        let mut roots = Vec::new();
        for (i, watched) in self.watched.iter().enumerate() {
            stats[i].watched_roots = watched.iter().map(|r| r.display().to_string()).collect();
            roots.extend(watched.iter().map(|r| (r.clone(), i)));
        }
        self.router = Router::new(roots);
    }

    /// Watch the enabled providers' existing roots, unwatch the others.
    fn watch_roots(&mut self) {
        for i in 0..self.providers.len() {
            let wanted: Vec<PathBuf> = if self.enabled[i] {
                self.providers[i].roots()
            } else {
                Vec::new()
            };
            let mut kept = Vec::new();
            for root in std::mem::take(&mut self.watched[i]) {
                if wanted.contains(&root) && root.is_dir() {
                    kept.push(root);
                } else {
                    // The root went away (its watch died with it) or the
                    // provider was disabled.
                    let _ = self.watcher.unwatch(&root);
                }
            }
            for root in wanted {
                if kept.contains(&root) || !root.is_dir() {
                    continue;
                }
                match self.watcher.watch(&root, RecursiveMode::Recursive) {
                    Ok(()) => {
                        tracing::debug!(root = %root.display(), "watching");
                        kept.push(root);
                    }
                    Err(e) => {
                        let message = format!("cannot watch {}: {e}", root.display());
                        tracing::warn!("{message}");
                        self.shared.stats()[i].last_error = Some(message);
                    }
                }
            }
            self.watched[i] = kept;
        }
    }

    /// Watch the nearest existing ancestor of every enabled root that does
    /// not exist yet (non-recursively: only its own entries matter). True
    /// when, once those watches are in place, one of those roots or a folder
    /// on the way to it exists after all: it appeared unreported, and the
    /// watches must be made again.
    fn refresh_anchors(&mut self) -> bool {
        let nearest = |root: &Path| {
            root.ancestors()
                .skip(1)
                .find(|a| a.is_dir())
                .map(Path::to_path_buf)
        };
        let mut wanted = BTreeSet::new();
        let mut missing = Vec::new();
        for (i, provider) in self.providers.iter().enumerate() {
            if !self.enabled[i] {
                continue;
            }
            for root in provider.roots() {
                if root.is_dir() {
                    continue;
                }
                if let Some(anchor) = nearest(&root) {
                    wanted.insert(anchor.clone());
                    missing.push((root, anchor));
                }
            }
        }
        for old in self.anchors.difference(&wanted) {
            let _ = self.watcher.unwatch(old);
        }
        let mut kept = BTreeSet::new();
        for anchor in wanted {
            if self.anchors.contains(&anchor)
                || self
                    .watcher
                    .watch(&anchor, RecursiveMode::NonRecursive)
                    .is_ok()
            {
                kept.insert(anchor);
            }
        }
        self.anchors = kept;
        missing
            .iter()
            .any(|(root, anchor)| root.is_dir() || nearest(root).as_ref() != Some(anchor))
    }

    /// True when `path` (created or renamed) may be, or lead to, a root
    /// that was missing.
    fn opens_missing_root(&self, path: &Path) -> bool {
        path.parent().is_some_and(|p| self.anchors.contains(p))
    }

    /// A filesystem event: gather more for `settle`, then read what changed.
    fn on_fs(&mut self, first: notify::Result<notify::Event>) {
        let mut batch = vec![first];
        let deadline = Instant::now() + self.options.settle;
        while batch.len() < MAX_BATCH_EVENTS {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(Msg::Fs(event)) => batch.push(event),
                Ok(Msg::Cmd(command)) => self.commands.push_back(command),
                Err(_) => break,
            }
        }
        let mut targets = BTreeSet::new();
        let mut fresh = Vec::new();
        let mut discover = BTreeSet::new();
        let mut counts = vec![0u64; self.providers.len()];
        let mut lost_roots = false;
        let mut new_roots = false;
        for event in batch {
            let event = match event {
                Ok(e) => e,
                Err(e) => {
                    // Typically an overflowed event queue: the periodic
                    // rescan catches whatever was lost.
                    tracing::warn!("file watcher: {e}");
                    continue;
                }
            };
            if matches!(
                event.kind,
                EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))
            ) {
                continue;
            }
            if matches!(event.kind, EventKind::Remove(_))
                && event
                    .paths
                    .iter()
                    .any(|p| self.watched.iter().flatten().any(|r| r == p))
            {
                // A watched root went away and its watch with it; if it is
                // back already, it must be watched anew.
                lost_roots = true;
            }
            let appeared = matches!(
                event.kind,
                EventKind::Create(_) | EventKind::Modify(ModifyKind::Name(_))
            );
            for path in &event.paths {
                if appeared && self.opens_missing_root(path) {
                    new_roots = true;
                }
                let Some(i) = self.router.route(path) else {
                    continue;
                };
                counts[i] += 1;
                let path = source_of(path, &self.known).into_owned();
                if let Some(&j) = self.known.get(&path) {
                    targets.insert((j, path));
                } else if !self.ignored.contains(&path) {
                    match std::fs::metadata(&path) {
                        Ok(m) if m.is_dir() => {
                            if appeared {
                                discover.insert(i);
                            }
                        }
                        Ok(_) => {
                            discover.insert(i);
                            fresh.push(path);
                        }
                        // Gone already: the next full pass reports it.
                        Err(_) => {}
                    }
                }
            }
        }
        {
            let mut stats = self.shared.stats();
            for (s, n) in stats.iter_mut().zip(counts) {
                s.fs_events += n;
            }
        }
        if lost_roots {
            for watched in &mut self.watched {
                for root in watched.drain(..) {
                    let _ = self.watcher.unwatch(&root);
                }
            }
            self.refresh_watches();
        }
        if new_roots {
            // A folder appeared on the way to a missing root: watch what
            // exists now and look for files that arrived before the watch.
            let before: Vec<usize> = self.watched.iter().map(Vec::len).collect();
            self.refresh_watches();
            for (i, watched) in self.watched.iter().enumerate() {
                if watched.len() > before[i] {
                    discover.insert(i);
                }
            }
        }
        for i in discover {
            let added = self.discover(i);
            if added.len() > MAX_TARGETED_NEW {
                let id = self.shared.next_job.fetch_add(1, Ordering::Relaxed);
                self.jobs
                    .push_back(Job::new(id, JobKind::Rescan, vec![i], None));
            } else {
                targets.extend(added.into_iter().map(|p| (i, p)));
            }
        }
        for path in fresh {
            if !self.known.contains_key(&path) {
                self.ignored.insert(path);
            }
        }
        if targets.is_empty() {
            return;
        }
        let targets: Vec<(usize, PathBuf)> = targets.into_iter().collect();
        let scope: Vec<usize> = targets.iter().map(|(i, _)| *i).collect();
        let result = self.with_ingestor(|ing, reader| ing.run_paths(reader, &targets, &NoProgress));
        match result {
            Ok(summary) => self.record_commit(&summary),
            Err(e) => self.record_error(&scope, &e),
        }
    }

    /// Discover provider `i`'s files into the known set; returns the ones
    /// that were not known.
    fn discover(&mut self, i: usize) -> Vec<PathBuf> {
        let found = self.providers[i].discover();
        let mut added = Vec::new();
        let mut present = HashSet::with_capacity(found.len());
        for d in found {
            if self.known.insert(d.path.clone(), i).is_none() {
                added.push(d.path.clone());
            }
            present.insert(d.path);
        }
        self.known
            .retain(|path, p| *p != i || present.contains(path));
        self.update_known_counts();
        added
    }

    fn update_known_counts(&self) {
        let mut counts = vec![0u64; self.providers.len()];
        for &i in self.known.values() {
            counts[i] += 1;
        }
        for (s, n) in self.shared.stats().iter_mut().zip(counts) {
            s.files_known = n;
        }
    }

    /// Run `f` with an ingestor over the providers and a store reader.
    fn with_ingestor<T>(
        &self,
        f: impl FnOnce(&Ingestor<'_>, &tinyvex_store::Reader) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let reader = self.store.read()?;
        let ingestor = Ingestor::new(
            &self.providers,
            self.writer.clone(),
            self.options.ingest.clone(),
        );
        f(&ingestor, &reader)
    }

    /// Advance the job at the front of the queue by one step: plan it, or
    /// read one chunk, or finish it.
    fn step_job(&mut self) {
        let Some(job) = self.jobs.front() else { return };
        let enabled = self.enabled.clone();
        let providers: Vec<usize> = job
            .providers
            .iter()
            .copied()
            .filter(|&i| enabled[i])
            .collect();
        let result = if job.chunks.is_none() {
            self.plan_job(&providers)
        } else {
            self.read_chunk(&enabled)
        };
        let job = self.jobs.front().expect("still queued");
        let kind = job.meter.kind();
        match result {
            Err(e) => {
                self.record_error(&providers, &e);
                job.meter.finish(Some(e.to_string()));
                tracing::warn!(job = job.meter.id(), ?kind, "job failed: {e}");
                self.jobs.pop_front();
            }
            Ok(()) if job.chunks.as_ref().is_some_and(VecDeque::is_empty) => {
                // Gone files and file errors found while planning are only
                // queued; make them durable before calling the job done.
                if let Err(e) = self.writer.flush() {
                    self.record_error(&providers, &e.into());
                }
                job.meter.finish(None);
                if kind != JobKind::Backfill {
                    let mut stats = self.shared.stats();
                    for &i in &providers {
                        stats[i].last_error = None;
                    }
                }
                tracing::debug!(job = job.meter.id(), ?kind, "job done");
                self.jobs.pop_front();
            }
            Ok(()) => {}
        }
    }

    /// Discover and plan the front job's providers; the files with
    /// something to read become its chunks.
    fn plan_job(&mut self, providers: &[usize]) -> Result<(), Error> {
        let from_start = self.jobs.front().is_some_and(|j| j.from_start);
        let planned =
            self.with_ingestor(|ing, reader| ing.plan_providers(reader, providers, from_start))?;
        for &i in providers {
            self.known.retain(|_, p| *p != i);
        }
        self.known
            .extend(planned.discovered.into_iter().map(|(i, p)| (p, i)));
        self.update_known_counts();
        let files: Vec<(usize, PathBuf, u64)> = planned
            .work
            .iter()
            .map(|w| (w.provider, PathBuf::from(&w.path), w.bytes()))
            .collect();
        let (count, bytes) = (files.len() as u64, files.iter().map(|f| f.2).sum());
        let job = self.jobs.front_mut().expect("job queued");
        job.chunks = Some(chunk(files));
        job.meter.set_totals(count, bytes);
        Ok(())
    }

    /// Read the front job's next chunk (files of providers still enabled).
    fn read_chunk(&mut self, enabled: &[bool]) -> Result<(), Error> {
        let job = self.jobs.front_mut().expect("job queued");
        let Some(chunk) = job.chunks.as_mut().and_then(VecDeque::pop_front) else {
            return Ok(());
        };
        let from_start = job.from_start;
        let chunk: Vec<(usize, PathBuf)> = chunk.into_iter().filter(|(i, _)| enabled[*i]).collect();
        if chunk.is_empty() {
            return Ok(());
        }
        let job = self.jobs.front().expect("job queued");
        let summary = self
            .with_ingestor(|ing, reader| ing.run_targets(reader, &chunk, from_start, &job.meter))?;
        job.meter.send(true);
        self.record_commit(&summary);
        Ok(())
    }

    /// A pass committed: update the providers' figures and tell the sink.
    fn record_commit(&self, summary: &IngestSummary) {
        let mut touched = false;
        {
            let mut stats = self.shared.stats();
            let at = format_ms(now_ms());
            for (s, p) in stats.iter_mut().zip(&summary.providers) {
                if p.files_read == 0 {
                    continue;
                }
                touched = true;
                s.passes += 1;
                s.last_commit_at = Some(at.clone());
                if let Some(lag) = p.lag_ms {
                    s.last_lag_ms = Some(lag);
                    s.max_lag_ms = Some(s.max_lag_ms.map_or(lag, |m| m.max(lag)));
                }
            }
        }
        if touched {
            self.events.committed(summary);
        }
    }

    /// A pass failed (a full disk, a broken store): keep running, the next
    /// rescan retries.
    fn record_error(&self, providers: &[usize], error: &Error) {
        tracing::error!("ingest pass failed: {error}");
        let mut stats = self.shared.stats();
        for &i in providers {
            stats[i].last_error = Some(error.to_string());
        }
    }
}
