//! Connections that only read. In WAL mode reads wait neither for each other nor for a
//! write, so the store keeps a few beside its one writing connection, and callers that read
//! at once (an HTTP API under load) do not queue behind a single lock.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::StoreError;

/// How many: more than the reads a small machine runs at once.
const READERS: usize = 4;

#[derive(Default)]
pub(super) struct Readers {
    conns: Vec<Mutex<Connection>>,
    /// Which one a read waits for when none is free.
    next: AtomicUsize,
}

impl Readers {
    /// Readers of the database at `path`, whose schema is up to date.
    pub(super) fn open(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        let conns = (0..READERS)
            .map(|_| {
                let flags = OpenFlags::default().difference(OpenFlags::SQLITE_OPEN_CREATE);
                let conn = Connection::open_with_flags(path, flags)?;
                conn.busy_timeout(busy_timeout)?;
                conn.pragma_update(None, "query_only", true)?;
                super::stable_plans(&conn)?;
                Ok(Mutex::new(conn))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Self {
            conns,
            next: AtomicUsize::new(0),
        })
    }

    /// A free reader, else the next in turn once it is free; `None` when there are none (a
    /// store in memory, which one connection holds).
    pub(super) fn get(&self) -> Option<MutexGuard<'_, Connection>> {
        if self.conns.is_empty() {
            return None;
        }
        let free = self.conns.iter().find_map(|conn| match conn.try_lock() {
            Ok(conn) => Some(conn),
            Err(TryLockError::Poisoned(poisoned)) => Some(super::unpoisoned(poisoned)),
            Err(TryLockError::WouldBlock) => None,
        });
        Some(free.unwrap_or_else(|| {
            let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
            self.conns[turn].lock().unwrap_or_else(super::unpoisoned)
        }))
    }
}
