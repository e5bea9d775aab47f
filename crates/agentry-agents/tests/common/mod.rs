//! What the backend tests share: a request on temporary directories and a turn run to its end.
#![allow(dead_code)] // each test binary uses its own part of these helpers

use std::path::Path;

use agentry_agents::{Agent, AgentEvent, AgentOutcome, AgentRequest};
use agentry_core::Role;
use agentry_core::config::{AgentConfig, AgentKind};
use agentry_process::Confinement;
use tempfile::TempDir;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A worktree and, beside it, the directory holding the prompt file.
pub struct Dirs {
    pub root: TempDir,
}

impl Dirs {
    pub fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("worktree")).unwrap();
        Self { root }
    }

    pub fn workdir(&self) -> std::path::PathBuf {
        self.root.path().join("worktree")
    }

    pub fn request(&self, role: Role, issue: &str, title: &str) -> AgentRequest {
        AgentRequest {
            role,
            issue_id: issue.parse().unwrap(),
            issue_title: title.to_string(),
            session_id: "0b6a3c1e-session".to_string(),
            prompt: "Fix the greeting.\nSecond line.".to_string(),
            workdir: self.workdir(),
            prompt_file: self.root.path().join("prompts/nested/prompt.md"),
            confinement: Confinement::default(),
        }
    }
}

pub fn config(kind: AgentKind) -> AgentConfig {
    AgentConfig {
        timeout_secs: 60,
        idle_timeout_secs: 60,
        ..AgentConfig::new(kind)
    }
}

/// Runs one turn to its end and returns its outcome with every event it sent.
pub async fn run(agent: &dyn Agent, request: &AgentRequest) -> (AgentOutcome, Vec<AgentEvent>) {
    let (events, mut received) = mpsc::unbounded_channel();
    let outcome = agent.run(request, &events, &CancellationToken::new()).await;
    drop(events);
    let mut all = Vec::new();
    while let Some(event) = received.recv().await {
        all.push(event);
    }
    (outcome, all)
}

/// Cancels the turn once the agent has said `line`, and returns the events seen by then.
pub async fn cancel_after_line(
    agent: &dyn Agent,
    request: &AgentRequest,
    line: &str,
) -> (AgentOutcome, Vec<AgentEvent>) {
    let cancel = CancellationToken::new();
    let (events, mut received) = mpsc::unbounded_channel();
    let watch = async {
        let mut seen = Vec::new();
        while let Some(event) = received.recv().await {
            let done = event == AgentEvent::Text(line.to_string());
            seen.push(event);
            if done {
                cancel.cancel();
                break;
            }
        }
        seen
    };
    let turn = async {
        // Owned here so the channel closes when the turn ends, even if `line` never came.
        let events = events;
        agent.run(request, &events, &cancel).await
    };
    tokio::join!(turn, watch)
}

pub fn texts(events: &[AgentEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|event| match event {
            AgentEvent::Text(text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

pub fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap()
}
