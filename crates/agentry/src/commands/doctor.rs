//! `agentry doctor`: what agentry needs, found or not, and what to do about it.

use std::path::Path;
use std::time::Duration;

use agentry_core::config::{AgentConfig, AgentKind};
use agentry_process::{Ending, Spec, pass_env};
use anyhow::Result;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::engine::runtime;
use crate::error::usage;
use crate::output;
use crate::project::{PROMPTS_DIR, Project};

/// How long a program may take to print its version.
const VERSION_TIMEOUT: Duration = Duration::from_secs(20);

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
            println!(
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
    checks.push(match project.open_store() {
        Ok(_) => Check {
            what: "store".into(),
            ok: true,
            detail: config.store.path.clone(),
        },
        Err(err) => Check {
            what: "store".into(),
            ok: false,
            detail: crate::error::one_line(&err),
        },
    });
    checks.push(
        match agentry_engine::Prompts::load(Some(&project.root.join(PROMPTS_DIR))) {
            Ok(_) => Check {
                what: "prompt templates".into(),
                ok: true,
                detail: "all four load".into(),
            },
            Err(err) => Check {
                what: "prompt templates".into(),
                ok: false,
                detail: err.to_string(),
            },
        },
    );
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
    checks
}

fn agent_check(name: &str, agent: &AgentConfig, root: &Path) -> Check {
    let what = format!("agent {name}");
    match agent.kind {
        AgentKind::Scripted => {
            let script = agent.script.as_deref().unwrap_or_default();
            let ok = root.join(script).is_file();
            let detail = if ok {
                format!("script {script}")
            } else {
                format!("script {script} not found")
            };
            Check { what, ok, detail }
        }
        AgentKind::Command => program_check(&what, &agent.command[0], &agent.pass_env),
        AgentKind::Claude => {
            let program = agent.program.as_deref().unwrap_or("claude");
            program_check(&what, program, &agent.pass_env)
        }
        AgentKind::Openai => api_key_check(what, agent),
        AgentKind::Codex => {
            let program = agent.program.as_deref().unwrap_or("codex");
            program_check(&what, program, &agent.pass_env)
        }
        AgentKind::Acp => found_check(what, agent.program.as_deref().unwrap_or_default()),
    }
}

/// Whether an ACP agent's program exists. It is not run: it has no `--version`, it starts
/// serving on stdio.
fn found_check(what: String, program: &str) -> Check {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = match program.contains('/') {
        true => Path::new(program).is_file(),
        false => std::env::split_paths(&path).any(|dir| dir.join(program).is_file()),
    };
    let detail = match found {
        true => program.to_string(),
        false => format!("{program}: not found (install it or set its path in the config)"),
    };
    Check {
        what,
        ok: found,
        detail,
    }
}

/// Whether an API agent's key variable is set; the API itself is not called, as that costs.
fn api_key_check(what: String, agent: &AgentConfig) -> Check {
    let url = agent.base_url.as_deref().unwrap_or_default();
    match agent.api_key_env.as_deref() {
        Some(name) if std::env::var_os(name).is_none_or(|key| key.is_empty()) => Check {
            what,
            ok: false,
            detail: format!("{url}: the API key variable {name} is not set"),
        },
        _ => Check {
            what,
            ok: true,
            detail: url.to_string(),
        },
    }
}

/// Whether `program` runs, and the first line of its `--version`.
fn program_check(what: &str, program: &str, pass: &[String]) -> Check {
    let what = what.to_string();
    match version_of(program, pass) {
        Ok(version) => Check {
            what,
            ok: true,
            detail: version,
        },
        Err(err) => Check {
            what,
            ok: false,
            detail: format!("{program}: {err} (install it or set its path in the config)"),
        },
    }
}

fn version_of(program: &str, pass: &[String]) -> Result<String> {
    let mut env = pass_env(pass);
    env.extend(pass_env(&["PATH"]));
    let spec = Spec {
        program: program.to_string(),
        args: vec!["--version".into()],
        cwd: std::env::temp_dir(),
        env,
        stdin: Vec::new(),
        timeout: VERSION_TIMEOUT,
        idle_timeout: None,
        output_cap: 64 * 1024,
        grace: Duration::from_secs(1),
    };
    let finished = runtime()?.block_on(agentry_process::run(
        &spec,
        &CancellationToken::new(),
        |_| {},
    ))?;
    let first_line = |text: &str| text.lines().next().unwrap_or_default().trim().to_string();
    match finished.ending {
        Ending::Exited(0) => Ok(first_line(&finished.stdout.text)),
        ending => Err(usage(format!(
            "--version ended {ending:?}: {}",
            first_line(&finished.stderr.text)
        ))),
    }
}
