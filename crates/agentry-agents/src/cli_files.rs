//! What an agent CLI keeps in its home: the state folder it must write to work, writable in
//! its sandbox, and its own config files, read-only even there, so that an agent cannot plant
//! commands or instructions that run the next time a person uses the CLI outside the sandbox.

use std::path::{Path, PathBuf};

use crate::AgentRequest;
use crate::child::AgentEnv;

/// Claude Code's settings (hooks, permissions), instructions and what runs as its commands,
/// under its state folder.
const CLAUDE_CONFIG: [&str; 8] = [
    "settings.json",
    "settings.local.json",
    "CLAUDE.md",
    "commands",
    "agents",
    "hooks",
    "skills",
    "plugins",
];
/// Codex's config (`notify`, MCP servers, profiles), instructions and command rules, under its
/// state folder.
const CODEX_CONFIG: [&str; 3] = ["config.toml", "AGENTS.md", "rules"];

#[derive(Clone, Debug, Default)]
pub(crate) struct CliFiles {
    state: Option<PathBuf>,
    config: Vec<PathBuf>,
}

impl CliFiles {
    /// Codex cannot run with a read-only state folder: `$CODEX_HOME`, else `~/.codex`.
    pub(crate) fn codex(env: &AgentEnv) -> Self {
        Self::in_state_folder(state_folder(env, "CODEX_HOME", ".codex"), &CODEX_CONFIG)
    }

    /// Claude Code runs with a read-only home, but its agent SDK (`claude-code-acp`) fails
    /// without its debug logs: `$CLAUDE_CONFIG_DIR`, else `~/.claude`. Its MCP servers, in
    /// `~/.claude.json`, stay read-only with the home.
    pub(crate) fn claude(env: &AgentEnv) -> Self {
        let state = state_folder(env, "CLAUDE_CONFIG_DIR", ".claude");
        let mut files = Self::in_state_folder(state, &CLAUDE_CONFIG);
        let home = env.value("HOME").map(PathBuf::from);
        files
            .config
            .extend(home.map(|home| home.join(".claude.json")));
        files
    }

    fn in_state_folder(state: Option<PathBuf>, config: &[&str]) -> Self {
        let config = state
            .iter()
            .flat_map(|dir| config.iter().map(|file| dir.join(file)));
        Self {
            config: config.collect(),
            state,
        }
    }

    /// The request with the state folder writable and the config files read-only in its
    /// sandbox; the folder is made first, as the CLI could not make it inside.
    pub(crate) fn confine(&self, request: &AgentRequest) -> AgentRequest {
        let mut request = request.clone();
        if let Some(sandbox) = request.confinement.sandbox.as_mut() {
            if let Some(state) = &self.state {
                // A folder that cannot be made stays out of the sandbox; the CLI says why.
                let _ = std::fs::create_dir_all(state);
                sandbox.writable.push(state.clone());
            }
            sandbox.read_only.extend(self.config.iter().cloned());
        }
        request
    }
}

/// The folder `variable` names in the agent's environment, else `folder` in its home.
fn state_folder(env: &AgentEnv, variable: &str, folder: &str) -> Option<PathBuf> {
    env.value(variable)
        .map(PathBuf::from)
        .or_else(|| env.value("HOME").map(|home| Path::new(&home).join(folder)))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use agentry_core::Role;
    use agentry_core::config::{AgentConfig, AgentKind};
    use agentry_process::{Confinement, Sandbox};

    use super::*;

    fn request(sandbox: Option<Sandbox>) -> AgentRequest {
        AgentRequest {
            role: Role::Implementer,
            issue_id: "i-1".parse().unwrap(),
            issue_title: "t".into(),
            session_id: "s".into(),
            prompt: "p".into(),
            workdir: "/w".into(),
            prompt_file: "/p".into(),
            confinement: Confinement {
                sandbox,
                max_file_bytes: None,
            },
        }
    }

    fn env(vars: &[(&str, &str)]) -> AgentEnv {
        let config = AgentConfig {
            env: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            pass_env: Vec::new(),
            ..AgentConfig::new(AgentKind::Codex)
        };
        AgentEnv::from_config(&config)
    }

    #[test]
    fn codex_writes_its_state_folder_but_not_its_config() {
        let state = tempfile::tempdir().unwrap();
        let codex_home = state.path().join("codex");
        let files = CliFiles::codex(&env(&[("CODEX_HOME", codex_home.to_str().unwrap())]));
        let confined = files.confine(&request(Some(Sandbox::default())));
        let sandbox = confined.confinement.sandbox.unwrap();
        assert_eq!(sandbox.writable, std::slice::from_ref(&codex_home));
        assert!(codex_home.is_dir(), "made before the sandbox binds it");
        assert_eq!(
            sandbox.read_only,
            CODEX_CONFIG.map(|file| codex_home.join(file))
        );
        let unconfined = files.confine(&request(None));
        assert_eq!(unconfined.confinement.sandbox, None);
    }

    #[test]
    fn state_folders_default_to_the_home() {
        let home = env(&[("HOME", "/home/a")]);
        let codex = CliFiles::codex(&home);
        assert_eq!(codex.state.as_deref(), Some(Path::new("/home/a/.codex")));
        let claude = CliFiles::claude(&home);
        assert_eq!(claude.state.as_deref(), Some(Path::new("/home/a/.claude")));
        for config in ["/home/a/.claude/settings.json", "/home/a/.claude.json"] {
            assert!(claude.config.contains(&PathBuf::from(config)), "{config}");
        }
        assert_eq!(CliFiles::claude(&env(&[])).state, None);
    }
}
