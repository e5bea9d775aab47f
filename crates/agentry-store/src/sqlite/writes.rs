//! Writes that change an issue, each with its event, inside the caller's transaction.

use agentry_core::event::NewEvent;
use agentry_core::{
    EventType, Issue, IssueId, IssuePatch, Link, LinkKind, NewIssue, Status, Timestamp,
};
use rusqlite::{Connection, params};
use serde_json::json;

use super::find_issue;
use super::rows::{AsText, to_json};
use crate::StoreError;

pub(super) fn append_event(
    conn: &Connection,
    event: &NewEvent,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO events (issue_id, session_id, event_type, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        AsText(&event.issue_id),
        event.session_id,
        event.event_type.as_str(),
        event.data.to_string(),
        AsText(now)
    ])?;
    Ok(())
}

fn event(issue_id: &IssueId, event_type: EventType, data: serde_json::Value) -> NewEvent {
    NewEvent {
        issue_id: issue_id.clone(),
        session_id: None,
        event_type,
        data,
    }
}

pub(super) fn insert_issue(conn: &Connection, issue: &Issue) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO issues (id, title, body, status, priority, ready_at, created_at, updated_at,
                             labels, scope, verify, done_when, not_your_job)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        AsText(&issue.id),
        issue.title,
        issue.body,
        issue.status.as_str(),
        issue.priority.value(),
        AsText(issue.ready_at),
        AsText(issue.created_at),
        AsText(issue.updated_at),
        to_json(&issue.labels),
        to_json(&issue.scope),
        to_json(&issue.verify),
        to_json(&issue.done_when),
        to_json(&issue.not_your_job),
    ])?;
    Ok(())
}

fn save_issue(conn: &Connection, issue: &Issue) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE issues SET title = ?2, body = ?3, status = ?4, priority = ?5, ready_at = ?6,
                           updated_at = ?7, labels = ?8, scope = ?9, verify = ?10,
                           done_when = ?11, not_your_job = ?12
         WHERE id = ?1",
    )?
    .execute(params![
        AsText(&issue.id),
        issue.title,
        issue.body,
        issue.status.as_str(),
        issue.priority.value(),
        AsText(issue.ready_at),
        AsText(issue.updated_at),
        to_json(&issue.labels),
        to_json(&issue.scope),
        to_json(&issue.verify),
        to_json(&issue.done_when),
        to_json(&issue.not_your_job),
    ])?;
    Ok(())
}

pub(super) fn insert_link(
    conn: &Connection,
    link: &Link,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let added = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO links (src, kind, dst, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            AsText(&link.src),
            link.kind.as_str(),
            AsText(&link.dst),
            AsText(now)
        ])?;
    Ok(added == 1)
}

fn unused_id(tx: &Connection) -> Result<IssueId, StoreError> {
    loop {
        let id = IssueId::generate(fastrand::u64(..));
        let taken: bool = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM issues WHERE id = ?1)")?
            .query_row([AsText(&id)], |row| row.get(0))?;
        if !taken {
            return Ok(id);
        }
    }
}

pub(super) fn create_issue(
    tx: &Connection,
    new: NewIssue,
    now: Timestamp,
) -> Result<Issue, StoreError> {
    for dst in &new.depends_on {
        find_issue(tx, dst)?;
    }
    let depends_on = new.depends_on.clone();
    let issue = new.into_issue(unused_id(tx)?, now);
    insert_issue(tx, &issue)?;
    for dst in &depends_on {
        insert_link(
            tx,
            &Link::new(issue.id.clone(), LinkKind::DependsOn, dst.clone()),
            now,
        )?;
    }
    let data =
        json!({ "title": issue.title, "priority": issue.priority, "depends_on": depends_on });
    append_event(tx, &event(&issue.id, EventType::IssueCreated, data), now)?;
    Ok(issue)
}

pub(super) fn update_issue(
    tx: &Connection,
    id: &IssueId,
    patch: IssuePatch,
    now: Timestamp,
) -> Result<Issue, StoreError> {
    let mut issue = find_issue(tx, id)?;
    let changed = patch.apply(&mut issue)?;
    if changed.is_empty() {
        return Ok(issue);
    }
    issue.updated_at = now;
    save_issue(tx, &issue)?;
    append_event(
        tx,
        &event(id, EventType::IssueUpdated, json!({ "fields": changed })),
        now,
    )?;
    Ok(issue)
}

pub(super) fn set_status(
    tx: &Connection,
    id: &IssueId,
    to: Status,
    reason: &str,
    now: Timestamp,
) -> Result<Issue, StoreError> {
    let mut issue = find_issue(tx, id)?;
    let from = issue.status;
    from.check_transition(to)?;
    issue.status = to;
    issue.updated_at = now;
    save_issue(tx, &issue)?;
    let data = json!({ "from": from, "to": to, "reason": reason });
    append_event(tx, &event(id, EventType::StatusChanged, data), now)?;
    Ok(issue)
}

pub(super) fn add_link(tx: &Connection, link: &Link, now: Timestamp) -> Result<bool, StoreError> {
    if link.src == link.dst {
        return Err(StoreError::SelfLink(link.src.clone()));
    }
    find_issue(tx, &link.src)?;
    find_issue(tx, &link.dst)?;
    if link.kind == LinkKind::DependsOn && depends_on(tx, &link.dst, &link.src)? {
        return Err(StoreError::Cycle {
            src: link.src.clone(),
            dst: link.dst.clone(),
        });
    }
    let added = insert_link(tx, link, now)?;
    if added {
        let data = json!({ "kind": link.kind, "dst": link.dst });
        append_event(tx, &event(&link.src, EventType::LinkAdded, data), now)?;
    }
    Ok(added)
}

pub(super) fn remove_link(
    tx: &Connection,
    link: &Link,
    now: Timestamp,
) -> Result<bool, StoreError> {
    find_issue(tx, &link.src)?;
    find_issue(tx, &link.dst)?;
    let removed = tx
        .prepare_cached("DELETE FROM links WHERE src = ?1 AND kind = ?2 AND dst = ?3")?
        .execute(params![
            AsText(&link.src),
            link.kind.as_str(),
            AsText(&link.dst)
        ])?;
    if removed == 1 {
        let data = json!({ "kind": link.kind, "dst": link.dst });
        append_event(tx, &event(&link.src, EventType::LinkRemoved, data), now)?;
    }
    Ok(removed == 1)
}

/// Whether `from` depends on `to`, directly or through other issues.
fn depends_on(conn: &Connection, from: &IssueId, to: &IssueId) -> Result<bool, StoreError> {
    let found = conn
        .prepare_cached(
            "WITH RECURSIVE reach(id) AS (
                 SELECT ?1
                 UNION
                 SELECT l.dst FROM links AS l JOIN reach AS r ON l.src = r.id WHERE l.kind = 'depends-on')
             SELECT EXISTS (SELECT 1 FROM reach WHERE id = ?2)",
        )?
        .query_row(params![AsText(from), AsText(to)], |row| row.get(0))?;
    Ok(found)
}
