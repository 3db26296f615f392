//! From a path in a filesystem event to the provider and source file it
//! concerns.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Maps paths to providers by root prefix; the longest matching root wins,
/// so a provider whose root lies inside another's still gets its events.
#[derive(Clone, Debug, Default)]
pub struct Router {
    /// (root, provider index), longest root (most components) first.
    roots: Vec<(PathBuf, usize)>,
}

impl Router {
    /// A router over `(root, provider index)` pairs.
    pub fn new(mut roots: Vec<(PathBuf, usize)>) -> Router {
        roots.sort_by_key(|(root, _)| std::cmp::Reverse(root.components().count()));
        Router { roots }
    }

    /// The provider whose root holds `path` (compared component-wise).
    pub fn route(&self, path: &Path) -> Option<usize> {
        self.roots
            .iter()
            .find(|(root, _)| path.starts_with(root))
            .map(|(_, i)| *i)
    }
}

/// Suffixes of the files SQLite keeps next to a database: a write to them
/// is a change of the database itself.
const SQLITE_SIDECARS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// The source file an event on `path` concerns: `x.db` for `x.db-wal`,
/// `x.db-shm` or `x.db-journal` when `x.db` is a known file, else `path`.
pub fn source_of<'a, V>(path: &'a Path, known: &HashMap<PathBuf, V>) -> std::borrow::Cow<'a, Path> {
    if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
        for suffix in SQLITE_SIDECARS {
            if let Some(base) = name.strip_suffix(suffix) {
                let main = path.with_file_name(base);
                if known.contains_key(&main) {
                    return std::borrow::Cow::Owned(main);
                }
            }
        }
    }
    std::borrow::Cow::Borrowed(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_root_wins() {
        let router = Router::new(vec![
            (PathBuf::from("/home/u/.local/share"), 0),
            (PathBuf::from("/home/u/.local/share/opencode"), 1),
            (PathBuf::from("/home/u/.codex/sessions"), 2),
        ]);
        let r = |p: &str| router.route(Path::new(p));
        assert_eq!(r("/home/u/.local/share/opencode/opencode.db"), Some(1));
        assert_eq!(r("/home/u/.local/share/other/x.json"), Some(0));
        assert_eq!(r("/home/u/.codex/sessions/2026/01/01/r.jsonl"), Some(2));
        // Component-wise: a sibling whose name merely starts with the root is not in it.
        assert_eq!(r("/home/u/.codex/sessions-old/r.jsonl"), None);
        assert_eq!(r("/elsewhere"), None);
    }

    #[test]
    fn sqlite_sidecars_map_to_their_known_database() {
        let mut known = HashMap::new();
        known.insert(PathBuf::from("/d/opencode.db"), 3usize);
        let s = |p: &str| source_of(Path::new(p), &known).into_owned();
        assert_eq!(s("/d/opencode.db-wal"), PathBuf::from("/d/opencode.db"));
        assert_eq!(s("/d/opencode.db-shm"), PathBuf::from("/d/opencode.db"));
        assert_eq!(s("/d/opencode.db-journal"), PathBuf::from("/d/opencode.db"));
        assert_eq!(s("/d/opencode.db"), PathBuf::from("/d/opencode.db"));
        // Not a known database: left alone.
        assert_eq!(s("/d/other.db-wal"), PathBuf::from("/d/other.db-wal"));
        assert_eq!(s("/e/opencode.db-wal"), PathBuf::from("/e/opencode.db-wal"));
    }
}
