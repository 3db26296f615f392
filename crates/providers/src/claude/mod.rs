//! Claude Code: project transcripts under `$CLAUDE_CONFIG_DIR/projects/`
//! (`CLAUDE_CONFIG_DIR` defaults to `~/.claude`).
//!
//! The rules that turn records into items are written down in
//! `docs/providers/claude.md`; [`parser`] implements them.

use std::path::{Path, PathBuf};

use tinyvex_model::ProviderKind;

use crate::walk::{discover_files, has_extension};
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
        let transcript = |e: &walkdir::DirEntry| has_extension(e, &[".jsonl"]);
        self.roots
            .iter()
            .flat_map(|root| discover_files(root, usize::MAX, "transcript file", transcript))
            .collect()
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
