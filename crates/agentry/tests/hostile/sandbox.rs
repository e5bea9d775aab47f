//! Attacks by agents on the machine: writes and reads outside the worktree, processes that outlive their run, the network.
//!
//! Each agent is a `command` agent (`sh -c ...`) in a real bubblewrap sandbox, the default
//! where bwrap works. Skipped, with a note, where it does not, unless
//! `AGENTRY_REQUIRE_SANDBOX=1` (as in CI) makes that a failure.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{
    PASS, PROCESS_BOUND, QUIET, Repo, agentry_command, assert_ok, bwrap_works, events_of, git,
    git_stdout, json_of, kill, processes_with, rule, stderr, wait_bounded,
};

/// A generous bound on waiting for a process to come or go (not a timing assertion).
const PROCESS_WAIT: Duration = Duration::from_secs(30);

/// Whether the test can run: a sandbox works here, or it is skipped with a note.
fn sandbox_or_skip() -> bool {
    let works = bwrap_works();
    if !works && std::env::var("AGENTRY_REQUIRE_SANDBOX").as_deref() == Ok("1") {
        panic!("AGENTRY_REQUIRE_SANDBOX=1 but bwrap cannot make a sandbox here");
    }
    if !works {
        eprintln!("skipped: bwrap cannot make a sandbox here");
    }
    works
}

/// A repository with one commit (`check.sh`, which verify runs) whose implementer is the
/// command agent `sh -c script`, `agent` adding lines to its table, and whose reviewers pass.
fn project(script: &str, agent: &str) -> Repo {
    let repo = Repo::new();
    std::fs::write(repo.file("README.md"), "# a test project\n").unwrap();
    std::fs::write(repo.file("check.sh"), CHECK).unwrap();
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "initial commit"]);
    assert_ok(&repo.run(&["init"]));
    let reviews =
        rule("spec_reviewer", "*", &[&[PASS]]) + &rule("quality_reviewer", "*", &[&[PASS]]);
    std::fs::write(repo.file("reviews.toml"), reviews).unwrap();
    repo.append_config(&format!(
        "[agents.impl]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", {script:?}]\n{agent}\n\n[agents.rev]\nkind = \"scripted\"\nscript = \"reviews.toml\"\n"
    ));
    repo.set_config("implementer", "\"impl\"");
    for reviewer in ["spec_reviewer", "quality_reviewer"] {
        repo.set_config(reviewer, "\"rev\"");
    }
    repo
}

/// What verify runs: the agent's work is `done.txt`.
const CHECK: &str = "test -f done.txt\n";

/// `run --until-idle --json` with `env` added, to its end; its output.
fn run_with(repo: &Repo, env: &[(&str, &str)]) -> Output {
    let mut all = QUIET.to_vec();
    all.extend_from_slice(env);
    let child = agentry_command(repo.path(), &["run", "--until-idle", "--json"], &all)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("agentry starts");
    wait_bounded(child, PROCESS_BOUND, "agentry run --until-idle")
}

/// Adds one issue verified by `check.sh`, runs until idle, and returns the detail.
fn run_one(repo: &Repo, verify: &str) -> Value {
    let id = repo.add("Do the work", &["--verify", verify]);
    json_of(&run_with(repo, &[]));
    repo.show(&id)
}

/// Every file under `.agentry/logs`, read as text.
fn logs(repo: &Repo) -> String {
    let mut text = String::new();
    let mut dirs = vec![repo.file(".agentry/logs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            match entry.path().is_dir() {
                true => dirs.push(entry.path()),
                false => text.push_str(&String::from_utf8_lossy(
                    &std::fs::read(entry.path()).unwrap(),
                )),
            }
        }
    }
    text
}

/// The python3 that runs here, by its real path: a version manager's shim may need the
/// HOME a test replaces.
fn python3() -> String {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A name no other test run uses.
fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("agentry-hostile-{what}-{}-{nanos}", std::process::id())
}

#[test]
fn an_agent_writes_nothing_outside_its_worktree() {
    if !sandbox_or_skip() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let in_tmp = std::env::temp_dir().join(unique("x"));
    let script = format!(
        "echo x > ../../x; echo x > ../../../x; echo x > {tmp}; echo x > $HOME/x; echo done > done.txt",
        tmp = in_tmp.display()
    );
    let repo = project(&script, "");
    let id = repo.add("Do the work", &["--verify", "sh check.sh"]);
    let home_path = home.path().display().to_string();
    json_of(&run_with(&repo, &[("HOME", &home_path)]));
    assert_eq!(
        repo.show(&id)["status"],
        "needs_review",
        "the work itself is done"
    );
    for outside in [
        repo.file(".agentry/x"),
        repo.file("x"),
        in_tmp.clone(),
        home.path().join("x"),
    ] {
        assert!(!outside.exists(), "{} was written", outside.display());
    }
    let _ = std::fs::remove_file(in_tmp);
}

#[test]
fn an_agent_cannot_unlink_its_worktree_from_the_repository() {
    if !sandbox_or_skip() {
        return;
    }
    let repo = project("rm -rf .git; echo done > done.txt", "");
    let main_before = git_stdout(repo.path(), &["rev-parse", "main"]);
    let detail = run_one(&repo, "sh check.sh");
    assert_eq!(detail["status"], "needs_review");
    assert_eq!(git_stdout(repo.path(), &["rev-parse", "main"]), main_before);
    let branch = format!("agentry/{}:done.txt", detail["id"].as_str().unwrap());
    assert_eq!(git_stdout(repo.path(), &["show", &branch]), "done\n");
}

#[test]
fn an_agent_reads_no_credentials() {
    if !sandbox_or_skip() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let secret = unique("secret");
    for file in [
        ".ssh/id_ed25519",
        ".aws/credentials",
        ".netrc",
        ".config/gh/hosts.yml",
    ] {
        let path = home.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, format!("{secret}\n")).unwrap();
    }
    let script = "cat ~/.ssh/id_ed25519 ~/.aws/credentials ~/.netrc ~/.config/gh/hosts.yml; echo done > done.txt";
    let repo = project(script, "");
    let id = repo.add("Do the work", &["--verify", "sh check.sh"]);
    let home_path = home.path().display().to_string();
    let out = run_with(&repo, &[("HOME", &home_path)]);
    json_of(&out);
    assert_eq!(repo.show(&id)["status"], "needs_review");
    let seen = [logs(&repo), repo.show(&id).to_string(), stderr(&out)].concat();
    assert!(!seen.contains(&secret), "the agent read a credential");
}

#[test]
fn an_agent_cannot_change_the_store() {
    if !sandbox_or_skip() {
        return;
    }
    let script = format!(
        "{python} -c \"import sqlite3; c = sqlite3.connect('../../agentry.db'); c.execute(\\\"update issues set status='closed'\\\"); c.commit()\"; echo done > done.txt",
        python = python3()
    );
    let repo = project(&script, "");
    let detail = run_one(&repo, "sh check.sh");
    assert_eq!(detail["status"], "needs_review");
    assert!(
        events_of(&detail, "STATUS_CHANGED")
            .iter()
            .all(|event| event["data"]["to"] != "closed"),
        "{detail}"
    );
}

#[test]
fn the_store_stays_hidden_where_store_path_puts_it() {
    if !sandbox_or_skip() {
        return;
    }
    let title = unique("title");
    let script = format!(
        "{python} -c \"import sqlite3; print(sqlite3.connect('file:../../../store/issues.db?mode=ro', uri=True).execute('select title from issues').fetchall())\"; echo done > done.txt",
        python = python3()
    );
    let repo = project(&script, "");
    std::fs::create_dir(repo.file("store")).unwrap();
    std::fs::rename(
        repo.file(".agentry/agentry.db"),
        repo.file("store/issues.db"),
    )
    .unwrap();
    repo.set_config("path", "\"store/issues.db\"");
    let id = repo.add(&title, &["--verify", "sh check.sh"]);
    json_of(&run_with(&repo, &[]));
    assert_eq!(repo.show(&id)["status"], "needs_review");
    assert!(!logs(&repo).contains(&title), "the agent read the store");
}

#[test]
fn an_agent_cannot_rewrite_its_verify_script() {
    if !sandbox_or_skip() {
        return;
    }
    let repo = project("echo 'exit 0' > check.sh; echo done > done.txt", "");
    let detail = run_one(&repo, "sh check.sh");
    assert_eq!(detail["status"], "needs_review");
    let branch = format!("agentry/{}:check.sh", detail["id"].as_str().unwrap());
    assert_eq!(git_stdout(repo.path(), &["show", &branch]), CHECK);
}

#[test]
fn a_turn_that_changed_its_verify_script_without_a_sandbox_ends_with_a_named_error() {
    let repo = project("echo 'exit 0' > check.sh", "sandbox = \"off\"");
    let detail = run_one(&repo, "sh check.sh");
    assert_ne!(detail["status"], "needs_review");
    let errors = events_of(&detail, "SESSION_ERROR");
    let error = errors[0]["data"]["failed_items"][0].as_str().unwrap();
    assert!(
        error.contains("verify_script_changed") && error.contains("check.sh"),
        "{error}"
    );
    let branch = format!("agentry/{}:check.sh", detail["id"].as_str().unwrap());
    let committed = Command::new("git")
        .args(["-C", &repo.path().display().to_string(), "show", &branch])
        .output()
        .unwrap();
    assert_ne!(String::from_utf8_lossy(&committed.stdout), "exit 0\n");
}

#[test]
fn an_agent_cannot_push_to_the_remote() {
    if !sandbox_or_skip() {
        return;
    }
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare"]);
    let repo = project(
        "git push -q origin HEAD:refs/heads/pwned; git push -q -f origin HEAD:main; echo done > done.txt",
        "",
    );
    let url = remote.path().display().to_string();
    git(repo.path(), &["remote", "add", "origin", &url]);
    git(repo.path(), &["push", "-q", "origin", "main"]);
    let refs = || git_stdout(remote.path(), &["for-each-ref"]);
    let before = refs();
    let detail = run_one(&repo, "sh check.sh");
    assert_eq!(detail["status"], "needs_review");
    assert_eq!(refs(), before, "the remote is unchanged");
}

/// A marker for `sleep`: a number of seconds no other process sleeps.
fn sleep_marker() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("900.{nanos:09}")
}

/// Waits, within a bound, until no process runs `sleep marker`; kills what is left and fails.
fn assert_gone(marker: &str) {
    let deadline = Instant::now() + PROCESS_WAIT;
    while !processes_with(marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = processes_with(marker);
    for pid in &left {
        kill(*pid, libc::SIGKILL);
    }
    assert!(left.is_empty(), "still running: {left:?}");
}

#[test]
fn nothing_an_agent_starts_outlives_its_run() {
    if !sandbox_or_skip() {
        return;
    }
    let marker = sleep_marker();
    // The agent ends only once its child leads a session of its own, out of its group.
    let ready = std::env::temp_dir().join(unique("setsid"));
    let script = format!(
        "(cd / && setsid sh -c 'echo started > {ready}; exec sleep {marker}' > /dev/null 2>&1 &); until [ -s {ready} ]; do sleep 0.01; done; echo done > done.txt",
        ready = ready.display()
    );
    let repo = project(&script, "");
    let detail = run_one(&repo, "sh check.sh");
    assert_eq!(detail["status"], "needs_review");
    assert_gone(&marker);
    let _ = std::fs::remove_file(ready);
}

#[test]
fn an_agent_dies_with_its_killed_orchestrator() {
    if !sandbox_or_skip() {
        return;
    }
    let marker = sleep_marker();
    let repo = project(&format!("exec sleep {marker}"), "");
    repo.add("Hang", &["--verify", "sh check.sh"]);
    let mut agentry = agentry_command(repo.path(), &["run"], &QUIET)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("agentry starts");
    let deadline = Instant::now() + PROCESS_WAIT;
    while processes_with(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!processes_with(&marker).is_empty(), "the agent started");
    agentry.kill().unwrap();
    agentry.wait().unwrap();
    assert_gone(&marker);
}

#[test]
fn a_verify_command_writes_nothing_outside_its_worktree() {
    if !sandbox_or_skip() {
        return;
    }
    let in_tmp = std::env::temp_dir().join(unique("verify"));
    let script = format!(
        "printf 'echo x > ../../x; echo x > {}; exit 0\\n' > gen.sh; echo done > done.txt",
        in_tmp.display()
    );
    let repo = project(&script, "");
    let detail = run_one(&repo, "sh gen.sh");
    assert_eq!(detail["status"], "needs_review");
    for outside in [repo.file(".agentry/x"), in_tmp.clone()] {
        assert!(!outside.exists(), "{} was written", outside.display());
    }
    let _ = std::fs::remove_file(in_tmp);
}

#[test]
fn a_file_past_max_file_mb_is_cut_short() {
    let repo = project(
        "head -c 3000000 /dev/zero > big.bin; echo done > done.txt",
        "",
    );
    repo.set_config("max_file_mb", "1");
    let detail = run_one(&repo, "sh check.sh");
    assert_eq!(detail["status"], "needs_review");
    let blob = format!("agentry/{}:big.bin", detail["id"].as_str().unwrap());
    let size: u64 = git_stdout(repo.path(), &["cat-file", "-s", &blob])
        .trim()
        .parse()
        .unwrap();
    assert_eq!(size, 1 << 20);
}

#[test]
fn a_flooding_agent_leaves_a_log_capped_at_its_head_and_tail() {
    let repo = project(
        "yes 'a line of output' | head -c 3000000; echo THE-END; echo done > done.txt",
        "",
    );
    repo.set_config("max_log_mb", "1");
    let detail = run_one(&repo, "sh check.sh");
    assert_eq!(detail["status"], "needs_review");
    let session = detail["events"][0]["session_id"]
        .as_str()
        .map(str::to_string);
    let sessions = std::fs::read_dir(repo.file(".agentry/logs")).unwrap();
    let dir = sessions.flatten().map(|e| e.path()).find(|p| {
        session.is_none() || p.file_name().and_then(|n| n.to_str()) == session.as_deref()
    });
    let log = std::fs::read_to_string(dir.unwrap().join("01-implementer.jsonl")).unwrap();
    assert!(log.len() < (1 << 20) + 1024, "{} bytes", log.len());
    assert!(log.starts_with("{\"at\":"), "the head is kept");
    assert!(
        log.contains(" bytes not kept …]\n"),
        "a marker line between"
    );
    assert!(
        log.contains("THE-END") && log.trim_end().ends_with('}'),
        "the tail is kept"
    );
}

/// A loopback HTTP server that answers 200 and records each request line.
struct Recorder {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                seen.lock().unwrap().push(line.trim_end().to_string());
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            }
        });
        Self { port, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Shell that fetches `url` with python, through the proxy the environment names when
/// `proxied` (even for loopback, which the environment sends direct), and says what came
/// back.
fn fetch(url: &str, proxied: bool) -> String {
    let (unset, proxies) = match proxied {
        true => (
            "env -u NO_PROXY -u no_proxy ",
            "{'http': os.environ['HTTP_PROXY']}",
        ),
        false => ("", "{}"),
    };
    format!(
        "{unset}{python} -c \"import os, urllib.request as r; print('got', r.build_opener(r.ProxyHandler({proxies})).open('{url}', timeout=10).read())\" 2>/dev/null || echo 'failed {url}'; ",
        python = python3()
    )
}

#[test]
fn an_agent_without_a_network_reaches_nothing() {
    if !sandbox_or_skip() {
        return;
    }
    let server = Recorder::start();
    let script =
        fetch(&format!("http://127.0.0.1:{}/none", server.port), false) + "echo done > done.txt";
    let repo = project(&script, "network = \"none\"");
    let detail = run_one(&repo, "sh check.sh");
    assert_eq!(detail["status"], "needs_review");
    assert_eq!(server.requests(), Vec::<String>::new());
}

#[test]
fn an_agent_with_a_limited_network_reaches_only_the_allowed_hosts() {
    if !sandbox_or_skip() {
        return;
    }
    let (allowed, refused, model) = (Recorder::start(), Recorder::start(), Recorder::start());
    let script = [
        fetch(&format!("http://127.0.0.1:{}/allowed", allowed.port), true),
        fetch(&format!("http://127.0.0.1:{}/refused", refused.port), true),
        fetch(&format!("http://127.0.0.1:{}/direct", refused.port), false),
        fetch(&format!("http://127.0.0.1:{}/v1/models", model.port), false),
        "echo done > done.txt".to_string(),
    ]
    .concat();
    let agent = format!(
        "network = \"allow\"\nallow_hosts = [\"127.0.0.1:{}\"]\nbase_url = \"http://127.0.0.1:{}/v1\"",
        allowed.port, model.port
    );
    let repo = project(&script, &agent);
    let id = repo.add("Do the work", &["--verify", "sh check.sh"]);
    let out = run_with(&repo, &[("AGENTRY_LOG", "warn")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(repo.show(&id)["status"], "needs_review");
    assert_eq!(refused.requests(), Vec::<String>::new());
    assert_eq!(allowed.requests(), ["GET /allowed HTTP/1.1"]);
    assert_eq!(
        model.requests(),
        ["GET /v1/models HTTP/1.1"],
        "the base URL is reached"
    );
    let logged = stderr(&out);
    assert!(
        logged.contains("refused an agent's connection")
            && logged.contains(&refused.port.to_string()),
        "{logged}"
    );
}

/// A folder holding only `git` and `sh`, for a PATH on which there is no bwrap.
fn path_without_bwrap() -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    for program in ["git", "sh"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .output()
            .unwrap();
        let real = String::from_utf8(found.stdout).unwrap();
        std::os::unix::fs::symlink(real.trim(), bin.path().join(program)).unwrap();
    }
    bin
}

#[test]
fn where_there_is_no_sandbox_bwrap_mode_refuses_to_run_and_auto_says_so() {
    let bin = path_without_bwrap();
    let path = bin.path().display().to_string();
    let repo = project("echo done > done.txt", "");
    let refused = repo.add("Refused", &["--verify", "sh check.sh"]);
    let required = [("PATH", path.as_str()), ("SANDBOX__MODE", "bwrap")];
    json_of(&run_with(&repo, &required));
    let detail = repo.show(&refused);
    assert_ne!(detail["status"], "needs_review");
    let errors = events_of(&detail, "SESSION_ERROR");
    let error = errors[0]["data"]["failed_items"][0].as_str().unwrap();
    assert!(
        error.contains("sandbox.mode is \"bwrap\" but there is no sandbox"),
        "{error}"
    );

    let unconfined = repo.add("Unconfined", &["--verify", "sh check.sh"]);
    let auto = [
        ("PATH", path.as_str()),
        ("SANDBOX__MODE", "auto"),
        ("AGENTRY_LOG", "warn"),
    ];
    let out = run_with(&repo, &auto);
    let status = &repo.show(&unconfined)["status"];
    assert_eq!(status, "needs_review", "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no sandbox (bwrap is not installed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn doctor_says_how_each_agent_is_contained() {
    let repo = project("true", "network = \"none\"");
    let out = agentry_command(repo.path(), &["doctor", "--json"], &QUIET)
        .output()
        .unwrap();
    let checks: Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = |what: &str| {
        checks
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["what"] == what)
            .cloned()
            .unwrap_or_else(|| panic!("no {what} line: {checks}"))
    };
    let expected = match bwrap_works() {
        true => "bwrap, network none",
        false => "none",
    };
    let agent = check("sandbox of agent impl");
    assert!(
        agent["detail"].as_str().unwrap().starts_with(expected),
        "{agent}"
    );
    assert_eq!(check("sandbox").get("ok"), Some(&json!(true)));
}
