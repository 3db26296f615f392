//! Codex's per-session writer lock, which the mirror takes around a write.
//!
//! A running Codex that resumed a session holds an exclusive `flock` on
//! `$CODEX_HOME/thread-writer-locks/<session id>.lock` for as long as it
//! may append to the rollout, and removes the file when it is done; a
//! second Codex that finds the lock taken refuses to resume ("already has
//! an active writer"). Both seen with the pinned 0.169
//! (`crates/tinyvex/tests/it/two_way.rs`).
//!
//! The mirror takes the same lock before it replaces a file: while a Codex
//! holds it, the file is left alone (Codex appends to the file it opened;
//! renaming a new file over it would send those appends to a file nobody
//! can see any more), and while the mirror holds it, no Codex starts
//! writing the session.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// The folder of Codex's writer locks in a Codex home.
const LOCK_DIR: &str = "thread-writer-locks";

/// A held writer lock of one session; released (and its file removed) on drop.
#[derive(Debug)]
pub(crate) struct SessionLock {
    path: PathBuf,
    // Held open: closing it releases the lock.
    _file: File,
}

impl SessionLock {
    /// The writer lock of `session` in `codex_home`, or `None` when another
    /// process (a running Codex) holds it.
    pub fn try_take(codex_home: &Path, session: &str) -> io::Result<Option<SessionLock>> {
        let dir = codex_home.join(LOCK_DIR);
        fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{session}.lock"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(SessionLock { path, _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    /// Where the lock file of `session` is.
    pub fn path_of(codex_home: &Path, session: &str) -> PathBuf {
        codex_home.join(LOCK_DIR).join(format!("{session}.lock"))
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        // Removed while still held, as Codex does: a process that opened
        // the old file meanwhile finds it locked and gives up; one that
        // comes later makes a new one.
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_not_taken_twice_and_goes_away_when_released() {
        let home = tempfile::tempdir().unwrap();
        let lock = SessionLock::try_take(home.path(), "s1").unwrap().unwrap();
        let path = SessionLock::path_of(home.path(), "s1");
        assert!(path.exists());
        // Another open file description (as another process would have).
        let other = File::options().write(true).open(&path).unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        assert!(SessionLock::try_take(home.path(), "s2").unwrap().is_some());
        drop(lock);
        assert!(!path.exists());
        // Someone else's lock keeps the mirror out.
        let theirs = File::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .unwrap();
        theirs.lock().unwrap();
        assert!(SessionLock::try_take(home.path(), "s1").unwrap().is_none());
    }
}
