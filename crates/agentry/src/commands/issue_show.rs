//! `agentry issue show`.

use agentry_core::IssueId;
use agentry_core::question::{OpenQuestion, blocked_on};
use agentry_store::{IssueDetail, Store};
use anyhow::Result;
use serde::Serialize;

use crate::output::{self, one_line, outln};
use crate::project::Project;

/// The issue's detail and the question it is blocked on, until someone answers it.
#[derive(Serialize)]
struct Shown {
    #[serde(flatten)]
    detail: IssueDetail,
    question: Option<OpenQuestion>,
}

pub fn run(project: &Project, id: &IssueId, json: bool) -> Result<()> {
    let store = project.open_store()?;
    let detail = store.issue_detail(id, &[])?;
    let shown = Shown {
        question: blocked_on(&detail.issue, &detail.events),
        detail,
    };
    if json {
        return output::json(&shown);
    }
    print_detail(&shown);
    Ok(())
}

fn print_detail(shown: &Shown) {
    let detail = &shown.detail;
    let issue = &detail.issue;
    outln!("{}  {}", issue.id, one_line(&issue.title));
    outln!(
        "status {}  priority {}  ready at {}",
        issue.status,
        issue.priority,
        issue.ready_at
    );
    outln!("created {}  updated {}", issue.created_at, issue.updated_at);
    if !issue.body.is_empty() {
        outln!("\n{}", issue.body.trim_end());
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
    if let Some(question) = &shown.question {
        print_question(&issue.id, question);
    }
    if !detail.runs.is_empty() {
        outln!("\nagent runs:");
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
        outln!(
            "  {}  {:<16} {}{tokens}{cost}  {how}",
            run.started_at,
            run.role,
            run.backend
        );
    }
    outln!("\nevents:");
    for event in &detail.events {
        outln!(
            "  {}  {:<15} {}",
            event.created_at,
            event.event_type,
            event.data
        );
    }
}

fn print_question(id: &IssueId, open: &OpenQuestion) {
    let question = &open.packet;
    outln!("\nquestion (blocking, asked {}):", open.asked_at);
    outln!("  {}", question.question);
    outln!("  context: {}", question.context);
    for (name, items) in [("files", &question.files), ("options", &question.options)] {
        if !items.is_empty() {
            outln!("  {name}: {}", items.join("; "));
        }
    }
    outln!("  recommended: {}", question.recommended);
    outln!("  answer it: agentry answer {id} \"...\"");
}

fn print_list<'a>(name: &str, items: impl ExactSizeIterator<Item = &'a str>) {
    if items.len() == 0 {
        return;
    }
    outln!("\n{name}:");
    for item in items {
        outln!("  - {item}");
    }
}
