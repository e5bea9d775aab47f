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
