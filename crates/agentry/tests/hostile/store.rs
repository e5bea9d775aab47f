//! Attacks on the store and the queue: a second process, a deleted database, a full disk, pathological globs.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::server::Server;
use crate::support::{
    PASS, PROCESS_BOUND, QUIET, Repo, agentry_command, assert_refused, events_of, kill, rule,
    scripted_repo, stderr, stdout, wait_bounded, write_step,
};

/// A bound on waiting for something a test has set in motion (not a timing assertion).
const WAIT_BOUND: Duration = Duration::from_secs(60);

/// An implementer that takes a little while on every issue, and reviewers that pass.
fn slow_agents(repo: &Repo) {
    let implement = [r#"{ sleep_ms = 200 }"#, &write_step("done.txt", "done")];
    let script = rule("implementer", "*", &[&implement])
        + &rule("spec_reviewer", "*", &[&[PASS]])
        + &rule("quality_reviewer", "*", &[&[PASS]]);
    std::fs::write(repo.file("script.toml"), script).unwrap();
}

/// `agentry run --until-idle --json` in the background, quiet.
fn start_run(repo: &Repo) -> Child {
    agentry_command(repo.path(), &["run", "--until-idle", "--json"], &QUIET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("agentry run starts")
}

/// Each session of `ids` as the ids of the events that claimed and released its issue: the
/// store numbers its events in the order its transactions commit, whatever process wrote them.
fn sessions(repo: &Repo, ids: &[String]) -> Vec<(String, i64, i64)> {
    let mut spans = Vec::new();
    for id in ids {
        let detail = repo.show(id);
        let mut claimed: BTreeMap<String, i64> = BTreeMap::new();
        for event in events_of(&detail, "STATUS_CHANGED") {
            let (session, at) = (event["session_id"].as_str(), event["id"].as_i64().unwrap());
            let Some(session) = session else { continue };
            if event["data"]["to"] == "in_progress" {
                claimed.insert(session.to_string(), at);
            } else if event["data"]["from"] == "in_progress" {
                let start = claimed
                    .remove(session)
                    .expect("a session ends after its claim");
                spans.push((id.clone(), start, at));
            }
        }
        assert!(claimed.is_empty(), "{id}: a session never ended");
    }
    spans
}

/// No two sessions of `ids` held their issues at the same time.
fn assert_one_at_a_time(repo: &Repo, ids: &[String]) {
    let spans = sessions(repo, ids);
    assert!(
        spans.len() >= ids.len(),
        "every issue had a session: {spans:?}"
    );
    for (n, a) in spans.iter().enumerate() {
        for b in &spans[n + 1..] {
            assert!(
                a.2 < b.1 || b.2 < a.1,
                "overlapping scopes worked on at once: {a:?} and {b:?}"
            );
        }
    }
}

#[test]
fn two_run_processes_never_work_on_overlapping_scopes_at_once() {
    let repo = scripted_repo();
    slow_agents(&repo);
    let ids: Vec<String> = (0..8)
        .map(|n| repo.add(&format!("part {n}"), &["--scope", "src/**"]))
        .collect();

    let runs = [start_run(&repo), start_run(&repo)];
    for run in runs {
        let out = wait_bounded(run, PROCESS_BOUND, "agentry run --until-idle");
        assert!(out.status.success(), "{}", stderr(&out));
    }

    for id in &ids {
        assert_eq!(repo.show(id)["status"], "needs_review", "{id}");
    }
    assert_one_at_a_time(&repo, &ids);
}

#[test]
fn a_run_beside_a_serve_never_works_on_a_scope_the_serve_works_on() {
    let repo = scripted_repo();
    slow_agents(&repo);
    let ids = [
        repo.add("the whole source", &["--scope", "src/**"]),
        repo.add("one file of it", &["--scope", "src/lib.rs"]),
    ];
    let server = Server::start(&repo, &[], &[]);

    let out = wait_bounded(start_run(&repo), PROCESS_BOUND, "agentry run");
    assert!(out.status.success(), "{}", stderr(&out));
    // The run ends once nothing is claimed; whatever the serve still runs is done soon after.
    let deadline = Instant::now() + WAIT_BOUND;
    while ids
        .iter()
        .any(|id| repo.show(id)["status"] != "needs_review")
    {
        assert!(Instant::now() < deadline, "the issues were not worked on");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server);
    assert_one_at_a_time(&repo, &ids);
}

#[test]
fn a_pathological_glob_is_decided_at_once_and_a_class_matches_as_a_class() {
    let repo = scripted_repo();
    // The hand-written matcher tried every split of the path for each `**`: hours here, on
    // the dispatcher's path, as one issue runs and the other is checked against it.
    let pathological = "**/".repeat(12) + "x";
    let long_path = "d/".repeat(40) + "y";
    let glob = repo.add("glob", &["--scope", &pathological]);
    let path = repo.add("path", &["--scope", &long_path]);
    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 2}), "{summary}");
    for id in [&glob, &path] {
        assert!(events_of(&repo.show(id), "SCOPE_WAIT").is_empty(), "{id}");
    }

    let class = repo.add("class", &["--scope", "[ab].rs", "--priority", "1"]);
    let member = repo.add("member", &["--scope", "a.rs", "--priority", "2"]);
    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 2}), "{summary}");
    let member_detail = repo.show(&member);
    let waits = events_of(&member_detail, "SCOPE_WAIT");
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert_eq!(
        waits[0]["data"],
        json!({"waits_for": class, "scope": "a.rs", "overlaps": "[ab].rs"})
    );
}

#[test]
fn a_bad_glob_is_refused_by_name_at_every_input() {
    let repo = Repo::initialized();
    let needles = ["\"src/[ab\"", "unclosed character class"];
    assert_refused(
        &repo.run(&["issue", "add", "t", "--scope", "src/[ab"]),
        &needles,
    );
    let id = repo.add("t", &["--scope", "src/**"]);
    assert_refused(
        &repo.run(&["issue", "update", &id, "--scope", "src/[ab"]),
        &needles,
    );
    std::fs::write(
        repo.file("backlog.jsonl"),
        "{\"title\": \"imported\", \"scope\": [\"src/[ab\"]}\n",
    )
    .unwrap();
    assert_refused(
        &repo.run(&["issue", "import", "backlog.jsonl"]),
        &["line 1", "\"src/[ab\""],
    );

    let server = Server::start(&repo, &["--no-dispatch"], &[("SERVER__SERVICE_TOKEN", "t")]);
    let auth = ["Authorization: Bearer t"];
    let body = json!({"title": "t", "scope": ["src/[ab"]});
    let (status, answer) = server.json("POST", "/api/v1/tasks", &auth, Some(body));
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains(needles[0]),
        "{answer}"
    );
    drop(server);

    let list = repo.json(&["issue", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(repo.show(&id)["scope"], json!(["src/**"]));
}

/// `rm .agentry/agentry.db*`.
fn remove_store(repo: &Repo) {
    for suffix in ["", "-wal", "-shm"] {
        let file = repo.file(&format!(".agentry/agentry.db{suffix}"));
        if file.exists() {
            std::fs::remove_file(file).unwrap();
        }
    }
}

#[test]
fn a_store_deleted_under_serve_is_noticed_and_never_made_again_silently() {
    let repo = scripted_repo();
    let server = Server::start(&repo, &[], &[("SERVER__SERVICE_TOKEN", "t")]);
    let auth = ["Authorization: Bearer t"];
    let (status, health) = server.get("/api/v1/health");
    assert_eq!((status, &health["store"]), (200, &json!("ok")), "{health}");

    remove_store(&repo);

    let (status, health) = server.get("/api/v1/health");
    assert_eq!(status, 503, "{health}");
    let store = health["store"].as_str().unwrap();
    assert!(store.contains("deleted or replaced"), "{health}");
    let body = Some(json!({"title": "into the void"}));
    let (status, answer) = server.json("POST", "/api/v1/tasks", &auth, body);
    assert!(status >= 500, "{status} {answer}");
    drop(server);

    let db = repo.file(".agentry/agentry.db");
    assert_refused(
        &repo.run(&["issue", "list"]),
        &[&db.display().to_string(), "agentry init", "agentry restore"],
    );
    assert!(!db.exists(), "the store was made again");
    repo.ok(&["init"]);
    assert_eq!(repo.ok(&["issue", "list"]), "no issues\n");
}

#[test]
fn a_run_whose_store_is_deleted_stops_writing_and_says_so() {
    let repo = scripted_repo();
    waiting_agents(&repo);
    let id = repo.add("worked on as the store goes", &[]);
    let run = start_run(&repo);
    let worktree = repo.file(&format!(".agentry/worktrees/{id}"));
    wait_until("the implementer running", || {
        worktree.join("waiting").exists()
    });

    remove_store(&repo);
    std::fs::write(worktree.join("go"), "").unwrap();
    let out = wait_bounded(run, PROCESS_BOUND, "agentry run on a deleted store");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let last = stderr(&out).lines().last().unwrap_or_default().to_string();
    assert!(
        last.starts_with("agentry: ") && last.contains("deleted or replaced"),
        "{last}"
    );
    assert!(!repo.file(".agentry/agentry.db").exists());
}

#[test]
fn doctor_reports_a_store_with_a_damaged_page() {
    let repo = Repo::initialized();
    let marker = "a body that marks its page";
    let lines: String = (0..200)
        .map(|n| {
            format!(
                "{{\"title\": \"issue {n}\", \"body\": \"{marker} {n} {}\"}}\n",
                "x".repeat(400)
            )
        })
        .collect();
    std::fs::write(repo.file("backlog.jsonl"), lines).unwrap();
    repo.ok(&["issue", "import", "backlog.jsonl"]);

    // Scribble over the header of a page that holds issues.
    let db = repo.file(".agentry/agentry.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .expect("the issues are in the database file");
    let page = at / 4096 * 4096;
    bytes[page..page + 12].fill(0x5a);
    std::fs::write(&db, bytes).unwrap();

    let out = repo.run(&["doctor", "--json"]);
    let checks: Value = serde_json::from_str(&stdout(&out)).expect("doctor prints its checks");
    let store = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["what"] == "store")
        .expect("a store check");
    assert_eq!(store["ok"], false, "{store}");
    let detail = store["detail"].as_str().unwrap();
    assert!(
        detail.contains("damaged") && detail.contains("agentry restore"),
        "{store}"
    );
}

/// The implementer's first turn says it runs (`waiting` in its worktree) and waits for `go`
/// there (a test writes it); later turns do not.
fn waiting_agents(repo: &Repo) {
    let wait = r#"{ run = "touch waiting; while [ ! -f go ]; do sleep 0.05; done" }"#;
    let done = write_step("done.txt", "done");
    let script = rule("implementer", "*", &[&[wait, &done], &[&done]])
        + &rule("spec_reviewer", "*", &[&[PASS]])
        + &rule("quality_reviewer", "*", &[&[PASS]]);
    std::fs::write(repo.file("script.toml"), script).unwrap();
}

/// Polls `ready` until it holds, up to [`WAIT_BOUND`].
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT_BOUND;
    while !ready() {
        assert!(Instant::now() < deadline, "{what} did not happen");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills a process when dropped: an agentry left looping must not outlive a failed test.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        kill(self.0, libc::SIGKILL);
    }
}

/// Writes into `file` until its file system is full.
fn fill(file: &Path) {
    let mut out = std::fs::File::create(file).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while out.write_all(&chunk).is_ok() {}
}

/// `agentry run --until-idle --json` with its store copied onto a small file system of its
/// own (a tmpfs at `small`, seen only inside bubblewrap's mount namespace); the store is copied
/// back when it ends. The process id of agentry lands in `pid_file`.
fn run_on_a_small_disk(repo: &Repo, small: &Path, pid_file: &Path) -> Child {
    let store = repo.file(".agentry/agentry.db");
    let small_store = small.join("agentry.db");
    let env = [
        ("AGENTRY_LOG", "warn"),
        ("STORE__PATH", small_store.to_str().unwrap()),
        // Housekeeping every two seconds rather than twenty.
        ("SCHEDULING__LEASE_SECS", "5"),
    ];
    let inner = agentry_command(repo.path(), &[], &env);
    let script = r#"cp "$1" "$2" || exit 1
"$3" run --until-idle --json & echo $! > "$4"; wait $!; status=$?
cp "$2" "$1"; exit $status"#;
    let mut cmd = Command::new("bwrap");
    cmd.args([
        "--die-with-parent",
        "--dev-bind",
        "/",
        "/",
        "--size",
        "8388608",
        "--tmpfs",
    ])
    .arg(small)
    .arg("--chdir")
    .arg(repo.path())
    .args(["sh", "-c", script, "sh"])
    .arg(&store)
    .arg(&small_store)
    .arg(inner.get_program())
    .arg(pid_file);
    for (name, value) in inner.get_envs() {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bwrap (bubblewrap) runs: it is needed for this test")
}

#[test]
fn a_full_disk_leaves_no_session_in_progress_and_the_run_ends_once_space_returns() {
    let repo = scripted_repo();
    waiting_agents(&repo);
    let id = repo.add("written on a full disk", &[]);
    let outside = tempfile::tempdir().unwrap();
    let small = outside.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let pid_file = outside.path().join("agentry.pid");

    let mut child = run_on_a_small_disk(&repo, &small, &pid_file);
    let (lines, logged) = mpsc::channel();
    let err = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        err.lines()
            .map_while(Result::ok)
            .for_each(|l| drop(lines.send(l)))
    });
    let mut out = child.stdout.take().unwrap();
    let summary = std::thread::spawn(move || {
        let mut text = String::new();
        out.read_to_string(&mut text).map(|_| text)
    });
    wait_until("agentry starting", || {
        std::fs::read_to_string(&pid_file).is_ok_and(|pid| pid.ends_with('\n'))
    });
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _stray = KillOnDrop(pid);
    let worktree = repo.file(&format!(".agentry/worktrees/{id}"));
    wait_until("the implementer running", || {
        worktree.join("waiting").exists()
    });

    // The tmpfs, as the agentry process sees it.
    let filler = Path::new(&format!("/proc/{pid}/root"))
        .join(small.strip_prefix("/").unwrap())
        .join("filler");
    fill(&filler);
    std::fs::write(worktree.join("go"), "").unwrap();
    let deadline = Instant::now() + WAIT_BOUND;
    let mut seen = Vec::new();
    loop {
        let line = logged
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("the session never met the full disk: {seen:?}"));
        if line.contains("session stopped") && line.contains("disk is full") {
            break;
        }
        seen.push(line);
    }
    std::fs::remove_file(&filler).unwrap();

    let ended = wait_bounded(
        child,
        WAIT_BOUND,
        "agentry run on a disk that had filled up",
    );
    assert!(
        ended.status.success(),
        "{:?}",
        logged.try_iter().collect::<Vec<_>>()
    );
    let summary: Value = serde_json::from_str(&summary.join().unwrap().unwrap()).unwrap();
    assert_eq!(summary["issues"], json!({"needs_review": 1}), "{summary}");
    assert_eq!(repo.show(&id)["status"], "needs_review");
}
