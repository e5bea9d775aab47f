//! How a turn ended.

/// The stderr kept in a [`AgentFailure::Crashed`]: enough for the last error, small enough
/// for a record.
const TAIL_BYTES: usize = 2048;

/// The result of one turn.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentOutcome {
    /// What the agent answered: a command agent's stdout (capped), a scripted agent's `say` texts joined with newlines.
    pub text: String,
    /// The exit code, when the agent exited by itself (a scripted agent that succeeds counts as 0).
    pub exit_code: Option<i32>,
    /// None when the agent finished normally with exit 0.
    pub failure: Option<AgentFailure>,
    /// The agent's process, if it had one.
    pub pid: Option<u32>,
    /// What the agent reported using; empty for agents that report nothing.
    pub usage: Usage,
}

/// Tokens, cost and turns, as the agent reports them.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Usage {
    pub turns: Option<u32>,
    pub tokens_in: Option<u64>,
    pub tokens_out: Option<u64>,
    /// Tokens read from or written to the model's prompt cache.
    pub tokens_cache: Option<u64>,
    pub cost_usd: Option<f64>,
    pub model: Option<String>,
}

/// Why a turn did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentFailure {
    /// Could not start (program missing, script unreadable): message.
    Spawn(String),
    /// Exited non-zero or by a signal; carries the last stderr lines (at most ~2 KB).
    Crashed {
        /// The exit code, when it exited.
        exit_code: Option<i32>,
        /// The signal that ended it, when one did.
        signal: Option<i32>,
        /// The last lines of its stderr.
        stderr_tail: String,
    },
    /// Still running after the configured timeout, and stopped.
    TimedOut {
        /// The timeout, in seconds.
        after_secs: u64,
    },
    /// Wrote nothing for the configured idle timeout, and stopped.
    Idle {
        /// The idle timeout, in seconds.
        after_secs: u64,
    },
    /// Stopped because the caller cancelled the turn.
    Cancelled,
    /// The agent reported a rate limit; `reset_at` is when it said the limit lifts, as Unix
    /// seconds, if it said.
    RateLimited {
        /// When the limit lifts, if the agent said.
        reset_at: Option<i64>,
        /// What the agent said.
        message: String,
    },
    /// The agent ran to its end but reported that the turn failed.
    Reported(String),
    /// The agent's output ended without the result it owes (a truncated stream).
    NoResult {
        /// The exit code, when it exited.
        exit_code: Option<i32>,
    },
}

impl AgentOutcome {
    /// An outcome whose exit code follows from `failure`: 0 for none, the crash's code for a
    /// crash, none when the agent was stopped or never started.
    pub(crate) fn new(text: String, failure: Option<AgentFailure>, pid: Option<u32>) -> Self {
        let exit_code = match &failure {
            None => Some(0),
            Some(AgentFailure::Crashed { exit_code, .. }) => *exit_code,
            Some(_) => None,
        };
        Self {
            text,
            exit_code,
            failure,
            pid,
            usage: Usage::default(),
        }
    }
}

impl AgentFailure {
    /// A crash with an exit code and the tail of what was written to stderr.
    pub(crate) fn crashed(exit_code: Option<i32>, signal: Option<i32>, stderr: &str) -> Self {
        Self::Crashed {
            exit_code,
            signal,
            stderr_tail: tail(stderr),
        }
    }

    /// One line, e.g. "agent exited with code 3: <stderr tail last line>".
    pub fn describe(&self) -> String {
        match self {
            Self::Spawn(message) => format!("agent could not start: {message}"),
            Self::Crashed {
                exit_code,
                signal,
                stderr_tail,
            } => {
                let how = match (exit_code, signal) {
                    (Some(code), _) => format!("agent exited with code {code}"),
                    (None, Some(signal)) => format!("agent was killed by signal {signal}"),
                    (None, None) => "agent failed".to_string(),
                };
                match stderr_tail.lines().last() {
                    Some(last) => format!("{how}: {last}"),
                    None => how,
                }
            }
            Self::TimedOut { after_secs } => format!("agent timed out after {after_secs}s"),
            Self::Idle { after_secs } => format!("agent wrote nothing for {after_secs}s"),
            Self::Cancelled => "agent was cancelled".to_string(),
            Self::RateLimited { message, .. } => format!("rate_limited: {message}"),
            Self::Reported(message) => format!("agent reported an error: {message}"),
            Self::NoResult {
                exit_code: Some(code),
            } => {
                format!("agent exited with code {code} before giving a result")
            }
            Self::NoResult { exit_code: None } => "agent gave no result".to_string(),
        }
    }
}

/// The last whole lines of `text` that fit in [`TAIL_BYTES`]; a single longer last line is cut.
fn tail(text: &str) -> String {
    let text = text.trim_end();
    let mut start = text.len().saturating_sub(TAIL_BYTES);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let kept = &text[start..];
    match kept.find('\n') {
        Some(newline) if start > 0 => kept[newline + 1..].to_string(),
        _ => kept.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_tail_is_kept_whole() {
        assert_eq!(tail("first\nsecond\n\n"), "first\nsecond");
    }

    #[test]
    fn a_long_tail_keeps_whole_last_lines() {
        let text = format!("{}\nlast line\n", "x".repeat(5000));
        assert_eq!(tail(&text), "last line");
        let lines: String = (0..1000).map(|n| format!("line {n}\n")).collect();
        let kept = tail(&lines);
        assert!(
            kept.len() <= TAIL_BYTES && kept.starts_with("line ") && kept.ends_with("line 999")
        );
    }

    #[test]
    fn one_overlong_line_is_cut_at_a_char_boundary() {
        let kept = tail(&"é".repeat(3000));
        assert!(kept.len() <= TAIL_BYTES && kept.chars().all(|c| c == 'é'));
    }

    #[test]
    fn describe_names_the_code_and_the_last_stderr_line() {
        let crash = AgentFailure::crashed(Some(3), None, "warming up\nboom\n");
        assert_eq!(crash.describe(), "agent exited with code 3: boom");
        let killed = AgentFailure::crashed(None, Some(9), "");
        assert_eq!(killed.describe(), "agent was killed by signal 9");
        assert_eq!(
            AgentFailure::TimedOut { after_secs: 5 }.describe(),
            "agent timed out after 5s"
        );
    }
}
