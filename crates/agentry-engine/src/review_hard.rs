//! `review-hard`: a mark that makes an issue's next review strict. Under it, a spec or quality
//! review counts as passed only when it lists no failed items, and verification runs again in
//! a fresh worktree of the issue's branch before the review gate. The mark is used up when
//! that strict review completes, whichever way it ends.

use agentry_core::{EventType, IssueId, Status, Timestamp};
use agentry_store::operator::StateEntry;
use agentry_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// The state key of an issue's mark is this prefix and the issue id.
pub const KEY_PREFIX: &str = "review_hard:";

/// A request for a strict review, as kept in the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewHardMark {
    pub issue_id: IssueId,
    pub requested_at: Timestamp,
    /// When a strict review completed and used the mark; `None` while it waits for one.
    pub consumed_at: Option<Timestamp>,
    /// The session whose review used it.
    pub consumed_by: Option<String>,
}

/// What a request did: the mark, and the issue's status (its next session runs once it is
/// back in the queue).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewHardRequested {
    #[serde(flatten)]
    pub mark: ReviewHardMark,
    pub status: Status,
}

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReviewHardError {
    #[error("{0} is closed: it has no next review to make strict")]
    Closed(IssueId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The state key of `id`'s mark.
pub fn mark_key(id: &IssueId) -> String {
    format!("{KEY_PREFIX}{id}")
}

/// Marks `id` for a strict next review and appends `REVIEW_HARD_REQUESTED`. Asking again while
/// a mark waits renews it.
pub fn request_review_hard(
    store: &dyn Store,
    id: &IssueId,
    now: Timestamp,
) -> Result<ReviewHardRequested, ReviewHardError> {
    let issue = store.issue(id)?;
    if issue.status == Status::Closed {
        return Err(ReviewHardError::Closed(id.clone()));
    }
    let mark = ReviewHardMark {
        issue_id: id.clone(),
        requested_at: now,
        consumed_at: None,
        consumed_by: None,
    };
    let value = serde_json::to_value(&mark).expect("a mark serialises");
    store.put_state(&mark_key(id), &value, now)?;
    store.append_event(id, EventType::ReviewHardRequested, &value, now)?;
    Ok(ReviewHardRequested {
        mark,
        status: issue.status,
    })
}

/// The mark waiting for `id`'s next review, if there is one.
pub fn pending_mark(store: &dyn Store, id: &IssueId) -> Result<Option<ReviewHardMark>, StoreError> {
    Ok(store.state(&mark_key(id))?.and_then(waiting_mark))
}

/// The mark a state object holds, if it still waits for a review.
pub fn waiting_mark(entry: StateEntry) -> Option<ReviewHardMark> {
    let mark = serde_json::from_value::<ReviewHardMark>(entry.value).ok();
    mark.filter(|mark| mark.consumed_at.is_none())
}

/// Records that `session` used `mark`, unless the mark was renewed since the session read it:
/// a request made during a session is for the next one.
pub fn consume_mark(
    store: &dyn Store,
    mark: &ReviewHardMark,
    session: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let current = pending_mark(store, &mark.issue_id)?;
    if current.is_none_or(|current| current.requested_at != mark.requested_at) {
        return Ok(());
    }
    let used = ReviewHardMark {
        consumed_at: Some(now),
        consumed_by: Some(session.to_string()),
        ..mark.clone()
    };
    let value = serde_json::to_value(&used).expect("a mark serialises");
    store.put_state(&mark_key(&mark.issue_id), &value, now)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use agentry_core::NewIssue;
    use agentry_store::SqliteStore;

    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix_micros(secs * 1_000_000)
    }

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store =
            SqliteStore::open(&dir.path().join("store.db"), Duration::from_secs(5)).unwrap();
        (dir, store)
    }

    #[test]
    fn a_mark_waits_until_a_session_uses_it_and_notes_the_request() {
        let (_dir, store) = store();
        let id = store.create_issue(NewIssue::new("x"), at(1)).unwrap().id;
        let requested = request_review_hard(&store, &id, at(2)).unwrap();
        assert_eq!(requested.status, Status::Open);
        let mark = pending_mark(&store, &id).unwrap().expect("a pending mark");
        assert_eq!(mark.requested_at, at(2));
        let events = store.events(&id).unwrap();
        assert_eq!(
            events.last().unwrap().event_type,
            EventType::ReviewHardRequested
        );

        consume_mark(&store, &mark, "s-1", at(3)).unwrap();
        assert_eq!(pending_mark(&store, &id).unwrap(), None);
    }

    #[test]
    fn a_request_made_during_a_session_is_kept_for_the_next_one() {
        let (_dir, store) = store();
        let id = store.create_issue(NewIssue::new("x"), at(1)).unwrap().id;
        let seen = request_review_hard(&store, &id, at(2)).unwrap().mark;
        request_review_hard(&store, &id, at(3)).unwrap();
        consume_mark(&store, &seen, "s-1", at(4)).unwrap();
        let pending = pending_mark(&store, &id).unwrap().expect("the newer mark");
        assert_eq!(pending.requested_at, at(3));
    }

    #[test]
    fn a_closed_or_unknown_issue_is_refused() {
        let (_dir, store) = store();
        let unknown: IssueId = "i-zzz".parse().unwrap();
        assert!(matches!(
            request_review_hard(&store, &unknown, at(1)),
            Err(ReviewHardError::Store(StoreError::NotFound(_)))
        ));
        let id = store.create_issue(NewIssue::new("x"), at(1)).unwrap().id;
        store
            .set_status(&id, Status::Closed, "done", at(2))
            .unwrap();
        let err = request_review_hard(&store, &id, at(3)).unwrap_err();
        assert!(err.to_string().contains("is closed"), "{err}");
        assert_eq!(pending_mark(&store, &id).unwrap(), None);
    }
}
