//! `agentry doctor`: what agentry needs, found or not, and what to do about it.

use std::path::Path;

use agentry_core::config::{AgentConfig, AgentKind, Config, NetworkMode};
use agentry_core::sandbox::{AgentSandbox, Containment, containment};
use agentry_engine::templates::summaries;
use agentry_store::{SqliteStore, Store};
use anyhow::Result;
use serde::Serialize;

use super::engine::runtime;
use crate::output::{self, outln};
use crate::project::Project;

#[derive(Serialize)]
struct Check {
    what: String,
    ok: bool,
    /// What was found (a version, a path), or what to do.
    detail: String,
}

pub fn run(dir: &Path, json: bool) -> Result<()> {
    let mut checks = vec![program_check("git", "git", &[])];
    match Project::find(dir) {
        Ok(project) => checks.extend(project_checks(&project)),
        Err(err) => checks.push(Check {
            what: "config".into(),
            ok: false,
            detail: crate::error::one_line(&err),
        }),
    }
    if json {
        output::json(&checks)?;
    } else {
        for check in &checks {
            outln!(
                "{:<4} {:<28} {}",
                if check.ok { "ok" } else { "FIX" },
                check.what,
                check.detail
            );
        }
    }
    match checks.iter().filter(|c| !c.ok).count() {
        0 => Ok(()),
        n => Err(anyhow::Error::new(DoctorFound(n))),
    }
}

/// Problems found; the table says which.
#[derive(Debug, thiserror::Error)]
#[error("{0} problem(s) to fix; see the table above")]
pub struct DoctorFound(usize);

fn project_checks(project: &Project) -> Vec<Check> {
    let config = &project.config;
    let mut checks = vec![Check {
        what: "config".into(),
        ok: true,
        detail: "valid".into(),
    }];
    let store = project.open_store();
    checks.push(store_check(&config.store.path, &store));
    if let Ok(store) = &store {
        checks.push(templates_check(project, store));
    }
    for role in agentry_core::Role::ALL {
        if config.roles.agent_for(role).is_none() {
            let detail = format!("no agent: set roles.{role} to an [agents.NAME] table");
            checks.push(Check {
                what: format!("role {role}"),
                ok: false,
                detail,
            });
        }
    }
    for (name, agent) in &config.agents {
        checks.push(agent_check(name, agent, &project.root));
    }
    checks.extend(sandbox_checks(config));
    checks
}

/// Whether a sandbox works here, and how each agent and the verify commands are held in.
fn sandbox_checks(config: &Config) -> Vec<Check> {
    let available = agentry_process::sandbox::bwrap().map(|_| ());
    let home = std::env::var("HOME").ok();
    let mut checks = vec![Check {
        what: "sandbox".into(),
        ok: true,
        detail: match agentry_process::sandbox::bwrap() {
            Ok(bwrap) => format!("bubblewrap ({})", bwrap.display()),
            Err(why) => format!("none here: {why}"),
        },
    }];
    for (name, agent) in &config.agents {
        let what = format!("sandbox of agent {name}");
        checks.push(match agent.kind {
            AgentKind::Openai => Check {
                what,
                ok: true,
                detail: "none needed: it runs no program".into(),
            },
            _ => contained(
                what,
                &config.sandbox.for_agent(agent, home.as_deref()),
                available,
            ),
        });
    }
    let verify = config.sandbox.for_verify(home.as_deref());
    checks.push(contained(
        "sandbox of verify commands".into(),
        &verify,
        available,
    ));
    checks
}

/// The sandbox `policy` gets where `available` says whether bubblewrap works.
fn contained(what: String, policy: &AgentSandbox, available: Result<(), &str>) -> Check {
    let (ok, detail) = match containment(policy.mode, available) {
        Containment::Sandboxed => (true, format!("bwrap, {}", network(policy))),
        Containment::Unconfined { warning: None } => (true, "none: its sandbox is off".into()),
        Containment::Unconfined { warning: Some(_) } => {
            (true, "none: no sandbox here, so it runs unconfined".into())
        }
        Containment::Refused(why) => (false, why),
    };
    Check { what, ok, detail }
}

fn network(policy: &AgentSandbox) -> String {
    match policy.network {
        NetworkMode::Host => "network host".into(),
        NetworkMode::None => "network none".into(),
        NetworkMode::Allow => format!("network allow: {}", policy.allow_hosts.join(", ")),
    }
}

/// The store opens, and SQLite's integrity check finds nothing wrong in it.
fn store_check(path: &str, store: &Result<SqliteStore>) -> Check {
    let (ok, detail) = match store.as_ref().map(SqliteStore::integrity_problems) {
        Err(err) => (false, crate::error::one_line(err)),
        Ok(Ok(problems)) if problems.is_empty() => (true, path.to_string()),
        Ok(Ok(problems)) => (false, damaged(path, &problems.join("; "))),
        Ok(Err(err)) => (false, damaged(path, &err.to_string())),
    };
    Check {
        what: "store".into(),
        ok,
        detail,
    }
}

fn damaged(path: &str, problems: &str) -> String {
    let problems = problems.replace('\n', " ");
    format!("{path} is damaged ({problems}): put a backup back with `agentry restore FILE`")
}

/// The prompt templates, brought up to date with `.agentry/prompts/`: each file compiles and
/// each template has an active version.
fn templates_check(project: &Project, store: &SqliteStore) -> Check {
    let listed = super::engine::seed_templates(project, store)
        .and_then(|()| Ok(summaries(&store.templates()?)));
    let (ok, detail) = match listed {
        Err(err) => (false, crate::error::one_line(&err)),
        Ok(list) => {
            let inactive: Vec<&str> = list
                .iter()
                .filter(|t| t.active_version.is_none())
                .map(|t| t.name.as_str())
                .collect();
            match inactive.is_empty() {
                true => (true, format!("{} active", list.len())),
                false => (
                    false,
                    format!(
                        "no active version: {} (agentry templates activate NAME VERSION)",
                        inactive.join(", ")
                    ),
                ),
            }
        }
    };
    Check {
        what: "prompt templates".into(),
        ok,
        detail,
    }
}

fn agent_check(name: &str, agent: &AgentConfig, root: &Path) -> Check {
    let probe = match runtime() {
        Ok(rt) => rt.block_on(agentry_engine::probe::probe_agent(name, agent, root)),
        Err(err) => {
            return Check {
                what: format!("agent {name}"),
                ok: false,
                detail: crate::error::one_line(&err),
            };
        }
    };
    Check {
        what: format!("agent {name}"),
        ok: probe.found,
        detail: probe.detail,
    }
}

/// Whether `program` runs, and the first line of its `--version`.
fn program_check(what: &str, program: &str, pass: &[String]) -> Check {
    let (ok, detail) = match runtime() {
        Ok(rt) => rt.block_on(agentry_engine::probe::program_version(program, pass)),
        Err(err) => (false, crate::error::one_line(&err)),
    };
    Check {
        what: what.to_string(),
        ok,
        detail,
    }
}
