//! One pass over every source: plan, read the new bytes, parse, hand
//! batches with their cursors to the writer.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tinyvex_model::{FileBatch, FileCursor, ProviderKind};
use tinyvex_providers::{Discovered, Provider, SourceMode};
use tinyvex_store::{Reader, WriterClient};

use crate::plan::{plan, plan_snapshot, Plan, Stat};
use crate::raw_keep::RawKeep;
use crate::read::PassReads;
use crate::Error;

/// Knobs for a pass.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// Hand a batch to the writer once its events hold about this many bytes.
    pub batch_bytes: usize,
    /// Lines longer than this are skipped and counted as errors.
    pub max_line_bytes: usize,
    /// Files read in parallel. Each reader parses and compresses while the
    /// writer thread commits; on two cores, two readers keep both busy.
    pub readers: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        IngestOptions {
            batch_bytes: 2 << 20,
            max_line_bytes: 8 << 20,
            readers: cores.clamp(1, 4),
        }
    }
}

/// Receives progress of a pass (a progress bar, a log, or nothing).
pub trait Progress: Sync {
    /// Work is known: `files` to read holding `bytes` new bytes.
    fn start(&self, _files: u64, _bytes: u64) {}
    /// `bytes` more were read.
    fn advance(&self, _bytes: u64) {}
    /// One more file was read to its end (or given up on).
    fn file_done(&self) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Figures of one provider in one pass.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ProviderSummary {
    /// The provider.
    pub provider: String,
    /// Candidate files found.
    pub files_seen: u64,
    /// Files with new bytes that were read.
    pub files_read: u64,
    /// Files whose size and identity had not changed (not opened).
    pub files_unchanged: u64,
    /// Files read again from the start (truncated or replaced).
    pub files_reset: u64,
    /// New bytes read.
    pub bytes_read: u64,
    /// Complete lines parsed.
    pub lines: u64,
    /// Items produced (new or updated).
    pub item_events: u64,
    /// Bad lines and unreadable files met in this pass.
    pub errors: u64,
    /// Records read but not kept in the raw event log, because this pass's
    /// own later records would have pushed them out of it (a pass reading
    /// more than the log holds; see `StoreOptions::raw_retention_bytes`).
    pub raw_not_kept: u64,
    /// Milliseconds from the newest write among the files read (their
    /// mtime when planned) to the commit of the pass; `None` when nothing
    /// was read. Not serialized: the CLI's JSON output stays as documented.
    #[serde(skip)]
    pub lag_ms: Option<u64>,
}

/// Figures of one pass over every provider.
#[derive(Clone, Debug, Default)]
pub struct IngestSummary {
    /// One per provider of the ingestor, in its order; providers outside
    /// a pass's scope stay at zero.
    pub providers: Vec<ProviderSummary>,
    /// Wall time of the pass.
    pub elapsed: Duration,
}

/// Which part of the sources a pass covers, and how.
#[derive(Clone, Debug, Default)]
pub struct PassScope {
    /// Which providers (by index) take part; `None` = all.
    pub providers: Option<Vec<usize>>,
    /// Re-read every file from the start, ignoring cursors (repair /
    /// re-parse; idempotent: the same keys come out, nothing is duplicated).
    /// Snapshot files are read whole with no saved state.
    pub from_start: bool,
}

impl PassScope {
    /// The provider indices in scope among `n` providers, ascending.
    fn indices(&self, n: usize) -> Vec<usize> {
        match &self.providers {
            None => (0..n).collect(),
            Some(list) => {
                let mut v: Vec<usize> = list.iter().copied().filter(|&i| i < n).collect();
                v.sort_unstable();
                v.dedup();
                v
            }
        }
    }
}

/// What a [`Ingestor::run_pass`] did and found.
#[derive(Clone, Debug, Default)]
pub struct PassOutcome {
    /// Figures of the pass.
    pub summary: IngestSummary,
    /// Every file discovered, as (provider index, path), for the watcher's
    /// known-file set.
    pub discovered: Vec<(usize, PathBuf)>,
}

impl ProviderSummary {
    /// Add another reader's figures (everything but `files_seen` and
    /// `files_unchanged`, which planning counts once).
    pub(crate) fn add(&mut self, o: &ProviderSummary) {
        self.files_read += o.files_read;
        self.files_reset += o.files_reset;
        self.bytes_read += o.bytes_read;
        self.lines += o.lines;
        self.item_events += o.item_events;
        self.errors += o.errors;
        self.raw_not_kept += o.raw_not_kept;
    }
}

/// One file to read and how.
pub(crate) struct Work {
    pub provider: usize,
    pub path: String,
    pub stat: Stat,
    pub plan: Plan,
}

impl Work {
    /// Bytes this work is expected to read.
    pub fn bytes(&self) -> u64 {
        match &self.plan {
            Plan::Resume { offset, .. } => self.stat.size.saturating_sub(*offset),
            Plan::FromStart { .. } | Plan::Snapshot { .. } | Plan::Unchanged => self.stat.size,
        }
    }
}

/// The result of planning: what to read, figures so far, what was found.
pub(crate) struct Planned {
    pub work: Vec<Work>,
    pub summaries: Vec<ProviderSummary>,
    pub discovered: Vec<(usize, PathBuf)>,
}

/// Runs ingestion passes for a set of providers into one store.
pub struct Ingestor<'a> {
    pub(crate) providers: &'a [Box<dyn Provider>],
    pub(crate) writer: WriterClient,
    pub(crate) options: IngestOptions,
}

impl<'a> Ingestor<'a> {
    /// An ingestor feeding `writer` from `providers`.
    pub fn new(
        providers: &'a [Box<dyn Provider>],
        writer: WriterClient,
        options: IngestOptions,
    ) -> Ingestor<'a> {
        Ingestor {
            providers,
            writer,
            options,
        }
    }

    /// Read everything new from every provider, then wait until the writer
    /// has committed it. The same as [`Ingestor::run_pass`] with the
    /// default scope.
    pub fn run_once(
        &self,
        reader: &Reader,
        progress: &dyn Progress,
    ) -> Result<IngestSummary, Error> {
        Ok(self
            .run_pass(reader, &PassScope::default(), progress)?
            .summary)
    }

    /// Discover the files of the providers in `scope`, report the known
    /// files no longer found as gone, read what is new (or everything, with
    /// [`PassScope::from_start`]) and wait until the writer committed it.
    pub fn run_pass(
        &self,
        reader: &Reader,
        scope: &PassScope,
        progress: &dyn Progress,
    ) -> Result<PassOutcome, Error> {
        let started = Instant::now();
        let indices = scope.indices(self.providers.len());
        let mut planned = self.plan_providers(reader, &indices, scope.from_start)?;
        let discovered = std::mem::take(&mut planned.discovered);
        let summary = self.execute(planned, progress, started)?;
        Ok(PassOutcome {
            summary,
            discovered,
        })
    }

    /// Read only these files (`usize`: index into the providers), with the
    /// same planning as a full pass: no discovery, no gone-file reporting.
    /// A path that no longer exists (or is not a file) is skipped silently:
    /// the next full pass reports it. Waits until the writer committed.
    pub fn run_paths(
        &self,
        reader: &Reader,
        targets: &[(usize, PathBuf)],
        progress: &dyn Progress,
    ) -> Result<IngestSummary, Error> {
        self.run_targets(reader, targets, false, progress)
    }

    /// [`Ingestor::run_paths`], optionally ignoring cursors (a backfill chunk).
    pub(crate) fn run_targets(
        &self,
        reader: &Reader,
        targets: &[(usize, PathBuf)],
        from_start: bool,
        progress: &dyn Progress,
    ) -> Result<IngestSummary, Error> {
        let started = Instant::now();
        let planned = self.plan_paths(reader, targets, from_start)?;
        self.execute(planned, progress, started)
    }

    fn empty_summaries(&self) -> Vec<ProviderSummary> {
        self.providers
            .iter()
            .map(|p| ProviderSummary {
                provider: p.kind().to_string(),
                ..Default::default()
            })
            .collect()
    }

    /// Discover and plan every file of the providers `indices`; known files
    /// that are gone are reported to the writer here.
    pub(crate) fn plan_providers(
        &self,
        reader: &Reader,
        indices: &[usize],
        from_start: bool,
    ) -> Result<Planned, Error> {
        let mut summaries = self.empty_summaries();
        let mut work = Vec::new();
        let mut all = Vec::new();
        for &i in indices {
            let provider = &self.providers[i];
            let cursors = reader.file_cursors(provider.kind())?;
            let discovered = provider.discover();
            self.report_gone(provider.kind(), &cursors, &discovered)?;
            all.extend(discovered.iter().map(|d| (i, d.path.clone())));
            for found in discovered {
                self.plan_found(i, found, &cursors, from_start, &mut summaries[i], &mut work)?;
            }
        }
        Ok(Planned {
            work,
            summaries,
            discovered: all,
        })
    }

    /// Plan the given files only. Cursors are looked up once per provider
    /// per call: `Reader` has no single-file lookup, and one query per
    /// provider is cheap next to reading.
    pub(crate) fn plan_paths(
        &self,
        reader: &Reader,
        targets: &[(usize, PathBuf)],
        from_start: bool,
    ) -> Result<Planned, Error> {
        let mut summaries = self.empty_summaries();
        let mut work = Vec::new();
        let mut seen = HashSet::new();
        for (i, path) in targets {
            if *i >= self.providers.len() || !seen.insert((*i, path)) {
                continue;
            }
            if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
                continue;
            }
            let key = path.to_string_lossy().into_owned();
            let known: HashMap<String, FileCursor> = reader
                .file_cursor(self.providers[*i].kind(), &key)?
                .map(|c| (key, c))
                .into_iter()
                .collect();
            let found = Discovered {
                path: path.clone(),
                problem: None,
            };
            self.plan_found(*i, found, &known, from_start, &mut summaries[*i], &mut work)?;
        }
        Ok(Planned {
            work,
            summaries,
            discovered: Vec::new(),
        })
    }

    /// Stat one discovered file and decide what to read; a file with
    /// something to read is pushed onto `work`.
    fn plan_found(
        &self,
        index: usize,
        found: Discovered,
        cursors: &HashMap<String, FileCursor>,
        from_start: bool,
        sum: &mut ProviderSummary,
        work: &mut Vec<Work>,
    ) -> Result<(), Error> {
        let provider = &self.providers[index];
        sum.files_seen += 1;
        let path = found.path.to_string_lossy().into_owned();
        let cursor = cursors.get(&path);
        if let Some(problem) = found.problem {
            sum.errors += 1;
            return self.report_file_error(provider.kind(), path, problem, cursor);
        }
        let meta = match std::fs::metadata(&found.path) {
            Ok(m) => m,
            Err(e) => {
                sum.errors += 1;
                let c = cursor.cloned();
                let message = format!("cannot stat: {e}");
                return self.report_file_error(provider.kind(), path, message, c.as_ref());
            }
        };
        let (stat, plan) = match provider.mode(&found.path) {
            SourceMode::Lines => {
                let stat = Stat::of(&meta);
                let plan = if from_start {
                    // A stored cursor means stored content: the re-read
                    // must replace its raw records and errors, not add to them.
                    Plan::FromStart {
                        reset: cursor.is_some(),
                    }
                } else {
                    plan(&found.path, &stat, cursor)
                };
                (stat, plan)
            }
            SourceMode::Snapshot => {
                let stat = Stat::of(&meta).with_wal_of(&found.path);
                let plan = if from_start {
                    Plan::Snapshot { state: None }
                } else {
                    plan_snapshot(&stat, cursor)
                };
                (stat, plan)
            }
        };
        if plan == Plan::Unchanged {
            sum.files_unchanged += 1;
            return Ok(());
        }
        work.push(Work {
            provider: index,
            path,
            stat,
            plan,
        });
        Ok(())
    }

    /// Read the planned work, wait for the commit and measure the lag from
    /// the newest source write to it.
    pub(crate) fn execute(
        &self,
        planned: Planned,
        progress: &dyn Progress,
        started: Instant,
    ) -> Result<IngestSummary, Error> {
        let Planned {
            work,
            mut summaries,
            ..
        } = planned;
        let total: u64 = work.iter().map(Work::bytes).sum();
        let mut newest: Vec<Option<i64>> = vec![None; summaries.len()];
        for w in &work {
            let n = &mut newest[w.provider];
            *n = Some(n.map_or(w.stat.mtime_ns, |m| m.max(w.stat.mtime_ns)));
        }
        progress.start(work.len() as u64, total);
        let raw_keep = RawKeep::new(self.writer.raw_retention_bytes(), total);
        self.read_all(
            work,
            &mut summaries,
            &PassReads {
                progress,
                raw_keep: &raw_keep,
            },
        )?;
        let skipped: u64 = summaries.iter().map(|s| s.raw_not_kept).sum();
        if skipped > 0 {
            tracing::info!(
                records = skipped,
                "the raw event log keeps the newest {} MiB of records: the {skipped} read \
                 before them in this pass were not stored",
                self.writer.raw_retention_bytes() >> 20
            );
        }
        self.writer.flush()?;
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        for (sum, newest) in summaries.iter_mut().zip(newest) {
            if let Some(mtime) = newest.filter(|_| sum.files_read > 0) {
                // A clock step or an mtime in the future must not underflow.
                sum.lag_ms = Some((now_ns.saturating_sub(mtime).max(0) / 1_000_000) as u64);
            }
        }
        Ok(IngestSummary {
            providers: summaries,
            elapsed: started.elapsed(),
        })
    }

    /// Files the store knows that discovery no longer finds: the agent
    /// deleted them (or their folder is gone). Their threads stay.
    fn report_gone(
        &self,
        provider: ProviderKind,
        cursors: &HashMap<String, FileCursor>,
        discovered: &[Discovered],
    ) -> Result<(), Error> {
        let present: HashSet<&Path> = discovered.iter().map(|d| d.path.as_path()).collect();
        for (path, cursor) in cursors {
            if present.contains(Path::new(path)) {
                continue;
            }
            self.writer.submit(FileBatch {
                provider,
                path: path.clone(),
                session_id: None,
                events: Vec::new(),
                raw: None,
                cursor: cursor.clone(),
                bytes_read: 0,
                line_errors: Vec::new(),
                file_error: None,
                reset: false,
                gone: true,
            })?;
        }
        Ok(())
    }

    pub(crate) fn report_file_error(
        &self,
        provider: ProviderKind,
        path: String,
        message: String,
        previous: Option<&FileCursor>,
    ) -> Result<(), Error> {
        tracing::warn!(provider = %provider, path = %path, "{message}");
        self.writer.submit(FileBatch {
            provider,
            path,
            session_id: None,
            events: Vec::new(),
            raw: None,
            cursor: previous.cloned().unwrap_or_default(),
            bytes_read: 0,
            line_errors: Vec::new(),
            file_error: Some(message),
            reset: false,
            gone: false,
        })?;
        Ok(())
    }
}
