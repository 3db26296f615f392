//! The mirror thread: reads the change feed, keeps the [`Schedule`], renders
//! and writes the files that are due.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tinyvex_model::{format_ms, now_ms, ProviderKind, Revision};
use tinyvex_store::{ControlWrite, ItemQuery, Store, WriterClient};

use super::lock::SessionLock;
use super::schedule::Schedule;
use super::{lock, mirror_dir, MirrorOptions, MirrorStats, Msg, CURSOR_CONSUMER};
use crate::{codex_model_provider, export, write_export, Error, ExportKind, ExportOptions, Target};

/// Shortest time between two saves of the cursor while busy.
const SAVE_EVERY: Duration = Duration::from_secs(2);
/// When a write failed (disk full, permissions), try that thread again after this.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// When a running Codex holds the session's writer lock, look again after this.
const BUSY_RETRY: Duration = Duration::from_secs(1);

/// Why a thread could not be written (it is tried again later).
#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error(transparent)]
    Store(#[from] tinyvex_store::Error),
    #[error(transparent)]
    Export(#[from] Error),
}

/// What writing one thread came to.
enum Outcome {
    /// The file was written.
    Written,
    /// The file already held exactly this.
    Unchanged,
    /// The thread cannot be mirrored now (no working directory, nothing to
    /// export, gone, a Codex thread); a later change tries again.
    Skipped,
    /// The file is not the mirror's own any more (continued in Codex).
    Refused(String),
    /// A running Codex holds the session's writer lock: try again later.
    Busy,
}

/// Whether threads of `provider` are mirrored into Codex: every agent's but
/// Codex's own (and no unknown one).
fn mirrored(provider: &str) -> bool {
    match provider.parse::<ProviderKind>() {
        Ok(ProviderKind::Codex) | Err(_) => false,
        Ok(ProviderKind::Claude | ProviderKind::Opencode | ProviderKind::Gemini) => true,
    }
}

pub(crate) struct Worker {
    store: Store,
    writer: WriterClient,
    options: MirrorOptions,
    dir: PathBuf,
    rx: Receiver<Msg>,
    stats: Arc<Mutex<MirrorStats>>,
    enabled: bool,
    /// Every change up to here has been noted in the schedule (or written).
    read_to: Revision,
    saved: Option<Revision>,
    last_save: Instant,
    last_check: Instant,
    /// The last look at the store failed: wait for the poll, not for due threads.
    failing: bool,
    schedule: Schedule,
    /// Threads whose file was refused: never written again by this process.
    refused: HashSet<String>,
    /// Threads whose file is up to date.
    current: HashSet<String>,
    /// Threads that could not be rendered.
    skipped: HashSet<String>,
}

impl Worker {
    pub fn new(
        store: Store,
        writer: WriterClient,
        options: MirrorOptions,
        rx: Receiver<Msg>,
        stats: Arc<Mutex<MirrorStats>>,
    ) -> Worker {
        Worker {
            store,
            writer,
            dir: mirror_dir(&options.codex_home),
            schedule: Schedule::new(options.interval),
            options,
            rx,
            stats,
            enabled: false,
            read_to: Revision(0),
            saved: None,
            last_save: Instant::now(),
            last_check: Instant::now(),
            failing: false,
            refused: HashSet::new(),
            current: HashSet::new(),
            skipped: HashSet::new(),
        }
    }

    pub fn run(mut self) {
        loop {
            let now = Instant::now();
            let mut wait = self
                .options
                .poll
                .saturating_sub(now.saturating_duration_since(self.last_check));
            if self.enabled && !self.failing {
                if let Some(due) = self.schedule.next_due() {
                    wait = wait.min(due.saturating_duration_since(now));
                }
            }
            let (mut stop, mut look) = match self.rx.recv_timeout(wait) {
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => (true, false),
                Ok(Msg::Wake) | Err(RecvTimeoutError::Timeout) => (false, true),
                // Off, the mirror only reads the setting (nudged or polled),
                // not the store on every commit of an ingest.
                Ok(Msg::Commit) => (false, self.enabled),
            };
            // Coalesce a burst of commits into one look at the store.
            while let Ok(msg) = self.rx.try_recv() {
                match msg {
                    Msg::Stop => stop = true,
                    Msg::Wake => look = true,
                    Msg::Commit => look |= self.enabled,
                }
            }
            if stop {
                break;
            }
            if !look && self.last_check.elapsed() < self.options.poll {
                continue;
            }
            // A store that cannot be read: no spinning on due threads; the
            // next poll tries again.
            self.failing = false;
            if let Err(e) = self.tick() {
                tracing::warn!("mirror: {e}");
                self.error(format!("mirror: {e}"));
                self.failing = true;
            }
        }
        if self.enabled {
            self.save_cursor();
        }
        tracing::debug!("mirror stopped");
    }

    /// Look at the setting, note changed threads, write what is due.
    fn tick(&mut self) -> Result<(), tinyvex_store::Error> {
        self.last_check = Instant::now();
        let reader = self.store.read()?;
        let on = super::enabled(&reader)?;
        if on && !self.enabled {
            self.read_to = reader.cursor(CURSOR_CONSUMER)?.unwrap_or(Revision(0));
            self.saved = Some(self.read_to);
            self.enabled = true;
            tracing::info!(
                dir = %self.dir.display(),
                after = self.read_to.0,
                "two-way on: mirroring threads of other agents into Codex's sessions"
            );
        } else if !on && self.enabled {
            self.save_cursor();
            self.schedule.clear();
            self.enabled = false;
            tracing::info!("two-way off: mirror files already written are left as they are");
        }
        if !self.enabled {
            drop(reader);
            self.publish();
            return Ok(());
        }
        // Thread rows only (items: at most 0 listed): a thread row changes
        // with each of its items.
        let changes = reader.changes_since(self.read_to, 0)?;
        drop(reader);
        let now = Instant::now();
        for thread in &changes.threads {
            if mirrored(&thread.provider) && !self.refused.contains(&thread.id) {
                self.schedule.note(&thread.id, self.read_to, now);
            }
        }
        self.read_to = self.read_to.max(changes.to);
        self.publish();
        let deadline = now + self.options.budget;
        // `config.toml` is read once per look, and only when a thread is due.
        let mut provider = None;
        for thread in self.schedule.due(now) {
            if Instant::now() >= deadline {
                break; // the loop comes back at once: the rest is due
            }
            let provider =
                provider.get_or_insert_with(|| codex_model_provider(&self.options.codex_home));
            self.write_one(&thread, provider.clone());
            self.publish();
        }
        if self.last_save.elapsed() >= SAVE_EVERY {
            self.save_cursor();
        }
        self.publish();
        Ok(())
    }

    /// Render and write one thread, and book the outcome.
    /// `codex_model_provider`: Codex's configured provider
    /// ([`ExportOptions::codex_model_provider`]).
    fn write_one(&mut self, thread: &str, codex_model_provider: Option<String>) {
        let started = Instant::now();
        let result = self.render_and_write(thread, codex_model_provider);
        let now = Instant::now();
        let took = now - started;
        match result {
            Ok(outcome @ (Outcome::Written | Outcome::Unchanged)) => {
                self.schedule.written(thread, now, took);
                self.current.insert(thread.to_string());
                self.skipped.remove(thread);
                let mut stats = lock(&self.stats);
                if matches!(outcome, Outcome::Written) {
                    stats.files_written += 1;
                    stats.last_write_at = Some(format_ms(now_ms()));
                } else {
                    stats.unchanged += 1;
                }
            }
            Ok(Outcome::Skipped) => {
                self.schedule.drop_thread(thread);
                self.current.remove(thread);
                self.skipped.insert(thread.to_string());
            }
            Ok(Outcome::Refused(why)) => {
                self.schedule.drop_thread(thread);
                self.current.remove(thread);
                self.skipped.remove(thread);
                if self.refused.insert(thread.to_string()) {
                    tracing::warn!("{why}");
                    lock(&self.stats).continued += 1;
                    self.error(why);
                }
            }
            Ok(Outcome::Busy) => {
                tracing::debug!(thread, "mirror: a running Codex writes this session; later");
                self.schedule.retry(thread, now + BUSY_RETRY);
            }
            Err(e) => {
                self.schedule.retry(thread, now + RETRY_AFTER);
                tracing::warn!(thread, "mirror: {e}");
                self.error(format!("cannot mirror {thread}: {e}"));
            }
        }
    }

    fn render_and_write(
        &self,
        id: &str,
        codex_model_provider: Option<String>,
    ) -> Result<Outcome, WriteError> {
        // The thread and its items as of one revision.
        let read = self.store.read()?.snapshot(|r| {
            let Some(thread) = r.thread_by_id(id)? else {
                return Ok(None);
            };
            let items = r.items(id, ItemQuery::All)?;
            Ok(Some((thread, items)))
        })?;
        let Some((thread, items)) = read else {
            return Ok(Outcome::Skipped);
        };
        if !mirrored(&thread.provider) {
            return Ok(Outcome::Skipped);
        }
        let options = ExportOptions {
            cwd: None,
            codex_model_provider,
            // UTC: the file name must not move when the time zone does.
            utc_offset_minutes: Some(0),
            kind: ExportKind::Mirror,
        };
        let out = match export(&thread, &items, Target::Codex, &options) {
            Ok(out) => out,
            Err(Error::NoCwd { .. } | Error::Empty(_)) => return Ok(Outcome::Skipped),
            Err(e) => return Err(e.into()),
        };
        let path = self.dir.join(&out.file_name);
        let lock =
            SessionLock::try_take(&self.options.codex_home, &out.session_id).map_err(|source| {
                Error::Io {
                    path: SessionLock::path_of(&self.options.codex_home, &out.session_id),
                    source,
                }
            })?;
        let Some(_lock) = lock else {
            return Ok(Outcome::Busy);
        };
        match write_export(&path, &out) {
            Ok(w) if w.unchanged => Ok(Outcome::Unchanged),
            Ok(_) => Ok(Outcome::Written),
            Err(Error::NotOurs { path, why }) => Ok(Outcome::Refused(format!(
                "mirror of {id} stopped: {} is not the mirror's own any more ({why}); it is left alone",
                path.display()
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Save the cursor when it moved (no revision, so it wakes nobody).
    fn save_cursor(&mut self) {
        self.last_save = Instant::now();
        let cursor = self.schedule.durable(self.read_to);
        if self.saved == Some(cursor) {
            return;
        }
        match self.writer.control(ControlWrite::SetCursor {
            consumer: CURSOR_CONSUMER.into(),
            revision: cursor,
        }) {
            Ok(_) => self.saved = Some(cursor),
            Err(e) => self.error(format!("mirror: cannot save its cursor: {e}")),
        }
    }

    fn error(&self, message: String) {
        let mut stats = lock(&self.stats);
        stats.last_error = Some(message);
        stats.last_error_at = Some(format_ms(now_ms()));
    }

    /// Copy the figures kept here into the shared ones.
    fn publish(&self) {
        let mut stats = lock(&self.stats);
        stats.enabled = self.enabled;
        stats.cursor = self.saved.unwrap_or_default().0;
        stats.pending = self.schedule.len() as u64;
        stats.threads = self.current.len() as u64;
        stats.skipped = self.skipped.len() as u64;
    }
}
