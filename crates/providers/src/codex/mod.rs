//! Codex CLI: rollout files under `$CODEX_HOME/sessions/YYYY/MM/DD/`.
//!
//! The rules that turn records into items are written down in
//! `docs/providers/codex.md`; [`rollout`] implements them.

use std::path::{Path, PathBuf};

use tinyvex_model::ProviderKind;

use crate::walk::discover_files;
use crate::{Discovered, Error, LineParser, Provider, SourceEnv};

mod exec_json;
mod records;
mod rollout;
mod tools;

pub use exec_json::CodexExecParser;
pub use rollout::RolloutParser;

/// The Codex provider, configured with the directories it scans.
#[derive(Clone, Debug)]
pub struct CodexProvider {
    roots: Vec<PathBuf>,
}

impl CodexProvider {
    /// Roots from the environment: `$CODEX_HOME/sessions` and
    /// `$CODEX_HOME/archived_sessions` (`CODEX_HOME` defaults to
    /// `~/.codex`), plus `$CODEXD_HISTORY_DIR` when set.
    pub fn from_env(env: &SourceEnv) -> CodexProvider {
        let home = env.codex_home();
        let mut roots = vec![home.join("sessions"), home.join("archived_sessions")];
        if let Some(extra) = env.path_var("CODEXD_HISTORY_DIR") {
            if !roots.contains(&extra) {
                roots.push(extra);
            }
        }
        CodexProvider { roots }
    }

    /// A provider scanning exactly these roots.
    pub fn with_roots(roots: Vec<PathBuf>) -> CodexProvider {
        CodexProvider { roots }
    }
}

/// True for `rollout-….jsonl` names.
fn is_rollout_name(name: &str) -> bool {
    name.starts_with("rollout-") && name.ends_with(".jsonl")
}

impl Provider for CodexProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Codex
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.roots.clone()
    }

    fn discover(&self) -> Vec<Discovered> {
        let rollout = |e: &walkdir::DirEntry| is_rollout_name(&e.file_name().to_string_lossy());
        self.roots
            .iter()
            .flat_map(|root| discover_files(root, usize::MAX, "rollout file", rollout))
            .collect()
    }

    fn line_parser(&self, path: &Path, state: Option<&str>) -> Result<Box<dyn LineParser>, Error> {
        Ok(Box::new(RolloutParser::resume(path, state)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovers_rollouts_and_flags_directories() {
        let dir = tempfile::tempdir().unwrap();
        let day = dir.path().join("sessions/2026/01/02");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(day.join("rollout-a.jsonl"), "").unwrap();
        std::fs::write(day.join("notes.txt"), "").unwrap();
        std::fs::create_dir(day.join("rollout-dir.jsonl")).unwrap();
        let env = SourceEnv {
            home: dir.path().join("nohome"),
            vars: [("CODEX_HOME".to_string(), dir.path().as_os_str().to_owned())].into(),
        };
        let found = CodexProvider::from_env(&env).discover();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].path, day.join("rollout-a.jsonl"));
        assert!(found[0].problem.is_none());
        assert!(found[1].problem.as_deref().unwrap().contains("directory"));
    }
}
