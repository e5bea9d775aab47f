//! Claims, leases and fencing tokens; the writes a claimed session makes.

use agentry_core::event::NewEvent;
use agentry_core::scope_lock::{KEY_PREFIX, ScopeLock, ScopeWait, scope_wait};
use agentry_core::{EventType, Issue, IssueId, Link, LinkKind, NewIssue, Status, Timestamp};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use super::rows::{self, AsText, ISSUE_COLUMNS, json_list, text};
use super::runs;
use super::writes::{self, append_event};
use super::{READY_CONDITION, find_issue};
use crate::StoreError;
use crate::session::{Claim, ClaimAttempt, ClaimHolder, SessionEnd, SessionRecord};

const CLAIM_COLUMNS: &str = "c.issue_id, c.token, c.session_id, c.orchestrator_id, c.host, c.pid, c.claimed_at, c.lease_until, i.failed_sessions";

fn claim_row(row: &Row) -> rusqlite::Result<Claim> {
    Ok(Claim {
        issue_id: text(row, 0)?,
        token: row.get(1)?,
        session_id: row.get(2)?,
        orchestrator_id: row.get(3)?,
        host: row.get(4)?,
        pid: row.get(5)?,
        claimed_at: text(row, 6)?,
        lease_until: text(row, 7)?,
        failed_sessions: row.get(8)?,
    })
}

pub(super) fn claim(
    tx: &Connection,
    id: &IssueId,
    holder: &ClaimHolder,
    lease_until: Timestamp,
    now: Timestamp,
) -> Result<ClaimAttempt, StoreError> {
    let Some(issue) = claimable(tx, id, now)? else {
        return Ok(ClaimAttempt::Taken);
    };
    if let Some(wait) = held_back(tx, &issue)? {
        return Ok(ClaimAttempt::WaitsFor(wait));
    }
    tx.prepare_cached(
        "UPDATE issues SET status = 'in_progress', claim_token = claim_token + 1, updated_at = ?1
         WHERE id = ?2",
    )?
    .execute(params![AsText(now), AsText(id)])?;
    tx.prepare_cached(
        "INSERT INTO claims (issue_id, token, session_id, orchestrator_id, host, pid, claimed_at, lease_until)
         SELECT id, claim_token, ?2, ?3, ?4, ?5, ?6, ?7 FROM issues WHERE id = ?1",
    )?
    .execute(params![
        AsText(id),
        holder.session_id,
        holder.orchestrator_id,
        holder.host,
        holder.pid,
        AsText(now),
        AsText(lease_until)
    ])?;
    let reason = format!("claimed by session {}", holder.session_id);
    let data = json!({ "from": Status::Open, "to": Status::InProgress, "reason": reason });
    append_event(
        tx,
        &session_event(id, &holder.session_id, EventType::StatusChanged, data),
        now,
    )?;
    current_claim(tx, id).map(ClaimAttempt::Claimed)
}

/// The issue, if it is ready and nobody holds it.
fn claimable(tx: &Connection, id: &IssueId, now: Timestamp) -> Result<Option<Issue>, StoreError> {
    let sql = format!(
        "SELECT {ISSUE_COLUMNS} FROM issues AS i WHERE i.id = ?2 AND {READY_CONDITION}
           AND NOT EXISTS (SELECT 1 FROM claims AS c WHERE c.issue_id = i.id)"
    );
    let issue = tx
        .prepare_cached(&sql)?
        .query_row(params![AsText(now), AsText(id)], rows::issue)
        .optional()?;
    Ok(issue)
}

/// What holds `issue` back, by core's rule: the scope of an issue claimed now, or a lock of
/// an issue that is not closed (a closed issue's lock has ended, whether or not a dispatcher
/// has removed it yet).
fn held_back(tx: &Connection, issue: &Issue) -> Result<Option<ScopeWait>, StoreError> {
    if issue.scope.is_empty() {
        return Ok(None);
    }
    let mut stmt = tx.prepare_cached(
        "SELECT i.id, i.scope FROM claims AS c JOIN issues AS i ON i.id = c.issue_id ORDER BY c.claimed_at, i.id",
    )?;
    let running: Vec<(IssueId, Vec<String>)> = stmt
        .query_map([], |row| Ok((text(row, 0)?, json_list(row, 1)?)))?
        .collect::<Result<_, _>>()?;
    let mut stmt = tx.prepare_cached(
        "SELECT s.value FROM state AS s JOIN issues AS i ON i.id = substr(s.key, length(?1) + 1)
         WHERE substr(s.key, 1, length(?1)) = ?1 AND i.status <> 'closed' ORDER BY s.key",
    )?;
    // A lock that does not read as one holds nothing back, as in the dispatcher's reading.
    let locks: Vec<ScopeLock> = stmt
        .query_map([KEY_PREFIX], |row| row.get::<_, String>(0))?
        .filter_map(|value| value.map(|v| serde_json::from_str(&v).ok()).transpose())
        .collect::<Result<_, _>>()?;
    let running = running.iter().map(|(id, scope)| (id, scope.as_slice()));
    Ok(scope_wait(issue, running, &locks))
}

fn current_claim(conn: &Connection, id: &IssueId) -> Result<Claim, StoreError> {
    let sql = format!(
        "SELECT {CLAIM_COLUMNS} FROM claims AS c JOIN issues AS i ON i.id = c.issue_id WHERE c.issue_id = ?1"
    );
    conn.prepare_cached(&sql)?
        .query_row([AsText(id)], claim_row)
        .optional()?
        .ok_or_else(|| StoreError::StaleClaim(id.clone()))
}

pub(super) fn claims(conn: &Connection) -> Result<Vec<Claim>, StoreError> {
    let sql = format!(
        "SELECT {CLAIM_COLUMNS} FROM claims AS c JOIN issues AS i ON i.id = c.issue_id ORDER BY c.issue_id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let claims = stmt.query_map([], claim_row)?.collect::<Result<_, _>>()?;
    Ok(claims)
}

/// Refuses a claim that is no longer the issue's current one.
fn check_fence(conn: &Connection, claim: &Claim) -> Result<(), StoreError> {
    let token: Option<i64> = conn
        .prepare_cached("SELECT token FROM claims WHERE issue_id = ?1")?
        .query_row([AsText(&claim.issue_id)], |row| row.get(0))
        .optional()?;
    match token {
        Some(token) if token == claim.token => Ok(()),
        _ => Err(StoreError::StaleClaim(claim.issue_id.clone())),
    }
}

pub(super) fn renew(
    tx: &Connection,
    claim: &Claim,
    lease_until: Timestamp,
) -> Result<(), StoreError> {
    check_fence(tx, claim)?;
    tx.prepare_cached("UPDATE claims SET lease_until = ?2 WHERE issue_id = ?1")?
        .execute(params![AsText(&claim.issue_id), AsText(lease_until)])?;
    Ok(())
}

fn session_event(id: &IssueId, session_id: &str, event_type: EventType, data: Value) -> NewEvent {
    NewEvent {
        issue_id: id.clone(),
        session_id: Some(session_id.to_string()),
        event_type,
        data,
    }
}

pub(super) fn record(
    tx: &Connection,
    claim: &Claim,
    record: &SessionRecord,
    now: Timestamp,
) -> Result<(), StoreError> {
    check_fence(tx, claim)?;
    write_record(tx, claim, record, now)
}

fn write_record(
    tx: &Connection,
    claim: &Claim,
    record: &SessionRecord,
    now: Timestamp,
) -> Result<(), StoreError> {
    for (run, end) in &record.runs {
        runs::record(tx, run, end, now)?;
    }
    for (event_type, data) in &record.events {
        let event = session_event(
            &claim.issue_id,
            &claim.session_id,
            *event_type,
            data.clone(),
        );
        append_event(tx, &event, now)?;
    }
    Ok(())
}

pub(super) fn create_fix_issue(
    tx: &Connection,
    claim: &Claim,
    fix: NewIssue,
    now: Timestamp,
) -> Result<Issue, StoreError> {
    check_fence(tx, claim)?;
    fix.validate()?;
    let issue = writes::create_issue(tx, fix, now)?;
    let link = Link::new(
        claim.issue_id.clone(),
        LinkKind::DependsOn,
        issue.id.clone(),
    );
    writes::add_link(tx, &link, now)?;
    Ok(issue)
}

pub(super) fn end_session(
    tx: &Connection,
    claim: &Claim,
    end: &SessionEnd,
    now: Timestamp,
) -> Result<Issue, StoreError> {
    check_fence(tx, claim)?;
    let mut issue = find_issue(tx, &claim.issue_id)?;
    issue.status.check_transition(end.status)?;
    write_record(tx, claim, &end.record, now)?;
    let from = issue.status;
    issue.status = end.status;
    issue.updated_at = now;
    if let Some(ready_at) = end.ready_at {
        issue.ready_at = ready_at;
    }
    tx.prepare_cached(
        "UPDATE issues SET status = ?2, ready_at = ?3, updated_at = ?4, failed_sessions = failed_sessions + ?5
         WHERE id = ?1",
    )?
    .execute(params![AsText(&issue.id), issue.status.as_str(), AsText(issue.ready_at), AsText(now), i64::from(end.failed)])?;
    tx.prepare_cached("DELETE FROM claims WHERE issue_id = ?1")?
        .execute([AsText(&issue.id)])?;
    let data = json!({ "from": from, "to": end.status, "reason": end.reason });
    append_event(
        tx,
        &session_event(&issue.id, &claim.session_id, EventType::StatusChanged, data),
        now,
    )?;
    Ok(issue)
}
