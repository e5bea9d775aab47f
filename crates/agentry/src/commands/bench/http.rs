//! `agentry bench http`: `agentry serve` in its own process, its dispatcher running 4 sessions
//! whose agents wait, loaded with `GET /api/v1/tasks/{id}` (requests/s, latency), then
//! followed by 500 event streams while tasks are posted (every stream gets every event; the
//! time from an event's write to each stream's receipt).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use agentry_core::Status;
use agentry_core::import::parse_jsonl;
use agentry_store::{IssueFilter, SqliteStore, Store};
use anyhow::{Context, Result, bail, ensure};
use tokio::task::JoinSet;

use super::http_client::{Connection, get};
use super::percentile;
use super::worktrees::make_repo;
use crate::output::outln;
use crate::project::Project;

const WORKERS: usize = 4;
/// Connections sending requests at once: enough to keep the server's two worker threads busy.
const CONNECTIONS: usize = 32;
const WARM_UP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(10);
/// Tasks whose detail the load asks for, in turn: the ones in progress and some open ones.
const TASKS: usize = 16;
/// The agent of every role: waits, so that its session stays in flight.
const WAITING_AGENT: &str = r#"
[agents.waiting]
kind = "command"
command = ["sh", "-c", "sleep 600"]
"#;

pub fn run(issues: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("repo");
    let store = set_up(&root, issues)?;
    let mut server = Served::start(&root)?;
    wait_for_sessions(&store)?;
    let paths = task_paths(&store)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let latencies = runtime.block_on(load(&server.addr, &paths))?;
    ensure!(
        store.claims()?.len() == WORKERS,
        "the sessions did not last the measurement"
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    outln!(
        "HTTP API: `agentry serve` with {WORKERS} sessions in flight (agents that wait), {issues} issues; GET /api/v1/tasks/{{id}} over {TASKS} tasks, {CONNECTIONS} kept-alive connections, {} s",
        MEASURE.as_secs()
    );
    outln!(
        "requests/s             {:>10.0}        (target ≥ 15,000)",
        latencies.len() as f64 / MEASURE.as_secs_f64()
    );
    outln!(
        "p50 / p99              {:>6.2} / {:.2} ms  (target p99 ≤ 10 ms)",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0))
    );
    runtime.block_on(super::fan_out::run(&server.addr, &server.token, &store))?;
    server.stop()
}

/// A git repository with agentry set up, agents that wait, and `issues` ready issues.
fn set_up(root: &Path, issues: usize) -> Result<SqliteStore> {
    make_repo(root)?;
    let program = std::env::current_exe()?;
    let status = Command::new(program)
        .arg("init")
        .current_dir(root)
        .stdout(Stdio::null())
        .status()?;
    ensure!(status.success(), "agentry init failed ({status})");
    let config = root.join(crate::project::CONFIG_FILE);
    let mut text = std::fs::read_to_string(&config)?;
    text.push_str(WAITING_AGENT);
    std::fs::write(&config, text)?;
    let store = Project::find(root)?.open_store()?;
    let backlog: String = (0..issues)
        .map(|n| format!("{{\"title\":\"Issue {n}\",\"verify\":[\"true\"]}}\n"))
        .collect();
    store.import(
        parse_jsonl(&backlog)?,
        agentry_core::Timestamp::now().plus_secs(-1),
    )?;
    Ok(store)
}

/// The `agentry serve` child.
struct Served {
    child: Child,
    /// Kept open so that the server's writes to stdout never fail.
    _stdout: BufReader<ChildStdout>,
    addr: String,
    /// The service token the server made, from the dashboard's URL it printed.
    token: String,
}

impl Served {
    fn start(root: &Path) -> Result<Self> {
        let roles = ["IMPLEMENTER", "SPEC_REVIEWER", "QUALITY_REVIEWER"];
        let mut child = Command::new(std::env::current_exe()?)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .current_dir(root)
            .envs(roles.map(|role| (format!("ROLES__{role}"), "waiting")))
            .env("SCHEDULING__MAX_WORKERS", WORKERS.to_string())
            // Stops the waiting agents at once when the benchmark ends.
            .env("SCHEDULING__SHUTDOWN_GRACE_SECS", "0")
            .env("AGENTRY_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut stdout = BufReader::new(child.stdout.take().context("stdout is piped")?);
        let mut lines = String::new();
        stdout.read_line(&mut lines)?;
        stdout.read_line(&mut lines)?;
        let Some((addr, token)) = listening_and_token(&lines) else {
            bail!("agentry serve did not start: {lines:?}");
        };
        Ok(Self {
            addr: addr.to_string(),
            token: token.to_string(),
            child,
            _stdout: stdout,
        })
    }

    /// SIGTERM, then waits for the server to exit.
    fn stop(&mut self) -> Result<()> {
        let pid = libc::pid_t::try_from(self.child.id())?;
        // SAFETY: kill only sends a signal to the child this benchmark started.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let status = self.child.wait()?;
        ensure!(status.success(), "agentry serve failed ({status})");
        Ok(())
    }
}

/// The address and the token in serve's first lines: `listening on http://ADDR`, then
/// `dashboard http://ADDR/#token=TOKEN`.
fn listening_and_token(lines: &str) -> Option<(&str, &str)> {
    let (first, second) = lines.split_once('\n')?;
    let addr = first.strip_prefix("listening on http://")?;
    let (_, token) = second.trim().split_once("#token=")?;
    Some((addr, token))
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits until the dispatcher runs a session on every worker.
fn wait_for_sessions(store: &SqliteStore) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.claims()?.len() < WORKERS {
        ensure!(
            Instant::now() < deadline,
            "the dispatcher did not start {WORKERS} sessions"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// The paths of the tasks in progress, then of open ones.
fn task_paths(store: &SqliteStore) -> Result<Vec<String>> {
    let mut tasks = Vec::new();
    for status in [Status::InProgress, Status::Open] {
        let filter = IssueFilter {
            status: Some(status),
            label: None,
        };
        tasks.extend(store.list_issues(&filter)?);
    }
    Ok(tasks
        .iter()
        .take(TASKS)
        .map(|issue| format!("/api/v1/tasks/{}", issue.id))
        .collect())
}

/// Every connection asks for the tasks in turn, as fast as answers come; the latency of each
/// request after the warm-up is kept.
async fn load(addr: &str, paths: &[String]) -> Result<Vec<Duration>> {
    let requests: Vec<Vec<u8>> = paths.iter().map(|p| get(p)).collect();
    let start = Instant::now();
    let (measure_from, end) = (start + WARM_UP, start + WARM_UP + MEASURE);
    let mut connections = JoinSet::new();
    for n in 0..CONNECTIONS {
        let mut connection = Connection::open(addr).await?;
        let requests = requests.clone();
        connections.spawn(async move {
            let mut latencies = Vec::new();
            for request in requests.iter().cycle().skip(n) {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let (status, _) = connection.exchange(request).await?;
                ensure!(status == 200, "GET answered {status}");
                if sent >= measure_from {
                    latencies.push(sent.elapsed());
                }
            }
            anyhow::Ok(latencies)
        });
    }
    let mut all = Vec::new();
    while let Some(latencies) = connections.join_next().await {
        all.extend(latencies??);
    }
    Ok(all)
}
