//! The `claude` backend: Claude Code in headless mode, `claude -p --output-format
//! stream-json --verbose`, the prompt on stdin, its JSON lines turned into agentry's events.

mod stream;

use std::future::Future;
use std::pin::Pin;

use agentry_core::config::AgentConfig;
use agentry_process::{Ending, Finished, Watch};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::agent::{emit, finish};
use crate::child::{AgentEnv, Limits, event_of};
use crate::{Agent, AgentError, AgentEvent, AgentFailure, AgentOutcome, AgentRequest};
use stream::Tally;

/// The worktree is the sandbox: Claude Code may edit there without asking.
const DEFAULT_PERMISSION_MODE: &str = "bypassPermissions";

#[derive(Clone, Debug)]
pub struct ClaudeAgent {
    argv: Vec<String>,
    limits: Limits,
    env: AgentEnv,
}

impl ClaudeAgent {
    pub fn new(_name: &str, config: &AgentConfig) -> Result<Self, AgentError> {
        Ok(Self {
            argv: argv(config),
            limits: Limits::from_config(config),
            env: AgentEnv::from_config(config),
        })
    }

    async fn turn(
        &self,
        request: &AgentRequest,
        events: &UnboundedSender<AgentEvent>,
        cancel: &CancellationToken,
    ) -> AgentOutcome {
        let mut spec = self
            .limits
            .spec(&self.argv, request, self.env.for_request(request));
        spec.stdin = request.prompt.clone().into_bytes();
        let mut tally = Tally::default();
        let ran = agentry_process::run(&spec, cancel, |watch| match watch {
            Watch::Stdout(line) => tally
                .line(line)
                .into_iter()
                .for_each(|event| emit(events, event)),
            other => emit(events, event_of(other)),
        })
        .await;
        match ran {
            Ok(finished) => self.outcome(&finished, tally),
            Err(e) => AgentOutcome::new(
                String::new(),
                Some(AgentFailure::Spawn(e.to_string())),
                None,
            ),
        }
    }

    /// A stopped or killed process fails the turn whatever it printed; otherwise the
    /// `result` line decides.
    fn outcome(&self, finished: &Finished, tally: Tally) -> AgentOutcome {
        let stopped = !matches!(finished.ending, Ending::Exited(_));
        let (text, failure) = match tally.result {
            _ if stopped => (tally.said, self.limits.failure(finished)),
            Some((text, false)) if finished.ending == Ending::Exited(0) => (text, None),
            Some((text, true)) => {
                let failure =
                    rate_limit(&text).unwrap_or_else(|| AgentFailure::Reported(text.clone()));
                (text, Some(failure))
            }
            Some((text, false)) => (text, self.limits.failure(finished)),
            None => {
                let exit_code = match finished.ending {
                    Ending::Exited(code) => Some(code),
                    _ => None,
                };
                (tally.said, Some(AgentFailure::NoResult { exit_code }))
            }
        };
        let mut outcome = AgentOutcome::new(text, failure, Some(finished.pid));
        outcome.usage = tally.usage;
        outcome
    }
}

fn argv(config: &AgentConfig) -> Vec<String> {
    let mut argv: Vec<String> = [
        config.program.as_deref().unwrap_or("claude"),
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
    ]
    .map(String::from)
    .to_vec();
    let mode = config
        .permission_mode
        .as_deref()
        .unwrap_or(DEFAULT_PERMISSION_MODE);
    argv.extend(["--permission-mode".to_string(), mode.to_string()]);
    if let Some(model) = &config.model {
        argv.extend(["--model".to_string(), model.clone()]);
    }
    if !config.allowed_tools.is_empty() {
        argv.extend(["--allowedTools".to_string(), config.allowed_tools.join(",")]);
    }
    argv.extend(config.args.iter().cloned());
    argv
}

/// A rate limit in Claude Code's words: an API 429, or its usage limit, which ends with the
/// Unix time it lifts (`Claude AI usage limit reached|1712345678`).
fn rate_limit(message: &str) -> Option<AgentFailure> {
    let lower = message.to_ascii_lowercase();
    let limited = lower.contains("429")
        || lower.contains("rate limit")
        || lower.contains("rate_limit")
        || lower.contains("usage limit");
    limited.then(|| AgentFailure::RateLimited {
        reset_at: message
            .rsplit_once('|')
            .and_then(|(_, at)| at.trim().parse().ok()),
        message: message.lines().next().unwrap_or_default().to_string(),
    })
}

impl Agent for ClaudeAgent {
    fn kind(&self) -> &'static str {
        "claude"
    }

    fn run<'a>(
        &'a self,
        request: &'a AgentRequest,
        events: &'a UnboundedSender<AgentEvent>,
        cancel: &'a CancellationToken,
    ) -> Pin<Box<dyn Future<Output = AgentOutcome> + Send + 'a>> {
        Box::pin(async move { finish(events, self.turn(request, events, cancel).await) })
    }
}

#[cfg(test)]
mod tests {
    use agentry_core::config::AgentKind;

    use super::*;

    #[test]
    fn argv_is_headless_stream_json_with_the_configured_options() {
        let config = AgentConfig {
            program: Some("/opt/claude".into()),
            model: Some("claude-sonnet".into()),
            allowed_tools: vec!["Read".into(), "Write".into()],
            args: vec!["--max-turns".into(), "30".into()],
            ..AgentConfig::new(AgentKind::Claude)
        };
        assert_eq!(
            argv(&config).join(" "),
            "/opt/claude -p --output-format stream-json --verbose --permission-mode bypassPermissions \
             --model claude-sonnet --allowedTools Read,Write --max-turns 30"
        );
    }

    #[test]
    fn rate_limits_are_recognised_with_their_reset_time() {
        let usage = rate_limit("Claude AI usage limit reached|1712345678").unwrap();
        assert_eq!(
            usage,
            AgentFailure::RateLimited {
                reset_at: Some(1712345678),
                message: "Claude AI usage limit reached|1712345678".into()
            }
        );
        assert!(matches!(
            rate_limit("API Error: 429 {\"type\":\"rate_limit_error\"}"),
            Some(AgentFailure::RateLimited { reset_at: None, .. })
        ));
        assert_eq!(rate_limit("API Error: 500 Internal Server Error"), None);
    }
}
