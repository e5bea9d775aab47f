//! Whether each configured agent can run here: its program found and its version, its script
//! present, or its API key set. `agentry doctor` and the tools diagnostics both ask.

use std::path::Path;
use std::time::Duration;

use agentry_core::config::{AgentConfig, AgentKind};
use agentry_process::{Confinement, Ending, Spec, pass_env};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// How long a program may take to print its version.
const VERSION_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone, Debug, Serialize)]
pub struct AgentProbe {
    pub agent: String,
    pub kind: AgentKind,
    pub found: bool,
    /// What was found (a version, a path, a URL), or what is wrong and what to do.
    pub detail: String,
}

/// Probes one configured agent; `root` is the repository that relative scripts live in.
pub async fn probe_agent(name: &str, agent: &AgentConfig, root: &Path) -> AgentProbe {
    let (found, detail) = match agent.kind {
        AgentKind::Scripted => script_found(agent.script.as_deref().unwrap_or_default(), root),
        AgentKind::Command => program_version(&agent.command[0], &agent.pass_env).await,
        AgentKind::Claude => {
            let program = agent.program.as_deref().unwrap_or("claude");
            program_version(program, &agent.pass_env).await
        }
        AgentKind::Codex => {
            let program = agent.program.as_deref().unwrap_or("codex");
            program_version(program, &agent.pass_env).await
        }
        AgentKind::Openai => api_key_set(agent),
        AgentKind::Acp => program_found(agent.program.as_deref().unwrap_or_default()),
    };
    AgentProbe {
        agent: name.to_string(),
        kind: agent.kind,
        found,
        detail,
    }
}

fn script_found(script: &str, root: &Path) -> (bool, String) {
    match root.join(script).is_file() {
        true => (true, format!("script {script}")),
        false => (false, format!("script {script} not found")),
    }
}

/// Whether an ACP agent's program exists. It is not run: it has no `--version`, it starts
/// serving on stdio.
fn program_found(program: &str) -> (bool, String) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = match program.contains('/') {
        true => Path::new(program).is_file(),
        false => std::env::split_paths(&path).any(|dir| dir.join(program).is_file()),
    };
    match found {
        true => (true, program.to_string()),
        false => (
            false,
            format!("{program}: not found (install it or set its path in the config)"),
        ),
    }
}

/// Whether an API agent's key variable is set; the API itself is not called, as that costs.
fn api_key_set(agent: &AgentConfig) -> (bool, String) {
    let url = agent.base_url.as_deref().unwrap_or_default();
    match agent.api_key_env.as_deref() {
        Some(name) if std::env::var_os(name).is_none_or(|key| key.is_empty()) => (
            false,
            format!("{url}: the API key variable {name} is not set"),
        ),
        _ => (true, url.to_string()),
    }
}

/// Whether `program` runs, and the first line of its `--version`.
pub async fn program_version(program: &str, pass: &[String]) -> (bool, String) {
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
        confinement: Confinement::default(),
    };
    let first_line = |text: &str| text.lines().next().unwrap_or_default().trim().to_string();
    let problem = |what: String| {
        (
            false,
            format!("{program}: {what} (install it or set its path in the config)"),
        )
    };
    match agentry_process::run(&spec, &CancellationToken::new(), |_| {}).await {
        Ok(finished) => match finished.ending {
            Ending::Exited(0) => (true, first_line(&finished.stdout.text)),
            ending => problem(format!(
                "--version ended {ending:?}: {}",
                first_line(&finished.stderr.text)
            )),
        },
        Err(err) => problem(err.to_string()),
    }
}
