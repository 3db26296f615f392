//! Deciding, per source file, what needs reading: nothing (unchanged), the
//! new bytes after the cursor, or everything again (truncated or replaced).
//! Only `stat` calls and, for changed files, one small read of the file's
//! head happen here, so a catch-up costs in proportion to what changed.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tinyvex_model::FileCursor;

/// How many leading bytes identify a file's content for replacement checks.
const HEAD_BYTES: usize = 1024;

/// The ingest layer's part of a cursor's `parser_state`: the provider
/// parser's own state plus a fingerprint of the file's head, which detects a
/// file rewritten in place (same inode, different content).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SavedState {
    /// FNV-1a of the first `min(HEAD_BYTES, offset)` bytes.
    pub head: u64,
    /// How many bytes `head` covers.
    pub head_len: u64,
    /// The provider parser's state.
    pub parser: String,
}

impl SavedState {
    pub fn decode(s: &str) -> Option<SavedState> {
        serde_json::from_str(s).ok()
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What to do with one file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Size, mtime and identity as recorded: nothing to read.
    Unchanged,
    /// Continue after the cursor.
    Resume { offset: u64, state: SavedState },
    /// Read from the start: new file, or truncated/replaced (`reset`).
    FromStart { reset: bool },
    /// A snapshot source changed: read it whole, with the provider state
    /// the previous read left (if any).
    Snapshot { state: Option<String> },
}

/// The identity and size of a file now.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
}

impl Stat {
    pub fn of(m: &Metadata) -> Stat {
        Stat {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
        }
    }

    /// Fold in a SQLite database's `-wal` file, where recent writes live
    /// until a checkpoint: a change there is a change of the source.
    pub fn with_wal_of(mut self, path: &Path) -> Stat {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        if let Ok(m) = std::fs::metadata(&wal) {
            let w = Stat::of(&m);
            self.size += w.size;
            self.mtime_ns = self.mtime_ns.max(w.mtime_ns);
        }
        self
    }
}

/// FNV-1a, 64 bit: tiny, dependency-free, plenty for "same head or not".
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Fingerprint of the first `len` bytes of `path` (fewer if the file is shorter).
pub(crate) fn head_fingerprint(path: &Path, len: u64) -> std::io::Result<(u64, u64)> {
    let mut buf = Vec::with_capacity(len as usize);
    File::open(path)?.take(len).read_to_end(&mut buf)?;
    Ok((fnv1a(&buf), buf.len() as u64))
}

/// Head length to fingerprint for a file read up to `offset`.
pub(crate) fn head_len_for(offset: u64) -> u64 {
    offset.min(HEAD_BYTES as u64)
}

/// Compare a snapshot source now with its stored cursor.
pub(crate) fn plan_snapshot(stat: &Stat, cursor: Option<&FileCursor>) -> Plan {
    let Some(c) = cursor else {
        return Plan::Snapshot { state: None };
    };
    let state = SavedState::decode(&c.parser_state)
        .map(|s| s.parser)
        .filter(|p| !p.is_empty());
    if c.dev == stat.dev && c.ino == stat.ino && c.size == stat.size && c.mtime_ns == stat.mtime_ns
    {
        return Plan::Unchanged;
    }
    // A replaced file starts over; the same file keeps its incremental state.
    let same = c.dev == stat.dev && c.ino == stat.ino;
    Plan::Snapshot {
        state: if same { state } else { None },
    }
}

/// Compare the file now with its stored cursor.
pub(crate) fn plan(path: &Path, stat: &Stat, cursor: Option<&FileCursor>) -> Plan {
    let Some(c) = cursor else {
        return Plan::FromStart { reset: false };
    };
    let state = SavedState::decode(&c.parser_state);
    let Some(state) = state else {
        // A cursor without our state (older build, or an error-only row): start over.
        return Plan::FromStart {
            reset: c.offset > 0,
        };
    };
    if c.dev != stat.dev || c.ino != stat.ino || stat.size < c.offset {
        return Plan::FromStart { reset: true };
    }
    if stat.size == c.size && stat.mtime_ns == c.mtime_ns {
        return Plan::Unchanged;
    }
    // Same inode, changed: make sure it was appended to, not rewritten.
    if state.head_len > 0 {
        match head_fingerprint(path, state.head_len) {
            Ok((h, n)) if h == state.head && n == state.head_len => {}
            _ => return Plan::FromStart { reset: true },
        }
    }
    Plan::Resume {
        offset: c.offset,
        state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor_for(path: &Path, offset: u64) -> FileCursor {
        let st = Stat::of(&std::fs::metadata(path).unwrap());
        let (head, head_len) = head_fingerprint(path, head_len_for(offset)).unwrap();
        FileCursor {
            dev: st.dev,
            ino: st.ino,
            size: st.size,
            mtime_ns: st.mtime_ns,
            offset,
            parser_state: SavedState {
                head,
                head_len,
                parser: "p".into(),
            }
            .encode(),
        }
    }

    #[test]
    fn plans() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "line one\n").unwrap();
        let c = cursor_for(&p, 9);
        let st = |p: &Path| Stat::of(&std::fs::metadata(p).unwrap());
        assert_eq!(plan(&p, &st(&p), None), Plan::FromStart { reset: false });
        assert_eq!(plan(&p, &st(&p), Some(&c)), Plan::Unchanged);
        // Appended.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all_at_end(b"two\n");
        assert!(matches!(
            plan(&p, &st(&p), Some(&c)),
            Plan::Resume { offset: 9, .. }
        ));
        // Rewritten in place with other content, longer.
        std::fs::write(&p, "LINE ONE\nthree\n").unwrap();
        assert_eq!(plan(&p, &st(&p), Some(&c)), Plan::FromStart { reset: true });
        // Truncated.
        std::fs::write(&p, "x").unwrap();
        assert_eq!(plan(&p, &st(&p), Some(&c)), Plan::FromStart { reset: true });
        // Replaced by another file (new inode).
        let q = dir.path().join("g");
        std::fs::write(&q, "line one\nmore\n").unwrap();
        std::fs::rename(&q, &p).unwrap();
        assert_eq!(plan(&p, &st(&p), Some(&c)), Plan::FromStart { reset: true });
    }

    trait AppendExt {
        fn write_all_at_end(self, b: &[u8]);
    }
    impl AppendExt for File {
        fn write_all_at_end(mut self, b: &[u8]) {
            std::io::Write::write_all(&mut self, b).unwrap();
        }
    }
}
