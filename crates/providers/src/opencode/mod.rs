//! OpenCode: sessions under `$XDG_DATA_HOME/opencode` (default
//! `~/.local/share/opencode`), either as the JSON file tree
//! `storage/{session,message,part}/…` (≤ 1.1, and left behind by 1.2+) or
//! in the SQLite database `opencode.db` (1.2+). Both are snapshot sources:
//! every JSON file is one record read whole when it changes; the database
//! is read incrementally, rows newer than the previous read.
//!
//! The rules are written down in `docs/providers/opencode.md`; [`records`]
//! turns session, message and part objects into events for both layouts.

use std::path::{Path, PathBuf};

use crate::walk::{discover_files, has_extension};
use serde_json::Value;
use tinyvex_model::{ParsedEvent, ProviderKind, RawRecord};

use crate::{
    Discovered, Error, LineParser, Provider, SessionEvents, Snapshot, SourceEnv, SourceMode,
};

mod db;
mod records;
#[cfg(test)]
mod tests;

/// File name of the database inside the data directory.
const DB_NAME: &str = "opencode.db";
/// Directories of `storage/` holding session, message and part files.
const STORAGE_DIRS: [&str; 3] = ["session", "message", "part"];

/// The OpenCode provider, configured with its data directories.
#[derive(Clone, Debug)]
pub struct OpencodeProvider {
    roots: Vec<PathBuf>,
}

impl OpencodeProvider {
    /// Root from the environment: `$XDG_DATA_HOME/opencode`
    /// (`XDG_DATA_HOME` defaults to `~/.local/share`).
    pub fn from_env(env: &SourceEnv) -> OpencodeProvider {
        let data = env
            .path_var("XDG_DATA_HOME")
            .unwrap_or_else(|| env.home.join(".local").join("share"));
        OpencodeProvider {
            roots: vec![data.join("opencode")],
        }
    }

    /// A provider scanning exactly these data directories.
    pub fn with_roots(roots: Vec<PathBuf>) -> OpencodeProvider {
        OpencodeProvider { roots }
    }
}

fn is_db(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()) == Some(DB_NAME)
}

impl Provider for OpencodeProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Opencode
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.roots.clone()
    }

    fn discover(&self) -> Vec<Discovered> {
        let mut found = Vec::new();
        for root in &self.roots {
            if !root.is_dir() {
                continue;
            }
            let db = root.join(DB_NAME);
            if let Ok(m) = std::fs::metadata(&db) {
                found.push(Discovered {
                    problem: (!m.is_file()).then(|| "not a regular file".to_string()),
                    path: db,
                });
            }
            // Sorted, so message and part files come in id order.
            let record =
                |e: &walkdir::DirEntry| !e.file_type().is_dir() && has_extension(e, &[".json"]);
            for dir in STORAGE_DIRS {
                let dir = root.join("storage").join(dir);
                found.extend(discover_files(&dir, 4, "record file", record));
            }
        }
        found
    }

    fn mode(&self, _path: &Path) -> SourceMode {
        SourceMode::Snapshot
    }

    fn line_parser(&self, path: &Path, _state: Option<&str>) -> Result<Box<dyn LineParser>, Error> {
        Err(Error::BadState {
            path: path.to_path_buf(),
            source: serde::de::Error::custom("OpenCode sources are snapshots, not lines"),
        })
    }

    fn read_snapshot(&self, path: &Path, state: Option<&str>) -> Result<Snapshot, String> {
        if is_db(path) {
            db::read(path, state)
        } else {
            read_json(path)
        }
    }
}

/// Which record a JSON object is: by id prefix, else by its fields.
fn classify(v: &Value) -> Option<&'static str> {
    let id = v.get("id").and_then(Value::as_str).unwrap_or("");
    if id.starts_with("ses_") {
        Some("session")
    } else if id.starts_with("msg_") {
        Some("message")
    } else if id.starts_with("prt_") {
        Some("part")
    } else if v.get("role").is_some() {
        Some("message")
    } else if v.get("messageID").is_some() {
        Some("part")
    } else if v.get("directory").is_some() {
        Some("session")
    } else {
        None
    }
}

/// The `storage` directory above a file of the tree.
fn storage_dir(path: &Path) -> Option<&Path> {
    path.ancestors()
        .find(|a| a.file_name().and_then(|n| n.to_str()) == Some("storage"))
}

/// The message info of a part read from the JSON tree: its role and time.
fn message_of(path: &Path, session_id: &str, msg_id: &str) -> records::MessageInfo {
    let Some(storage) = storage_dir(path) else {
        return records::MessageInfo::default();
    };
    let name = format!("{msg_id}.json");
    let candidates = [
        storage.join("message").join(session_id).join(&name),
        storage
            .join("session")
            .join("message")
            .join(session_id)
            .join(&name),
    ];
    for c in candidates {
        if let Ok(text) = std::fs::read_to_string(&c) {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                return records::MessageInfo::of(&v);
            }
        }
    }
    records::MessageInfo::default()
}

/// One file of the JSON tree: one record, read whole.
fn read_json(path: &Path) -> Result<Snapshot, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let mut snapshot = Snapshot {
        complete: true,
        ..Snapshot::default()
    };
    let Some(table) = classify(&v) else {
        return Ok(snapshot); // not a session, message or part (kept nowhere)
    };
    let session_key = if table == "session" {
        "id"
    } else {
        "sessionID"
    };
    let Some(session_id) = v
        .get(session_key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Ok(snapshot);
    };
    let mut events = vec![ParsedEvent::Raw(RawRecord {
        offset: 0,
        kind: records::raw_kind(table, &v),
        text: text.clone(),
    })];
    match table {
        "session" => records::session_events(&v, &mut events),
        "message" => records::message_events(&v, &mut events),
        _ => {
            let msg_id = v.get("messageID").and_then(Value::as_str).unwrap_or("");
            let msg = message_of(path, session_id, msg_id);
            records::part_events(&v, &msg, &mut events);
        }
    }
    snapshot.sessions.push(SessionEvents {
        session_id: session_id.to_string(),
        events,
    });
    Ok(snapshot)
}
