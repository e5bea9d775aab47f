//! Applying an import plan inside one transaction.

use std::collections::{HashMap, HashSet};

use agentry_core::event::NewEvent;
use agentry_core::import::{
    BEADS_LABEL_PREFIX, ImportRecord, ImportReport, KnownIssues, plan_import,
};
use agentry_core::{EventType, IssueId, Link, Timestamp};
use rusqlite::Connection;
use serde_json::json;

use super::rows::{self, text};
use super::writes::{append_event, insert_issue, insert_link};
use crate::StoreError;

pub(super) fn import(
    tx: &Connection,
    records: Vec<ImportRecord>,
    now: Timestamp,
) -> Result<ImportReport, StoreError> {
    let known = known_issues(tx)?;
    let plan = plan_import(records, &known, || fastrand::u64(..), now)?;
    for issue in &plan.issues {
        insert_issue(tx, issue)?;
        let event = NewEvent {
            issue_id: issue.id.clone(),
            session_id: None,
            event_type: EventType::IssueImported,
            data: json!({ "title": issue.title, "status": issue.status }),
        };
        append_event(tx, &event, now)?;
    }
    for link in &plan.links {
        insert_link(tx, link, now)?;
    }
    Ok(plan.report)
}

fn known_issues(tx: &Connection) -> Result<KnownIssues, StoreError> {
    let mut stmt = tx.prepare("SELECT id FROM issues")?;
    let ids: HashSet<IssueId> = stmt
        .query_map([], |row| text(row, 0))?
        .collect::<Result<_, _>>()?;
    let mut stmt = tx.prepare(
        "SELECT i.id, substr(l.value, ?1) FROM issues AS i, json_each(i.labels) AS l
         WHERE l.value LIKE ?2",
    )?;
    let prefix_len = BEADS_LABEL_PREFIX.len() as i64 + 1;
    let beads: HashMap<String, IssueId> = stmt
        .query_map(
            rusqlite::params![prefix_len, format!("{BEADS_LABEL_PREFIX}%")],
            |row| Ok((row.get(1)?, text(row, 0)?)),
        )?
        .collect::<Result<_, _>>()?;
    let mut stmt = tx.prepare("SELECT src, kind, dst FROM links WHERE kind = 'depends-on'")?;
    let depends_on: Vec<Link> = stmt.query_map([], rows::link)?.collect::<Result<_, _>>()?;
    Ok(KnownIssues {
        ids,
        beads,
        depends_on,
    })
}
