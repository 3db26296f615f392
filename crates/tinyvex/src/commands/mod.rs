//! One module per subcommand.

use anyhow::{Context, Result};
use tinyvex_store::{Store, StoreOptions};

use crate::cli::GlobalArgs;
use crate::paths;

pub mod export;
pub mod ingest;
pub mod search;
pub mod serve;
pub mod show;
pub mod status;
pub mod threads;
pub mod token;
pub mod two_way;

/// Open (creating if needed) the store named by `--db` / `TINYVEX_DB` / the default.
pub fn open_store(global: &GlobalArgs) -> Result<Store> {
    open_store_with(global, StoreOptions::default())
}

/// [`open_store`] with options.
pub fn open_store_with(global: &GlobalArgs, options: StoreOptions) -> Result<Store> {
    let path = paths::db_path(global.db.clone())?;
    Store::open_with(&path, options)
        .with_context(|| format!("cannot open the store at {}", path.display()))
}

/// The folder holding the store (and the token beside it).
pub fn data_dir(global: &GlobalArgs) -> Result<std::path::PathBuf> {
    let path = paths::db_path(global.db.clone())?;
    Ok(path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(
            || std::path::PathBuf::from("."),
            std::path::Path::to_path_buf,
        ))
}
