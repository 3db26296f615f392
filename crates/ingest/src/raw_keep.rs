//! Which raw records a pass keeps.
//!
//! The store keeps the newest [`raw_retention_bytes`] of compressed raw
//! records and deletes the oldest past it. A pass that reads more than that
//! (the first ingest of a long history) used to compress and store every
//! record, then delete most of them again in its own later commits: on a
//! 3 GiB Codex history, 60% of the raw log written was deleted before the
//! pass ended, and the raw log was a third of the whole ingest's time.
//!
//! [`RawKeep`] skips, up front, the records that the same pass would push
//! out: a batch's records are not kept when the source bytes still to be
//! read after it would, compressed, fill the whole log by themselves. The
//! compression ratio is learnt from the batches compressed first, and the
//! estimate leans towards keeping: the rest is assumed to compress a quarter
//! better than what was seen. Records that are kept are the same ones as
//! before, minus nothing that would have survived the pass (unless the rest
//! of the history compresses far better than its start, and then the log
//! simply ends the pass below its cap).
//!
//! [`raw_retention_bytes`]: tinyvex_store::WriterClient::raw_retention_bytes

use std::sync::atomic::{AtomicU64, Ordering};

/// Raw bytes compressed before the ratio is trusted, at most.
const SAMPLE_BYTES: u64 = 16 << 20;

/// How much better than seen the rest may compress (0.75: a quarter).
const MARGIN: f64 = 0.75;

/// Shared by the reading threads of one pass.
#[derive(Debug)]
pub(crate) struct RawKeep {
    /// The store's cap on compressed raw records.
    limit: u64,
    /// Source bytes the pass plans to read.
    planned: u64,
    /// Raw bytes compressed before the ratio is used.
    sample: u64,
    /// Source bytes read so far (batches cut).
    read: AtomicU64,
    /// Raw record bytes compressed so far, and what they compressed to.
    raw_in: AtomicU64,
    raw_out: AtomicU64,
}

impl RawKeep {
    /// For a pass planning to read `planned` source bytes into a store
    /// keeping `limit` bytes of compressed raw records.
    pub(crate) fn new(limit: u64, planned: u64) -> RawKeep {
        RawKeep {
            limit,
            planned,
            sample: (limit / 4).min(SAMPLE_BYTES),
            read: AtomicU64::new(0),
            raw_in: AtomicU64::new(0),
            raw_out: AtomicU64::new(0),
        }
    }

    /// A batch of `bytes` source bytes was read: whether to keep its raw
    /// records. Call once per batch, in the order batches are cut.
    pub(crate) fn keep(&self, bytes: u64) -> bool {
        let read = self.read.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let seen = self.raw_in.load(Ordering::Relaxed);
        if seen < self.sample || self.planned <= self.limit {
            return true;
        }
        let ratio = self.raw_out.load(Ordering::Relaxed) as f64 / seen as f64;
        let after = self.planned.saturating_sub(read) as f64;
        after * ratio * MARGIN <= self.limit as f64
    }

    /// Source bytes read outside [`RawKeep::keep`] (whole snapshot files,
    /// whose raw records are always kept).
    pub(crate) fn advance(&self, bytes: u64) {
        self.read.fetch_add(bytes, Ordering::Relaxed);
    }

    /// `raw` bytes of records were compressed to `compressed` bytes.
    pub(crate) fn compressed(&self, raw: u64, compressed: u64) {
        self.raw_in.fetch_add(raw, Ordering::Relaxed);
        self.raw_out.fetch_add(compressed, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn a_pass_within_the_cap_keeps_everything() {
        let k = RawKeep::new(512 * MIB, 400 * MIB);
        k.compressed(100 * MIB, 10 * MIB);
        assert!(k.keep(MIB));
    }

    #[test]
    fn nothing_is_skipped_before_the_ratio_is_known() {
        let k = RawKeep::new(8 * MIB, 10_000 * MIB);
        // The sample is a quarter of the cap: 2 MiB.
        k.compressed(MIB, MIB / 2);
        assert!(k.keep(MIB));
        k.compressed(MIB, MIB / 2);
        assert!(!k.keep(MIB));
    }

    #[test]
    fn records_are_kept_once_the_rest_no_longer_fills_the_log() {
        // 1 GiB planned at 2:1 into a 100 MiB log: the last 200 MiB would
        // survive; with the margin, the last 266 MiB are kept.
        let k = RawKeep::new(100 * MIB, 1024 * MIB);
        k.compressed(16 * MIB, 8 * MIB);
        let mut kept_from = None;
        for i in 1..=1024u64 {
            if k.keep(MIB) && kept_from.is_none() {
                kept_from = Some(i);
            }
            if let Some(from) = kept_from {
                assert!(k.keep(0), "kept from {from} MiB, then skipped at {i}");
            }
        }
        let from = kept_from.expect("the end of the pass is kept");
        let kept = 1024 - from + 1;
        assert!((200..=270).contains(&kept), "kept the last {kept} MiB");
    }

    #[test]
    fn snapshot_bytes_count_as_read() {
        let k = RawKeep::new(10 * MIB, 100 * MIB);
        k.compressed(4 * MIB, 2 * MIB);
        assert!(!k.keep(MIB));
        k.advance(90 * MIB);
        assert!(k.keep(MIB));
    }
}
