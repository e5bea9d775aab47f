//! `agentry bench worktrees`: sessions with command agents that answer at once, real git
//! worktrees and verify commands, 4 workers: what the orchestrator itself spends per session.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use agentry_core::Timestamp;
use agentry_core::config::{AgentConfig, AgentKind};
use agentry_core::import::parse_jsonl;
use agentry_store::{SqliteStore, Store};
use agentry_workspace::Workspace;
use anyhow::{Result, bail};

use super::cpu_times;
use super::engine::{engine, run_all_passing};
use crate::output::outln;

const WORKERS: usize = 4;
/// Every role: print a passing verdict and exit; the implementer first writes a file, since a
/// session that changes nothing does not pass.
const ANSWER: &str = "[ \"$AGENTRY_ROLE\" = implementer ] && echo done > done.txt; printf '```json\\n{\"verdict\": \"pass\"}\\n```\\n'";

pub fn run(issues: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("repo");
    make_repo(&root)?;
    let store = SqliteStore::open(&root.join(".agentry.db"), Duration::from_secs(5))?;
    let backlog: String = (0..issues)
        .map(|n| format!("{{\"title\":\"Issue {n}\",\"verify\":[\"true\"]}}\n"))
        .collect();
    store.import(parse_jsonl(&backlog)?, Timestamp::now().plus_secs(-1))?;
    let store: Arc<dyn Store> = Arc::new(store);
    let agent = agentry_agents::build("answer", &command_agent(), &root)?;
    let engine = engine(
        store,
        Some(Workspace::new(root.clone())),
        agent,
        WORKERS,
        dir.path(),
    )?;
    let (self_before, children_before) = cpu_times();
    let (_summary, elapsed) = run_all_passing(engine, issues)?;
    let (self_after, children_after) = cpu_times();
    let per = |d: Duration| d.as_secs_f64() * 1e3 / issues as f64;
    outln!(
        "worktree sessions: {issues} issues, command agents that exit at once, git worktrees, verify `true`, {WORKERS} workers"
    );
    outln!(
        "orchestrator CPU       {:>10.2} ms per session  (target ≤ 60 ms)",
        per(self_after - self_before)
    );
    outln!(
        "child CPU (git, agents, verify) {:>6.2} ms per session",
        per(children_after - children_before)
    );
    outln!(
        "wall time              {:>10.2} ms per session  ({:.1} s in all, {WORKERS} at once)",
        per(elapsed),
        elapsed.as_secs_f64()
    );
    Ok(())
}

fn command_agent() -> AgentConfig {
    AgentConfig {
        command: vec!["sh".into(), "-c".into(), ANSWER.into()],
        timeout_secs: 60,
        idle_timeout_secs: 0,
        ..AgentConfig::new(AgentKind::Command)
    }
}

pub(super) fn make_repo(root: &Path) -> Result<()> {
    std::fs::create_dir_all(root)?;
    std::fs::write(root.join("README"), "bench\n")?;
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "."],
        &["commit", "-q", "-m", "start"],
    ] {
        let status = Command::new("git")
            .arg("-C")
            .arg(root)
            .args([
                "-c",
                "user.name=bench",
                "-c",
                "user.email=bench@agentry.invalid",
            ])
            .args(args)
            .status()?;
        if !status.success() {
            bail!("git {} failed", args.join(" "));
        }
    }
    Ok(())
}
