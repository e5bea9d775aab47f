//! The steps file of a scripted agent: its format, parsing and the checks made at load time.

use std::path::{Component, Path};

use agentry_core::Role;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::AgentRequest;

/// A whole steps file: rules tried in order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Script {
    #[serde(rename = "rule")]
    pub(crate) rules: Vec<Rule>,
}

/// Which turns to play for a role on matching issues.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rule {
    role: Role,
    /// An issue id, a substring of the issue title, or "*" for any issue.
    issue: String,
    /// Each run for the same issue plays the next turn; the last one repeats.
    pub(crate) turns: Vec<Vec<Step>>,
}

/// One thing a scripted agent does.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Step {
    Write(FileText),
    Append(FileText),
    Remove(String),
    /// A shell command, run with `sh -c` in the worktree.
    Run(String),
    Say(String),
    Fail {
        message: String,
        #[serde(default = "default_exit_code")]
        exit_code: i32,
    },
    /// Only `true` is accepted: waits for cancellation or the timeout.
    Hang(bool),
    SleepMs(u64),
}

/// A file in the worktree and the text to put in it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileText {
    pub(crate) path: String,
    pub(crate) content: String,
}

fn default_exit_code() -> i32 {
    1
}

impl Script {
    /// Parses `text` as TOML or JSON, by the extension of `file`, and checks it.
    pub(crate) fn parse(file: &Path, text: &str) -> Result<Self, String> {
        let script: Self = match file.extension().and_then(|e| e.to_str()) {
            Some("toml") => from_toml(text)?,
            Some("json") => serde_json::from_str(text).map_err(|e| e.to_string())?,
            _ => return Err("unknown format: name it *.toml or *.json".to_string()),
        };
        script.check()?;
        Ok(script)
    }

    fn check(&self) -> Result<(), String> {
        if self.rules.is_empty() {
            return Err("no rules: add at least one [[rule]]".to_string());
        }
        for (r, rule) in self.rules.iter().enumerate() {
            rule.check()
                .map_err(|problem| format!("rule {}: {problem}", r + 1))?;
        }
        Ok(())
    }
}

impl Rule {
    /// Whether this rule is for the request's role and issue.
    pub(crate) fn matches(&self, request: &AgentRequest) -> bool {
        self.role == request.role
            && (self.issue == "*"
                || self.issue == request.issue_id.as_str()
                || request.issue_title.contains(&self.issue))
    }

    fn check(&self) -> Result<(), String> {
        if self.issue.is_empty() {
            return Err("`issue` is empty: use \"*\" for any issue".to_string());
        }
        if self.turns.is_empty() {
            return Err("no turns".to_string());
        }
        for (t, turn) in self.turns.iter().enumerate() {
            for (s, step) in turn.iter().enumerate() {
                step.check()
                    .map_err(|problem| format!("turn {}, step {}: {problem}", t + 1, s + 1))?;
            }
        }
        Ok(())
    }
}

impl Step {
    fn check(&self) -> Result<(), String> {
        match self {
            Step::Write(FileText { path, .. })
            | Step::Append(FileText { path, .. })
            | Step::Remove(path) => check_path(path),
            Step::Hang(false) => Err("`hang = false` does nothing: leave the step out".to_string()),
            _ => Ok(()),
        }
    }
}

/// A path must name something inside the worktree: relative, and no `..` climbing out of it.
fn check_path(path: &str) -> Result<(), String> {
    let mut depth = 0usize;
    for component in Path::new(path).components() {
        depth = match component {
            Component::Normal(_) => depth + 1,
            Component::CurDir => depth,
            Component::ParentDir => depth
                .checked_sub(1)
                .ok_or_else(|| format!("path `{path}` leaves the worktree"))?,
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "path `{path}` is absolute; give it relative to the worktree"
                ));
            }
        };
    }
    if depth == 0 {
        return Err(format!("path `{path}` names no file in the worktree"));
    }
    Ok(())
}

/// TOML's own message spans several lines with a snippet; keep one line with the line number.
fn from_toml<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| {
        let message = e.message().trim_end().replace('\n', " ");
        match e.span() {
            Some(span) => format!(
                "{message} (line {})",
                text[..span.start].matches('\n').count() + 1
            ),
            None => message,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_worktree() {
        for good in ["a.txt", "dir/a.txt", "./a", "dir/../a"] {
            assert_eq!(check_path(good), Ok(()), "{good}");
        }
        for bad in ["../a", "dir/../../a", "/etc/passwd", "", ".", "dir/.."] {
            assert!(check_path(bad).is_err(), "{bad} should be refused");
        }
    }
}
