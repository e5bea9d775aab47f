//! End-to-end tests of `agentry serve`: a real server process in a temporary git repository,
//! spoken to with a small HTTP/1.1 client over `TcpStream`.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Repo, agentry_command, assert_refused, git};

/// Keeps the server's stderr quiet.
const QUIET: (&str, &str) = ("AGENTRY_LOG", "warn");

/// A generous bound on a task reaching review (not a timing assertion).
const REVIEW_BOUND: Duration = Duration::from_secs(60);

const PASS: &str = r#"{ say = "Looks right.\n```json\n{\"verdict\": \"pass\", \"failed_items\": [], \"fix_list\": []}\n```" }"#;

/// A running `agentry serve`, killed and reaped when dropped.
struct Server {
    child: Child,
    /// Kept open so that the server's writes to stdout never fail.
    _stdout: BufReader<ChildStdout>,
    addr: String,
}

impl Server {
    fn start(repo: &Repo, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut all = vec!["serve", "--bind", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut env = env.to_vec();
        env.push(QUIET);
        let mut child = agentry_command(repo.path(), &all, &env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("agentry serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("the first line");
        let addr = first
            .strip_prefix("listening on http://")
            .and_then(|rest| rest.strip_suffix('\n'))
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        Self {
            child,
            _stdout: stdout,
            addr,
        }
    }

    /// Sends one request; returns the status and the body.
    fn request(&self, method: &str, path: &str, headers: &[&str], body: &[u8]) -> (u16, Vec<u8>) {
        let mut stream = TcpStream::connect(&self.addr).expect("connects");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for header in headers {
            head.push_str(&format!("{header}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("writes the head");
        // The server may answer (413) before it has read a large body; that is not an error here.
        let _ = stream.write_all(body);
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        parse_response(&response)
    }

    fn json(
        &self,
        method: &str,
        path: &str,
        headers: &[&str],
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut all = headers.to_vec();
        let bytes = match &body {
            Some(value) => {
                all.push("Content-Type: application/json");
                serde_json::to_vec(value).unwrap()
            }
            None => Vec::new(),
        };
        let (status, body) = self.request(method, path, &all, &bytes);
        let value = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "{method} {path}: not JSON ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        });
        (status, value)
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.json("GET", path, &[], None)
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.json("POST", path, &[], Some(body))
    }

    fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.json("PATCH", path, &[], Some(body))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Splits a response (without chunked encoding handling beyond what `Connection: close` needs).
fn parse_response(response: &[u8]) -> (u16, Vec<u8>) {
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head: {}", String::from_utf8_lossy(response)));
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let mut body = response[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size");
        let size = usize::from_str_radix(std::str::from_utf8(&data[..end]).unwrap().trim(), 16)
            .expect("a hex chunk size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 4 + size..];
    }
}

fn error_of(value: &Value) -> &str {
    value["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {value}"))
}

fn create(server: &Server, body: Value) -> String {
    let (status, issue) = server.post("/api/v1/tasks", body);
    assert_eq!(status, 201, "{issue}");
    issue["id"].as_str().expect("an id").to_string()
}

#[test]
fn health_tasks_filters_and_paging() {
    let repo = Repo::initialized();
    let server = Server::start(&repo, &["--no-dispatch"], &[]);
    assert_eq!(
        server.get("/api/v1/health"),
        (200, json!({"status": "ok", "store": "ok"}))
    );
    let a = create(
        &server,
        json!({"title": "first", "labels": ["ui"], "priority": 1}),
    );
    let b = create(
        &server,
        json!({"title": "second", "body": "text", "labels": ["ui"]}),
    );
    let c = create(
        &server,
        json!({"title": "third", "depends_on": [a.clone()]}),
    );
    let (status, page) = server.get("/api/v1/tasks");
    assert_eq!(status, 200);
    assert_eq!(page["total"], 3);
    let (_, page) = server.get("/api/v1/tasks?label=ui&limit=1&offset=1");
    assert_eq!(page["total"], 2);
    assert_eq!(page["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(page["tasks"][0]["id"], b.as_str());
    let (_, page) = server.get("/api/v1/tasks?status=closed");
    assert_eq!(page, json!({"tasks": [], "total": 0}));

    let (status, detail) = server.get(&format!("/api/v1/tasks/{c}"));
    assert_eq!(status, 200);
    assert_eq!(detail["title"], "third");
    assert_eq!(detail["links"][0]["dst"], a.as_str());
    assert_eq!(detail["last_error"], Value::Null);
    assert_eq!(detail["metrics"]["sessions"], 0);
    assert_eq!(detail["events"][0]["event_type"], "ISSUE_CREATED");
}

#[test]
fn patch_follows_the_transition_rules() {
    let repo = Repo::initialized();
    let server = Server::start(&repo, &["--no-dispatch"], &[]);
    let id = create(&server, json!({"title": "a task"}));
    let path = format!("/api/v1/tasks/{id}");
    let (status, issue) = server.patch(
        &path,
        json!({"status": "blocked", "priority": 0, "reason": "waits"}),
    );
    assert_eq!(status, 200, "{issue}");
    assert_eq!(
        (issue["status"].as_str(), issue["priority"].as_i64()),
        (Some("blocked"), Some(0))
    );
    let (status, err) = server.patch(&path, json!({"status": "needs_review", "priority": 4}));
    assert_eq!(status, 409);
    assert!(
        error_of(&err).contains("blocked") && error_of(&err).contains("needs_review"),
        "{err}"
    );
    assert_eq!(
        server.get(&path).1["priority"],
        0,
        "a refused change changes nothing"
    );
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let repo = Repo::initialized();
    let server = Server::start(&repo, &["--no-dispatch"], &[]);
    let (status, err) = server.post("/api/v1/tasks", json!({"title": "t", "priority": 9}));
    assert_eq!(status, 400);
    assert!(error_of(&err).contains("priority"), "{err}");
    let (status, err) = server.post("/api/v1/tasks", json!({"title": "t", "colour": "red"}));
    assert_eq!(status, 400);
    assert!(error_of(&err).contains("colour"), "{err}");
    let (status, err) = server.post("/api/v1/tasks", json!({"body": "no title"}));
    assert_eq!(status, 400);
    assert!(error_of(&err).contains("title"), "{err}");
    let (status, body) = server.request("POST", "/api/v1/tasks", &[], b"{not json");
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let (status, err) = server.get("/api/v1/tasks?status=done");
    assert_eq!(status, 400);
    assert!(error_of(&err).contains("status"), "{err}");
    let (status, _) = server.get("/api/v1/tasks?limit=many");
    assert_eq!(status, 400);
    let (status, _) = server.patch("/api/v1/tasks/i-zzzz", json!({"status": "open"}));
    assert_eq!(status, 404);
    assert_eq!(server.get("/api/v1/tasks/i-zzzz").0, 404);
    assert_eq!(server.get("/api/v1/tasks/not-an-id").0, 404);
    let (status, err) = server.get("/api/v2/nothing");
    assert_eq!(status, 404);
    error_of(&err);
    let big = vec![b'x'; 1024 * 1024 + 1];
    let (status, _) = server.request("POST", "/api/v1/tasks", &[], &big);
    assert_eq!(status, 413);
    assert_eq!(server.get("/api/v1/health").0, 200, "still serving");
}

#[test]
fn the_token_guards_changes_and_diagnostics() {
    let repo = Repo::initialized();
    let token = ("SERVER__SERVICE_TOKEN", "s3cret");
    let server = Server::start(&repo, &["--no-dispatch"], &[token]);
    let good = ["Authorization: Bearer s3cret"];
    let wrong = ["Authorization: Bearer s3creT"];
    let task = Some(json!({"title": "guarded"}));
    assert_eq!(
        server.json("POST", "/api/v1/tasks", &[], task.clone()).0,
        401
    );
    assert_eq!(
        server.json("POST", "/api/v1/tasks", &wrong, task.clone()).0,
        401
    );
    let (status, issue) = server.json("POST", "/api/v1/tasks", &good, task);
    assert_eq!(status, 201);
    let path = format!("/api/v1/tasks/{}", issue["id"].as_str().unwrap());
    let change = Some(json!({"priority": 1}));
    assert_eq!(server.json("PATCH", &path, &wrong, change.clone()).0, 401);
    assert_eq!(server.json("PATCH", &path, &good, change).0, 200);
    let queue = "/api/v1/diagnostics/task_queue";
    assert_eq!(server.json("GET", queue, &[], None).0, 401);
    let (status, diagnostics) = server.json("GET", queue, &good, None);
    assert_eq!(status, 200);
    assert_eq!(diagnostics["depth"]["open"], 1);
    assert_eq!(diagnostics["ready"], 1);
    assert!(diagnostics["oldest_ready_age_s"].as_f64().is_some());
    assert_eq!(diagnostics["active_sessions"], json!([]));
    assert_eq!(server.get("/api/v1/health").0, 200);
    assert_eq!(server.get("/api/v1/tasks").0, 200);
    assert_eq!(server.get(&path).0, 200);
}

#[test]
fn metrics_count_issues_and_events() {
    let repo = Repo::initialized();
    let server = Server::start(&repo, &["--no-dispatch"], &[]);
    create(&server, json!({"title": "one"}));
    let (status, body) = server.request("GET", "/metrics", &[], b"");
    assert_eq!(status, 200);
    let text = String::from_utf8(body).unwrap();
    for line in [
        "agentry_issues{status=\"open\"} 1",
        "agentry_issues{status=\"closed\"} 0",
        "agentry_claims 0",
        "agentry_events_total{type=\"ISSUE_CREATED\"} 1",
        "agentry_sessions_total{outcome=\"done\"} 0",
        "planner_contract_failure_total 0",
        "# TYPE agentry_agent_tokens_total counter",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
    }
}

#[test]
fn a_public_bind_needs_a_token() {
    let repo = Repo::initialized();
    let out = repo.run(&["serve", "--bind", "0.0.0.0:0", "--no-dispatch"]);
    assert_refused(&out, &["0.0.0.0:0", "service_token"]);
}

/// Sets `key = value` on the one line of config.toml that sets `key`.
fn set(repo: &Repo, key: &str, value: &str) {
    let path = repo.file(".agentry/config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let prefix = format!("{key} = ");
    let lines: Vec<String> = text
        .lines()
        .map(|line| match line.starts_with(&prefix) {
            true => format!("{key} = {value}"),
            false => line.to_string(),
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn a_task_posted_to_a_dispatching_server_reaches_review() {
    let repo = Repo::new();
    std::fs::write(repo.file("README.md"), "# a test project\n").unwrap();
    git(repo.path(), &["add", "README.md"]);
    git(repo.path(), &["commit", "-q", "-m", "initial commit"]);
    support::assert_ok(&repo.run(&["init"]));
    let write = r#"{ write = { path = "done.txt", content = "done\n" } }"#;
    let script = [
        ("implementer", write),
        ("spec_reviewer", PASS),
        ("quality_reviewer", PASS),
    ]
    .iter()
    .map(|(role, step)| format!("[[rule]]\nrole = {role:?}\nissue = \"*\"\nturns = [[{step}]]\n\n"))
    .collect::<String>();
    std::fs::write(repo.file("script.toml"), script).unwrap();
    let path = repo.file(".agentry/config.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str("\n[agents.script]\nkind = \"scripted\"\nscript = \"script.toml\"\n");
    std::fs::write(&path, config).unwrap();
    for role in ["implementer", "spec_reviewer", "quality_reviewer"] {
        set(&repo, role, "\"script\"");
    }
    let server = Server::start(&repo, &[], &[]);
    let id = create(
        &server,
        json!({"title": "write done.txt", "verify": ["test -f done.txt"]}),
    );
    let deadline = Instant::now() + REVIEW_BOUND;
    let detail = loop {
        let (_, detail) = server.get(&format!("/api/v1/tasks/{id}"));
        if detail["status"] == "needs_review" || Instant::now() > deadline {
            break detail;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(detail["status"], "needs_review", "{detail}");
    assert_eq!(detail["metrics"]["sessions"], 1);
    assert_eq!(detail["metrics"]["spec_attempts"], 1);
}

#[test]
fn the_alert_history_is_served_behind_the_token() {
    let repo = Repo::initialized();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = runtime.block_on(agentry_testkit::WebhookReceiver::start(Vec::new()));
    let url = receiver.base_url();
    let hook = [("ALERTS__WEBHOOK_URL", url.as_str())];
    support::assert_ok(&repo.run_env(&["alerts", "test", "--id", "served"], &hook));
    let token = ("SERVER__SERVICE_TOKEN", "s3cret");
    let server = Server::start(&repo, &["--no-dispatch"], &[token]);
    let good = ["Authorization: Bearer s3cret"];
    assert_eq!(server.get("/api/v1/alerts").0, 401);
    let (status, history) = server.json("GET", "/api/v1/alerts?limit=5", &good, None);
    assert_eq!(status, 200, "{history}");
    let alerts = history["alerts"].as_array().expect("a list");
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (&alerts[0]["alert_id"], &alerts[0]["outcome"]),
        (&json!("served"), &json!("sent"))
    );
    for bad in ["/api/v1/alerts?limit=5000", "/api/v1/alerts?since=1"] {
        let (status, body) = server.json("GET", bad, &good, None);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(!error_of(&body).is_empty());
    }
}
