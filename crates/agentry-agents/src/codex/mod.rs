//! The `codex` backend: OpenAI's Codex CLI non-interactively, `codex exec --json`, the
//! prompt on stdin, its JSON lines turned into agentry's events. With a `base_url` it talks
//! to that model API, as a model provider of its own given with `-c` settings.

mod stream;

use agentry_core::config::AgentConfig;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::child::{AgentEnv, Limits};
use crate::cli_files::CliFiles;
use crate::json_lines;
use crate::words::says_rate_limited;
use crate::{AgentError, AgentEvent, AgentFailure, AgentOutcome, AgentRequest};
use stream::CodexStream;

/// The id of the model provider a `base_url` configures, in codex's `model_providers`.
const PROVIDER: &str = "agentry";
/// The only wire API codex 0.169 still accepts ("chat" is refused).
const DEFAULT_WIRE_API: &str = "responses";

#[derive(Clone, Debug)]
pub struct CodexAgent {
    argv: Vec<String>,
    limits: Limits,
    env: AgentEnv,
    files: CliFiles,
    model: Option<String>,
}

impl CodexAgent {
    pub fn new(_name: &str, config: &AgentConfig) -> Result<Self, AgentError> {
        let env = env(config);
        Ok(Self {
            argv: argv(config),
            limits: Limits::from_config(config),
            files: CliFiles::codex(&env),
            env,
            model: config.model.clone(),
        })
    }

    async fn turn(
        &self,
        request: &AgentRequest,
        events: &UnboundedSender<AgentEvent>,
        cancel: &CancellationToken,
    ) -> AgentOutcome {
        let mut stream = CodexStream::new(self.model.clone());
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
        match ran {
            Ok(finished) => json_lines::outcome(&self.limits, &finished, stream.end(), |text| {
                rate_limit(text).unwrap_or_else(|| AgentFailure::Reported(text.to_string()))
            }),
            Err(outcome) => outcome,
        }
    }
}

/// agentry's sandbox holds codex in, as it does claude with bypassPermissions: codex edits
/// and runs commands without asking, and `-` has it read the prompt from stdin.
fn argv(config: &AgentConfig) -> Vec<String> {
    let mut argv: Vec<String> = [
        config.program.as_deref().unwrap_or("codex"),
        "exec",
        "--json",
        "--dangerously-bypass-approvals-and-sandbox",
    ]
    .map(String::from)
    .to_vec();
    if let Some(model) = &config.model {
        argv.extend(["--model".to_string(), model.clone()]);
    }
    if let Some(base_url) = &config.base_url {
        argv.extend(provider(config, base_url));
    }
    argv.extend(config.args.iter().cloned());
    argv.push("-".to_string());
    argv
}

/// The `-c` settings that make the API at `base_url` codex's model provider. Codex reads
/// the key from the variable `env_key` names, and sends none without it.
fn provider(config: &AgentConfig, base_url: &str) -> Vec<String> {
    let table = format!("model_providers.{PROVIDER}");
    let wire_api = config.wire_api.as_deref().unwrap_or(DEFAULT_WIRE_API);
    let mut settings = vec![
        ("model_provider".to_string(), PROVIDER),
        (format!("{table}.name"), PROVIDER),
        (format!("{table}.base_url"), base_url),
        (format!("{table}.wire_api"), wire_api),
    ];
    if let Some(variable) = &config.api_key_env {
        settings.push((format!("{table}.env_key"), variable));
    }
    settings
        .into_iter()
        .flat_map(|(key, value)| ["-c".to_string(), format!("{key}={}", toml_string(value))])
        .collect()
}

/// `value` as a TOML string: `-c` parses what follows `=` as TOML.
fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

/// The agent's environment; the API key's variable is passed on, for codex to read.
fn env(config: &AgentConfig) -> AgentEnv {
    let mut config = config.clone();
    config.pass_env.extend(config.api_key_env.clone());
    AgentEnv::from_config(&config)
}

/// A rate limit in Codex's words: the status of a request it gave up on (`exceeded retry
/// limit, last status: 429 Too Many Requests`) or its usage limit (`You've hit your usage
/// limit … try again at 10:26 PM`, a local time of day, so no reset time is kept).
fn rate_limit(message: &str) -> Option<AgentFailure> {
    says_rate_limited(message).then(|| AgentFailure::RateLimited {
        reset_at: None,
        message: message.lines().next().unwrap_or_default().to_string(),
    })
}

crate::agent::agent_from_turns!(CodexAgent, "codex");

#[cfg(test)]
mod tests {
    use agentry_core::config::AgentKind;

    use super::*;

    #[test]
    fn argv_is_exec_json_with_the_model_then_the_args_then_stdin() {
        let config = AgentConfig {
            program: Some("/opt/codex".into()),
            model: Some("gpt-5.5".into()),
            args: vec!["-c".into(), "analytics.enabled=false".into()],
            ..AgentConfig::new(AgentKind::Codex)
        };
        assert_eq!(
            argv(&config).join(" "),
            "/opt/codex exec --json --dangerously-bypass-approvals-and-sandbox --model gpt-5.5 \
             -c analytics.enabled=false -"
        );
    }

    #[test]
    fn a_base_url_becomes_a_model_provider_with_the_key_variable() {
        let config = AgentConfig {
            base_url: Some("http://127.0.0.1:9/v1".into()),
            api_key_env: Some("MY_KEY".into()),
            ..AgentConfig::new(AgentKind::Codex)
        };
        let settings: Vec<_> = argv(&config)
            .into_iter()
            .skip_while(|arg| arg != "-c")
            .filter(|arg| arg != "-c")
            .collect();
        assert_eq!(
            settings,
            [
                r#"model_provider="agentry""#,
                r#"model_providers.agentry.name="agentry""#,
                r#"model_providers.agentry.base_url="http://127.0.0.1:9/v1""#,
                r#"model_providers.agentry.wire_api="responses""#,
                r#"model_providers.agentry.env_key="MY_KEY""#,
                "-",
            ]
        );
    }

    #[test]
    fn rate_limits_are_recognised_and_other_failures_are_not() {
        let limited = rate_limit("exceeded retry limit, last status: 429 Too Many Requests");
        assert_eq!(
            limited,
            Some(AgentFailure::RateLimited {
                reset_at: None,
                message: "exceeded retry limit, last status: 429 Too Many Requests".into()
            })
        );
        assert!(rate_limit("You’ve hit your usage limit. Try again at 10:26 PM.").is_some());
        let busy = "We’re currently experiencing high demand, which may cause temporary errors.";
        assert_eq!(rate_limit(busy), None);
    }
}
