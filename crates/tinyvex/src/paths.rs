//! Where things live. Precedence: flag > `TINYVEX_*` env (both through clap) > default.

use std::path::PathBuf;

use anyhow::{Context, Result};

/// The default store path: `~/.openagents/tinyvex/data.sqlite3`.
pub fn default_db() -> Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("HOME is not set; pass --db PATH or set TINYVEX_DB")?;
    Ok(PathBuf::from(home).join(".openagents/tinyvex/data.sqlite3"))
}

/// The store path from the flag/env value or the default.
pub fn db_path(flag: Option<PathBuf>) -> Result<PathBuf> {
    match flag {
        Some(p) => Ok(p),
        None => default_db(),
    }
}

/// `$<var>` when set and not empty, else `~/<dot_dir>`.
fn agent_root(var: &str, dot_dir: &str) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .with_context(|| format!("neither {var} nor HOME is set; pass --out DIR"))?;
    Ok(PathBuf::from(home).join(dot_dir))
}

/// Codex's home: `$CODEX_HOME`, default `~/.codex`.
pub fn codex_home() -> Result<PathBuf> {
    agent_root("CODEX_HOME", ".codex")
}

/// Claude Code's config folder: `$CLAUDE_CONFIG_DIR`, default `~/.claude`.
pub fn claude_config_dir() -> Result<PathBuf> {
    agent_root("CLAUDE_CONFIG_DIR", ".claude")
}
