//! Full-text search for Tinyvex: the index beside the store and the query
//! language.
//!
//! * [`analyzer`]: how text is cut into words (one analyzer for indexing,
//!   querying and highlighting).
//! * [`query`]: the query language ([`SearchQuery::parse`]).
//! * [`index`]: the tantivy index ([`SearchIndex`]), brought up to date by
//!   the store's revision [`Cursor`] through an [`IndexUpdater`].
//! * [`execute`]: top candidates for a query ([`View::top`]), BM25;
//!   filters never score.
//! * [`matcher`]: the same query evaluated on one item's text, for items
//!   not yet indexed and for snippets.
//!
//! The store drives all of it (`tinyvex_store::search`): it feeds changed
//! items to the index after they are committed, and merges index results
//! with the matcher's for what the index has not caught up with.

pub mod analyzer;
pub mod execute;
pub mod index;
pub mod matcher;
pub mod query;

pub use execute::{Candidate, Filters};
pub use index::{Cursor, IndexUpdater, IndexedItem, PreparedItem, SearchIndex, View};
pub use matcher::{Match, Matcher};
pub use query::{Clause, QueryError, SearchKind, SearchQuery, MAX_HITS};

/// Weights of the text fields when choosing where to cut a snippet:
/// `text`, `command`, `output`. A command is short and says what was done;
/// outputs are long and noisy.
pub const FIELD_WEIGHTS: [f32; 3] = [1.0, 2.0, 0.5];

/// Everything that can go wrong in the index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// tantivy failed.
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The index folder could not be read or written.
    #[error("search index {path}: {source}")]
    Io {
        /// The folder or file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The index is not usable.
    #[error("search index corrupt: {0}")]
    Corrupt(String),
}

impl Error {
    fn io(path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
