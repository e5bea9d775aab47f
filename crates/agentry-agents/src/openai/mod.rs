//! The `openai` backend: one chat completion from OpenAI's API or any compatible one,
//! streamed, for roles that need no tools (reviewers, the planner, parse fallbacks). The
//! rendered prompt is the one user message; the model's answer is the turn's text.

mod answer;
mod exchange;
mod lines;
mod refusal;

use std::future::Future;
use std::time::Duration;

use agentry_core::config::AgentConfig;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::agent::emit;
use crate::{AgentError, AgentEvent, AgentFailure, AgentOutcome, AgentRequest};
use answer::Answer;

#[derive(Clone, Debug)]
pub struct OpenAiAgent {
    /// The chat completions endpoint: the base URL and `/chat/completions`.
    url: String,
    model: String,
    /// The name of the variable holding the API key; none for an endpoint that needs no key.
    api_key_env: Option<String>,
    timeout_secs: u64,
    /// 0 means no idle timeout.
    idle_timeout_secs: u64,
    client: reqwest::Client,
}

impl OpenAiAgent {
    pub fn new(name: &str, config: &AgentConfig) -> Result<Self, AgentError> {
        let problem = |problem: String| AgentError::Config {
            agent: name.to_string(),
            problem,
        };
        let needed = |value: &Option<String>, key: &str| {
            value
                .clone()
                .filter(|value| !value.is_empty())
                .ok_or_else(|| problem(format!("an openai agent needs {key}")))
        };
        let base_url = needed(&config.base_url, "base_url")?;
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| problem(format!("cannot set up its HTTP client: {e}")))?;
        Ok(Self {
            url: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            model: needed(&config.model, "a model")?,
            api_key_env: config.api_key_env.clone(),
            timeout_secs: config.timeout_secs,
            idle_timeout_secs: config.idle_timeout_secs,
            client,
        })
    }

    async fn turn(
        &self,
        request: &AgentRequest,
        events: &UnboundedSender<AgentEvent>,
        cancel: &CancellationToken,
    ) -> AgentOutcome {
        emit(events, AgentEvent::Started { pid: None });
        let key = match self.api_key() {
            Ok(key) => key,
            Err(failure) => return AgentOutcome::new(String::new(), Some(failure), None),
        };
        let deadline = Instant::now() + Duration::from_secs(self.timeout_secs);
        let mut answer = Answer::new(&self.model);
        // Dropping the exchange closes its connection, so a cancelled or timed-out turn
        // leaves nothing behind.
        let ended = tokio::select! {
            ended = self.exchange(&request.prompt, key.as_deref(), deadline, &mut answer, events) => ended,
            () = cancel.cancelled() => Err(AgentFailure::Cancelled),
            () = sleep_until(deadline) => Err(AgentFailure::TimedOut { after_secs: self.timeout_secs }),
        };
        if ended.is_ok() {
            let text = answer.text.clone();
            emit(
                events,
                AgentEvent::Result {
                    text,
                    is_error: false,
                },
            );
        }
        let mut outcome = AgentOutcome::new(answer.text, ended.err(), None);
        outcome.usage = answer.usage;
        outcome
    }

    /// The key, read at each turn so a rotated key is picked up without a restart.
    fn api_key(&self) -> Result<Option<String>, AgentFailure> {
        let Some(name) = &self.api_key_env else {
            return Ok(None);
        };
        match std::env::var(name) {
            Ok(key) if !key.is_empty() => Ok(Some(key)),
            _ => Err(AgentFailure::Spawn(format!(
                "the API key variable {name} (api_key_env) is not set in agentry's environment"
            ))),
        }
    }

    /// Awaits the server's next word, failing the turn if it stays silent for the idle timeout.
    async fn quiet<T>(&self, next: impl Future<Output = T>) -> Result<T, AgentFailure> {
        if self.idle_timeout_secs == 0 {
            return Ok(next.await);
        }
        tokio::time::timeout(Duration::from_secs(self.idle_timeout_secs), next)
            .await
            .map_err(|_| AgentFailure::Idle {
                after_secs: self.idle_timeout_secs,
            })
    }
}

crate::agent::agent_from_turns!(OpenAiAgent, "openai");

#[cfg(test)]
mod tests {
    use agentry_core::config::AgentKind;

    use super::*;

    #[test]
    fn the_endpoint_is_the_base_url_and_chat_completions() {
        let config = AgentConfig {
            base_url: Some("https://api.example.com/v1/".into()),
            model: Some("gpt-x".into()),
            ..AgentConfig::new(AgentKind::Openai)
        };
        let agent = OpenAiAgent::new("rev", &config).unwrap();
        assert_eq!(agent.url, "https://api.example.com/v1/chat/completions");
        let no_model = AgentConfig {
            model: None,
            ..config
        };
        let err = OpenAiAgent::new("rev", &no_model).unwrap_err();
        assert_eq!(
            err.to_string(),
            "agent `rev`: an openai agent needs a model"
        );
    }
}
