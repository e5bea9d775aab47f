//! Deciding what an import creates, given what the store already holds.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{ImportError, ImportRecord, ImportReport, SourceKey};
use crate::ready::find_dependency_cycle;
use crate::{Issue, IssueId, Link, LinkKind, Timestamp};

/// What the store holds that an import must respect.
#[derive(Clone, Debug, Default)]
pub struct KnownIssues {
    pub ids: HashSet<IssueId>,
    /// beads ids already imported, from the `beads:<id>` labels.
    pub beads: HashMap<String, IssueId>,
    /// Every `depends-on` link, to refuse an import that closes a cycle.
    pub depends_on: Vec<Link>,
}

/// A line or a link that was not imported, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub line: usize,
    /// The issue's id as the file names it; empty for a line without one.
    pub source_id: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default)]
pub struct ImportPlan {
    pub issues: Vec<Issue>,
    pub links: Vec<Link>,
    pub report: ImportReport,
}

/// Gives every taken record its id and resolves links; nothing here touches the store.
pub fn plan_import(
    records: Vec<ImportRecord>,
    known: &KnownIssues,
    mut random: impl FnMut() -> u64,
    now: Timestamp,
) -> Result<ImportPlan, ImportError> {
    let mut plan = ImportPlan::default();
    let mut resolved: HashMap<SourceKey, IssueId> = HashMap::new();
    // The ids given so far, for fresh ids to avoid: a set, so that each look-up is constant.
    let mut given: HashSet<IssueId> = HashSet::new();
    let mut taken = Vec::new();
    for record in records {
        match existing_id(&record, known, &resolved) {
            Some((id, reason)) => {
                plan.report.skipped.push(skipped(&record, reason));
                if let Some(id) = id {
                    resolved.entry(record.key.clone()).or_insert(id);
                }
            }
            None => {
                let id = match &record.key {
                    SourceKey::Agentry(id) => id.clone(),
                    _ => fresh_id(&mut random, known, &given),
                };
                given.insert(id.clone());
                if record.key != SourceKey::New {
                    resolved.insert(record.key.clone(), id.clone());
                }
                plan.issues.push(issue_of(&record, id, now));
                taken.push(record);
            }
        }
    }
    for (record, issue) in taken.iter().zip(&plan.issues) {
        for (kind, target) in &record.links {
            match target_id(target, known, &resolved) {
                Some(dst) => plan.links.push(Link::new(issue.id.clone(), *kind, dst)),
                None => plan.report.links_skipped.push(skipped(
                    record,
                    format!(
                        "{kind} target {} is neither in the file nor in the store",
                        key_text(target)
                    ),
                )),
            }
        }
    }
    plan.links.sort();
    plan.links.dedup();
    check_cycles(known, &plan.links)?;
    plan.report.taken = plan.issues.len();
    plan.report.links_taken = plan.links.len();
    Ok(plan)
}

/// `Some` when the record is not to be created: the id it already has, if any, and why.
fn existing_id(
    record: &ImportRecord,
    known: &KnownIssues,
    resolved: &HashMap<SourceKey, IssueId>,
) -> Option<(Option<IssueId>, String)> {
    if let Some(reason) = &record.skip {
        return Some((None, reason.clone()));
    }
    if resolved.contains_key(&record.key) {
        return Some((
            None,
            "appears more than once in the file; the first is taken".into(),
        ));
    }
    match &record.key {
        SourceKey::Agentry(id) if known.ids.contains(id) => {
            Some((Some(id.clone()), "already in the store".into()))
        }
        SourceKey::Beads(beads_id) => known
            .beads
            .get(beads_id)
            .map(|id| (Some(id.clone()), format!("already imported as {id}"))),
        _ => None,
    }
}

fn target_id(
    target: &SourceKey,
    known: &KnownIssues,
    resolved: &HashMap<SourceKey, IssueId>,
) -> Option<IssueId> {
    if let Some(id) = resolved.get(target) {
        return Some(id.clone());
    }
    match target {
        SourceKey::Agentry(id) if known.ids.contains(id) => Some(id.clone()),
        SourceKey::Beads(beads_id) => known.beads.get(beads_id).cloned(),
        _ => None,
    }
}

fn fresh_id(
    random: &mut impl FnMut() -> u64,
    known: &KnownIssues,
    given: &HashSet<IssueId>,
) -> IssueId {
    loop {
        let id = IssueId::generate(random());
        if !known.ids.contains(&id) && !given.contains(&id) {
            return id;
        }
    }
}

fn issue_of(record: &ImportRecord, id: IssueId, now: Timestamp) -> Issue {
    let created_at = record.created_at.unwrap_or(now);
    let mut issue = record.issue.clone().into_issue(id, created_at);
    issue.status = record.status;
    issue.updated_at = record.updated_at.unwrap_or(now);
    issue
}

fn check_cycles(known: &KnownIssues, links: &[Link]) -> Result<(), ImportError> {
    let new_dependencies = links.iter().filter(|l| l.kind == LinkKind::DependsOn);
    let all: Vec<Link> = known
        .depends_on
        .iter()
        .chain(new_dependencies)
        .cloned()
        .collect();
    match find_dependency_cycle(&all) {
        Some(cycle) => {
            let path: Vec<String> = cycle.iter().map(IssueId::to_string).collect();
            Err(ImportError::Cycle(path.join(" → ")))
        }
        None => Ok(()),
    }
}

fn skipped(record: &ImportRecord, reason: String) -> Skipped {
    Skipped {
        line: record.line,
        source_id: key_text(&record.key),
        reason,
    }
}

fn key_text(key: &SourceKey) -> String {
    match key {
        SourceKey::Agentry(id) => id.to_string(),
        SourceKey::Beads(id) => id.clone(),
        SourceKey::New => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_jsonl;
    use super::*;
    use crate::Status;

    fn counter() -> impl FnMut() -> u64 {
        let mut n = 0;
        move || {
            n += 1;
            n
        }
    }

    const BEADS: &str = r#"{"id":"bd-1","title":"parent","status":"open","priority":1}
{"id":"bd-1.1","title":"child","status":"closed","priority":2,"dependencies":[{"issue_id":"bd-1.1","depends_on_id":"bd-1","type":"parent-child"},{"issue_id":"bd-1.1","depends_on_id":"bd-gone","type":"blocks"}]}
{"id":"bd-2","title":"deleted","status":"tombstone","priority":2}"#;

    #[test]
    fn beads_ids_are_remapped_and_links_follow() {
        let now = Timestamp::from_unix_micros(0);
        let plan = plan_import(
            parse_jsonl(BEADS).unwrap(),
            &KnownIssues::default(),
            counter(),
            now,
        )
        .unwrap();
        assert_eq!(plan.report.taken, 2);
        assert_eq!(
            plan.report.skipped[0].reason,
            "deleted in beads (tombstone)"
        );
        assert_eq!(
            plan.links,
            vec![Link::new(
                plan.issues[1].id.clone(),
                LinkKind::Parent,
                plan.issues[0].id.clone()
            )]
        );
        assert_eq!(plan.report.links_skipped.len(), 1);
        assert!(plan.report.links_skipped[0].reason.contains("bd-gone"));
        assert_eq!(plan.issues[1].status, Status::Closed);
    }

    #[test]
    fn a_second_import_of_the_same_file_takes_nothing() {
        let now = Timestamp::from_unix_micros(0);
        let first = plan_import(
            parse_jsonl(BEADS).unwrap(),
            &KnownIssues::default(),
            counter(),
            now,
        )
        .unwrap();
        let known = KnownIssues {
            ids: first.issues.iter().map(|i| i.id.clone()).collect(),
            beads: HashMap::from([
                ("bd-1".to_string(), first.issues[0].id.clone()),
                ("bd-1.1".to_string(), first.issues[1].id.clone()),
            ]),
            depends_on: Vec::new(),
        };
        let second = plan_import(parse_jsonl(BEADS).unwrap(), &known, counter(), now).unwrap();
        assert_eq!(second.report.taken, 0);
        assert!(
            second.report.skipped[0]
                .reason
                .starts_with("already imported as i-")
        );
    }

    #[test]
    fn a_cycle_fails_the_whole_import() {
        let text = r#"{"id":"bd-a","title":"a","dependencies":[{"issue_id":"bd-a","depends_on_id":"bd-b","type":"blocks"}]}
{"id":"bd-b","title":"b","dependencies":[{"issue_id":"bd-b","depends_on_id":"bd-a","type":"blocks"}]}"#;
        let err = plan_import(
            parse_jsonl(text).unwrap(),
            &KnownIssues::default(),
            counter(),
            Timestamp::from_unix_micros(0),
        );
        assert!(matches!(err, Err(ImportError::Cycle(_))));
    }
}
