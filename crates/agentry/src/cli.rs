//! The command line, as clap parses it.

use std::path::PathBuf;

use agentry_core::alerts::Severity;
use agentry_core::config::{Allowed, SETTINGS};
use agentry_core::{IssueId, LinkKind, Status};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "agentry",
    version,
    about = "Runs AI coding agents over a backlog of issues."
)]
pub struct Cli {
    /// Run as if agentry was started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Set agentry up in this git repository: config, prompt templates and the store.
    Init,
    /// Create, read and change issues.
    #[command(subcommand)]
    Issue(Box<IssueCommand>),
    /// The issues an agent may start on now, in the order they will be taken.
    Ready {
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Run sessions on ready issues until stopped (SIGINT/SIGTERM), or until idle.
    Run(RunArgs),
    /// An issue's events, oldest first.
    Events {
        id: IssueId,
        #[arg(long)]
        json: bool,
        /// Keep printing new events as they come.
        #[arg(long)]
        follow: bool,
    },
    /// Agent runs, with tokens and cost, and their totals.
    Runs {
        /// Only this issue's runs.
        #[arg(long)]
        issue: Option<IssueId>,
        #[arg(long)]
        json: bool,
    },
    /// Close `needs_review` issues whose branch was merged into the base branch.
    MergeWatch {
        /// Look once and exit.
        #[arg(long)]
        once: bool,
    },
    /// Serve the HTTP API and metrics, and run the dispatcher beside them, until stopped.
    Serve {
        /// Where to listen (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:7878")]
        bind: std::net::SocketAddr,
        /// Serve only: run no sessions.
        #[arg(long)]
        no_dispatch: bool,
        /// Dispatch even while a recommended action says to investigate.
        #[arg(long)]
        force: bool,
    },
    /// The status snapshot: queue, sessions, flags, recent errors and recommended actions.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Runtime switches, kept in the store: list, enable or disable them.
    #[command(subcommand)]
    Flags(FlagsCommand),
    /// What is done (with evidence), pending (with reason), the risks and what comes next.
    Handoff {
        #[arg(long)]
        json: bool,
    },
    /// What changed since the last digest; "no change" when nothing did.
    SyncStatus {
        #[arg(long)]
        json: bool,
    },
    /// Reserve paths for an issue: the dispatcher starts no other issue whose scope may touch
    /// them until the lock is released or the issue is closed.
    ScopeLock(ScopeLockArgs),
    /// Find issue branches (in progress or in review) that change the same files or would
    /// conflict; name the later issue of each pair to freeze, its owner and the merge path.
    ConflictResolve {
        /// Freeze them: block each later issue with the reason.
        #[arg(long)]
        apply: bool,
        #[arg(long)]
        json: bool,
    },
    /// The planner: its health report.
    #[command(subcommand)]
    Planner(PlannerCommand),
    /// Plan a goal into issues (one issue as written while planning is off).
    Plan {
        goal: String,
        /// Create the plan's issues with their dependencies.
        #[arg(long)]
        apply: bool,
        #[arg(long)]
        json: bool,
    },
    /// Split an issue (e.g. one that overflowed) into smaller ones.
    Replan {
        id: IssueId,
        /// Why it is split; the planner is told.
        #[arg(long)]
        reason: Option<String>,
        /// Create the parts (linked to the issue as their parent) and block the issue.
        #[arg(long)]
        apply: bool,
        #[arg(long)]
        json: bool,
    },
    /// People assigned to review issues that wait on one.
    #[command(subcommand)]
    Reviews(ReviewsCommand),
    /// Prompt templates' versions: list, show, and choose the active one.
    #[command(subcommand)]
    Templates(TemplatesCommand),
    /// Put back what a crashed orchestrator left: stale claims and unheld in_progress issues.
    Recover {
        /// Recover even while an orchestrator's heartbeat is fresh.
        #[arg(long)]
        force: bool,
    },
    /// Write a consistent copy of the store to PATH (safe while agentry runs).
    Backup { path: PathBuf },
    /// Replace the store with the copy at PATH.
    Restore {
        path: PathBuf,
        /// Restore even while an orchestrator's heartbeat is fresh.
        #[arg(long)]
        force: bool,
    },
    /// Build a demo project in a new git repository and run agentry's whole loop on it.
    Demo {
        /// Where to create the demo repository (a new temporary folder if not given).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Check git, the agents' programs, the prompt templates, the store and the config.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Show or check the effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Ops alerts: send a test alert, list what was sent.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Print the JSON Schema of a packet: dispatch, review_verdict, question, debug, handoff.
    Schema { name: String },
    /// Read an agent's answer into a packet: each field with its confidence and source, and
    /// what is missing or invalid (exit 1 if any).
    Parse(ParseArgs),
    /// The lean parse's model fallbacks: their state, and clearing their queue.
    #[command(subcommand)]
    Lean(LeanCommand),
    /// Answer the question an issue is blocked on; the issue goes back in the queue and its
    /// next implementer prompt carries the answer.
    Answer { id: IssueId, text: String },
    /// Make an issue's next review strict: both reviewers must pass with no failed items, and
    /// verification runs again in a fresh worktree of its branch. The mark is used up when
    /// that review completes, whichever way it ends.
    ReviewHard {
        id: IssueId,
        #[arg(long)]
        json: bool,
    },
    /// Measure and print figures: the store, the session loop, worktree sessions, dispatch
    /// latency, parsing, the HTTP API (all of them when none is named, each in its own process).
    Bench {
        which: Option<BenchKind>,
        /// How many issues (defaults: store 20,000; loop 10,000; worktrees 200; dispatch 200;
        /// http 1,000).
        #[arg(long)]
        issues: Option<usize>,
    },
    /// Inside an agent's sandbox: relays its network to agentry's proxy and runs the agent.
    #[command(name = "sandbox-bridge", hide = true)]
    SandboxBridge {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

impl Command {
    /// Whether the command only reads and prints, so that it may simply stop when its output
    /// pipe closes. Others run agents or commands whose input pipes may close early.
    pub fn only_prints(&self) -> bool {
        matches!(
            self,
            Command::Issue(_)
                | Command::Ready { .. }
                | Command::Events { .. }
                | Command::Runs { .. }
                | Command::Config(_)
                | Command::Status { .. }
                | Command::Handoff { .. }
                | Command::Alerts(AlertsCommand::List { .. })
                | Command::Schema { .. }
                | Command::Parse(_)
                | Command::Lean(_)
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchKind {
    /// Ready queue, issue add and import on a store of generated issues.
    Store,
    /// Issues through the whole session loop, instant in-process agents, no worktrees.
    Loop,
    /// Sessions with command agents, real worktrees and verify commands, 4 workers.
    Worktrees,
    /// From an issue becoming ready to its SESSION_START, with a worker free.
    Dispatch,
    /// Reading Claude Code's stream-json output (recorded from the real program).
    StreamJson,
    /// Parsing the corpus of agent outputs into packets with the heuristics alone.
    Parse,
    /// `agentry serve` with 4 sessions running: GET /api/v1/tasks/{id} under load, and 500
    /// event streams.
    Http,
}

#[derive(Args)]
pub struct ParseArgs {
    /// A packet name (dispatch, review_verdict, question, debug, handoff) or a JSON Schema file.
    #[arg(long, value_name = "NAME|FILE")]
    pub schema: String,
    /// The answer to read ("-", the default, reads stdin).
    #[arg(value_name = "INPUT|-", default_value = "-")]
    pub input: PathBuf,
    #[arg(long)]
    pub json: bool,
    /// Parse even while a recommended action says to investigate the lean fallbacks.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args)]
pub struct RunArgs {
    /// Exit once no issue is ready and none is in progress.
    #[arg(long)]
    pub until_idle: bool,
    /// Sessions at once (overrides scheduling.max_workers), from 1 to 256.
    #[arg(long, value_parser = worker_count)]
    pub max_workers: Option<usize>,
    #[arg(long)]
    pub json: bool,
    /// Simulate one session on the synthetic issue i-dry1: no repository, an in-memory store,
    /// scripted agents.
    #[arg(long)]
    pub dry_run: bool,
    /// Dispatch even while a recommended action says to investigate.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args)]
pub struct ScopeLockArgs {
    /// The issue that holds the lock.
    #[arg(required_unless_present = "list")]
    pub id: Option<IssueId>,
    /// Paths or globs to add to its lock.
    #[arg(value_name = "GLOB")]
    pub globs: Vec<String>,
    /// End the issue's lock instead.
    #[arg(long, conflicts_with = "globs")]
    pub release: bool,
    /// Show every lock.
    #[arg(long, conflicts_with_all = ["id", "release"])]
    pub list: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum FlagsCommand {
    /// Every flag, its value and where the value came from.
    List {
        #[arg(long)]
        json: bool,
    },
    Enable {
        name: agentry_core::flags::Flag,
    },
    Disable {
        name: agentry_core::flags::Flag,
    },
}

#[derive(Subcommand)]
pub enum LeanCommand {
    /// The plan rewrite's and the field fallback's state objects.
    State {
        #[arg(long)]
        json: bool,
    },
    /// Empty the fallbacks' queues and clear their last errors, once their cause is dealt with.
    ClearQueue,
}

#[derive(Subcommand)]
pub enum PlannerCommand {
    /// Templates, backlog, recent failures and the alerts they raise, with a status.
    Health {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum TemplatesCommand {
    /// Each template: its active version, how many it has, where the active one came from.
    List {
        #[arg(long)]
        json: bool,
    },
    /// A template's text: version N, else the active version, else the latest.
    Show {
        name: String,
        #[arg(long)]
        version: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// Make version VERSION of a template the one prompts are rendered from.
    Activate { name: String, version: u32 },
    /// Leave a template without an active version (it is not rendered).
    Deactivate { name: String },
}

#[derive(Subcommand)]
pub enum ReviewsCommand {
    /// Every assignment, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Assign a person to review a needs_review or blocked issue.
    Assign { id: IssueId, reviewer: String },
}

#[derive(Subcommand)]
pub enum IssueCommand {
    /// Create an issue and print its id.
    Add(AddArgs),
    /// List issues.
    List {
        #[arg(long)]
        status: Option<Status>,
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show an issue with its links and events.
    Show {
        id: IssueId,
        #[arg(long)]
        json: bool,
    },
    /// Change an issue's fields or status.
    Update(UpdateArgs),
    /// Link two issues: FROM depends-on (or is related to, or has the parent) TO.
    Link {
        from: IssueId,
        to: IssueId,
        #[arg(long, default_value = "depends-on")]
        kind: LinkKind,
        /// Remove the link instead.
        #[arg(long)]
        remove: bool,
    },
    /// Close an issue.
    Close(StatusArgs),
    /// Put a closed, blocked or reviewed issue back in the queue.
    Reopen(StatusArgs),
    /// Import issues from JSON Lines: agentry's export or beads' issues.jsonl ("-" reads stdin).
    Import {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Write every issue with its links as JSON Lines to stdout.
    Export,
}

impl IssueCommand {
    /// Whether the command may change the ready queue.
    pub fn changes_issues(&self) -> bool {
        !matches!(
            self,
            IssueCommand::List { .. } | IssueCommand::Show { .. } | IssueCommand::Export
        )
    }
}

#[derive(Args)]
pub struct AddArgs {
    pub title: String,
    #[command(flatten)]
    pub body: BodyArgs,
    #[arg(long, default_value_t = 2)]
    pub priority: i64,
    #[command(flatten)]
    pub definition: DefinitionArgs,
    #[arg(long = "depends-on", value_name = "ID")]
    pub depends_on: Vec<IssueId>,
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
#[group(multiple = false)]
pub struct BodyArgs {
    #[arg(long)]
    pub body: Option<String>,
    /// Read the body from a file ("-" reads stdin).
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct UpdateArgs {
    pub id: IssueId,
    #[arg(long)]
    pub title: Option<String>,
    #[command(flatten)]
    pub body: BodyArgs,
    #[arg(long)]
    pub priority: Option<i64>,
    #[arg(long)]
    pub status: Option<Status>,
    /// Why the status changes; kept in its event.
    #[arg(long, default_value = "")]
    pub reason: String,
    /// When the issue may next be worked on (RFC 3339).
    #[arg(long)]
    pub ready_at: Option<agentry_core::Timestamp>,
    #[arg(long = "add-label", value_name = "LABEL")]
    pub add_labels: Vec<String>,
    #[arg(long = "remove-label", value_name = "LABEL")]
    pub remove_labels: Vec<String>,
    /// Each list given replaces the issue's list.
    #[command(flatten)]
    pub definition: DefinitionArgs,
    #[arg(long)]
    pub json: bool,
}

/// The issue's definition of done; every option may be repeated.
#[derive(Args)]
pub struct DefinitionArgs {
    /// A path or glob the work may touch.
    #[arg(long = "scope", value_name = "GLOB")]
    pub scope: Vec<String>,
    /// A shell command that proves the work is done.
    #[arg(long = "verify", value_name = "CMD")]
    pub verify: Vec<String>,
    /// Something that must hold when the work is done.
    #[arg(long = "done-when", value_name = "TEXT")]
    pub done_when: Vec<String>,
    /// Something the work must leave alone.
    #[arg(long = "not-your-job", value_name = "TEXT")]
    pub not_your_job: Vec<String>,
}

#[derive(Args)]
pub struct StatusArgs {
    pub id: IssueId,
    #[arg(long, default_value = "")]
    pub reason: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (file and environment).
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Check the configuration and say whether it is valid.
    Validate,
}

#[derive(Subcommand)]
pub enum AlertsCommand {
    /// Send one synthetic alert through the configured routes now (no debounce); say where it
    /// went and how it fared. Exits 1 if it was not delivered.
    Test {
        /// info, warning or error, which `severity:SEVERITY` routes match.
        #[arg(long, default_value = "error")]
        severity: Severity,
        /// The alert's id, which `alert:ID` routes match.
        #[arg(long, default_value = "agentry_test")]
        id: String,
    },
    /// The alert history (sent, failed, debounced, filtered), newest first.
    List {
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

/// `--max-workers` takes what the `scheduling.max_workers` setting takes.
fn worker_count(text: &str) -> Result<usize, String> {
    let allowed = SETTINGS
        .iter()
        .find(|s| (s.section, s.key) == ("scheduling", "max_workers"))
        .map(|s| s.allowed)
        .expect("scheduling.max_workers is a setting");
    let Allowed::Integer { min, max } = allowed else {
        unreachable!("scheduling.max_workers is a whole number");
    };
    match text.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n as usize),
        _ => Err(format!(
            "expected {}, as scheduling.max_workers",
            allowed.describe()
        )),
    }
}
