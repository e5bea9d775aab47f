//! An agentry project: the repository root, its `.agentry/` folder, the config and the store.

use std::path::{Path, PathBuf};
use std::time::Duration;

use agentry_core::config::{self, Config};
use agentry_store::{SqliteStore, StoreError};
use anyhow::{Context, Result};

use crate::error::usage;
use crate::git;

pub const CONFIG_FILE: &str = ".agentry/config.toml";
pub const PROMPTS_DIR: &str = ".agentry/prompts";

pub struct Project {
    pub root: PathBuf,
    pub config: Config,
}

impl Project {
    /// Finds the project that `dir` belongs to and loads its config with the environment.
    pub fn find(dir: &Path) -> Result<Self> {
        let root = git::main_worktree_root(dir)?;
        let config_path = root.join(CONFIG_FILE);
        if !config_path.is_file() {
            return Err(usage(format!(
                "agentry is not set up in {} (no {CONFIG_FILE}): run `agentry init`",
                root.display()
            )));
        }
        let text = std::fs::read_to_string(&config_path)
            .with_context(|| format!("could not read {}", config_path.display()))?;
        let config = config::load(&text, std::env::vars())?;
        Ok(Self { root, config })
    }

    /// The project `dir` belongs to, or None when it is in none (not in a git repository, or
    /// agentry is not set up there).
    pub fn find_if_any(dir: &Path) -> Result<Option<Self>> {
        let Ok(root) = git::main_worktree_root(dir) else {
            return Ok(None);
        };
        if !root.join(CONFIG_FILE).is_file() {
            return Ok(None);
        }
        Self::find(dir).map(Some)
    }

    /// The project's store, which must exist: one that is gone is refused, never made again
    /// silently (`agentry init` makes it on purpose).
    pub fn open_store(&self) -> Result<SqliteStore> {
        open_store(&self.root, &self.config)
    }
}

pub fn store_path(root: &Path, config: &Config) -> PathBuf {
    root.join(&config.store.path)
}

/// Opens the store, which must exist (see [`Project::open_store`]).
pub fn open_store(root: &Path, config: &Config) -> Result<SqliteStore> {
    let path = store_path(root, config);
    match SqliteStore::open_existing(&path, busy_timeout(config)) {
        // Its message names the file and what to do.
        Err(missing @ StoreError::Missing { .. }) => Err(missing.into()),
        opened => naming(&path, opened),
    }
}

/// Opens the store, making it when there is none: for the commands that make one on purpose.
pub fn create_store(root: &Path, config: &Config) -> Result<SqliteStore> {
    let path = store_path(root, config);
    naming(&path, SqliteStore::open(&path, busy_timeout(config)))
}

fn busy_timeout(config: &Config) -> Duration {
    Duration::from_millis(config.store.busy_timeout_ms)
}

fn naming(path: &Path, opened: Result<SqliteStore, StoreError>) -> Result<SqliteStore> {
    opened.with_context(|| format!("could not open the store {}", path.display()))
}
