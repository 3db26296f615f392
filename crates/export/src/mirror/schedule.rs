//! Which threads to write when: the mirror's pure state, apart from I/O.
//!
//! A thread that changed is *pending* until its file is written. Writes of
//! one thread are at least the interval apart: a change right after a write
//! waits for the rest of the interval, and every change meanwhile joins that
//! one write (a burst of appends costs a write per interval, not one per
//! append). A thread idle for longer is written at once. A thread whose
//! render takes long (a huge thread while a bulk ingest grows it) waits
//! [`COST_FACTOR`] times its last render's duration instead, so that
//! rendering one thread again and again never takes more than a fifth of the
//! mirror's time.
//!
//! Each pending thread remembers the cursor of the change feed before its
//! first unwritten change (`since`): the cursor the mirror may save is the
//! smallest of them, or how far it has read when nothing is pending, so
//! that a restart re-reads every change not yet written, and nothing more.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tinyvex_model::Revision;

/// A thread is written again no sooner than this many times the duration
/// of its last render and write after it.
pub(crate) const COST_FACTOR: u32 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    /// The feed cursor before the first change not yet written.
    since: Revision,
    /// Not written before this.
    due: Instant,
}

/// Pending threads and the time of each thread's last write.
#[derive(Debug)]
pub(crate) struct Schedule {
    interval: Duration,
    pending: HashMap<String, Pending>,
    /// Per thread written lately: not written again before this.
    next_write: HashMap<String, Instant>,
}

impl Schedule {
    /// A schedule writing each thread at most once per `interval`.
    pub fn new(interval: Duration) -> Schedule {
        Schedule {
            interval,
            pending: HashMap::new(),
            next_write: HashMap::new(),
        }
    }

    /// `thread` changed after feed cursor `since` (noticed at `now`).
    pub fn note(&mut self, thread: &str, since: Revision, now: Instant) {
        if let Some(p) = self.pending.get_mut(thread) {
            p.since = p.since.min(since);
            return;
        }
        let due = match self.next_write.get(thread) {
            Some(&at) => at.max(now),
            None => now,
        };
        self.pending
            .insert(thread.to_string(), Pending { since, due });
    }

    /// The pending threads due at `now`, longest waiting first.
    pub fn due(&self, now: Instant) -> Vec<String> {
        let mut due: Vec<(&String, &Pending)> =
            self.pending.iter().filter(|(_, p)| p.due <= now).collect();
        due.sort_by(|a, b| a.1.due.cmp(&b.1.due).then_with(|| a.0.cmp(b.0)));
        due.into_iter().map(|(t, _)| t.clone()).collect()
    }

    /// When the next pending thread is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.due).min()
    }

    /// `thread` was written (or found up to date) at `now`, which took `took`.
    pub fn written(&mut self, thread: &str, now: Instant, took: Duration) {
        self.pending.remove(thread);
        // Forget writes too old to delay anything, so the map stays small.
        if self.next_write.len() > 4096 {
            self.next_write.retain(|_, at| *at > now);
        }
        let wait = self.interval.max(took * COST_FACTOR);
        self.next_write.insert(thread.to_string(), now + wait);
    }

    /// `thread` will not be written (it cannot be, or must not be).
    pub fn drop_thread(&mut self, thread: &str) {
        self.pending.remove(thread);
    }

    /// Try `thread` again at `at` (a write failed).
    pub fn retry(&mut self, thread: &str, at: Instant) {
        if let Some(p) = self.pending.get_mut(thread) {
            p.due = at;
        }
    }

    /// Pending threads.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Forget every pending thread (two-way was turned off).
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// The cursor that is safe to save when the feed has been read up to
    /// `read_to`: every change at or before it is written.
    pub fn durable(&self, read_to: Revision) -> Revision {
        self.pending
            .values()
            .map(|p| p.since)
            .min()
            .unwrap_or(read_to)
            .min(read_to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn an_idle_thread_is_due_at_once_and_a_burst_coalesces_into_one_write() {
        let t0 = Instant::now();
        let mut s = Schedule::new(500 * MS);
        s.note("a", Revision(3), t0);
        assert_eq!(s.due(t0), ["a"]);
        s.written("a", t0, MS);
        assert!(s.due(t0).is_empty());
        // A burst right after the write: one pending entry, due when the
        // interval is over.
        for (i, at) in [10, 20, 300, 499].into_iter().enumerate() {
            s.note("a", Revision(4 + i as u64), t0 + at * MS);
        }
        assert_eq!(s.len(), 1);
        assert!(s.due(t0 + 499 * MS).is_empty());
        assert_eq!(s.next_due(), Some(t0 + 500 * MS));
        assert_eq!(s.due(t0 + 500 * MS), ["a"]);
        s.written("a", t0 + 500 * MS, MS);
        // Idle for longer than the interval: due at once again.
        s.note("a", Revision(9), t0 + 2000 * MS);
        assert_eq!(s.due(t0 + 2000 * MS), ["a"]);
    }

    #[test]
    fn a_slow_render_spaces_the_next_one_out() {
        let t0 = Instant::now();
        let mut s = Schedule::new(500 * MS);
        s.note("big", Revision(1), t0);
        s.written("big", t0, 300 * MS);
        s.note("big", Revision(2), t0 + 10 * MS);
        assert!(s.due(t0 + 1199 * MS).is_empty());
        assert_eq!(s.due(t0 + 1200 * MS), ["big"]);
    }

    #[test]
    fn threads_are_due_in_the_order_they_waited() {
        let t0 = Instant::now();
        let mut s = Schedule::new(500 * MS);
        s.note("b", Revision(1), t0);
        s.note("a", Revision(1), t0 + MS);
        s.written("c", t0, MS);
        s.note("c", Revision(2), t0 + MS);
        assert_eq!(s.due(t0 + MS), ["b", "a"]);
        assert_eq!(s.due(t0 + 600 * MS), ["b", "a", "c"]);
    }

    #[test]
    fn the_durable_cursor_stays_before_the_first_unwritten_change() {
        let t0 = Instant::now();
        let mut s = Schedule::new(500 * MS);
        assert_eq!(s.durable(Revision(5)), Revision(5));
        s.note("a", Revision(5), t0);
        s.note("b", Revision(7), t0);
        // "a" changes again later: still unwritten since 5.
        s.note("a", Revision(9), t0);
        assert_eq!(s.durable(Revision(10)), Revision(5));
        s.written("a", t0, MS);
        assert_eq!(s.durable(Revision(10)), Revision(7));
        s.retry("b", t0 + 5000 * MS);
        assert!(s.due(t0 + 4999 * MS).is_empty());
        assert_eq!(s.due(t0 + 5000 * MS), ["b"]);
        s.drop_thread("b");
        assert_eq!(s.durable(Revision(10)), Revision(10));
        s.note("c", Revision(10), t0);
        s.clear();
        assert_eq!((s.len(), s.durable(Revision(11))), (0, Revision(11)));
    }
}
