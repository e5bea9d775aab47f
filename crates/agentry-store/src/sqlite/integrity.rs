//! The integrity check `agentry doctor` runs.

use super::SqliteStore;
use crate::StoreError;

/// The most problems one check lists.
const MAX_PROBLEMS: u32 = 20;

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

    use crate::{SqliteStore, Store, StoreError};

    #[test]
    fn a_sound_store_has_no_problems_and_a_deleted_one_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = SqliteStore::open(&path, Duration::from_secs(5)).unwrap();
        store
            .create_issue(NewIssue::new("a"), Timestamp::now())
            .unwrap();
        assert_eq!(store.integrity_problems().unwrap(), Vec::<String>::new());
        assert!(store.check_file().is_ok());

        std::fs::remove_file(&path).unwrap();
        let err = store
            .create_issue(NewIssue::new("b"), Timestamp::now())
            .unwrap_err();
        assert!(matches!(err, StoreError::Gone { .. }), "{err}");
        assert!(matches!(store.check_file(), Err(StoreError::Gone { .. })));
        // A new file at the path is another store: still nothing is written.
        SqliteStore::open(&path, Duration::from_secs(5)).unwrap();
        assert!(matches!(
            store.put_state("k", &serde_json::json!(1), Timestamp::now()),
            Err(StoreError::Gone { .. })
        ));
    }

    #[test]
    fn a_missing_store_is_not_made_by_open_existing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let err = SqliteStore::open_existing(&path, Duration::from_secs(5))
            .err()
            .unwrap();
        assert!(matches!(err, StoreError::Missing { .. }), "{err}");
        assert!(!path.exists());
    }
}
