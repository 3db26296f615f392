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
