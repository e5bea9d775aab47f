//! Running the `git` program.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::WorkspaceError;

/// Variables that point git at another repository than the one given with `-C`; they are set
/// when agentry itself runs inside a git hook.
const REPOSITORY_ENV: [&str; 3] = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"];

/// Where a git command runs.
pub(crate) trait Place {
    /// `git` with the options that put it there.
    fn git(&self) -> Command;
}

/// A directory: git finds the repository from there.
impl Place for Path {
    fn git(&self) -> Command {
        let mut command = Command::new("git");
        command.arg("-C").arg(self);
        command
    }
}

impl Place for PathBuf {
    fn git(&self) -> Command {
        self.as_path().git()
    }
}

/// Runs git at `place` and returns its stdout; any exit but 0 is an error.
pub(crate) fn run(
    place: &(impl Place + ?Sized),
    args: &[impl AsRef<str>],
) -> Result<String, WorkspaceError> {
    run_bytes(place, args).map(|stdout| String::from_utf8_lossy(&stdout).into_owned())
}

/// As [`run`], with stdout as git wrote it: paths that are not UTF-8 survive.
pub(crate) fn run_bytes(
    place: &(impl Place + ?Sized),
    args: &[impl AsRef<str>],
) -> Result<Vec<u8>, WorkspaceError> {
    let output = invoke(place, args)?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(failure(args, &output))
    }
}

/// Runs a git command whose exit code 1 means "no" (a missing ref or key, not an ancestor,
/// differences found): `None` then, its stdout on 0, an error on anything else.
pub(crate) fn probe(
    place: &(impl Place + ?Sized),
    args: &[impl AsRef<str>],
) -> Result<Option<String>, WorkspaceError> {
    let output = invoke(place, args)?;
    match output.status.code() {
        Some(0) => Ok(Some(String::from_utf8_lossy(&output.stdout).into_owned())),
        Some(1) => Ok(None),
        _ => Err(failure(args, &output)),
    }
}

/// Runs a git command whose exit code 1 is an answer that comes with output (merge-tree's
/// "the merge conflicts"): `(true, stdout)` on 0, `(false, stdout)` on 1, an error otherwise.
pub(crate) fn run_answering(
    place: &(impl Place + ?Sized),
    args: &[impl AsRef<str>],
) -> Result<(bool, String), WorkspaceError> {
    let output = invoke(place, args)?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    match output.status.code() {
        Some(0) => Ok((true, stdout)),
        Some(1) => Ok((false, stdout)),
        _ => Err(failure(args, &output)),
    }
}

fn invoke(
    place: &(impl Place + ?Sized),
    args: &[impl AsRef<str>],
) -> Result<Output, WorkspaceError> {
    let mut command = place.git();
    command.args(args.iter().map(AsRef::as_ref));
    for name in REPOSITORY_ENV {
        command.env_remove(name);
    }
    command.output().map_err(|source| WorkspaceError::Spawn {
        command: command_line(args),
        source,
    })
}

fn failure(args: &[impl AsRef<str>], output: &Output) -> WorkspaceError {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let stderr = if lines.is_empty() {
        output.status.to_string()
    } else {
        lines.join("; ")
    };
    WorkspaceError::Git {
        command: command_line(args),
        stderr,
    }
}

/// The command as one line: arguments with spaces or line breaks (commit messages) are quoted.
pub(crate) fn command_line(args: &[impl AsRef<str>]) -> String {
    let mut line = String::from("git");
    for arg in args.iter().map(AsRef::as_ref) {
        line.push(' ');
        if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || c == '"') {
            line.push_str(&format!("{arg:?}"));
        } else {
            line.push_str(arg);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_line_stays_on_one_line() {
        assert_eq!(
            command_line(&["commit", "-m", "Fix it\n\nAgentry-Issue: i-1"]),
            r#"git commit -m "Fix it\n\nAgentry-Issue: i-1""#
        );
        assert_eq!(command_line(&["status"]), "git status");
    }

    #[test]
    fn a_failure_names_the_command_and_joins_stderr() {
        let err = run(Path::new("/"), &["no-such-subcommand", "x"])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("git no-such-subcommand x failed: "),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }
}
