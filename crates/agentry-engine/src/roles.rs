//! The agent that plays each role, built from `[roles]` and `[agents.NAME]`; an issue that
//! names its agent (a plan's step does, with the label `agent:NAME`) is implemented and fixed
//! by that one. Each comes with the config its sandbox is made from.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use agentry_agents::{Agent, AgentError, build};
use agentry_core::config::{AgentConfig, Config};
use agentry_core::{Issue, Role};
use agentry_process::sandbox::AllowList;

#[derive(Clone, Default)]
pub struct RoleAgents {
    agents: HashMap<Role, Arc<dyn Agent>>,
    /// The name of each role's agent, where it has one.
    names: HashMap<Role, String>,
    /// The agents issues may name, and where to build them.
    configs: BTreeMap<String, AgentConfig>,
    root: PathBuf,
    /// The named agents built so far, each once.
    named: Arc<Mutex<HashMap<String, Arc<dyn Agent>>>>,
}

impl RoleAgents {
    /// Builds every configured role's agent once; roles may share an agent. An agent whose
    /// sandbox would allow something that is not a host is refused here, before any run.
    pub fn from_config(config: &Config, root: &Path) -> Result<Self, AgentError> {
        for (name, agent) in &config.agents {
            check_allowed_hosts(name, agent, config)?;
        }
        let mut built: HashMap<&str, Arc<dyn Agent>> = HashMap::new();
        let mut agents = HashMap::new();
        let mut names = HashMap::new();
        for role in Role::ALL {
            let Some(name) = config.roles.agent_for(role) else {
                continue;
            };
            names.insert(role, name.to_string());
            let agent = match built.get(name) {
                Some(agent) => Arc::clone(agent),
                None => {
                    let agent = build(name, &config.agents[name], root)?;
                    built.insert(name, Arc::clone(&agent));
                    agent
                }
            };
            agents.insert(role, agent);
        }
        Ok(Self {
            agents,
            names,
            configs: config.agents.clone(),
            root: root.to_path_buf(),
            named: Arc::new(Mutex::new(
                built.into_iter().map(|(n, a)| (n.to_string(), a)).collect(),
            )),
        })
    }

    /// The same agent for every role.
    pub fn all(agent: Arc<dyn Agent>) -> Self {
        Self {
            agents: Role::ALL
                .into_iter()
                .map(|role| (role, Arc::clone(&agent)))
                .collect(),
            ..Self::default()
        }
    }

    pub fn get(&self, role: Role) -> Option<&Arc<dyn Agent>> {
        self.agents.get(&role)
    }

    /// The agent for `role` on `issue`: the one the issue names, for the roles that write
    /// code, when it is configured; else the role's. With it, its config, when it was built
    /// from one.
    pub fn for_issue(
        &self,
        role: Role,
        issue: &Issue,
    ) -> Result<(Arc<dyn Agent>, Option<&AgentConfig>), String> {
        let named = issue
            .named_agent()
            .filter(|_| matches!(role, Role::Implementer | Role::Fixer));
        match named {
            Some(name) => Ok((self.named(name)?, self.configs.get(name))),
            None => {
                let agent = self
                    .get(role)
                    .cloned()
                    .ok_or_else(|| format!("no agent is configured for the {role} role"))?;
                let config = self
                    .names
                    .get(&role)
                    .and_then(|name| self.configs.get(name));
                Ok((agent, config))
            }
        }
    }

    /// The agent `[agents.NAME]` configures, built the first time it is asked for.
    fn named(&self, name: &str) -> Result<Arc<dyn Agent>, String> {
        let mut built = self.named.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(agent) = built.get(name) {
            return Ok(Arc::clone(agent));
        }
        let config = self.configs.get(name).ok_or_else(|| {
            format!("the issue names the agent {name:?}, which no [agents.{name}] table configures")
        })?;
        let agent = build(name, config, &self.root).map_err(|e| e.to_string())?;
        built.insert(name.to_string(), Arc::clone(&agent));
        Ok(agent)
    }

    /// The roles with no agent, which a run cannot do without.
    pub fn missing(&self) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|role| !self.agents.contains_key(role))
            .collect()
    }
}

/// Whether every host the agent's sandbox would allow is one.
fn check_allowed_hosts(name: &str, agent: &AgentConfig, config: &Config) -> Result<(), AgentError> {
    let sandbox = config.sandbox.for_agent(agent, None);
    match AllowList::parse(&sandbox.allow_hosts) {
        Ok(_) => Ok(()),
        Err(bad) => Err(AgentError::Config {
            agent: name.to_string(),
            problem: format!("sandbox.allow_hosts or agents.{name}.allow_hosts: {bad}"),
        }),
    }
}
