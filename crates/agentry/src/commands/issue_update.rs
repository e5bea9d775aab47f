//! `agentry issue update`.

use agentry_core::{Issue, IssuePatch, Priority, Timestamp};
use agentry_store::Store;
use anyhow::Result;

use super::body_of;
use crate::cli::UpdateArgs;
use crate::error::usage;
use crate::output;
use crate::project::Project;

pub fn run(project: &Project, args: UpdateArgs) -> Result<()> {
    let store = project.open_store()?;
    let current = store.issue(&args.id)?;
    let patch = patch_of(&current, &args)?;
    if patch.is_empty() && args.status.is_none() {
        return Err(usage(
            "nothing to update: give a field to change (see `agentry issue update --help`)",
        ));
    }
    // Check the patch before changing the status, so a bad field leaves the issue untouched.
    patch.clone().apply(&mut current.clone())?;
    let now = Timestamp::now();
    if let Some(status) = args.status.filter(|s| *s != current.status) {
        store.set_status(&args.id, status, &args.reason, now)?;
    }
    let issue = store.update_issue(&args.id, patch, now)?;
    output::issue_or_line(&issue, args.json, &format!("updated {}", issue.id))
}

fn patch_of(current: &Issue, args: &UpdateArgs) -> Result<IssuePatch> {
    let replace = |items: &Vec<String>| (!items.is_empty()).then(|| items.clone());
    let priority = args
        .priority
        .map(Priority::new)
        .transpose()
        .map_err(|e| usage(e.to_string()))?;
    Ok(IssuePatch {
        title: args.title.clone(),
        body: body_of(&args.body)?,
        priority,
        ready_at: args.ready_at,
        labels: labels_of(current, args),
        scope: replace(&args.definition.scope),
        verify: replace(&args.definition.verify),
        done_when: replace(&args.definition.done_when),
        not_your_job: replace(&args.definition.not_your_job),
    })
}

fn labels_of(current: &Issue, args: &UpdateArgs) -> Option<Vec<String>> {
    if args.add_labels.is_empty() && args.remove_labels.is_empty() {
        return None;
    }
    let mut labels: Vec<String> = current
        .labels
        .iter()
        .filter(|l| !args.remove_labels.contains(l))
        .cloned()
        .collect();
    for label in &args.add_labels {
        if !labels.contains(label) {
            labels.push(label.clone());
        }
    }
    Some(labels)
}
