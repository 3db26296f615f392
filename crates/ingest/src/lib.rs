//! Incremental ingestion: from source files to writer batches.
//!
//! For every file a provider discovers, the stored [`FileCursor`](tinyvex_model::FileCursor) says
//! where reading stopped. A pass ([`Ingestor::run_once`]) only `stat`s
//! unchanged files, reads the new bytes of grown ones, and starts over for
//! files that were truncated or replaced (detected by inode, size and a
//! fingerprint of the file's head). Lines are handed out only when complete
//! ([`LineReader`]), and every batch goes to the writer together with the
//! cursor just past its last line, in one transaction: a crash at any
//! point resumes exactly where the last commit stopped, and re-reading
//! produces the same keys, so nothing is duplicated.
//!
//! [`watch`] runs passes live: targeted reads of the files a filesystem
//! event names, plus periodic cheap full passes.

mod lines;
mod plan;
mod raw_keep;
mod read;
mod run;
pub mod watch;

pub use lines::{Line, LineReader};
pub use run::{
    IngestOptions, IngestSummary, Ingestor, NoProgress, PassOutcome, PassScope, Progress,
    ProviderSummary,
};
pub use watch::{
    JobKind, JobProgress, JobState, NoWatchEvents, ProviderWatchStats, WatchClient, WatchEvents,
    WatchOptions, WatchService,
};

/// Errors that stop a pass. Problems with single files or lines never do:
/// they are recorded in the store and counted in the summary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store refused a read or a write.
    #[error(transparent)]
    Store(#[from] tinyvex_store::Error),
    /// The filesystem watcher could not be set up.
    #[error("file watcher: {0}")]
    Watch(#[from] notify::Error),
    /// The watch service thread could not be started.
    #[error("cannot start the watch thread: {0}")]
    Thread(#[from] std::io::Error),
}
