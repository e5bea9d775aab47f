//! `agentry issue show`.

use agentry_core::IssueId;
use agentry_store::{IssueDetail, Store};
use anyhow::Result;

use crate::output;
use crate::project::Project;

pub fn run(project: &Project, id: &IssueId, json: bool) -> Result<()> {
    let store = project.open_store()?;
    let detail = store.issue_detail(id)?;
    if json {
        return output::json(&detail);
    }
    print_detail(&detail);
    Ok(())
}

fn print_detail(detail: &IssueDetail) {
    let issue = &detail.issue;
    println!("{}  {}", issue.id, issue.title);
    println!(
        "status {}  priority {}  ready at {}",
        issue.status, issue.priority, issue.ready_at
    );
    println!("created {}  updated {}", issue.created_at, issue.updated_at);
    if !issue.body.is_empty() {
        println!("\n{}", issue.body.trim_end());
    }
    for (name, items) in [
        ("labels", &issue.labels),
        ("scope", &issue.scope),
        ("verify", &issue.verify),
        ("done when", &issue.done_when),
        ("not your job", &issue.not_your_job),
    ] {
        print_list(name, items.iter().map(String::as_str));
    }
    let links = detail
        .links
        .iter()
        .map(|l| format!("{} {} {}", l.src, l.kind, l.dst));
    print_list(
        "links",
        links.collect::<Vec<_>>().iter().map(String::as_str),
    );
    if !detail.runs.is_empty() {
        println!("\nagent runs:");
    }
    for run in &detail.runs {
        let cost = run
            .cost_usd
            .map(|c| format!(" ${c:.4}"))
            .unwrap_or_default();
        let tokens = run
            .tokens_in
            .map(|n| format!(" {n} in / {} out", run.tokens_out.unwrap_or(0)))
            .unwrap_or_default();
        let how = run.error.as_deref().unwrap_or("ok");
        println!(
            "  {}  {:<16} {}{tokens}{cost}  {how}",
            run.started_at, run.role, run.backend
        );
    }
    println!("\nevents:");
    for event in &detail.events {
        println!(
            "  {}  {:<15} {}",
            event.created_at, event.event_type, event.data
        );
    }
}

fn print_list<'a>(name: &str, items: impl ExactSizeIterator<Item = &'a str>) {
    if items.len() == 0 {
        return;
    }
    println!("\n{name}:");
    for item in items {
        println!("  - {item}");
    }
}
