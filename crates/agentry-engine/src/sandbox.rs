//! How each agent run and verify run is held in: the config's decisions
//! ([`agentry_core::sandbox`]) with the run's own paths. The worktree is writable; the
//! repository (and its `.git`) read-only, with the worktree's `.git` link, the verify scripts
//! and the prompt file; `.agentry/` and the store hidden.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use agentry_core::config::{AgentConfig, Config, NetworkMode, SandboxConfig};
use agentry_core::sandbox::{AgentSandbox, Containment, containment};
use agentry_process::sandbox::{AllowList, Network, Proxied};
use agentry_process::{Confinement, Sandbox};

use crate::driver::SessionRun;

/// What the sandboxes of a run are made of.
#[derive(Clone, Debug)]
pub struct SandboxSettings {
    pub config: SandboxConfig,
    /// The repository and its store, when the run has them.
    pub project: Option<ProjectPaths>,
    /// agentry's own binary, which bridges the network into a sandbox whose hosts are
    /// limited.
    pub bridge: Option<PathBuf>,
    /// agentry's own HOME.
    pub home: Option<String>,
}

/// Where a project's files are.
#[derive(Clone, Debug)]
pub struct ProjectPaths {
    /// The repository; its `.agentry/` folder holds the config, logs, worktrees and the store.
    pub root: PathBuf,
    /// The store's file, which may lie elsewhere.
    pub store: PathBuf,
}

/// What a run may do besides working in its folder.
pub(crate) struct RunPaths<'a> {
    /// Its working folder, writable unless None (a planner only reads).
    pub(crate) workdir: Option<&'a Path>,
    /// Files it may read but not change.
    pub(crate) read_only: Vec<PathBuf>,
}

impl SandboxSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            config: config.sandbox.clone(),
            project: None,
            bridge: std::env::current_exe().ok(),
            home: std::env::var("HOME").ok(),
        }
    }

    /// The project at `root` whose config is `config`.
    pub fn for_project(config: &Config, root: &Path) -> Self {
        Self {
            project: Some(ProjectPaths {
                root: root.to_path_buf(),
                store: root.join(&config.store.path),
            }),
            ..Self::from_config(config)
        }
    }

    /// The sandbox of the verify commands.
    pub(crate) fn for_verify(&self) -> AgentSandbox {
        self.config.for_verify(self.home.as_deref())
    }

    /// How a run under `policy` is held in: its sandbox, unless there is none (logged) or the
    /// mode allows none (the error).
    pub(crate) fn confinement(
        &self,
        policy: &AgentSandbox,
        run: RunPaths,
    ) -> Result<Confinement, String> {
        let available = agentry_process::sandbox::bwrap().map(|_| ());
        let sandbox = match containment(policy.mode, available) {
            Containment::Sandboxed => Some(self.sandbox(policy, run)?),
            Containment::Unconfined { warning } => {
                if let Some(warning) = warning {
                    warn_once(&warning);
                }
                None
            }
            Containment::Refused(why) => return Err(why),
        };
        Ok(Confinement {
            sandbox,
            max_file_bytes: Some(self.config.max_file_mb << 20),
        })
    }

    fn sandbox(&self, policy: &AgentSandbox, run: RunPaths) -> Result<Sandbox, String> {
        let mut sandbox = Sandbox {
            writable: policy.writable.iter().map(PathBuf::from).collect(),
            read_only: run.read_only,
            hidden: policy.hidden.iter().map(PathBuf::from).collect(),
            visible: policy.home.iter().map(PathBuf::from).collect(),
            network: self.network(policy)?,
        };
        if let Some(workdir) = run.workdir {
            sandbox.writable.push(workdir.to_path_buf());
            // agentry makes the commits: the link to the repository stays as it is.
            sandbox.read_only.push(workdir.join(".git"));
        }
        if let Some(project) = &self.project {
            sandbox.visible.push(project.root.clone());
            // Read-only even where a writable path takes the repository in.
            sandbox.read_only.push(project.root.join(".git"));
            sandbox.hidden.push(project.root.join(".agentry"));
            sandbox.hidden.extend(
                ["", "-wal", "-shm", "-journal"].map(|suffix| with_suffix(&project.store, suffix)),
            );
        }
        Ok(sandbox)
    }

    fn network(&self, policy: &AgentSandbox) -> Result<Network, String> {
        Ok(match policy.network {
            NetworkMode::Host => Network::Host,
            NetworkMode::None => Network::None,
            NetworkMode::Allow => Network::Allow(Proxied {
                hosts: AllowList::parse(&policy.allow_hosts)
                    .map_err(|e| format!("allow_hosts: {e}"))?,
                bridge: self.bridge.clone().ok_or(
                    "network = \"allow\" needs agentry's own binary to bridge the network, and it cannot be found",
                )?,
                loopback_ports: policy.loopback_ports.clone(),
            }),
        })
    }
}

/// Logs a warning the first time this process meets it: a run says that it has no sandbox,
/// without saying it again for every agent turn and verify command.
fn warn_once(warning: &str) {
    static SAID: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut said = SAID.lock().unwrap_or_else(PoisonError::into_inner);
    if said.insert(warning.to_string()) {
        tracing::warn!(operation = "sandbox", "{warning}");
    }
}

impl SessionRun {
    /// The sandbox the agent's config asks for; an agent built without one (a test double)
    /// gets the verify commands'.
    pub(crate) fn agent_sandbox(&self, config: Option<&AgentConfig>) -> AgentSandbox {
        let sandbox = &self.engine.settings.sandbox;
        match config {
            Some(config) => sandbox.config.for_agent(config, sandbox.home.as_deref()),
            None => sandbox.for_verify(),
        }
    }

    /// How the turn's agent is held in: its worktree writable; the verify scripts and its
    /// prompt file read-only.
    pub(crate) async fn agent_confinement(
        &mut self,
        policy: &AgentSandbox,
        prompt_file: &Path,
    ) -> Result<Confinement, String> {
        let mut read_only = self.verify_files().await?.paths(&self.workdir);
        read_only.push(prompt_file.to_path_buf());
        let run = RunPaths {
            workdir: Some(&self.workdir),
            read_only,
        };
        self.engine.settings.sandbox.confinement(policy, run)
    }

    /// Verify commands run like an agent in `dir`, writing only there.
    pub(crate) fn verify_confinement(&self, dir: &Path) -> Result<Confinement, String> {
        let sandbox = &self.engine.settings.sandbox;
        let run = RunPaths {
            workdir: Some(dir),
            read_only: Vec::new(),
        };
        sandbox.confinement(&sandbox.for_verify(), run)
    }
}

/// How a model agent that only answers (a planner, the lean fallbacks) is held in: it may read
/// the repository and write nothing.
#[derive(Clone, Debug)]
pub(crate) struct ReadingAgent {
    settings: SandboxSettings,
    policy: AgentSandbox,
}

impl ReadingAgent {
    pub(crate) fn new(config: &Config, agent: &AgentConfig, root: &Path) -> Self {
        let settings = SandboxSettings::for_project(config, root);
        let policy = config.sandbox.for_agent(agent, settings.home.as_deref());
        Self { settings, policy }
    }

    pub(crate) fn confinement(&self, prompt_file: &Path) -> Result<Confinement, String> {
        let run = RunPaths {
            workdir: None,
            read_only: vec![prompt_file.to_path_buf()],
        };
        self.settings.confinement(&self.policy, run)
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
