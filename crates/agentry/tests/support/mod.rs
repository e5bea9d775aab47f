//! Helpers for driving the `agentry` binary in throw-away git repositories.
#![allow(dead_code)] // each test binary uses its own part of these helpers

pub mod server;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

/// Variables that would point git somewhere else than the test's repository.
const GIT_ENV: [&str; 7] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
];

/// Makes git (run by the test or by agentry) ignore the machine's config and need no identity,
/// and keeps it from finding a repository above `dir`.
fn isolate_git(cmd: &mut Command, dir: &Path) {
    for name in GIT_ENV {
        cmd.env_remove(name);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "agentry tests")
        .env("GIT_AUTHOR_EMAIL", "tests@agentry.invalid")
        .env("GIT_COMMITTER_NAME", "agentry tests")
        .env("GIT_COMMITTER_EMAIL", "tests@agentry.invalid");
    if let Some(parent) = dir.parent() {
        cmd.env("GIT_CEILING_DIRECTORIES", parent);
    }
}

/// Runs agentry in `dir` with `env` set, every other config variable removed, and `stdin` fed
/// to it (an empty stdin when `None`).
pub fn agentry_with(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Output {
    let mut cmd = agentry_command(dir, args, env);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the agentry binary starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input.as_bytes())
            .expect("stdin takes the input");
    }
    child.wait_with_output().expect("agentry runs to the end")
}

/// The command `agentry_with` runs: agentry in `dir` with git isolated, `env` set and every
/// other config variable removed; stdio is left to the caller (for processes a test starts in
/// the background).
pub fn agentry_command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentry"));
    cmd.current_dir(dir).args(args);
    isolate_git(&mut cmd, dir);
    // Every `SECTION__KEY` variable agentry reads is removed unless the test sets it.
    for setting in agentry_core::config::SETTINGS {
        let name = format!("{}__{}", setting.section, setting.key).to_uppercase();
        cmd.env_remove(name);
    }
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd
}

/// Runs agentry in `dir`, with no config variable in its environment.
pub fn agentry(dir: &Path, args: &[&str]) -> Output {
    agentry_with(dir, args, &[], None)
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

/// Asserts a successful run with nothing on stderr; returns stdout.
pub fn assert_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    assert_eq!(stderr(out), "", "a successful run writes nothing to stderr");
    stdout(out)
}

/// Asserts that agentry refused with exit 2, nothing on stdout and one stderr line starting
/// with `agentry: ` that contains every one of `needles`; returns that line.
pub fn assert_refused(out: &Output, needles: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected exit 2\nstdout: {}\nstderr: {err}",
        stdout(out)
    );
    assert_eq!(stdout(out), "", "a refusal prints nothing on stdout");
    assert!(err.ends_with('\n'), "stderr ends with a newline: {err:?}");
    let line = err.strip_suffix('\n').unwrap_or(&err);
    assert!(!line.contains('\n'), "stderr is one line: {err:?}");
    assert!(
        line.starts_with("agentry: "),
        "stderr starts with `agentry: `: {err:?}"
    );
    for needle in needles {
        assert!(line.contains(needle), "stderr mentions {needle:?}: {err:?}");
    }
    line.to_string()
}

/// Parses stdout of a successful run as JSON.
pub fn json_of(out: &Output) -> Value {
    let text = assert_ok(out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {text}"))
}

/// Runs `git` in `dir` (isolated from the machine's config) and asserts it succeeded.
pub fn git(dir: &Path, args: &[&str]) {
    git_stdout(dir, args);
}

/// Runs `git` in `dir` (isolated from the machine's config), asserts it succeeded and returns
/// its stdout.
pub fn git_stdout(dir: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir).args([
        "-c",
        "user.name=agentry tests",
        "-c",
        "user.email=tests@agentry.invalid",
    ]);
    cmd.args(args);
    isolate_git(&mut cmd, dir);
    let out = cmd.output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        stderr(&out)
    );
    stdout(&out)
}

/// A temporary git repository, removed when dropped.
pub struct Repo {
    dir: TempDir,
}

impl Repo {
    /// A fresh repository on branch `main`, without agentry.
    pub fn new() -> Self {
        Self::on_branch("main")
    }

    /// A fresh repository with `branch` checked out (no commit yet), without agentry.
    pub fn on_branch(branch: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        git(dir.path(), &["init", "-q", "-b", branch]);
        Self { dir }
    }

    /// A fresh repository on `main` where `agentry init` has run.
    pub fn initialized() -> Self {
        let repo = Self::new();
        assert_ok(&repo.run(&["init"]));
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, relative: &str) -> PathBuf {
        self.path().join(relative)
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.file(relative))
            .unwrap_or_else(|e| panic!("could not read {relative}: {e}"))
    }

    pub fn run(&self, args: &[&str]) -> Output {
        agentry(self.path(), args)
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        agentry_with(self.path(), args, env, None)
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        assert_ok(&self.run(args))
    }

    /// Runs a command that must succeed and print JSON; returns it parsed.
    pub fn json(&self, args: &[&str]) -> Value {
        json_of(&self.run(args))
    }

    /// `issue add TITLE EXTRA...`; returns the new id.
    pub fn add(&self, title: &str, extra: &[&str]) -> String {
        let mut args = vec!["issue", "add", title];
        args.extend_from_slice(extra);
        let out = self.ok(&args);
        let id = out.strip_suffix('\n').expect("the id ends with a newline");
        assert!(is_issue_id(id), "not an id: {out:?}");
        id.to_string()
    }

    /// `issue show ID --json`.
    pub fn show(&self, id: &str) -> Value {
        self.json(&["issue", "show", id, "--json"])
    }

    /// The ids `ready --json EXTRA...` prints, in its order.
    pub fn ready_ids(&self, extra: &[&str]) -> Vec<String> {
        let mut args = vec!["ready", "--json"];
        args.extend_from_slice(extra);
        ids(&self.json(&args))
    }
}

/// `i-` then one or more lowercase base36 characters.
pub fn is_issue_id(text: &str) -> bool {
    text.strip_prefix("i-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    })
}

/// The `id` of every issue in a JSON array.
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|issue| issue["id"].as_str().expect("an id").to_string())
        .collect()
}

/// A JSON array of strings as a Vec.
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}
