//! State objects and review assignments.

use agentry_core::{EventType, IssueId, Status, Timestamp};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use super::rows::{AsText, text};
use super::{find_issue, writes};
use crate::StoreError;
use crate::operator::{ReviewAssignment, StateEntry, check_reviewer};

fn state_row(row: &Row) -> rusqlite::Result<StateEntry> {
    let raw: String = row.get(1)?;
    Ok(StateEntry {
        key: row.get(0)?,
        value: serde_json::from_str(&raw).unwrap_or(Value::String(raw)),
        updated_at: text(row, 2)?,
    })
}

pub(super) fn state(conn: &Connection, key: &str) -> Result<Option<StateEntry>, StoreError> {
    let entry = conn
        .prepare_cached("SELECT key, value, updated_at FROM state WHERE key = ?1")?
        .query_row([key], state_row)
        .optional()?;
    Ok(entry)
}

pub(super) fn states(conn: &Connection, prefix: &str) -> Result<Vec<StateEntry>, StoreError> {
    // `substr` rather than LIKE: a prefix may hold `%` or `_`.
    let mut stmt = conn.prepare_cached(
        "SELECT key, value, updated_at FROM state
         WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
    )?;
    let entries = stmt
        .query_map([prefix], state_row)?
        .collect::<Result<_, _>>()?;
    Ok(entries)
}

pub(super) fn put_state(
    conn: &Connection,
    key: &str,
    value: &Value,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO state (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )?
    .execute(params![key, value.to_string(), AsText(now)])?;
    Ok(())
}

pub(super) fn delete_state(conn: &Connection, key: &str) -> Result<bool, StoreError> {
    let deleted = conn
        .prepare_cached("DELETE FROM state WHERE key = ?1")?
        .execute([key])?;
    Ok(deleted > 0)
}

pub(super) fn assign_review(
    tx: &Connection,
    id: &IssueId,
    reviewer: &str,
    now: Timestamp,
) -> Result<ReviewAssignment, StoreError> {
    check_reviewer(reviewer).map_err(StoreError::Invalid)?;
    let issue = find_issue(tx, id)?;
    if !matches!(issue.status, Status::NeedsReview | Status::Blocked) {
        return Err(StoreError::NotReviewable {
            id: id.clone(),
            status: issue.status,
        });
    }
    tx.prepare_cached(
        "INSERT INTO review_assignments (issue_id, reviewer, assigned_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (issue_id) DO UPDATE
         SET reviewer = excluded.reviewer, assigned_at = excluded.assigned_at",
    )?
    .execute(params![AsText(id), reviewer, AsText(now)])?;
    let event = agentry_core::event::NewEvent {
        issue_id: id.clone(),
        session_id: None,
        event_type: EventType::ReviewAssigned,
        data: json!({ "reviewer": reviewer }),
    };
    writes::append_event(tx, &event, now)?;
    Ok(ReviewAssignment {
        issue_id: id.clone(),
        reviewer: reviewer.to_string(),
        assigned_at: now,
    })
}

pub(super) fn review_assignment(
    conn: &Connection,
    id: &IssueId,
) -> Result<Option<ReviewAssignment>, StoreError> {
    let assignment = conn
        .prepare_cached(
            "SELECT issue_id, reviewer, assigned_at FROM review_assignments WHERE issue_id = ?1",
        )?
        .query_row([AsText(id)], assignment_row)
        .optional()?;
    Ok(assignment)
}

fn assignment_row(row: &Row) -> rusqlite::Result<ReviewAssignment> {
    Ok(ReviewAssignment {
        issue_id: text(row, 0)?,
        reviewer: row.get(1)?,
        assigned_at: text(row, 2)?,
    })
}

pub(super) fn review_assignments(conn: &Connection) -> Result<Vec<ReviewAssignment>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT issue_id, reviewer, assigned_at FROM review_assignments
         ORDER BY assigned_at DESC, issue_id",
    )?;
    let rows = stmt
        .query_map([], assignment_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
