//! Helpers for driving the `agentry` binary in throw-away git repositories.
#![allow(dead_code)] // each test binary uses its own part of these helpers

pub mod server;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

/// Keeps agentry's stderr quiet, so that a successful run writes nothing there.
pub const QUIET: [(&str, &str); 1] = [("AGENTRY_LOG", "warn")];

/// A generous bound on any agentry process: a hang fails the test instead of blocking it.
pub const PROCESS_BOUND: Duration = Duration::from_secs(120);

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
    let mut cmd = Command::new(binary());
    cmd.current_dir(dir).args(args);
    isolate_git(&mut cmd, dir);
    // Every `SECTION__KEY` variable agentry reads is removed unless the test sets it.
    for setting in agentry_core::config::SETTINGS {
        let name = format!("{}__{}", setting.section, setting.key).to_uppercase();
        cmd.env_remove(name);
    }
    // Where there is no sandbox, agents run without one, as a person there would choose,
    // instead of every run warning about it.
    if !bwrap_works() {
        cmd.env("SANDBOX__MODE", "off");
    }
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd
}

/// The agentry binary under test: this build's, or the one `AGENTRY_TEST_BINARY` names, so that
/// a test can be run against an older build to show it catches what that build got wrong.
pub fn binary() -> PathBuf {
    std::env::var_os("AGENTRY_TEST_BINARY").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_agentry")),
        PathBuf::from,
    )
}

/// Whether bubblewrap makes sandboxes on this machine, asked of bwrap itself once.
pub fn bwrap_works() -> bool {
    static WORKS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WORKS.get_or_init(|| {
        Command::new("bwrap")
            .args(["--ro-bind", "/", "/", "--unshare-pid", "--", "true"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// Sends `signal` to `pid`; a process that is gone already is fine.
pub fn kill(pid: u32, signal: libc::c_int) {
    // SAFETY: kill only sends a signal.
    unsafe { libc::kill(pid as libc::pid_t, signal) };
}

/// Whether `pid` is a live (not zombie) process whose argv holds `marker`.
pub fn runs_marker(pid: u32, marker: &str) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    proc_stat(pid).is_some_and(|(state, _)| state != "Z")
        && cmdline
            .split(|b| *b == 0)
            .any(|arg| arg == marker.as_bytes())
}

/// Live processes whose argv holds `marker`.
pub fn processes_with(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| runs_marker(*pid, marker))
        .collect()
}

/// The state and start time (in clock ticks after boot) of a process, from /proc/<pid>/stat.
pub fn proc_stat(pid: u32) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    Some((fields.first()?.to_string(), fields.get(19)?.parse().ok()?))
}

/// Waits for `child` to end and returns its output; kills it and fails after `limit`.
pub fn wait_bounded(child: Child, limit: Duration, what: &str) -> Output {
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match finished.recv_timeout(limit) {
        Ok(output) => output.expect("waiting for agentry works"),
        Err(_) => {
            kill(pid, libc::SIGKILL);
            panic!("{what} did not end within {limit:?}");
        }
    }
}

/// Runs agentry with `args` in `dir` (quiet logs) to its end, within [`PROCESS_BOUND`].
pub fn agentry_in(dir: &Path, args: &[&str]) -> Output {
    let child = agentry_command(dir, args, &QUIET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the agentry binary starts");
    wait_bounded(child, PROCESS_BOUND, &format!("agentry {args:?}"))
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

    /// `run --until-idle --json` with only warnings logged, within [`PROCESS_BOUND`]; its
    /// summary.
    pub fn run_until_idle(&self) -> Value {
        self.run_until_idle_with(&[])
    }

    /// `run --until-idle --json EXTRA...`, as [`Repo::run_until_idle`].
    pub fn run_until_idle_with(&self, extra: &[&str]) -> Value {
        let mut args = vec!["run", "--until-idle", "--json"];
        args.extend_from_slice(extra);
        json_of(&agentry_in(self.path(), &args))
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        assert_ok(&self.run(args))
    }

    /// Runs a command that must succeed and print JSON; returns it parsed.
    pub fn json(&self, args: &[&str]) -> Value {
        json_of(&self.run(args))
    }

    /// Sets `key = value` (value as TOML) on the one line of config.toml that sets `key`.
    pub fn set_config(&self, key: &str, value: &str) {
        let path = self.file(".agentry/config.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let prefix = format!("{key} = ");
        let lines: Vec<&str> = text.lines().collect();
        let found = lines
            .iter()
            .filter(|line| line.starts_with(&prefix))
            .count();
        assert_eq!(found, 1, "config.toml sets {key} once:\n{text}");
        let lines: Vec<String> = lines
            .into_iter()
            .map(|line| match line.starts_with(&prefix) {
                true => format!("{key} = {value}"),
                false => line.to_string(),
            })
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    }

    /// Appends `text` (tables) to config.toml.
    pub fn append_config(&self, text: &str) {
        let path = self.file(".agentry/config.toml");
        let config = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{config}\n{text}")).unwrap();
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

/// A running `agentry serve` on a free loopback port, with quiet logs unless `env` sets
/// `AGENTRY_LOG`. Dropping it stops it with SIGTERM, as an operator would, so that it stops
/// its sessions' agents, and reaps it.
pub struct Serve {
    child: Child,
    /// Kept open so that the server's writes to stdout never fail.
    stdout: BufReader<ChildStdout>,
    /// `host:port`.
    pub addr: String,
    /// The service token the server made, from `.agentry/runtime/token`; `None` when the
    /// test configured one.
    pub token: Option<String>,
}

/// Where `agentry serve` keeps the token it made.
pub const TOKEN_FILE: &str = ".agentry/runtime/token";

impl Serve {
    pub fn start(repo: &Repo, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut all = vec!["serve", "--bind", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut env = env.to_vec();
        env.insert(0, ("AGENTRY_LOG", "warn"));
        let mut child = agentry_command(repo.path(), &all, &env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("agentry serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        // The server prints where it listens first, for callers that asked for port 0; the
        // token file is written before.
        let addr = line_after(&mut stdout, "listening on http://");
        let token = std::fs::read_to_string(repo.file(TOKEN_FILE)).ok();
        Self {
            child,
            stdout,
            addr,
            token,
        }
    }

    /// The dashboard's URL, from the line the server prints after where it listens.
    pub fn dashboard_url(&mut self) -> String {
        format!(
            "http://{}",
            line_after(&mut self.stdout, "dashboard http://")
        )
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The rest of the next line of `out`, which must start with `prefix`.
fn line_after(out: &mut BufReader<ChildStdout>, prefix: &str) -> String {
    let mut line = String::new();
    out.read_line(&mut line)
        .expect("a line of the server's output");
    line.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("expected a line starting {prefix:?}, got {line:?}"))
        .to_string()
}

impl Serve {
    /// Sends SIGTERM and waits, up to `bound`, for the server to exit.
    pub fn terminate(&mut self, bound: std::time::Duration) -> std::process::ExitStatus {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill only sends a signal to the process this test started.
        assert_eq!(
            unsafe { libc::kill(pid, libc::SIGTERM) },
            0,
            "SIGTERM is sent"
        );
        let deadline = std::time::Instant::now() + bound;
        loop {
            if let Some(status) = self.child.try_wait().expect("the server can be waited for") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not exit within {bound:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        // Only a server not reaped yet: the pid of one that was may be another process's now.
        if matches!(self.child.try_wait(), Ok(None)) {
            kill(self.child.id(), libc::SIGTERM);
        }
        // A server that ignores SIGTERM (it once could hang) is killed after the bound, so
        // that the test that found it fails instead of hanging.
        let deadline = std::time::Instant::now() + PROCESS_BOUND;
        while matches!(self.child.try_wait(), Ok(None)) {
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A process a test saw start (an agent, a verify command): killed when dropped if it still runs. Known by its pid
/// and start time, so that a reused pid is not taken for it.
pub struct AgentProcess {
    pub pid: u32,
    started: u64,
}

impl AgentProcess {
    pub fn new(pid: u32) -> Self {
        let (_, started) = proc_stat(pid).unwrap_or_else(|| panic!("the process {pid} runs"));
        Self { pid, started }
    }

    /// Whether it is still there and not a zombie.
    pub fn running(&self) -> bool {
        proc_stat(self.pid).is_some_and(|(state, started)| state != "Z" && started == self.started)
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        if self.running() {
            kill(self.pid, libc::SIGKILL);
        }
    }
}

/// A reviewer's answer that passes.
pub const PASS: &str = r#"{ say = "Looks right.\n```json\n{\"verdict\": \"pass\", \"failed_items\": [], \"fix_list\": []}\n```" }"#;

/// A repository with one commit and agentry set up with a scripted agent for every role: the
/// implementer writes `done.txt`, both reviewers pass.
pub fn scripted_repo() -> Repo {
    let repo = Repo::new();
    std::fs::write(repo.file("README.md"), "# a test project\n").unwrap();
    git(repo.path(), &["add", "README.md"]);
    git(repo.path(), &["commit", "-q", "-m", "initial commit"]);
    assert_ok(&repo.run(&["init"]));
    let script = rule("implementer", "*", &[&[&write_step("done.txt", "done")]])
        + &rule("spec_reviewer", "*", &[&[PASS]])
        + &rule("quality_reviewer", "*", &[&[PASS]]);
    std::fs::write(repo.file("script.toml"), script).unwrap();
    repo.append_config("[agents.script]\nkind = \"scripted\"\nscript = \"script.toml\"\n");
    for role in ["implementer", "spec_reviewer", "quality_reviewer"] {
        repo.set_config(role, "\"script\"");
    }
    repo
}

/// The events of type `event_type` in an `issue show --json` detail, oldest first.
pub fn events_of<'a>(detail: &'a Value, event_type: &str) -> Vec<&'a Value> {
    let events = detail["events"].as_array().expect("events");
    events
        .iter()
        .filter(|e| e["event_type"] == event_type)
        .collect()
}

/// One `[[rule]]` of a scripted agent's steps file: each turn is a list of steps (inline TOML
/// tables).
pub fn rule(role: &str, issue: &str, turns: &[&[&str]]) -> String {
    let turns: Vec<String> = turns
        .iter()
        .map(|steps| format!("[{}]", steps.join(", ")))
        .collect();
    format!(
        "[[rule]]\nrole = {role:?}\nissue = {issue:?}\nturns = [{}]\n\n",
        turns.join(", ")
    )
}

/// The `[agents.NAME]` table of a command agent; `extra` adds lines (timeout_secs, env...).
pub fn command_agent(name: &str, argv: &[&str], extra: &str) -> String {
    let argv: Vec<String> = argv.iter().map(|arg| format!("{arg:?}")).collect();
    format!(
        "[agents.{name}]\nkind = \"command\"\ncommand = [{}]\n{extra}\n",
        argv.join(", ")
    )
}

/// A scripted step writing one line to a file of the worktree.
pub fn write_step(path: &str, line: &str) -> String {
    format!(r#"{{ write = {{ path = "{path}", content = "{line}\n" }} }}"#)
}

/// The types of the events in an `issue show --json` detail that carry a `loop_snapshot.v1`
/// snapshot, oldest first.
pub fn snapshot_types(detail: &Value) -> Vec<String> {
    let events = detail["events"].as_array().expect("events");
    events
        .iter()
        .filter(|e| e["data"].get("schema_version").is_some())
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect()
}
