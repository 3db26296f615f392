//! Writing an export: atomically, and only over an earlier, untouched export
//! of the same thread.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{ids, Error, Export, Marker};

/// What [`write_export`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The file.
    pub path: PathBuf,
    /// An earlier export of the thread was there and was replaced.
    pub replaced: bool,
    /// The file already had exactly these contents; nothing was written.
    pub unchanged: bool,
}

/// The [`Marker`] of an export's first line (either target's), if it has one.
pub fn read_marker(first_line: &str) -> Option<Marker> {
    let v: Value = serde_json::from_str(first_line).ok()?;
    let m = v
        .get("payload")
        .and_then(|p| p.get("tinyvex_export"))
        .or_else(|| v.get("tinyvex_export"))?;
    serde_json::from_value(m.clone()).ok()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Why an existing file at the destination is not ours to replace, if it is not.
fn not_ours(existing: &str, export: &Export) -> Option<String> {
    let (first, rest) = existing.split_once('\n').unwrap_or((existing, ""));
    let Some(marker) = read_marker(first) else {
        return Some("it was not written by `tinyvex export`".to_string());
    };
    let ours = export.lines.first().and_then(|l| read_marker(l))?;
    if marker.source_thread != ours.source_thread {
        return Some(format!(
            "it is the export of thread {}",
            marker.source_thread
        ));
    }
    let lines = rest.lines().count();
    if lines != marker.lines || ids::sha1_hex(rest.as_bytes()) != marker.sha1 {
        return Some(format!(
            "it changed after it was exported ({} lines then, {lines} now): \
             the session was probably continued in {}; `tinyvex ingest` reads it as its own thread",
            marker.lines, export.target
        ));
    }
    None
}

/// Writes `export` to `path` (creating its folder): to a temporary file in
/// the same folder, fsync'd, then renamed over `path`, so a reader sees the
/// old file or the new one, never a part. An existing file is replaced only
/// when it is an export of the same thread that nobody changed since
/// ([`Error::NotOurs`] otherwise).
pub fn write_export(path: &Path, export: &Export) -> Result<Written, Error> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let contents = export.contents();
    let replaced = match fs::read(path) {
        // The same bytes are ours by construction: no marker to check, no
        // file to hash (a mirror restart or backfill meets mostly these).
        Ok(bytes) if bytes == contents.as_bytes() => {
            return Ok(Written {
                path: path.to_path_buf(),
                replaced: false,
                unchanged: true,
            });
        }
        Ok(bytes) => {
            let existing = String::from_utf8_lossy(&bytes);
            if let Some(why) = not_ours(&existing, export) {
                return Err(Error::NotOurs {
                    path: path.to_path_buf(),
                    why,
                });
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io(path)(e)),
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tinyvex-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(contents.as_bytes()).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, path).map_err(io(path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    // The rename is durable once the folder is synced (not possible everywhere).
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(Written {
        path: path.to_path_buf(),
        replaced,
        unchanged: false,
    })
}
