//! The `claude` backend: Claude Code in headless mode, `claude -p --output-format
//! stream-json --verbose`, the prompt on stdin, its JSON lines turned into agentry's events.

mod stream;

use agentry_core::config::AgentConfig;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::child::{AgentEnv, Limits};
use crate::cli_files::CliFiles;
use crate::json_lines;
use crate::words::says_rate_limited;
use crate::{AgentError, AgentEvent, AgentFailure, AgentOutcome, AgentRequest};
pub use stream::ClaudeStream;

/// agentry's sandbox holds Claude Code in: it may edit and run commands without asking.
const DEFAULT_PERMISSION_MODE: &str = "bypassPermissions";

#[derive(Clone, Debug)]
pub struct ClaudeAgent {
    argv: Vec<String>,
    limits: Limits,
    env: AgentEnv,
    files: CliFiles,
}

impl ClaudeAgent {
    pub fn new(_name: &str, config: &AgentConfig) -> Result<Self, AgentError> {
        let env = AgentEnv::from_config(config);
        Ok(Self {
            argv: argv(config),
            limits: Limits::from_config(config),
            files: CliFiles::claude(&env),
            env,
        })
    }

    async fn turn(
        &self,
        request: &AgentRequest,
        events: &UnboundedSender<AgentEvent>,
        cancel: &CancellationToken,
    ) -> AgentOutcome {
        let mut stream = ClaudeStream::default();
        let ran = json_lines::run(
            &self.limits,
            &self.argv,
            &self.env,
            &self.files.confine(request),
            events,
            cancel,
            |line| stream.line(line),
        )
        .await;
        let finished = match ran {
            Ok(finished) => finished,
            Err(outcome) => return outcome,
        };
        let api_status = stream.api_error_status;
        json_lines::outcome(&self.limits, &finished, stream.end(), |text| {
            match api_status == Some(429) || says_rate_limited(text) {
                true => rate_limited(text),
                false => AgentFailure::Reported(text.to_string()),
            }
        })
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

/// A rate limit in Claude Code's words; its usage limit ends with the Unix time it lifts
/// (`Claude AI usage limit reached|1712345678`).
fn rate_limited(message: &str) -> AgentFailure {
    AgentFailure::RateLimited {
        reset_at: message
            .rsplit_once('|')
            .and_then(|(_, at)| at.trim().parse().ok()),
        message: message.lines().next().unwrap_or_default().to_string(),
    }
}

crate::agent::agent_from_turns!(ClaudeAgent, "claude");

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
    fn a_usage_limit_carries_its_reset_time() {
        let limited = rate_limited("Claude AI usage limit reached|1712345678");
        let expected = AgentFailure::RateLimited {
            reset_at: Some(1712345678),
            message: "Claude AI usage limit reached|1712345678".into(),
        };
        assert_eq!(limited, expected);
        assert!(matches!(
            rate_limited("API Error: 429"),
            AgentFailure::RateLimited { reset_at: None, .. }
        ));
    }
}
