//! When a review cap is reached: the `[FIX]` issue that carries the rest of the work.

use crate::session::VerifyEvidence;
use crate::{Issue, NewIssue};

/// Why a session overflowed and what was still wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overflow {
    /// For example `SPEC_REVIEW failed at attempt 3/3`.
    pub reason: String,
    pub failed_items: Vec<String>,
    pub fix_list: Vec<String>,
    pub verify: Option<VerifyEvidence>,
}

pub const FIX_PREFIX: &str = "[FIX] ";

pub fn fix_title(original: &Issue) -> String {
    format!("{FIX_PREFIX}{}: {}", original.id, original.title)
}

/// Whether an issue is itself a `[FIX]` issue, which is escalated rather than split again.
pub fn is_fix_issue(issue: &Issue) -> bool {
    issue.title.starts_with(FIX_PREFIX)
}

/// The `[FIX]` issue: the original's definition of done, and a body that says where it came
/// from, why, what failed and the latest verification evidence.
pub fn fix_issue(original: &Issue, overflow: &Overflow) -> NewIssue {
    NewIssue {
        body: fix_body(original, overflow),
        priority: original.priority,
        ready_at: None,
        labels: original.labels.clone(),
        scope: original.scope.clone(),
        verify: original.verify.clone(),
        done_when: original.done_when.clone(),
        not_your_job: original.not_your_job.clone(),
        depends_on: Vec::new(),
        ..NewIssue::new(fix_title(original))
    }
}

fn fix_body(original: &Issue, overflow: &Overflow) -> String {
    let verify = match &overflow.verify {
        Some(v) => format!(
            "`{}` exited {} at {}{}",
            v.command,
            v.exit_code,
            v.produced_at,
            v.output_ref
                .as_ref()
                .map(|r| format!(" (log: {r})"))
                .unwrap_or_default()
        ),
        None => "none recorded".into(),
    };
    let mut body = format!(
        "Original task: {}\nOverflow reason: {}\n\nFailed acceptance items:\n{}\nFix list:\n{}\nLatest verification: {verify}\n\nDefinition of done (from {}):\n{}",
        original.id,
        overflow.reason,
        bullets(&overflow.failed_items),
        bullets(&overflow.fix_list),
        original.id,
        bullets(&original.done_when),
    );
    if !original.body.trim().is_empty() {
        body.push_str(&format!(
            "\nOriginal description:\n\n{}\n",
            original.body.trim()
        ));
    }
    body
}

fn bullets(items: &[String]) -> String {
    if items.is_empty() {
        return "- (none)\n".into();
    }
    items.iter().map(|item| format!("- {item}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IssueId, Timestamp};

    #[test]
    fn the_fix_issue_carries_everything_the_reference_names() {
        let mut original = NewIssue::new("Add login")
            .into_issue(IssueId::generate(5), Timestamp::from_unix_micros(0));
        original.done_when = vec!["users can sign in".into()];
        original.scope = vec!["src/**".into()];
        original.verify = vec!["sh t.sh".into()];
        let overflow = Overflow {
            reason: "QUALITY_REVIEW failed at attempt 2/2".into(),
            failed_items: vec!["no tests".into()],
            fix_list: vec!["add tests".into()],
            verify: Some(VerifyEvidence {
                command: "sh t.sh".into(),
                exit_code: 0,
                produced_at: Timestamp::from_unix_micros(0),
                output_ref: Some("log.txt".into()),
            }),
        };
        let fix = fix_issue(&original, &overflow);
        assert_eq!(fix.title, format!("[FIX] {}: Add login", original.id));
        for needle in [
            original.id.as_str(),
            "QUALITY_REVIEW failed at attempt 2/2",
            "- no tests",
            "`sh t.sh` exited 0",
            "- users can sign in",
        ] {
            assert!(
                fix.body.contains(needle),
                "{needle} missing from:\n{}",
                fix.body
            );
        }
        assert_eq!(
            (fix.scope, fix.verify, fix.done_when),
            (
                original.scope.clone(),
                original.verify.clone(),
                original.done_when.clone()
            )
        );
        let fix_issue_itself = NewIssue::new(fix.title)
            .into_issue(IssueId::generate(6), Timestamp::from_unix_micros(0));
        assert!(is_fix_issue(&fix_issue_itself) && !is_fix_issue(&original));
    }
}
