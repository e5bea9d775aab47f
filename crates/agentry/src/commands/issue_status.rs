//! `agentry issue close`, `reopen` and `link`.

use agentry_core::{IssueId, Link, LinkKind, Status, Timestamp};
use agentry_store::Store;
use anyhow::Result;

use crate::cli::StatusArgs;
use crate::output::{self, outln};
use crate::project::Project;

pub fn close(project: &Project, args: StatusArgs) -> Result<()> {
    move_to(project, args, Status::Closed, "closed")
}

pub fn reopen(project: &Project, args: StatusArgs) -> Result<()> {
    move_to(project, args, Status::Open, "reopened")
}

fn move_to(project: &Project, args: StatusArgs, to: Status, verb: &str) -> Result<()> {
    let issue = project
        .open_store()?
        .set_status(&args.id, to, &args.reason, Timestamp::now())?;
    output::issue_or_line(&issue, args.json, &format!("{verb} {}", issue.id))
}

pub fn link(
    project: &Project,
    from: IssueId,
    to: IssueId,
    kind: LinkKind,
    remove: bool,
) -> Result<()> {
    let store = project.open_store()?;
    let link = Link::new(from, kind, to);
    let text = format!("{} {} {}", link.src, link.kind, link.dst);
    let message = match remove {
        false if store.add_link(&link, Timestamp::now())? => format!("linked: {text}"),
        false => format!("already linked: {text}"),
        true if store.remove_link(&link, Timestamp::now())? => format!("unlinked: {text}"),
        true => format!("no such link: {text}"),
    };
    outln!("{message}");
    Ok(())
}
