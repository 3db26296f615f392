//! One module per subcommand.

use anyhow::{Context, Result};
use tinyvex_store::Store;

use crate::cli::GlobalArgs;
use crate::paths;

pub mod ingest;
pub mod show;
pub mod status;
pub mod threads;

/// Open (creating if needed) the store named by `--db` / `TINYVEX_DB` / the default.
pub fn open_store(global: &GlobalArgs) -> Result<Store> {
    let path = paths::db_path(global.db.clone())?;
    Store::open(&path).with_context(|| format!("cannot open the store at {}", path.display()))
}
