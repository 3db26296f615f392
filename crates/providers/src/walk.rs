//! The one directory walk every provider's discovery uses: stable order,
//! unreadable folders and odd entries reported instead of skipped.

use std::path::Path;

use walkdir::{DirEntry, WalkDir};

use crate::Discovered;

/// Every entry under `root` (not `root` itself, at most `max_depth` deep)
/// that `wanted` accepts, sorted by name so that ingest order, and so
/// revisions, are reproducible. An accepted entry that cannot be read as a
/// file (a directory named like a session file, a broken link, a socket)
/// comes with a [`Discovered::problem`] that names `what` it should have
/// been; a folder that cannot be listed is reported the same way.
pub(crate) fn discover_files(
    root: &Path,
    max_depth: usize,
    what: &str,
    wanted: impl Fn(&DirEntry) -> bool,
) -> Vec<Discovered> {
    let mut found = Vec::new();
    if !root.is_dir() {
        return found;
    }
    for entry in WalkDir::new(root)
        .min_depth(1)
        .max_depth(max_depth)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                if let Some(path) = err.path() {
                    found.push(Discovered {
                        path: path.to_path_buf(),
                        problem: Some(format!("cannot list directory: {err}")),
                    });
                }
                continue;
            }
        };
        if !wanted(&entry) {
            continue;
        }
        let ft = entry.file_type();
        let problem = if ft.is_file() {
            None
        } else if ft.is_dir() {
            Some(format!("is a directory, not a {what}"))
        } else if ft.is_symlink() {
            match std::fs::metadata(entry.path()) {
                Ok(m) if m.is_file() => None,
                Ok(_) => Some("symbolic link to something that is not a file".to_string()),
                Err(e) => Some(format!("broken symbolic link: {e}")),
            }
        } else {
            Some("not a regular file".to_string())
        };
        found.push(Discovered {
            path: entry.into_path(),
            problem,
        });
    }
    found
}

/// A name that is not hidden and ends with one of `extensions` (with dots).
pub(crate) fn has_extension(entry: &DirEntry, extensions: &[&str]) -> bool {
    let name = entry.file_name().to_string_lossy();
    !name.starts_with('.') && extensions.iter().any(|e| name.ends_with(e))
}
