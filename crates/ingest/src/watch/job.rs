//! Jobs: full passes and backfills run in bounded chunks, with throttled
//! progress reports.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{JobKind, JobProgress, JobState, WatchEvents};
use crate::Progress;

/// At most this many files in one chunk.
const CHUNK_FILES: usize = 64;
/// At most about this many bytes in one chunk (a larger single file makes
/// a chunk of its own). Small enough that a chunk reads in well under a
/// second, which bounds how long events and shutdown wait.
const CHUNK_BYTES: u64 = 32 << 20;
/// Progress reports at most this often, plus the final one.
const REPORT_EVERY: Duration = Duration::from_millis(100);

/// Files of one chunk, as (provider index, path).
pub(crate) type Chunk = Vec<(usize, PathBuf)>;

/// One queued or running job.
pub(crate) struct Job {
    /// Providers the job covers (by index).
    pub providers: Vec<usize>,
    /// Re-read from the start (backfill) instead of from the cursors.
    pub from_start: bool,
    /// The chunks left; `None` until the job has planned.
    pub chunks: Option<VecDeque<Chunk>>,
    /// Progress, reported to the events sink when `meter.report`.
    pub meter: JobMeter,
}

impl Job {
    pub fn new(
        id: u64,
        kind: JobKind,
        providers: Vec<usize>,
        events: Option<Arc<dyn WatchEvents>>,
    ) -> Job {
        Job {
            providers,
            from_start: kind == JobKind::Backfill,
            chunks: None,
            meter: JobMeter::new(id, kind, events),
        }
    }
}

/// Split files with their expected bytes into chunks of bounded size.
pub(crate) fn chunk(files: Vec<(usize, PathBuf, u64)>) -> VecDeque<Chunk> {
    let mut chunks = VecDeque::new();
    let mut current = Vec::new();
    let mut bytes = 0u64;
    for (provider, path, size) in files {
        if !current.is_empty() && (current.len() >= CHUNK_FILES || bytes + size > CHUNK_BYTES) {
            chunks.push_back(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push((provider, path));
    }
    if !current.is_empty() {
        chunks.push_back(current);
    }
    chunks
}

/// Counts a job's progress (as a [`Progress`] of each chunk's pass) and
/// reports it, throttled. A job without an events sink (periodic rescans,
/// enabling a provider) counts silently.
pub(crate) struct JobMeter {
    events: Option<Arc<dyn WatchEvents>>,
    state: Mutex<MeterState>,
}

struct MeterState {
    progress: JobProgress,
    last_sent: Option<Instant>,
}

impl JobMeter {
    fn new(job_id: u64, kind: JobKind, events: Option<Arc<dyn WatchEvents>>) -> JobMeter {
        JobMeter {
            events,
            state: Mutex::new(MeterState {
                progress: JobProgress {
                    job_id,
                    kind,
                    state: JobState::Running,
                    files_total: 0,
                    files_done: 0,
                    bytes_total: 0,
                    bytes_done: 0,
                    error: None,
                },
                last_sent: None,
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut MeterState) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The job's id.
    pub fn id(&self) -> u64 {
        self.with(|s| s.progress.job_id)
    }

    /// The job's kind.
    pub fn kind(&self) -> JobKind {
        self.with(|s| s.progress.kind)
    }

    /// Work is known (after planning): report the start.
    pub fn set_totals(&self, files: u64, bytes: u64) {
        self.with(|s| {
            s.progress.files_total = files;
            s.progress.bytes_total = bytes;
        });
        self.send(true);
    }

    /// Report now (`force`, after a chunk) or if the last report is old enough.
    pub fn send(&self, force: bool) {
        let Some(events) = &self.events else { return };
        let progress = self.with(|s| {
            let due = !matches!(s.last_sent, Some(t) if t.elapsed() < REPORT_EVERY);
            (force || due).then(|| {
                s.last_sent = Some(Instant::now());
                s.progress.clone()
            })
        });
        // Outside the lock: the sink may take its time.
        if let Some(p) = progress {
            events.job(&p);
        }
    }

    /// The job ended: report its final state.
    pub fn finish(&self, error: Option<String>) {
        self.with(|s| {
            let p = &mut s.progress;
            p.state = if error.is_some() {
                JobState::Failed
            } else {
                // Planning's estimate may differ from what was read since.
                p.files_total = p.files_total.max(p.files_done);
                p.bytes_total = p.bytes_total.max(p.bytes_done);
                JobState::Done
            };
            p.error = error;
        });
        self.send(true);
    }
}

impl Progress for JobMeter {
    // Totals come from the job's planning, not from each chunk's.
    fn start(&self, _files: u64, _bytes: u64) {}

    fn advance(&self, bytes: u64) {
        self.with(|s| s.progress.bytes_done += bytes);
        self.send(false);
    }

    fn file_done(&self) {
        self.with(|s| s.progress.files_done += 1);
        self.send(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_bounded_by_files_and_bytes() {
        let files = (0..130)
            .map(|i| (0, PathBuf::from(format!("f{i}")), 1))
            .collect();
        let sizes: Vec<usize> = chunk(files).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![64, 64, 2]);
        let big = vec![
            (0, PathBuf::from("a"), CHUNK_BYTES),
            (0, PathBuf::from("b"), 1),
            (1, PathBuf::from("c"), 2),
        ];
        let sizes: Vec<usize> = chunk(big).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![1, 2]);
    }
}
