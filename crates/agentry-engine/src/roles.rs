//! The agent that plays each role, built from `[roles]` and `[agents.NAME]`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use agentry_agents::{Agent, AgentError, build};
use agentry_core::Role;
use agentry_core::config::Config;

#[derive(Clone, Default)]
pub struct RoleAgents {
    agents: HashMap<Role, Arc<dyn Agent>>,
}

impl RoleAgents {
    /// Builds every configured role's agent once; roles may share an agent.
    pub fn from_config(config: &Config, root: &Path) -> Result<Self, AgentError> {
        let mut built: HashMap<&str, Arc<dyn Agent>> = HashMap::new();
        let mut agents = HashMap::new();
        for role in Role::ALL {
            let Some(name) = config.roles.agent_for(role) else {
                continue;
            };
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
        Ok(Self { agents })
    }

    /// The same agent for every role.
    pub fn all(agent: Arc<dyn Agent>) -> Self {
        Self {
            agents: Role::ALL
                .into_iter()
                .map(|role| (role, Arc::clone(&agent)))
                .collect(),
        }
    }

    pub fn get(&self, role: Role) -> Option<&Arc<dyn Agent>> {
        self.agents.get(&role)
    }

    /// The roles with no agent, which a run cannot do without.
    pub fn missing(&self) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|role| !self.agents.contains_key(role))
            .collect()
    }
}
