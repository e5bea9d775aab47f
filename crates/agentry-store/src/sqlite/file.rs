//! The database file a store opened, known by its device and inode. SQLite keeps writing into
//! a file deleted or replaced under it, where no other process will ever read: checked before
//! each write (one `stat`), such a file is noticed and nothing more is written.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::StoreError;

pub(super) struct OpenedFile {
    path: PathBuf,
    identity: (u64, u64),
    /// Once lost, lost for good: a file that appears at the path later is another one.
    lost: AtomicBool,
}

impl OpenedFile {
    /// The file at `path` now.
    pub(super) fn at(path: &Path) -> Result<Self, StoreError> {
        let meta = std::fs::metadata(path)
            .map_err(|e| StoreError::Backend(format!("cannot read {}: {e}", path.display())))?;
        Ok(Self {
            path: path.to_path_buf(),
            identity: (meta.dev(), meta.ino()),
            lost: AtomicBool::new(false),
        })
    }

    /// `Gone` when the path no longer leads to the file opened.
    pub(super) fn check(&self) -> Result<(), StoreError> {
        if !self.lost.load(Ordering::Relaxed) {
            match std::fs::metadata(&self.path) {
                Ok(meta) if (meta.dev(), meta.ino()) == self.identity => return Ok(()),
                Ok(_) => self.lost.store(true, Ordering::Relaxed),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    self.lost.store(true, Ordering::Relaxed)
                }
                Err(e) => {
                    let why = format!("cannot read {}: {e}", self.path.display());
                    return Err(StoreError::Backend(why));
                }
            }
        }
        Err(StoreError::Gone {
            path: self.path.display().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use agentry_core::{NewIssue, Timestamp};

    use crate::{SqliteStore, Store, StoreError};

    fn open(path: &Path) -> SqliteStore {
        SqliteStore::open(path, Duration::from_secs(5)).unwrap()
    }

    #[test]
    fn a_deleted_store_writes_nothing_more_even_once_a_new_file_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = open(&path);
        assert!(store.check_file().is_ok());

        std::fs::remove_file(&path).unwrap();
        let err = store
            .create_issue(NewIssue::new("b"), Timestamp::now())
            .unwrap_err();
        assert!(matches!(err, StoreError::Gone { .. }), "{err}");
        assert!(matches!(store.check_file(), Err(StoreError::Gone { .. })));
        open(&path);
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
