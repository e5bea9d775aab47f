//! `agentry demo`: a small shell project in a new git repository, a backlog of six issues and
//! scripted agents, run through the whole loop: a clean pass, a spec review that fails once,
//! a quality-review overflow into a `[FIX]` issue, a verify failure sent back to the queue, a
//! scope that waits, a dependency, and merge-close after a person merges.

use std::path::{Path, PathBuf};
use std::process::Command;

use agentry_core::import::parse_jsonl;
use agentry_core::{EventType, Issue, Timestamp};
use agentry_engine::{Engine, RunOptions};
use agentry_store::{IssueFilter, Store};
use anyhow::{Context, Result, bail};
use tokio_util::sync::CancellationToken;

use super::engine::{build, runtime};
use super::init;
use crate::output::outln;
use crate::project::{CONFIG_FILE, Project};

const PROJECT_FILES: [(&str, &str); 3] = [
    ("README.md", include_str!("../../demo/project/README.md")),
    (
        "tests/all.sh",
        include_str!("../../demo/project/tests/all.sh"),
    ),
    ("lib/.keep", include_str!("../../demo/project/lib/.keep")),
];
const AGENTS: &str = include_str!("../../demo/agents.toml");
const BACKLOG: &str = include_str!("../../demo/backlog.jsonl");
const AGENTS_FILE: &str = ".agentry/demo-agents.toml";

const DEMO_CONFIG: &str = r#"
[agents.demo]
kind = "scripted"
script = ".agentry/demo-agents.toml"
timeout_secs = 60
"#;

pub fn run(target: Option<PathBuf>) -> Result<()> {
    let dir = demo_dir(target)?;
    create_project(&dir)?;
    init::run(&dir)?;
    configure(&dir)?;
    let project = Project::find(&dir)?;
    let store = project.open_store()?;
    let report = store.import(parse_jsonl(BACKLOG)?, Timestamp::now())?;
    outln!(
        "\nbacklog: {} issues (priorities 1-3, one dependency, lib/** overlapping four scopes)",
        report.taken
    );
    runtime()?.block_on(async {
        let engine = build(&project, Some(4))?;
        step("run 1: agentry run --until-idle, 4 workers").await;
        run_until_idle(&engine).await?;
        step("a person merges the greeting and the [FIX] branch; merge-watch closes them").await;
        merge_reviewed(&dir, &engine).await?;
        step("run 2: the docs issue waited for the greeting, which is closed now").await;
        run_until_idle(&engine).await
    })?;
    print_table(&store)?;
    print_next_steps(&dir);
    Ok(())
}

fn demo_dir(target: Option<PathBuf>) -> Result<PathBuf> {
    let dir = match target {
        Some(dir) => dir,
        None => tempfile::Builder::new()
            .prefix("agentry-demo-")
            .tempdir()?
            .keep(),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    if std::fs::read_dir(&dir)?.next().is_some() {
        bail!(crate::error::usage(format!(
            "{} is not empty; give --dir a new or empty folder",
            dir.display()
        )));
    }
    Ok(dir)
}

fn create_project(dir: &Path) -> Result<()> {
    for (path, text) in PROJECT_FILES {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("files are in a folder"))?;
        std::fs::write(&file, text)?;
    }
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["add", "."])?;
    git(dir, &["commit", "-q", "-m", "textkit: start"])
}

fn configure(dir: &Path) -> Result<()> {
    std::fs::write(dir.join(AGENTS_FILE), AGENTS)?;
    let config_path = dir.join(CONFIG_FILE);
    let config = std::fs::read_to_string(&config_path)?;
    let mut text = String::new();
    for line in config.lines() {
        let role = ["implementer", "fixer", "spec_reviewer", "quality_reviewer"]
            .into_iter()
            .find(|role| line.starts_with(&format!("{role} = ")));
        match role {
            Some(role) => text.push_str(&format!("{role} = \"demo\"\n")),
            None => text.push_str(&format!("{line}\n")),
        }
    }
    text.push_str(DEMO_CONFIG);
    std::fs::write(config_path, text)?;
    Ok(())
}

async fn step(title: &str) {
    outln!("\n== {title}");
}

async fn run_until_idle(engine: &std::sync::Arc<Engine>) -> Result<()> {
    let options = RunOptions { until_idle: true };
    let summary = agentry_engine::run(engine.clone(), options, CancellationToken::new())
        .await
        .map_err(anyhow::Error::msg)?;
    let outcomes: Vec<String> = summary
        .outcomes
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    outln!("{} sessions: {}", summary.sessions, outcomes.join(", "));
    Ok(())
}

/// Merges what a person would: the greeting, and the `[FIX]` issue (which carries the word
/// counting work it was split from).
async fn merge_reviewed(dir: &Path, engine: &Engine) -> Result<()> {
    let waiting = engine.store.list_issues(&IssueFilter {
        status: Some(agentry_core::Status::NeedsReview),
        label: None,
    })?;
    let merged: Vec<&Issue> = waiting
        .iter()
        .filter(|i| i.id.as_str() == "i-greet" || i.title.starts_with("[FIX]"))
        .collect();
    for issue in merged {
        let branch = agentry_workspace::Workspace::branch_name(&issue.id);
        git(
            dir,
            &[
                "merge",
                "-q",
                "--no-ff",
                &branch,
                "-m",
                &format!("Merge {branch}: {}", issue.title),
            ],
        )?;
        outln!("git merge --no-ff {branch}");
    }
    for (id, result) in agentry_engine::merge_scan(engine)
        .await
        .map_err(anyhow::Error::msg)?
    {
        outln!("merge-watch: {id} {}", serde_json::to_string(&result)?);
    }
    Ok(())
}

fn print_table(store: &impl Store) -> Result<()> {
    outln!(
        "\n{:<10} {:<36} {:<13} {:>8} {:>13} {:>6} {:>7}",
        "issue",
        "title",
        "status",
        "sessions",
        "spec/quality",
        "events",
        "time"
    );
    for issue in store.list_issues(&IssueFilter::default())? {
        let events = store.events(&issue.id)?;
        let sessions = events
            .iter()
            .filter(|e| e.event_type == EventType::SessionStart)
            .count();
        let attempts = events
            .iter()
            .rev()
            .find(|e| e.data.get("attempts").is_some())
            .map(|e| {
                format!(
                    "{}/{}",
                    e.data["attempts"]["spec"], e.data["attempts"]["quality"]
                )
            })
            .unwrap_or_else(|| "-".into());
        let title: String = issue.title.chars().take(36).collect();
        outln!(
            "{:<10} {:<36} {:<13} {:>8} {:>13} {:>6} {:>6.1}s",
            issue.id,
            title,
            issue.status,
            sessions,
            attempts,
            events.len(),
            session_secs(&events)
        );
    }
    Ok(())
}

/// Time spent in sessions: from each `SESSION_START` to the event that ended it.
fn session_secs(events: &[agentry_core::Event]) -> f64 {
    let mut total = 0;
    let mut started = None;
    for event in events {
        match event.event_type {
            EventType::SessionStart => started = Some(event.created_at),
            EventType::SessionDone
            | EventType::OverflowFixCreated
            | EventType::VerifyFailed
            | EventType::SessionError => {
                if let Some(start) = started.take() {
                    total += event.created_at.unix_micros() - start.unix_micros();
                }
            }
            _ => {}
        }
    }
    total as f64 / 1e6
}

fn print_next_steps(dir: &Path) {
    let dir = dir.display();
    outln!("\nLook further:");
    outln!("  cd {dir}");
    outln!("  agentry issue list                 # or: cargo run -- -C {dir} issue list");
    outln!("  agentry events i-count             # the overflow, event by event");
    outln!(
        "  agentry issue show i-shout         # the verify failure, back in the queue with a backoff"
    );
    outln!(
        "  agentry issue show i-tidy          # SCOPE_WAIT: lib/** waited for the other lib helpers"
    );
    outln!("  git log --graph --oneline --all    # agentry's commits, branches and the merges");
    outln!(
        "  ls .agentry/logs/*                 # prompts' answers and verify output, per session"
    );
}

/// Runs git in the demo repository with an identity of its own, whatever the machine has.
fn git(dir: &Path, args: &[&str]) -> Result<()> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=agentry demo",
            "-c",
            "user.email=demo@agentry.invalid",
        ])
        .args(args)
        .output()
        .context("could not run git: is it installed?")?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
