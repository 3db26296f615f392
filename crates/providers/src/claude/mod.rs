//! Claude Code: project transcripts under `$CLAUDE_CONFIG_DIR/projects/`
//! (`CLAUDE_CONFIG_DIR` defaults to `~/.claude`).
//!
//! The rules that turn records into items are written down in
//! `docs/providers/claude.md`; [`parser`] implements them.

use std::path::{Path, PathBuf};

use tinyvex_model::ProviderKind;
use walkdir::WalkDir;

use crate::{Discovered, Error, LineParser, Provider, SourceEnv};

mod parser;

pub use parser::ClaudeParser;

/// The Claude Code provider, configured with the directories it scans.
#[derive(Clone, Debug)]
pub struct ClaudeProvider {
    roots: Vec<PathBuf>,
}

impl ClaudeProvider {
    /// Root from the environment: `$CLAUDE_CONFIG_DIR/projects`
    /// (`CLAUDE_CONFIG_DIR` defaults to `~/.claude`).
    pub fn from_env(env: &SourceEnv) -> ClaudeProvider {
        let home = env
            .path_var("CLAUDE_CONFIG_DIR")
            .unwrap_or_else(|| env.home.join(".claude"));
        ClaudeProvider {
            roots: vec![home.join("projects")],
        }
    }

    /// A provider scanning exactly these roots.
    pub fn with_roots(roots: Vec<PathBuf>) -> ClaudeProvider {
        ClaudeProvider { roots }
    }
}

impl Provider for ClaudeProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Claude
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
            // Sorted so that ingest order, and so revisions, are reproducible.
            for entry in WalkDir::new(root).sort_by_file_name() {
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
                if entry.depth() == 0 {
                    continue;
                }
                let name = entry.file_name().to_string_lossy();
                if !name.ends_with(".jsonl") || name.starts_with('.') {
                    continue;
                }
                let ft = entry.file_type();
                let problem = if ft.is_file() {
                    None
                } else if ft.is_dir() {
                    Some("is a directory, not a transcript file".to_string())
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
        }
        found
    }

    fn line_parser(&self, path: &Path, state: Option<&str>) -> Result<Box<dyn LineParser>, Error> {
        Ok(Box::new(ClaudeParser::resume(path, state)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovers_sessions_and_subagents_recursively() {
        let dir = tempfile::tempdir().unwrap();
        let proj = dir.path().join("cfg/projects/-home-a-x");
        std::fs::create_dir_all(proj.join("s1/subagents")).unwrap();
        std::fs::write(proj.join("s1.jsonl"), "").unwrap();
        std::fs::write(proj.join("agent-1234abcd.jsonl"), "").unwrap();
        std::fs::write(proj.join("s1/subagents/agent-a1.jsonl"), "").unwrap();
        std::fs::write(proj.join("s1/subagents/agent-a1.meta.json"), "{}").unwrap();
        std::fs::write(proj.join("notes.txt"), "").unwrap();
        std::fs::create_dir(proj.join("dir.jsonl")).unwrap();
        let env = SourceEnv {
            home: dir.path().join("nohome"),
            vars: [(
                "CLAUDE_CONFIG_DIR".to_string(),
                dir.path().join("cfg").into_os_string(),
            )]
            .into(),
        };
        let p = ClaudeProvider::from_env(&env);
        assert_eq!(p.roots(), vec![dir.path().join("cfg/projects")]);
        let found = p.discover();
        let names: Vec<_> = found
            .iter()
            .map(|d| {
                (
                    d.path.strip_prefix(&proj).unwrap().to_owned(),
                    d.problem.is_some(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                (PathBuf::from("agent-1234abcd.jsonl"), false),
                (PathBuf::from("dir.jsonl"), true),
                (PathBuf::from("s1/subagents/agent-a1.jsonl"), false),
                (PathBuf::from("s1.jsonl"), false),
            ]
        );
        // Default: $HOME/.claude.
        let env = SourceEnv {
            home: PathBuf::from("/h"),
            vars: Default::default(),
        };
        assert_eq!(
            ClaudeProvider::from_env(&env).roots(),
            vec![PathBuf::from("/h/.claude/projects")]
        );
    }
}
