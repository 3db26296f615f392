//! One pass over every source: plan, read the new bytes, parse, hand
//! batches with their cursors to the writer.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use tinyvex_model::{FileBatch, FileCursor, LineError, ParsedEvent, ProviderKind, RawChunk};
use tinyvex_providers::{Discovered, LineParser, Provider, SourceMode};
use tinyvex_store::{Reader, WriterClient};

use crate::lines::{Line, LineReader};
use crate::plan::{head_fingerprint, head_len_for, plan, plan_snapshot, Plan, SavedState, Stat};
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
}

/// Figures of one pass over every provider.
#[derive(Clone, Debug, Default)]
pub struct IngestSummary {
    /// Per provider.
    pub providers: Vec<ProviderSummary>,
    /// Wall time of the pass.
    pub elapsed: Duration,
}

impl ProviderSummary {
    /// Add another reader's figures (everything but `files_seen` and
    /// `files_unchanged`, which planning counts once).
    fn add(&mut self, o: &ProviderSummary) {
        self.files_read += o.files_read;
        self.files_reset += o.files_reset;
        self.bytes_read += o.bytes_read;
        self.lines += o.lines;
        self.item_events += o.item_events;
        self.errors += o.errors;
    }
}

struct Work {
    provider: usize,
    path: String,
    stat: Stat,
    plan: Plan,
}

/// Runs ingestion passes for a set of providers into one store.
pub struct Ingestor<'a> {
    providers: &'a [Box<dyn Provider>],
    writer: WriterClient,
    options: IngestOptions,
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
    /// has committed it.
    pub fn run_once(
        &self,
        reader: &Reader,
        progress: &dyn Progress,
    ) -> Result<IngestSummary, Error> {
        let started = Instant::now();
        let mut summaries: Vec<ProviderSummary> = self
            .providers
            .iter()
            .map(|p| ProviderSummary {
                provider: p.kind().to_string(),
                ..Default::default()
            })
            .collect();
        let mut work = Vec::new();
        for (i, provider) in self.providers.iter().enumerate() {
            let cursors = reader.file_cursors(provider.kind())?;
            let discovered = provider.discover();
            self.report_gone(provider.kind(), &cursors, &discovered)?;
            for found in discovered {
                let sum = &mut summaries[i];
                sum.files_seen += 1;
                let path = found.path.to_string_lossy().into_owned();
                if let Some(problem) = found.problem {
                    sum.errors += 1;
                    self.report_file_error(
                        provider.kind(),
                        path,
                        problem,
                        cursors.get(found.path.to_string_lossy().as_ref()),
                    )?;
                    continue;
                }
                let meta = match std::fs::metadata(&found.path) {
                    Ok(m) => m,
                    Err(e) => {
                        sum.errors += 1;
                        let c = cursors.get(&path).cloned();
                        self.report_file_error(
                            provider.kind(),
                            path,
                            format!("cannot stat: {e}"),
                            c.as_ref(),
                        )?;
                        continue;
                    }
                };
                let (stat, plan) = match provider.mode(&found.path) {
                    SourceMode::Lines => {
                        let stat = Stat::of(&meta);
                        (stat, plan(&found.path, &stat, cursors.get(&path)))
                    }
                    SourceMode::Snapshot => {
                        let stat = Stat::of(&meta).with_wal_of(&found.path);
                        (stat, plan_snapshot(&stat, cursors.get(&path)))
                    }
                };
                if plan == Plan::Unchanged {
                    sum.files_unchanged += 1;
                    continue;
                }
                work.push(Work {
                    provider: i,
                    path,
                    stat,
                    plan,
                });
            }
        }
        let total: u64 = work
            .iter()
            .map(|w| match &w.plan {
                Plan::Resume { offset, .. } => w.stat.size.saturating_sub(*offset),
                Plan::FromStart { .. } | Plan::Snapshot { .. } | Plan::Unchanged => w.stat.size,
            })
            .sum();
        progress.start(work.len() as u64, total);
        self.read_all(work, &mut summaries, progress)?;
        self.writer.flush()?;
        Ok(IngestSummary {
            providers: summaries,
            elapsed: started.elapsed(),
        })
    }

    /// Read every planned file on `options.readers` threads, largest first
    /// so that no thread is left with one big file at the end.
    fn read_all(
        &self,
        mut work: Vec<Work>,
        summaries: &mut [ProviderSummary],
        progress: &dyn Progress,
    ) -> Result<(), Error> {
        work.sort_by_key(|w| std::cmp::Reverse(w.stat.size));
        let threads = self.options.readers.clamp(1, work.len().max(1));
        let queue = Mutex::new(work.into_iter());
        let results: Vec<Result<Vec<ProviderSummary>, Error>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut local: Vec<ProviderSummary> = summaries
                            .iter()
                            .map(|s| ProviderSummary {
                                provider: s.provider.clone(),
                                ..Default::default()
                            })
                            .collect();
                        loop {
                            let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                            let Some(w) = next else { break };
                            let sum = &mut local[w.provider];
                            self.read_file(&*self.providers[w.provider], w, sum, progress)?;
                        }
                        Ok(local)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("reader thread panicked"))
                .collect()
        });
        for result in results {
            for (total, part) in summaries.iter_mut().zip(result?) {
                total.add(&part);
            }
        }
        Ok(())
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

    fn report_file_error(
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

    /// Read one file from its planned position to the last complete line.
    fn read_file(
        &self,
        provider: &dyn Provider,
        w: Work,
        sum: &mut ProviderSummary,
        progress: &dyn Progress,
    ) -> Result<(), Error> {
        let kind = provider.kind();
        let path = Path::new(&w.path);
        let (start, saved, reset) = match w.plan {
            Plan::Resume { offset, state } => (offset, Some(state), false),
            Plan::FromStart { reset } => (0, None, reset),
            Plan::Snapshot { state } => {
                return self.read_snapshot(provider, &w.path, w.stat, state, sum, progress)
            }
            Plan::Unchanged => return Ok(()),
        };
        let cursor = FileCursor {
            dev: w.stat.dev,
            ino: w.stat.ino,
            size: w.stat.size,
            mtime_ns: w.stat.mtime_ns,
            offset: start,
            parser_state: SavedState::default().encode(),
        };
        if reset {
            sum.files_reset += 1;
            tracing::info!(path = %w.path, "file was truncated or replaced; reading it again from the start");
        }
        let mut file =
            match File::open(path).and_then(|mut f| f.seek(SeekFrom::Start(start)).map(|_| f)) {
                Ok(f) => f,
                Err(e) => {
                    sum.errors += 1;
                    return self.report_file_error(kind, w.path, format!("cannot read: {e}"), None);
                }
            };
        if w.stat.size == 0 {
            sum.errors += 1;
            self.writer.submit(FileBatch {
                provider: kind,
                path: w.path,
                session_id: None,
                events: Vec::new(),
                raw: None,
                cursor,
                bytes_read: 0,
                line_errors: Vec::new(),
                file_error: Some("empty file".into()),
                reset,
                gone: false,
            })?;
            return Ok(());
        }
        let parser = match provider.line_parser(path, saved.as_ref().map(|s| s.parser.as_str())) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(path = %w.path, "{e}; reading the file again from the start");
                let w = Work {
                    plan: Plan::FromStart { reset: true },
                    ..w
                };
                return self.read_file(provider, w, sum, progress);
            }
        };
        sum.files_read += 1;
        let mut pending = Pending {
            kind,
            path: &w.path,
            parser,
            events: Vec::new(),
            errors: Vec::new(),
            cursor,
            head: saved.map(|s| (s.head, s.head_len)).unwrap_or((0, 0)),
            batch_start: start,
            reset,
        };
        let mut lines = LineReader::new(&mut file, start, self.options.max_line_bytes);
        let mut batch_bytes = 0usize;
        let mut read_error = None;
        loop {
            let line = match lines.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(e) => {
                    // Keep what was read; the file is retried on the next pass.
                    sum.errors += 1;
                    read_error = Some(format!("read failed at byte {}: {e}", lines.offset()));
                    break;
                }
            };
            match line {
                Line::Complete { offset, bytes } => {
                    sum.lines += 1;
                    batch_bytes += bytes.len();
                    if let Err(e) = pending
                        .parser
                        .parse_line(offset, bytes, &mut pending.events)
                    {
                        pending.errors.push(e);
                    }
                }
                Line::TooLong { offset, len } => pending.errors.push(LineError {
                    offset,
                    message: format!(
                        "line of {len} bytes is longer than the {} byte limit; skipped",
                        self.options.max_line_bytes
                    ),
                }),
            }
            if batch_bytes >= self.options.batch_bytes {
                self.cut(&mut pending, lines.offset(), sum, progress, None)?;
                batch_bytes = 0;
            }
        }
        let end = lines.offset();
        self.cut(&mut pending, end, sum, progress, read_error)?;
        Ok(())
    }

    /// Read a snapshot source whole and send one batch per session in it.
    fn read_snapshot(
        &self,
        provider: &dyn Provider,
        path: &str,
        stat: Stat,
        state: Option<String>,
        sum: &mut ProviderSummary,
        progress: &dyn Progress,
    ) -> Result<(), Error> {
        let kind = provider.kind();
        let snapshot = match provider.read_snapshot(Path::new(path), state.as_deref()) {
            Ok(s) => s,
            Err(message) => {
                // The cursor stays as it was, so the next change is read again.
                sum.errors += 1;
                return self.report_file_error(kind, path.to_string(), message, None);
            }
        };
        sum.files_read += 1;
        sum.bytes_read += stat.size;
        sum.errors += snapshot.errors.len() as u64;
        let cursor = FileCursor {
            dev: stat.dev,
            ino: stat.ino,
            size: stat.size,
            mtime_ns: stat.mtime_ns,
            offset: stat.size,
            parser_state: SavedState {
                parser: snapshot.state,
                ..SavedState::default()
            }
            .encode(),
        };
        let mut errors = snapshot.errors;
        let mut sessions = snapshot.sessions.into_iter().map(Some).collect::<Vec<_>>();
        if sessions.is_empty() {
            sessions.push(None); // still record the cursor (and clear an old error)
        }
        for (i, session) in sessions.into_iter().enumerate() {
            let (session_id, events) = match session {
                Some(s) => (Some(s.session_id), s.events),
                None => (None, Vec::new()),
            };
            let (items, raw) = split_raw(events);
            sum.lines += raw.as_ref().map_or(0, |r| u64::from(r.records));
            sum.item_events += items
                .iter()
                .filter(|e| matches!(e, ParsedEvent::Item(_)))
                .count() as u64;
            self.writer.submit(FileBatch {
                provider: kind,
                path: path.to_string(),
                session_id,
                events: items,
                raw,
                cursor: cursor.clone(),
                bytes_read: if i == 0 { stat.size } else { 0 },
                line_errors: std::mem::take(&mut errors),
                file_error: None,
                reset: i == 0 && snapshot.complete,
                gone: false,
            })?;
        }
        progress.advance(stat.size);
        Ok(())
    }

    /// Send what `pending` holds, with the cursor at `end`, as one batch.
    /// Raw records are compressed here, on the reading thread, so the
    /// single writer only stores one blob per batch.
    fn cut(
        &self,
        pending: &mut Pending<'_>,
        end: u64,
        sum: &mut ProviderSummary,
        progress: &dyn Progress,
        file_error: Option<String>,
    ) -> Result<(), Error> {
        let path = Path::new(pending.path);
        let want = head_len_for(end);
        if pending.head.1 != want {
            pending.head = head_fingerprint(path, want).unwrap_or(pending.head);
        }
        pending.cursor.offset = end;
        pending.cursor.parser_state = SavedState {
            head: pending.head.0,
            head_len: pending.head.1,
            parser: pending.parser.save_state(),
        }
        .encode();
        let bytes = end - pending.batch_start;
        let (items, raw) = split_raw(std::mem::take(&mut pending.events));
        sum.bytes_read += bytes;
        sum.errors += pending.errors.len() as u64;
        sum.item_events += items
            .iter()
            .filter(|e| matches!(e, ParsedEvent::Item(_)))
            .count() as u64;
        for e in &pending.errors {
            tracing::debug!(path = pending.path, offset = e.offset, "{}", e.message);
        }
        self.writer.submit(FileBatch {
            provider: pending.kind,
            path: pending.path.to_string(),
            session_id: pending.parser.session_id().map(str::to_string),
            events: items,
            raw,
            cursor: pending.cursor.clone(),
            bytes_read: bytes,
            line_errors: std::mem::take(&mut pending.errors),
            file_error,
            // Only the first batch of a re-read clears what the file had.
            reset: std::mem::take(&mut pending.reset),
            gone: false,
        })?;
        progress.advance(bytes);
        pending.batch_start = end;
        Ok(())
    }
}

/// Take the raw records out of `events` and compress them into one chunk.
/// Done on the reading thread, so the single writer only stores a blob.
fn split_raw(events: Vec<ParsedEvent>) -> (Vec<ParsedEvent>, Option<RawChunk>) {
    let mut items = Vec::with_capacity(events.len());
    let mut raws = Vec::new();
    for event in events {
        match event {
            ParsedEvent::Raw(r) => raws.push(r),
            other => items.push(other),
        }
    }
    (items, tinyvex_store::raw::encode_raw(&raws))
}

/// What one file's read has gathered since its last batch.
struct Pending<'a> {
    kind: ProviderKind,
    path: &'a str,
    parser: Box<dyn LineParser>,
    events: Vec<ParsedEvent>,
    errors: Vec<LineError>,
    cursor: FileCursor,
    /// Fingerprint of the file's head: (hash, bytes covered).
    head: (u64, u64),
    batch_start: u64,
    reset: bool,
}
