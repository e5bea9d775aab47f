//! Merge evidence and the close it leads to.

use agentry_core::event::NewEvent;
use agentry_core::merge::{MergeDecision, decide_merge_close};
use agentry_core::session::is_fix_issue;
use agentry_core::{EventType, Issue, IssueId, Status, Timestamp};
use rusqlite::{Connection, params};
use serde_json::{Value, json};

use super::find_issue;
use super::rows::{AsText, text};
use super::writes::{append_event, set_status};
use crate::StoreError;
use crate::session::MergeResult;

fn event(id: &IssueId, event_type: EventType, data: Value) -> NewEvent {
    NewEvent {
        issue_id: id.clone(),
        session_id: None,
        event_type,
        data,
    }
}

pub(super) fn record(
    tx: &Connection,
    id: &IssueId,
    replay_key: &str,
    evidence: &Value,
    now: Timestamp,
) -> Result<MergeResult, StoreError> {
    let issue = find_issue(tx, id)?;
    if evidence_seen(tx, id, replay_key)? {
        return Ok(MergeResult::AlreadyRecorded);
    }
    let data = json!({ "replay_key": replay_key, "evidence": evidence });
    append_event(tx, &event(id, EventType::MergeEvidenceRecorded, data), now)?;
    let decision = decide_merge_close(
        issue.status,
        last_event(tx, id, "SESSION_DONE")?,
        last_reopen(tx, id)?,
    );
    match decision {
        MergeDecision::Apply => {
            set_status(tx, id, Status::Closed, "merged", now)?;
            append_event(
                tx,
                &event(
                    id,
                    EventType::MergeCloseApplied,
                    json!({ "replay_key": replay_key }),
                ),
                now,
            )?;
            let parents_closed = close_parents_of_fix(tx, &issue, now)?;
            Ok(MergeResult::Closed { parents_closed })
        }
        MergeDecision::AlreadyClosed => {
            append_event(
                tx,
                &event(id, EventType::MergeCloseSkippedAlreadyClosed, json!({})),
                now,
            )?;
            Ok(MergeResult::SkippedAlreadyClosed)
        }
        MergeDecision::Reject(reason) => {
            append_event(
                tx,
                &event(
                    id,
                    EventType::MergeCloseRejected,
                    json!({ "reason": reason }),
                ),
                now,
            )?;
            Ok(MergeResult::Rejected { reason })
        }
    }
}

fn evidence_seen(conn: &Connection, id: &IssueId, replay_key: &str) -> Result<bool, StoreError> {
    let seen = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM events WHERE issue_id = ?1 AND event_type = 'MERGE_EVIDENCE_RECORDED'
                            AND json_extract(data, '$.replay_key') = ?2)",
        )?
        .query_row(params![AsText(id), replay_key], |row| row.get(0))?;
    Ok(seen)
}

fn last_event(
    conn: &Connection,
    id: &IssueId,
    event_type: &str,
) -> Result<Option<i64>, StoreError> {
    let last = conn
        .prepare_cached("SELECT MAX(id) FROM events WHERE issue_id = ?1 AND event_type = ?2")?
        .query_row(params![AsText(id), event_type], |row| row.get(0))?;
    Ok(last)
}

fn last_reopen(conn: &Connection, id: &IssueId) -> Result<Option<i64>, StoreError> {
    let last = conn
        .prepare_cached(
            "SELECT MAX(id) FROM events WHERE issue_id = ?1 AND event_type = 'STATUS_CHANGED'
             AND json_extract(data, '$.to') = 'open'",
        )?
        .query_row([AsText(id)], |row| row.get(0))?;
    Ok(last)
}

/// Closing a `[FIX]` issue closes the issues that overflowed into it and wait in review.
fn close_parents_of_fix(
    tx: &Connection,
    fix: &Issue,
    now: Timestamp,
) -> Result<Vec<IssueId>, StoreError> {
    if !is_fix_issue(fix) {
        return Ok(Vec::new());
    }
    let mut stmt = tx.prepare_cached(
        "SELECT l.src FROM links AS l JOIN issues AS i ON i.id = l.src
         WHERE l.dst = ?1 AND l.kind = 'depends-on' AND i.status = 'needs_review' ORDER BY l.src",
    )?;
    let parents: Vec<IssueId> = stmt
        .query_map([AsText(&fix.id)], |row| text(row, 0))?
        .collect::<Result<_, _>>()?;
    for parent in &parents {
        set_status(
            tx,
            parent,
            Status::Closed,
            &format!("its [FIX] issue {} was merged", fix.id),
            now,
        )?;
        let data = json!({ "fix_issue": fix.id });
        append_event(
            tx,
            &event(parent, EventType::OverflowParentClosedByFix, data),
            now,
        )?;
    }
    Ok(parents)
}
