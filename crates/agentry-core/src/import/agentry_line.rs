//! agentry's own JSON Lines format: one issue object per line with its outgoing links, as
//! `issue export` writes it. Lines written by hand may leave out everything but the title.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ImportRecord, SourceKey};
use crate::{Issue, IssueId, Link, NewIssue, Priority, Status, Timestamp};

/// One exported line: the issue object and the links that start from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportLine<'a> {
    #[serde(flatten)]
    pub issue: &'a Issue,
    pub links: &'a [Link],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueLine {
    id: Option<IssueId>,
    title: String,
    #[serde(default)]
    body: String,
    status: Option<Status>,
    #[serde(default)]
    priority: Priority,
    ready_at: Option<Timestamp>,
    created_at: Option<Timestamp>,
    updated_at: Option<Timestamp>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    scope: Vec<String>,
    #[serde(default)]
    verify: Vec<String>,
    #[serde(default)]
    done_when: Vec<String>,
    #[serde(default)]
    not_your_job: Vec<String>,
    #[serde(default)]
    links: Vec<Link>,
}

pub(super) fn parse(line: usize, object: Map<String, Value>) -> Result<ImportRecord, String> {
    let parsed: IssueLine =
        serde_path_to_error::deserialize(Value::Object(object)).map_err(|e| {
            match e.path().to_string() {
                path if path == "." => e.inner().to_string(),
                path => format!("{path}: {}", e.inner()),
            }
        })?;
    let key = parsed.id.clone().map_or(SourceKey::New, SourceKey::Agentry);
    if let Some(link) = parsed
        .links
        .iter()
        .find(|l| Some(&l.src) != parsed.id.as_ref())
    {
        return Err(format!(
            "link from {} does not start at this line's issue",
            link.src
        ));
    }
    let links = parsed
        .links
        .into_iter()
        .map(|link| (link.kind, SourceKey::Agentry(link.dst)))
        .collect();
    let issue = NewIssue {
        title: parsed.title,
        body: parsed.body,
        priority: parsed.priority,
        ready_at: parsed.ready_at,
        labels: parsed.labels,
        scope: parsed.scope,
        verify: parsed.verify,
        done_when: parsed.done_when,
        not_your_job: parsed.not_your_job,
        depends_on: Vec::new(),
    };
    issue.validate().map_err(|e| e.to_string())?;
    Ok(ImportRecord {
        line,
        key,
        issue,
        status: parsed.status.unwrap_or(Status::Open),
        created_at: parsed.created_at,
        updated_at: parsed.updated_at,
        links,
        skip: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse_jsonl;
    use super::*;
    use crate::LinkKind;

    #[test]
    fn an_exported_line_reads_back() {
        let now = Timestamp::from_unix_micros(42);
        let issue = NewIssue::new("t").into_issue(IssueId::generate(1), now);
        let links = [Link::new(
            issue.id.clone(),
            LinkKind::DependsOn,
            IssueId::generate(2),
        )];
        let text = serde_json::to_string(&ExportLine {
            issue: &issue,
            links: &links,
        })
        .unwrap();
        let record = parse_jsonl(&text).unwrap().remove(0);
        assert_eq!(record.key, SourceKey::Agentry(issue.id.clone()));
        assert_eq!(record.created_at, Some(now));
        assert_eq!(
            record.links,
            vec![(
                LinkKind::DependsOn,
                SourceKey::Agentry(IssueId::generate(2))
            )]
        );
    }

    #[test]
    fn a_hand_written_line_needs_only_a_title() {
        let record = parse_jsonl(r#"{"title":"x","verify":["make test"]}"#)
            .unwrap()
            .remove(0);
        assert_eq!(record.key, SourceKey::New);
        assert_eq!(record.status, Status::Open);
        assert_eq!(record.issue.verify, vec!["make test"]);
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse_jsonl("{\"title\":\"x\",\"priority\":9}")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 1: priority: priority must be 0 to 4"),
            "{err}"
        );
        let err = parse_jsonl("{\"title\":\"x\",\"verfy\":[]}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `verfy`"), "{err}");
        let err = parse_jsonl("{\"body\":\"x\"}").unwrap_err().to_string();
        assert!(err.contains("missing field `title`"), "{err}");
    }
}
