//! Reading planned files: complete lines from a cursor on, or snapshot
//! sources whole, cut into batches that carry their cursor to the writer.

use std::borrow::Cow;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;

use tinyvex_model::{
    FileBatch, FileCursor, ItemPatch, LineError, ParsedEvent, ProviderKind, RawChunk,
};
use tinyvex_providers::{LineParser, Provider};

use crate::lines::{Line, LineReader};
use crate::plan::{head_fingerprint, head_len_for, Plan, SavedState, Stat};
use crate::raw_keep::RawKeep;
use crate::run::{Ingestor, Progress, ProviderSummary, Work};
use crate::Error;

/// What the reading threads of one pass share.
pub(crate) struct PassReads<'a> {
    /// Told of every batch and file read.
    pub progress: &'a dyn Progress,
    /// Whether a batch's raw records are kept.
    pub raw_keep: &'a RawKeep,
}

impl Ingestor<'_> {
    /// Read every planned file on `options.readers` threads, largest first
    /// so that no thread is left with one big file at the end.
    pub(crate) fn read_all(
        &self,
        mut work: Vec<Work>,
        summaries: &mut [ProviderSummary],
        pass: &PassReads<'_>,
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
                            self.read_file(&*self.providers[w.provider], w, sum, pass)?;
                            pass.progress.file_done();
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

    /// Read one file from its planned position to the last complete line.
    fn read_file(
        &self,
        provider: &dyn Provider,
        w: Work,
        sum: &mut ProviderSummary,
        pass: &PassReads<'_>,
    ) -> Result<(), Error> {
        let kind = provider.kind();
        let path = Path::new(&w.path);
        let (start, saved, reset) = match w.plan {
            Plan::Resume { offset, state } => (offset, Some(state), false),
            Plan::FromStart { reset } => (0, None, reset),
            Plan::Snapshot { state } => {
                return self.read_snapshot(provider, &w.path, w.stat, state, sum, pass)
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
                return self.read_file(provider, w, sum, pass);
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
                self.cut(&mut pending, lines.offset(), sum, pass, None)?;
                batch_bytes = 0;
            }
        }
        if reset {
            // Logged once the lines said what the file is: the two-way
            // mirror replaces its copies every time it writes them.
            if pending.parser.is_own_copy() {
                tracing::debug!(path = %w.path, "a two-way mirror copy was rewritten; read again");
            } else {
                tracing::info!(path = %w.path, "file was truncated or replaced; read it again from the start");
            }
        }
        let end = lines.offset();
        self.cut(&mut pending, end, sum, pass, read_error)?;
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
        pass: &PassReads<'_>,
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
            let Split {
                events: items,
                raw,
                item_events,
                raw_not_kept: _,
            } = split_batch(events, Some(pass.raw_keep));
            sum.lines += raw.as_ref().map_or(0, |r| u64::from(r.records));
            sum.item_events += item_events;
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
        pass.raw_keep.advance(stat.size);
        pass.progress.advance(stat.size);
        Ok(())
    }

    /// Send what `pending` holds, with the cursor at `end`, as one batch.
    /// Raw records are compressed here, on the reading thread, so the
    /// single writer only stores one blob per batch, unless the pass would
    /// push them out of the raw log itself ([`RawKeep`]).
    fn cut(
        &self,
        pending: &mut Pending<'_>,
        end: u64,
        sum: &mut ProviderSummary,
        pass: &PassReads<'_>,
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
        let raw_keep = pass.raw_keep.keep(bytes).then_some(pass.raw_keep);
        let Split {
            events: items,
            raw,
            item_events,
            raw_not_kept,
        } = split_batch(std::mem::take(&mut pending.events), raw_keep);
        sum.raw_not_kept += raw_not_kept;
        sum.bytes_read += bytes;
        sum.errors += pending.errors.len() as u64;
        sum.item_events += item_events;
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
        pass.progress.advance(bytes);
        pending.batch_start = end;
        Ok(())
    }
}

/// A batch's events made ready for the writer.
struct Split {
    /// Thread patches, then item patches, each item key once.
    events: Vec<ParsedEvent>,
    /// The raw records, compressed.
    raw: Option<RawChunk>,
    /// Item patches parsed (before folding).
    item_events: u64,
    /// Raw records left out ([`RawKeep`]).
    raw_not_kept: u64,
}

/// Take the raw records out of `events` and compress them into one chunk,
/// telling `raw_keep` how well they compressed (or drop them, when there is
/// no `raw_keep`: the pass would prune them), and fold item patches of
/// equal key ([`ItemPatch::coalesce`]). Done on the reading thread, by
/// value, so the single writer only stores a blob and copies no patch.
fn split_batch(events: Vec<ParsedEvent>, raw_keep: Option<&RawKeep>) -> Split {
    let mut others = Vec::new();
    let mut items = Vec::with_capacity(events.len());
    let mut raws = Vec::new();
    for event in events {
        match event {
            ParsedEvent::Raw(r) => raws.push(r),
            ParsedEvent::Item(item) => items.push(Cow::Owned(item)),
            other => others.push(other),
        }
    }
    let item_events = items.len() as u64;
    // The store applies thread patches before items, so they may go first.
    others.extend(
        ItemPatch::coalesce(items)
            .into_iter()
            .map(|item| ParsedEvent::Item(item.into_owned())),
    );
    let (raw, raw_not_kept) = match raw_keep {
        Some(raw_keep) => {
            let raw = tinyvex_store::raw::encode_raw(&raws);
            if let Some(chunk) = &raw {
                raw_keep.compressed(chunk.raw_bytes, chunk.data.len() as u64);
            }
            (raw, 0)
        }
        None => (None, raws.len() as u64),
    };
    Split {
        events: others,
        raw,
        item_events,
        raw_not_kept,
    }
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
