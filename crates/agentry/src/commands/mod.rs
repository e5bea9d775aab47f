//! One module per subcommand; each takes parsed arguments and prints its result.

mod alerts;
mod answer;
mod backup;
mod bench;
mod config;
mod conflict_resolve;
mod demo;
mod doctor;
mod engine;
mod events;
mod flags;
mod guard;
mod handoff;
mod init;
mod issue_add;
mod issue_import;
mod issue_list;
mod issue_show;
mod issue_status;
mod issue_update;
mod lean;
mod parse;
mod plan;
mod planner_health;
mod ready;
mod recover;
mod review_hard;
mod reviews;
mod run;
mod runs;
mod schema;
mod scope_lock;
mod serve;
mod status;
mod sync_status;
mod templates;

pub use guard::GuardRefusal;

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command, IssueCommand, PlannerCommand};
use crate::project::Project;

pub fn run(cli: Cli) -> Result<()> {
    let dir = match cli.dir {
        Some(dir) => dir,
        None => std::env::current_dir().context("could not read the current directory")?,
    };
    if cli.command.only_prints() {
        die_quietly_on_closed_stdout();
    }
    match cli.command {
        Command::Init => init::run(&dir),
        Command::Bench { which, issues } => bench::run(which, issues),
        // The agent's exit code is the bridge's.
        Command::SandboxBridge { args } => {
            std::process::exit(agentry_process::sandbox::run_bridge(&args))
        }
        Command::Config(command) => config::run(&dir, command),
        Command::Alerts(command) => alerts::run(&Project::find(&dir)?, command),
        Command::Ready { limit, json } => ready::run(&Project::find(&dir)?, limit, json),
        Command::Run(args) if args.dry_run => run::dry_run(),
        Command::Run(args) => run::run(&Project::find(&dir)?, args),
        Command::Events { id, json, follow } => {
            events::run(&Project::find(&dir)?, &id, json, follow)
        }
        Command::Runs { issue, json } => runs::run(&Project::find(&dir)?, issue.as_ref(), json),
        Command::MergeWatch { once } => run::merge_watch(&Project::find(&dir)?, once),
        Command::Serve {
            bind,
            no_dispatch,
            force,
        } => serve::run(&Project::find(&dir)?, bind, no_dispatch, force),
        Command::Handoff { json } => handoff::run(&Project::find(&dir)?, json),
        Command::SyncStatus { json } => sync_status::run(&Project::find(&dir)?, json),
        Command::Status { json } => status::run(&Project::find(&dir)?, json),
        Command::Flags(command) => flags::run(&Project::find(&dir)?, command),
        Command::Planner(PlannerCommand::Health { json }) => {
            planner_health::run(&Project::find(&dir)?, json)
        }
        Command::ScopeLock(args) => scope_lock::run(&Project::find(&dir)?, args),
        Command::ConflictResolve { apply, json } => {
            conflict_resolve::run(&Project::find(&dir)?, apply, json)
        }
        Command::Plan { goal, apply, json } => plan::run(
            &Project::find(&dir)?,
            plan::Request::Goal(goal),
            apply,
            json,
        ),
        Command::Replan {
            id,
            reason,
            apply,
            json,
        } => plan::run(
            &Project::find(&dir)?,
            plan::Request::Replan { id, reason },
            apply,
            json,
        ),
        Command::Reviews(command) => reviews::run(&Project::find(&dir)?, command),
        Command::Templates(command) => templates::run(&Project::find(&dir)?, command),
        Command::Recover { force } => recover::run(&Project::find(&dir)?, force),
        Command::Backup { path } => backup::backup(&Project::find(&dir)?, &path),
        Command::Restore { path, force } => backup::restore(&Project::find(&dir)?, &path, force),
        Command::Demo { dir: target } => demo::run(target),
        Command::Doctor { json } => doctor::run(&dir, json),
        Command::Schema { name } => schema::run(&name),
        Command::Parse(args) => parse::run(&dir, args),
        Command::Lean(command) => lean::run(&Project::find(&dir)?, command),
        Command::Issue(command) => run_issue(&Project::find(&dir)?, *command),
        Command::Answer { id, text } => answer::run(&Project::find(&dir)?, &id, &text),
        Command::ReviewHard { id, json } => review_hard::run(&Project::find(&dir)?, &id, json),
    }
}

/// A read command piped into `head` should just stop when the pipe closes. Commands that
/// feed child processes keep SIGPIPE ignored, so a child that exits early cannot kill them.
fn die_quietly_on_closed_stdout() {
    // SAFETY: restoring the default action of one signal before any thread is started.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

fn run_issue(project: &Project, command: IssueCommand) -> Result<()> {
    let changes_issues = command.changes_issues();
    let result = issue_command(project, command);
    if result.is_ok() && changes_issues {
        // A running dispatcher looks at the queue now rather than at its next tick.
        agentry_engine::wake::wake_dispatchers(&project.root.join(engine::RUNTIME_DIR));
    }
    result
}

fn issue_command(project: &Project, command: IssueCommand) -> Result<()> {
    match command {
        IssueCommand::Add(args) => issue_add::run(project, args),
        IssueCommand::List {
            status,
            label,
            json,
        } => issue_list::run(project, status, label, json),
        IssueCommand::Show { id, json } => issue_show::run(project, &id, json),
        IssueCommand::Update(args) => issue_update::run(project, args),
        IssueCommand::Link {
            from,
            to,
            kind,
            remove,
        } => issue_status::link(project, from, to, kind, remove),
        IssueCommand::Close(args) => issue_status::close(project, args),
        IssueCommand::Reopen(args) => issue_status::reopen(project, args),
        IssueCommand::Import { file, json } => issue_import::import(project, &file, json),
        IssueCommand::Export => issue_import::export(project),
    }
}

/// Reads a file, or stdin for "-".
fn read_input(path: &PathBuf) -> Result<String> {
    if path.as_os_str() == "-" {
        return std::io::read_to_string(std::io::stdin()).context("could not read stdin");
    }
    std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))
}

/// The body given by `--body` or `--body-file`, if either was.
fn body_of(args: &crate::cli::BodyArgs) -> Result<Option<String>> {
    match (&args.body, &args.body_file) {
        (Some(body), _) => Ok(Some(body.clone())),
        (None, Some(file)) => read_input(file).map(Some),
        (None, None) => Ok(None),
    }
}
