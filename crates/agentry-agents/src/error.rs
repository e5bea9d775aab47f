//! Why an agent could not be built from its config.

use thiserror::Error;

/// A problem with an agent's config or script, naming the agent.
#[derive(Debug, Error)]
pub enum AgentError {
    /// The config lacks what this kind of agent needs.
    #[error("agent `{agent}`: {problem}")]
    Config {
        /// The agent's name in the config.
        agent: String,
        /// What is missing or wrong.
        problem: String,
    },
    /// The script file could not be read.
    #[error("agent `{agent}`: cannot read script {path}: {source}")]
    ReadScript {
        /// The agent's name in the config.
        agent: String,
        /// The script path as the config gives it.
        path: String,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The script file was read but is not a valid script.
    #[error("agent `{agent}`: bad script {path}: {problem}")]
    BadScript {
        /// The agent's name in the config.
        agent: String,
        /// The script path as the config gives it.
        path: String,
        /// What is wrong, with the rule, turn and step or the line where it was found.
        problem: String,
    },
}
