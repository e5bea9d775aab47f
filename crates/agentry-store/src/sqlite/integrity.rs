//! The integrity check `agentry doctor` runs.

use super::SqliteStore;
use crate::StoreError;

/// The most problems one check lists: enough to see what is wrong, on one line of `doctor`.
const MAX_PROBLEMS: u32 = 5;

impl SqliteStore {
    /// What SQLite's quick check finds wrong with the database, at most [`MAX_PROBLEMS`];
    /// nothing when it is sound. The quick check reads every page and record once; it leaves
    /// out whether each index holds exactly its table's rows, which costs far more.
    pub fn integrity_problems(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare(&format!("PRAGMA quick_check({MAX_PROBLEMS})"))?;
        let found: Vec<String> = stmt
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(match found.as_slice() {
            [ok] if ok == "ok" => Vec::new(),
            _ => found,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use agentry_core::{NewIssue, Timestamp};

    use crate::{SqliteStore, Store};

    #[test]
    fn a_sound_store_has_no_problems() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db"), Duration::from_secs(5)).unwrap();
        store
            .create_issue(NewIssue::new("a"), Timestamp::now())
            .unwrap();
        assert_eq!(store.integrity_problems().unwrap(), Vec::<String>::new());
    }
}
