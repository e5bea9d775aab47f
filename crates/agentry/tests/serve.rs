//! End-to-end tests of `agentry serve`: a real server process in a temporary git repository,
//! spoken to with a small HTTP/1.1 client over `TcpStream`.

mod support;

use std::time::{Duration, Instant};

use std::os::unix::fs::PermissionsExt;

use serde_json::{Value, json};
use support::server::{Server, create, error_of, parse_response};
use support::{Repo, TOKEN_FILE, assert_refused};

/// A generous bound on a task reaching review (not a timing assertion).
const REVIEW_BOUND: Duration = Duration::from_secs(60);

#[test]
fn health_tasks_filters_and_paging() {
    let repo = Repo::initialized();
    let server = Server::start(&repo, &["--no-dispatch"], &[]);
    assert_eq!(
        server.get("/api/v1/health"),
        (
            200,
            json!({"status": "ok", "store": "ok", "dispatcher": "never started", "dispatcher_heartbeat_at": null})
        )
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
fn without_a_configured_token_serve_makes_one_for_its_run() {
    let repo = Repo::initialized();
    let mut server = Server::start(&repo, &["--no-dispatch"], &[]);
    let token = server.0.token.clone().expect("the token file");
    assert_eq!(token.len(), 64, "{token}");
    let mode = std::fs::metadata(repo.file(TOKEN_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "only its owner may read it");
    let url = server.0.dashboard_url();
    assert_eq!(url, format!("{}/#token={token}", server.0.url()));
    let json = "Content-Type: application/json";
    let task = br#"{"title": "needs the token"}"#;
    let without = server.exchange("POST", "/api/v1/tasks", &[json], task);
    assert_eq!(parse_response(&without).0, 401);
    let bearer = format!("Authorization: Bearer {token}");
    let with = server.exchange("POST", "/api/v1/tasks", &[json, &bearer], task);
    assert_eq!(parse_response(&with).0, 201);
    assert!(server.0.terminate(Duration::from_secs(60)).success());
    assert!(
        !repo.file(TOKEN_FILE).exists(),
        "the token ends with its server"
    );
}

#[test]
fn a_configured_token_is_neither_printed_nor_written() {
    let repo = Repo::initialized();
    let token = ("SERVER__SERVICE_TOKEN", "s3cret");
    let mut server = Server::start(&repo, &["--no-dispatch"], &[token]);
    assert_eq!(server.0.dashboard_url(), format!("{}/", server.0.url()));
    assert!(!repo.file(TOKEN_FILE).exists());
}

#[test]
fn the_configured_hosts_and_origins_may_call() {
    let repo = Repo::initialized();
    let env = [
        ("SERVER__ALLOWED_HOSTS", "agentry.internal"),
        ("SERVER__ALLOWED_ORIGINS", "https://tools.example"),
    ];
    let server = Server::start(&repo, &["--no-dispatch"], &env);
    let port = server.0.addr.rsplit_once(':').unwrap().1;
    let named = format!("Host: agentry.internal:{port}");
    assert_eq!(
        server.request("GET", "/api/v1/health", &[&named], b"").0,
        200
    );
    let page = "Origin: https://tools.example";
    let preflight = [page, "Access-Control-Request-Method: POST"];
    let head = head_of(&server, "OPTIONS", "/api/v1/tasks", &preflight);
    assert!(head.starts_with("http/1.1 204"), "{head}");
    assert!(
        head.contains("access-control-allow-origin: https://tools.example"),
        "{head}"
    );
    let task = br#"{"title": "from the tools page"}"#;
    let (status, _) = server.request("POST", "/api/v1/tasks", &[page], task);
    assert_eq!(status, 201);
    let other = "Origin: https://other.example";
    let head = head_of(&server, "GET", "/api/v1/tasks", &[other]);
    assert!(head.starts_with("http/1.1 403"), "{head}");
    assert!(!head.contains("access-control-allow-origin"), "{head}");
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
        "agentry_active_sessions 0",
        "agentry_dispatch_latency_seconds_count 0",
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

#[test]
fn a_task_posted_to_a_dispatching_server_reaches_review() {
    let repo = support::scripted_repo();
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
    assert_eq!(detail["runs"][0]["role"], "implementer");
    assert_eq!(detail["review"], Value::Null);
    let (_, body) = server.request("GET", "/metrics", &[], b"");
    let text = String::from_utf8(body).unwrap();
    for line in [
        "agentry_dispatch_latency_seconds_count 1",
        "agentry_sessions_total{outcome=\"done\"} 1",
        "agentry_agent_run_seconds_count{backend=\"scripted\",role=\"implementer\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
    }
    let verify = text
        .lines()
        .find(|l| l.starts_with("agentry_verify_seconds_count "));
    assert_eq!(
        verify,
        Some("agentry_verify_seconds_count 2"),
        "implement and fresh verify"
    );
}

/// The head of the answer to a request with no body, lowercase.
fn head_of(server: &Server, method: &str, path: &str, headers: &[&str]) -> String {
    let response =
        String::from_utf8_lossy(&server.exchange(method, path, headers, b"")).to_string();
    let (head, _) = response.split_once("\r\n\r\n").expect("a head");
    head.to_ascii_lowercase()
}

#[test]
fn the_dashboard_is_served_with_its_types_and_etags() {
    let repo = Repo::initialized();
    let server = Server::start(&repo, &["--no-dispatch"], &[]);
    let (status, page) = server.request("GET", "/", &[], b"");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&page).contains("/assets/app.js"));
    let head = head_of(&server, "GET", "/", &[]);
    assert!(
        head.contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(
        head.contains("content-security-policy: default-src 'self'"),
        "{head}"
    );
    for (path, kind) in [
        ("/assets/app.js", "text/javascript"),
        ("/assets/style.css", "text/css"),
    ] {
        let head = head_of(&server, "GET", path, &[]);
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(head.contains(&format!("content-type: {kind}")), "{head}");
        assert!(head.contains("cache-control: no-cache"), "{head}");
        let etag = head
            .lines()
            .find_map(|line| line.strip_prefix("etag: "))
            .unwrap_or_else(|| panic!("no etag: {head}"));
        let again = head_of(&server, "GET", path, &[&format!("If-None-Match: {etag}")]);
        assert!(again.starts_with("http/1.1 304"), "{again}");
    }
    let (status, err) = server.get("/assets/missing.js");
    assert_eq!(status, 404);
    assert!(error_of(&err).contains("missing.js"), "{err}");
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
