//! The effects of one session step: an agent turn (sandboxed, recorded, logged, checked,
//! committed), a verify run (sandboxed), the prompt context they need.

use std::fs::File;
use std::path::{Path, PathBuf};

use agentry_agents::{AgentEvent, AgentFailure, AgentOutcome, AgentRequest};
use agentry_core::sandbox::AgentSandbox;
use agentry_core::session::{FixRequest, Input, Review, VerifyEvidence};
use agentry_core::{Role, Timestamp};
use agentry_process::HeadTail;
use agentry_store::session::{AgentRunEnd, NewAgentRun};
use tokio::sync::mpsc;

use crate::driver::SessionRun;
use crate::prompts::{PromptContext, ReviewContext, VerifyContext};
use crate::recovery::SESSION_VAR;

/// How much of a diff or verify output goes into a prompt.
const PROMPT_EXCERPT_BYTES: usize = 48 * 1024;

impl SessionRun {
    /// Runs the agent for `role`, records the run, commits what it changed, and turns its
    /// answer into the next input.
    pub(crate) async fn agent_turn(&mut self, role: Role, fix: Option<FixRequest>) -> Input {
        match self.try_agent_turn(role, fix).await {
            Ok(input) => input,
            Err(error) => Input::Failed { error },
        }
    }

    async fn try_agent_turn(
        &mut self,
        role: Role,
        fix: Option<FixRequest>,
    ) -> Result<Input, String> {
        let (agent, config) = self.engine.agents.for_issue(role, &self.issue)?;
        let policy = self.agent_sandbox(config);
        let turn = self.next_turn(role.as_str());
        let request = self.agent_request(role, fix, &turn, &policy).await?;
        let log = self.log_path(&format!("{turn}.jsonl"));
        let run = self.new_agent_run(role, agent.kind(), &log);
        let (events, received) = mpsc::unbounded_channel();
        // The agent and the logger run side by side in this task: no thread hand-over per event.
        let (outcome, recorded_run) = tokio::join!(
            async {
                let outcome = agent.run(&request, &events, &self.cancel).await;
                drop(events);
                outcome
            },
            log_events(self.engine.clone(), run.clone(), received, log),
        );
        self.finish_run(run, recorded_run, &outcome)?;
        self.charge(outcome.usage.cost_usd)?;
        if let Some(failure) = outcome.failure {
            if let AgentFailure::RateLimited { reset_at, .. } = &failure {
                self.rate_limited_until = Some(rate_limit_end(*reset_at));
            }
            return Err(format!("{role} agent failed: {}", failure.describe()));
        }
        self.check_verify_scripts(role)?;
        let change = self.commit().await?;
        Ok(input_after(role, &outcome.text, change))
    }

    async fn agent_request(
        &mut self,
        role: Role,
        fix: Option<FixRequest>,
        turn: &str,
        policy: &AgentSandbox,
    ) -> Result<AgentRequest, String> {
        let context = self.prompt_context(role, fix).await?;
        let prompt = self
            .engine
            .prompts
            .render(role, &context)
            .map_err(|e| e.to_string())?;
        let prompt_file = self.scratch.join(format!("{turn}.prompt.md"));
        let confinement = self.agent_confinement(policy, &prompt_file).await?;
        Ok(AgentRequest {
            role,
            issue_id: self.issue.id.clone(),
            issue_title: self.issue.title.clone(),
            session_id: self.claim.session_id.clone(),
            prompt,
            workdir: self.workdir.clone(),
            prompt_file,
            confinement,
        })
    }

    /// The agent run's record; the log is named in it when logs are kept.
    fn new_agent_run(&self, role: Role, backend: &str, log: &Path) -> NewAgentRun {
        NewAgentRun {
            issue_id: self.issue.id.clone(),
            session_id: self.claim.session_id.clone(),
            role: role.as_str().into(),
            backend: backend.into(),
            host: self.engine.identity.host.clone(),
            pid: None,
            started_at: Timestamp::now(),
            log_ref: self
                .engine
                .settings
                .logs_dir
                .is_some()
                .then(|| log.display().to_string()),
        }
    }

    /// Writes the run's end: at once when the logger recorded its start, or with the
    /// session's next record for a run without a process.
    fn finish_run(
        &mut self,
        run: NewAgentRun,
        recorded_run: Option<i64>,
        outcome: &AgentOutcome,
    ) -> Result<(), String> {
        let usage = &outcome.usage;
        let end = AgentRunEnd {
            exit_code: outcome.exit_code,
            error: outcome.failure.as_ref().map(|f| f.describe()),
            model: usage.model.clone(),
            turns: usage.turns,
            tokens_in: usage.tokens_in,
            tokens_out: usage.tokens_out,
            tokens_cache: usage.tokens_cache,
            cost_usd: usage.cost_usd,
        };
        match recorded_run {
            Some(run_id) => self
                .engine
                .store
                .finish_agent_run(run_id, &end, Timestamp::now())
                .map_err(|e| e.to_string()),
            None => {
                self.finished_runs.push((run, end));
                Ok(())
            }
        }
    }

    /// Adds a turn's cost to the session's; an error once it is over the per-session budget.
    fn charge(&mut self, cost_usd: Option<f64>) -> Result<(), String> {
        self.spent_usd += cost_usd.unwrap_or(0.0);
        let budget = self.engine.settings.per_session_usd;
        if budget > 0.0 && self.spent_usd > budget {
            return Err(format!(
                "budget_exceeded: this session's agents cost ${:.4}, over the ${budget:.4} per session",
                self.spent_usd
            ));
        }
        Ok(())
    }

    fn next_turn(&mut self, what: &str) -> String {
        self.turns += 1;
        format!("{:02}-{what}", self.turns)
    }

    async fn prompt_context(
        &self,
        role: Role,
        fix: Option<FixRequest>,
    ) -> Result<PromptContext<'_>, String> {
        let reviewing = matches!(role, Role::SpecReviewer | Role::QualityReviewer);
        let diff = if reviewing {
            self.diff().await?
        } else {
            String::new()
        };
        let verify = VerifyContext {
            exit_code: self.last_verify.as_ref().map(|v| v.exit_code),
            output: self
                .last_verify
                .as_ref()
                .map(read_log_excerpt)
                .unwrap_or_default(),
        };
        let review = fix.map(review_context).unwrap_or_default();
        Ok(PromptContext {
            issue: &self.issue,
            base_branch: &self.engine.settings.base_branch,
            diff,
            verify,
            review,
            answer: self.answer.clone(),
            revise_question: self.revise.clone(),
        })
    }

    async fn diff(&self) -> Result<String, String> {
        let Some(workspace) = self.engine.workspace.clone() else {
            return Ok(String::new());
        };
        let (id, base) = (
            self.issue.id.clone(),
            self.engine.settings.base_branch.clone(),
        );
        tokio::task::spawn_blocking(move || workspace.diff(&id, &base, PROMPT_EXCERPT_BYTES))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }

    /// Commits what the turn changed, and says whether the branch then changes anything: asked
    /// of git after a commit, or before this session knew, else as it was (a turn that
    /// committed nothing left the branch as it found it).
    async fn commit(&mut self) -> Result<TurnChange, String> {
        let Some(workspace) = self.engine.workspace.clone() else {
            // No repository, no branch to compare with: nothing says the work is empty.
            return Ok(TurnChange {
                code_changed_at: None,
                branch_changed: true,
            });
        };
        let (id, title) = (self.issue.id.clone(), self.issue.title.clone());
        let base = self.engine.settings.base_branch.clone();
        // Work that cannot be committed is kept under this session's attempt ref.
        let attempt = self.claim.token as u32;
        let known = self.branch_changed;
        let change = tokio::task::spawn_blocking(move || {
            let commit = workspace.commit_all(&id, &title, attempt)?;
            let branch_changed = match (&commit, known) {
                (None, Some(known)) => known,
                _ => workspace.has_change(&id, &base)?,
            };
            Ok::<_, agentry_workspace::WorkspaceError>(TurnChange {
                code_changed_at: commit.map(|c| c.at),
                branch_changed,
            })
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        self.branch_changed = Some(change.branch_changed);
        Ok(change)
    }

    /// Runs the issue's verify commands in the worktree. An issue without any passes with
    /// evidence that says so.
    pub(crate) async fn verify(&mut self) -> Input {
        let workdir = self.workdir.clone();
        self.verify_in(&workdir, "verify").await
    }

    /// Runs the issue's verify commands in `dir`, logged as the turn named `what`.
    pub(crate) async fn verify_in(&mut self, dir: &Path, what: &str) -> Input {
        if self.issue.verify.is_empty() {
            let evidence = VerifyEvidence {
                command: "(no verify commands)".into(),
                exit_code: 0,
                produced_at: Timestamp::now(),
                output_ref: None,
            };
            self.last_verify = Some(evidence.clone());
            return Input::Verified(evidence);
        }
        let name = self.next_turn(what);
        let log = self.log_path(&format!("{name}.log"));
        let confinement = match self.verify_confinement(dir) {
            Ok(confinement) => confinement,
            Err(error) => return Input::Failed { error },
        };
        let started = std::time::Instant::now();
        let run = agentry_workspace::verify(
            &self.issue.verify,
            dir,
            self.engine.settings.verify_timeout,
            &log,
            // Recovery finds a killed run's verify commands by it, as it finds its agents.
            &[(SESSION_VAR.to_string(), self.claim.session_id.clone())],
            &confinement,
            &self.cancel,
        )
        .await;
        crate::timings::VERIFY_TIME.record(started.elapsed());
        match run {
            Ok(run) => {
                let evidence = VerifyEvidence {
                    command: run.command,
                    exit_code: run.exit_code,
                    produced_at: run.produced_at,
                    output_ref: Some(run.output_ref.display().to_string()),
                };
                self.last_verify = Some(evidence.clone());
                Input::Verified(evidence)
            }
            Err(e) => Input::Failed {
                error: format!("could not run the verify commands: {e}"),
            },
        }
    }

    fn log_path(&self, name: &str) -> PathBuf {
        self.logs.join(name)
    }
}

/// What a turn's commit left: when the code last changed (the commit's time, `None` without
/// a commit), and whether the branch changes anything against its fork point.
struct TurnChange {
    code_changed_at: Option<Timestamp>,
    branch_changed: bool,
}

/// The session's next input from what a successful turn answered.
fn input_after(role: Role, text: &str, change: TurnChange) -> Input {
    let TurnChange {
        code_changed_at,
        branch_changed,
    } = change;
    match role {
        Role::SpecReviewer | Role::QualityReviewer => Input::Reviewed {
            verdict: agentry_lean::review_verdict(text),
            code_changed_at,
            branch_changed,
        },
        Role::Implementer => match crate::question::read_question(text) {
            Some(asked) => Input::Asked {
                asked,
                code_changed_at,
                branch_changed,
            },
            None => Input::AgentDone {
                code_changed_at,
                branch_changed,
            },
        },
        Role::Fixer => Input::AgentDone {
            code_changed_at,
            branch_changed,
        },
    }
}

/// When a rate limit lifts: when the agent said, or after a pause when it did not.
fn rate_limit_end(reset_at: Option<i64>) -> Timestamp {
    const UNKNOWN_RESET_SECS: i64 = 60;
    match reset_at {
        Some(secs) => Timestamp::from_unix_micros(secs.saturating_mul(1_000_000)),
        None => Timestamp::now().plus_secs(UNKNOWN_RESET_SECS),
    }
}

fn review_context(fix: FixRequest) -> ReviewContext {
    let stage = match fix.review {
        Review::Spec => "spec",
        Review::Quality => "quality",
    };
    ReviewContext {
        stage: stage.into(),
        attempt: fix.attempt,
        failed_items: fix.failed_items,
        fix_list: fix.fix_list,
    }
}

fn read_log_excerpt(evidence: &VerifyEvidence) -> String {
    let Some(text) = evidence
        .output_ref
        .as_ref()
        .and_then(|path| std::fs::read(path).ok())
    else {
        return String::new();
    };
    let start = text.len().saturating_sub(PROMPT_EXCERPT_BYTES);
    String::from_utf8_lossy(&text[start..]).into_owned()
}

/// Records the run as soon as the agent has a process (so that a restarted orchestrator can
/// stop it) and keeps its normalised events in the turn's JSON Lines log, up to
/// `sandbox.max_log_mb` (its head and its tail); returns the run's id if it recorded it.
async fn log_events(
    engine: std::sync::Arc<crate::Engine>,
    run: NewAgentRun,
    mut events: mpsc::UnboundedReceiver<AgentEvent>,
    log: PathBuf,
) -> Option<i64> {
    let cap = engine.settings.sandbox.config.max_log_mb << 20;
    let mut file = open_log(&log, engine.settings.logs_dir.is_some(), cap);
    let mut run_id = None;
    while let Some(event) = events.recv().await {
        if let AgentEvent::Started { pid: Some(pid) } = event {
            let started = NewAgentRun {
                pid: Some(pid),
                ..run.clone()
            };
            match engine.store.start_agent_run(&started) {
                Ok(id) => run_id = Some(id),
                Err(e) => tracing::warn!(
                    operation = "agent_run",
                    pid,
                    "could not record the agent's process: {e}"
                ),
            }
        }
        if let Some(file) = file.as_mut() {
            let line = serde_json::json!({ "at": Timestamp::now(), "event": event });
            let _ = file.push(format!("{line}\n").as_bytes());
        }
    }
    if let Some(file) = file {
        let _ = file.finish();
    }
    run_id
}

fn open_log(path: &Path, keep: bool, cap: u64) -> Option<HeadTail<File>> {
    if !keep {
        return None;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .ok()?;
    Some(HeadTail::new(
        file,
        usize::try_from(cap).unwrap_or(usize::MAX),
    ))
}
