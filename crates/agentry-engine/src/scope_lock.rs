//! Scope locks in the store: `agentry scope-lock` adds and releases them, the dispatcher reads
//! them once per pass. A lock ends by itself when its issue is closed: the next read removes it.

use agentry_core::scope_lock::{KEY_PREFIX, ScopeLock, check_globs};
use agentry_core::{EventType, IssueId, Status, Timestamp};
use agentry_store::{Store, StoreError};
use serde_json::json;

/// Why a lock was not taken or released.
#[derive(Debug, thiserror::Error)]
pub enum ScopeLockError {
    #[error("{0} is closed: there is nothing left to lock paths for")]
    Closed(IssueId),
    #[error("{0} holds no scope lock")]
    NoLock(IssueId),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reserves `globs` for issue `id`, adding them to its lock if it has one; records
/// `SCOPE_LOCKED` on the issue. Returns the lock as it now is.
pub fn lock(
    store: &dyn Store,
    id: &IssueId,
    globs: &[String],
    now: Timestamp,
) -> Result<ScopeLock, ScopeLockError> {
    check_globs(globs).map_err(ScopeLockError::Invalid)?;
    if store.issue(id)?.status == Status::Closed {
        return Err(ScopeLockError::Closed(id.clone()));
    }
    let held = read(store, id)?.unwrap_or_else(|| ScopeLock {
        issue_id: id.clone(),
        globs: Vec::new(),
        locked_at: now,
    });
    let lock = held.with_globs(globs);
    store.put_state(&ScopeLock::key(id), &json!(lock), now)?;
    let data = json!({ "globs": lock.globs, "added": globs });
    store.append_event(id, EventType::ScopeLocked, &data, now)?;
    Ok(lock)
}

/// Releases issue `id`'s lock; records `SCOPE_RELEASED` on the issue.
pub fn release(
    store: &dyn Store,
    id: &IssueId,
    now: Timestamp,
) -> Result<ScopeLock, ScopeLockError> {
    store.issue(id)?;
    let lock = read(store, id)?.ok_or_else(|| ScopeLockError::NoLock(id.clone()))?;
    store.delete_state(&ScopeLock::key(id))?;
    let data = json!({ "globs": lock.globs, "reason": "released" });
    store.append_event(id, EventType::ScopeReleased, &data, now)?;
    Ok(lock)
}

/// The locks held now, by issue id. A lock whose issue is closed has ended: it is removed
/// here (with `SCOPE_RELEASED` on the issue), so that reopening the issue does not bring it
/// back.
pub fn held(store: &dyn Store, now: Timestamp) -> Result<Vec<ScopeLock>, StoreError> {
    let mut locks = Vec::new();
    for entry in store.states(KEY_PREFIX)? {
        let Ok(lock) = serde_json::from_value::<ScopeLock>(entry.value) else {
            tracing::warn!(operation = "scope_lock", key = %entry.key, "an unreadable scope lock is ignored");
            continue;
        };
        match store.issue(&lock.issue_id) {
            Ok(issue) if issue.status == Status::Closed => end(store, &lock, now)?,
            Ok(_) => locks.push(lock),
            Err(StoreError::NotFound(_)) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(locks)
}

fn end(store: &dyn Store, lock: &ScopeLock, now: Timestamp) -> Result<(), StoreError> {
    if store.delete_state(&ScopeLock::key(&lock.issue_id))? {
        let data = json!({ "globs": lock.globs, "reason": "the issue is closed" });
        store.append_event(&lock.issue_id, EventType::ScopeReleased, &data, now)?;
    }
    Ok(())
}

fn read(store: &dyn Store, id: &IssueId) -> Result<Option<ScopeLock>, StoreError> {
    let Some(entry) = store.state(&ScopeLock::key(id))? else {
        return Ok(None);
    };
    serde_json::from_value(entry.value)
        .map(Some)
        .map_err(|e| StoreError::Invalid(format!("the scope lock of {id} is unreadable: {e}")))
}
