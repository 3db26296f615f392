//! Gemini CLI: chat files under `$GEMINI_CLI_HOME/.gemini/tmp/<project>/chats/`
//! (`GEMINI_CLI_HOME` defaults to the home directory).
//!
//! Chats are whole JSON documents (`session-*.json`, ≤ 0.38, rewritten in
//! place) or JSONL logs (`*.jsonl`, ≥ 0.39) whose lines add, replace and
//! rewind messages. Both are read as [`SourceMode::Snapshot`]: the whole file
//! is replayed into its final message list whenever it changes. The rules
//! are written down in `docs/providers/gemini.md`; [`chat`] implements them.

use std::path::{Path, PathBuf};

use crate::walk::discover_files;
use tinyvex_model::{LineError, ParsedEvent, ProviderKind};

use crate::{
    Discovered, Error, LineParser, Provider, SessionEvents, Snapshot, SourceEnv, SourceMode,
};

mod chat;

pub use chat::{read_chat, Chat};

/// The Gemini CLI provider, configured with the `tmp` directories it scans.
#[derive(Clone, Debug)]
pub struct GeminiProvider {
    roots: Vec<PathBuf>,
}

impl GeminiProvider {
    /// Root from the environment: `$GEMINI_CLI_HOME/.gemini/tmp`
    /// (`GEMINI_CLI_HOME` defaults to `$HOME`, as in Gemini CLI's `homedir()`).
    pub fn from_env(env: &SourceEnv) -> GeminiProvider {
        let home = env
            .path_var("GEMINI_CLI_HOME")
            .unwrap_or_else(|| env.home.clone());
        GeminiProvider {
            roots: vec![home.join(".gemini").join("tmp")],
        }
    }

    /// A provider scanning exactly these `tmp` roots.
    pub fn with_roots(roots: Vec<PathBuf>) -> GeminiProvider {
        GeminiProvider { roots }
    }
}

/// True for a chat file name: `*.json` or `*.jsonl`, not hidden.
fn is_chat_name(name: &str) -> bool {
    !name.starts_with('.') && (name.ends_with(".json") || name.ends_with(".jsonl"))
}

impl Provider for GeminiProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Gemini
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.roots.clone()
    }

    fn discover(&self) -> Vec<Discovered> {
        let mut found = Vec::new();
        for root in &self.roots {
            // <root>/<project>/chats/<file> and sub-agent chats
            // <root>/<project>/chats/<parent session>/<file>.
            let chat = |e: &walkdir::DirEntry| {
                let in_chats = e
                    .path()
                    .strip_prefix(root)
                    .ok()
                    .and_then(|rel| rel.components().nth(1))
                    .is_some_and(|c| c.as_os_str() == "chats");
                e.depth() >= 3 && in_chats && is_chat_name(&e.file_name().to_string_lossy())
            };
            found.extend(discover_files(root, 4, "chat file", chat));
        }
        found
    }

    fn mode(&self, _path: &Path) -> SourceMode {
        SourceMode::Snapshot
    }

    fn line_parser(&self, path: &Path, _state: Option<&str>) -> Result<Box<dyn LineParser>, Error> {
        // Never called for snapshot sources; a parser that refuses every line
        // keeps a misrouted file visible instead of panicking.
        Ok(Box::new(NoLines(path.display().to_string())))
    }

    fn read_snapshot(&self, path: &Path, _state: Option<&str>) -> Result<Snapshot, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
        let jsonl = path.extension().is_some_and(|e| e == "jsonl");
        let chat = read_chat(&bytes, jsonl)?;
        let Some(session_id) = chat.session_id.clone() else {
            if chat.messages.is_empty() {
                // A file being created (or holding no session yet): nothing to say.
                return Ok(Snapshot {
                    sessions: Vec::new(),
                    errors: chat.errors,
                    state: "1".into(),
                    complete: true,
                });
            }
            return Err("chat has messages but no sessionId".to_string());
        };
        let context = FileContext {
            cwd: project_cwd(path),
            parent_session_id: parent_from_path(path).filter(|p| *p != session_id),
        };
        let errors = chat.errors.clone();
        let events = chat::events(chat, &context);
        Ok(Snapshot {
            sessions: vec![SessionEvents { session_id, events }],
            errors,
            state: "1".into(),
            complete: true,
        })
    }
}

/// What a chat's location says about its thread.
#[derive(Clone, Debug, Default)]
pub(crate) struct FileContext {
    /// The project root, from `.project_root` or `projects.json`.
    pub cwd: Option<String>,
    /// Sub-agent chats live in `chats/<parent session id>/`.
    pub parent_session_id: Option<String>,
}

/// The `chats` directory above `path` and the project directory above it.
fn project_dir(path: &Path) -> Option<&Path> {
    let chats = path
        .ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n == "chats"))?;
    chats.parent()
}

/// The project root of a chat: the `.project_root` marker of its project
/// directory (≥ 0.29), else the `projects.json` entry whose slug is the
/// directory's name. Hash directories (≤ 0.28) give none.
pub(crate) fn project_cwd(path: &Path) -> Option<String> {
    let proj = project_dir(path)?;
    if let Ok(text) = std::fs::read_to_string(proj.join(".project_root")) {
        let t = text.trim();
        if !t.is_empty() {
            return Some(t.to_string());
        }
    }
    let slug = proj.file_name()?.to_str()?;
    let gemini_dir = proj.parent()?.parent()?;
    let text = std::fs::read_to_string(gemini_dir.join("projects.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let projects = v.get("projects")?.as_object()?;
    let mut hits: Vec<&String> = projects
        .iter()
        .filter(|(_, s)| s.as_str() == Some(slug))
        .map(|(p, _)| p)
        .collect();
    hits.sort();
    hits.first().map(|p| p.to_string())
}

/// `chats/<parent>/<file>` → `<parent>`.
fn parent_from_path(path: &Path) -> Option<String> {
    let dir = path.parent()?;
    let up = dir.parent()?;
    if up.file_name().is_some_and(|n| n == "chats") {
        dir.file_name().map(|n| n.to_string_lossy().into_owned())
    } else {
        None
    }
}

/// The parser handed out for a snapshot source if ever asked for one.
struct NoLines(String);

impl LineParser for NoLines {
    fn session_id(&self) -> Option<&str> {
        None
    }

    fn parse_line(
        &mut self,
        offset: u64,
        _line: &[u8],
        _out: &mut Vec<ParsedEvent>,
    ) -> Result<(), LineError> {
        Err(LineError {
            offset,
            message: format!("{}: Gemini chats are read whole, not by line", self.0),
        })
    }

    fn save_state(&self) -> String {
        String::new()
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
