//! Consistent copies of the database, taken and put back while agentry may be running.

use std::path::Path;

use rusqlite::{Connection, MAIN_DB, OpenFlags};

use super::{SqliteStore, migrations};
use crate::StoreError;

impl SqliteStore {
    /// Writes a consistent copy of the database to `path`, which must not exist yet. Writers
    /// may go on meanwhile: the copy is one read transaction.
    pub fn backup_to(&self, path: &Path) -> Result<(), StoreError> {
        if path.exists() {
            return Err(StoreError::Invalid(format!(
                "{} already exists: a backup never overwrites a file",
                path.display()
            )));
        }
        let target = path.to_str().ok_or_else(|| {
            StoreError::Invalid(format!("{} is not a UTF-8 path", path.display()))
        })?;
        self.conn().execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }

    /// Replaces the whole database with the copy at `path` in one step, then brings its schema
    /// up to date. A file that is not an agentry store is refused and nothing changes.
    pub fn restore_from(&self, path: &Path) -> Result<(), StoreError> {
        Self::check_backup(path)?;
        let mut conn = self.writer()?;
        conn.restore(MAIN_DB, path, None::<fn(rusqlite::backup::Progress)>)?;
        migrations::migrate(&mut conn, &path.display().to_string())
    }

    /// Refuses a file that SQLite cannot read or that holds no agentry issues table.
    pub fn check_backup(path: &Path) -> Result<(), StoreError> {
        let not_a_store = |why: String| {
            StoreError::Invalid(format!("{} is not an agentry store: {why}", path.display()))
        };
        if !path.is_file() {
            return Err(not_a_store("no such file".into()));
        }
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| not_a_store(e.to_string()))?;
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'issues'",
                [],
                |row| row.get(0),
            )
            .map_err(|e| not_a_store(e.to_string()))?;
        if tables == 0 {
            return Err(not_a_store("it has no issues table".into()));
        }
        Ok(())
    }
}
