//! Lines of beads' `issues.jsonl`. beads' id is kept in a `beads:<id>` label; its links are
//! stored on the dependent issue (`issue_id` depends on `depends_on_id`).

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{BEADS_LABEL_PREFIX, ImportRecord, SourceKey};
use crate::{IssueId, LinkKind, NewIssue, Priority, Status, Timestamp};

/// Keys only beads writes; an id that is not an agentry id also marks a beads line.
const BEADS_ONLY_KEYS: [&str; 4] = [
    "description",
    "issue_type",
    "dependencies",
    "acceptance_criteria",
];

pub(super) fn looks_like_beads(object: &Map<String, Value>) -> bool {
    let foreign_id = object
        .get("id")
        .and_then(Value::as_str)
        .is_some_and(|id| id.parse::<IssueId>().is_err());
    foreign_id || BEADS_ONLY_KEYS.iter().any(|key| object.contains_key(*key))
}

/// The fields agentry takes from a beads line; others (assignee, comments, ...) are ignored,
/// since beads versions differ in what they write.
#[derive(Deserialize)]
struct BeadsIssue {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    design: String,
    #[serde(default)]
    acceptance_criteria: String,
    #[serde(default)]
    notes: String,
    status: Option<String>,
    /// Older beads left out a zero priority.
    #[serde(default = "most_urgent")]
    priority: Priority,
    created_at: Option<Timestamp>,
    updated_at: Option<Timestamp>,
    defer_until: Option<Timestamp>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    dependencies: Vec<BeadsDependency>,
}

#[derive(Deserialize)]
struct BeadsDependency {
    issue_id: String,
    depends_on_id: String,
    #[serde(rename = "type", default)]
    kind: String,
}

fn most_urgent() -> Priority {
    Priority::MOST_URGENT
}

pub(super) fn parse(line: usize, object: Map<String, Value>) -> Result<ImportRecord, String> {
    let beads: BeadsIssue = serde_path_to_error::deserialize(Value::Object(object))
        .map_err(|e| format!("beads issue: {}: {}", e.path(), e.inner()))?;
    let (status, skip) = map_status(beads.status.as_deref().unwrap_or("open"));
    let links = beads
        .dependencies
        .iter()
        .filter(|dep| dep.issue_id == beads.id)
        .map(|dep| {
            (
                map_link_kind(&dep.kind),
                SourceKey::Beads(dep.depends_on_id.clone()),
            )
        })
        .collect();
    let mut labels = vec![format!("{BEADS_LABEL_PREFIX}{}", beads.id)];
    labels.extend(beads.labels.into_iter().filter(|l| !l.trim().is_empty()));
    let issue = NewIssue {
        body: body_of(&beads.description, &beads.design, &beads.notes),
        priority: beads.priority,
        ready_at: beads.defer_until.or(beads.created_at),
        labels,
        done_when: criteria_of(&beads.acceptance_criteria),
        ..NewIssue::new(beads.title)
    };
    issue.validate().map_err(|e| e.to_string())?;
    Ok(ImportRecord {
        line,
        key: SourceKey::Beads(beads.id),
        issue,
        status,
        created_at: beads.created_at,
        updated_at: beads.updated_at,
        links,
        skip,
    })
}

/// beads statuses in agentry's terms. An issue beads had in progress goes back to the queue:
/// no agentry session holds it.
fn map_status(status: &str) -> (Status, Option<String>) {
    match status {
        "open" | "in_progress" | "pinned" | "hooked" => (Status::Open, None),
        "blocked" | "deferred" => (Status::Blocked, None),
        "closed" => (Status::Closed, None),
        "tombstone" => (Status::Closed, Some("deleted in beads (tombstone)".into())),
        other => (
            Status::Open,
            Some(format!("unknown beads status {other:?}")),
        ),
    }
}

fn map_link_kind(kind: &str) -> LinkKind {
    match kind {
        "" | "blocks" | "conditional-blocks" | "waits-for" => LinkKind::DependsOn,
        "parent-child" => LinkKind::Parent,
        _ => LinkKind::Related,
    }
}

fn body_of(description: &str, design: &str, notes: &str) -> String {
    let mut body = description.trim().to_string();
    for (heading, text) in [("Design", design), ("Notes", notes)] {
        if !text.trim().is_empty() {
            body.push_str(&format!("\n\n## {heading}\n\n{}", text.trim()));
        }
    }
    body.trim().to_string()
}

/// Acceptance criteria become the definition of done, one item per non-empty line.
fn criteria_of(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim().trim_start_matches(['-', '*']).trim())
        .map(|l| {
            l.strip_prefix("[ ]")
                .or_else(|| l.strip_prefix("[x]"))
                .unwrap_or(l)
                .trim()
        })
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::parse_jsonl;
    use super::*;

    const EPIC_CHILD: &str = r#"{"id":"bd-a1b2.2","title":"Replay","description":"Send queued changes.","design":"FIFO","acceptance_criteria":"- [ ] ordered\n- survives restart","status":"in_progress","priority":1,"issue_type":"task","created_at":"2025-12-08T09:15:41.730266-08:00","updated_at":"2025-12-11T10:21:09.884517-08:00","labels":["sync"],"dependencies":[{"issue_id":"bd-a1b2.2","depends_on_id":"bd-a1b2","type":"parent-child","created_at":"2025-12-08T09:15:41.730781-08:00"},{"issue_id":"bd-a1b2.2","depends_on_id":"bd-a1b2.1","type":"blocks","created_at":"2025-12-08T09:18:12.204439-08:00"}],"comments":[{"id":7,"text":"x"}]}"#;

    #[test]
    fn maps_the_fields_agentry_uses() {
        let record = parse_jsonl(EPIC_CHILD).unwrap().remove(0);
        assert_eq!(record.key, SourceKey::Beads("bd-a1b2.2".into()));
        assert_eq!(record.status, Status::Open);
        assert_eq!(record.issue.priority.value(), 1);
        assert_eq!(record.issue.labels, vec!["beads:bd-a1b2.2", "sync"]);
        assert_eq!(
            record.issue.body,
            "Send queued changes.\n\n## Design\n\nFIFO"
        );
        assert_eq!(record.issue.done_when, vec!["ordered", "survives restart"]);
        assert_eq!(
            record.created_at.unwrap().to_string(),
            "2025-12-08T17:15:41.730266Z"
        );
        assert_eq!(
            record.links,
            vec![
                (LinkKind::Parent, SourceKey::Beads("bd-a1b2".into())),
                (LinkKind::DependsOn, SourceKey::Beads("bd-a1b2.1".into())),
            ]
        );
    }

    #[test]
    fn a_tombstone_is_marked_to_skip() {
        let line = r#"{"id":"bd-x","title":"gone","status":"tombstone","priority":2,"created_at":"2025-12-08T09:15:41Z","updated_at":"2025-12-08T09:15:41Z"}"#;
        let record = parse_jsonl(line).unwrap().remove(0);
        assert_eq!(record.skip.as_deref(), Some("deleted in beads (tombstone)"));
    }

    #[test]
    fn a_missing_priority_is_zero_as_beads_reads_it() {
        let record = parse_jsonl(r#"{"id":"bd-1","title":"t"}"#)
            .unwrap()
            .remove(0);
        assert_eq!(record.issue.priority, Priority::MOST_URGENT);
    }

    #[test]
    fn a_bad_beads_line_names_the_field() {
        let err = parse_jsonl(r#"{"id":"bd-1","title":"t","created_at":"soon"}"#).unwrap_err();
        assert!(
            err.to_string().contains("line 1: beads issue: created_at"),
            "{err}"
        );
    }
}
