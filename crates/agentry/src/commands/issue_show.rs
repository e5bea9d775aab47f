//! `agentry issue show`.

use agentry_core::question::{OpenQuestion, blocked_on};
use agentry_core::{Event, Issue, IssueId, Link};
use agentry_store::Store;
use agentry_store::session::AgentRun;
use anyhow::Result;
use serde::Serialize;

use crate::output;
use crate::project::Project;

#[derive(Serialize)]
struct IssueDetail {
    #[serde(flatten)]
    issue: Issue,
    links: Vec<Link>,
    /// The question the issue is blocked on, until someone answers it.
    question: Option<OpenQuestion>,
    events: Vec<Event>,
    runs: Vec<AgentRun>,
}

pub fn run(project: &Project, id: &IssueId, json: bool) -> Result<()> {
    let store = project.open_store()?;
    let (issue, events) = (store.issue(id)?, store.events(id)?);
    let detail = IssueDetail {
        question: blocked_on(&issue, &events),
        issue,
        links: store.links(id)?,
        events,
        runs: store.agent_runs(Some(id))?,
    };
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
    if let Some(question) = &detail.question {
        print_question(&issue.id, question);
    }
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

fn print_question(id: &IssueId, open: &OpenQuestion) {
    let question = &open.packet;
    println!("\nquestion (blocking, asked {}):", open.asked_at);
    println!("  {}", question.question);
    println!("  context: {}", question.context);
    for (name, items) in [("files", &question.files), ("options", &question.options)] {
        if !items.is_empty() {
            println!("  {name}: {}", items.join("; "));
        }
    }
    println!("  recommended: {}", question.recommended);
    println!("  answer it: agentry answer {id} \"...\"");
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
