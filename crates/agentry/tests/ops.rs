//! The operator's commands and endpoints on a running `agentry serve`: status and its
//! recommended actions, the run guard, flags, review assignments, the tools diagnostics,
//! recover, backup and restore.

mod support;

use std::path::Path;
use std::time::Duration;

use agentry_core::Timestamp;
use agentry_store::session::ClaimHolder;
use agentry_store::{SqliteStore, Store};
use serde_json::{Value, json};
use support::server::Server;
use support::{Repo, assert_refused, json_of, scripted_repo};

const TOKEN: &str = "s3cret";
const AUTH: &str = "Authorization: Bearer s3cret";
const ENABLE_REWRITE: &str = "Enable lean plan rewrite when ready to exercise the hybrid planner.";
const ENABLE_FALLBACK: &str =
    "Enable lean field fallback to provide last-chance coverage for required fields.";

fn store_of(repo: &Repo) -> SqliteStore {
    SqliteStore::open(&repo.file(".agentry/agentry.db"), Duration::from_secs(5)).unwrap()
}

fn serve(repo: &Repo) -> Server {
    Server::start(
        repo,
        &["--no-dispatch"],
        &[("SERVER__SERVICE_TOKEN", TOKEN)],
    )
}

fn create(server: &Server, title: &str) -> String {
    let (status, issue) = server.json(
        "POST",
        "/api/v1/tasks",
        &[AUTH],
        Some(json!({"title": title})),
    );
    assert_eq!(status, 201, "{issue}");
    issue["id"].as_str().unwrap().to_string()
}

#[test]
fn status_recommends_actions_over_the_api_and_the_cli() {
    let repo = Repo::initialized();
    let server = serve(&repo);
    create(&server, "one");
    let (status, snapshot) = server.get("/api/v1/status");
    assert_eq!(status, 200);
    assert_eq!(
        snapshot["recommended_actions"],
        json!([ENABLE_REWRITE, ENABLE_FALLBACK])
    );
    assert_eq!(snapshot["queue"]["ready"], 1);
    assert_eq!(snapshot["orchestrator"]["running"], false);
    assert_eq!(snapshot["flags"].as_array().unwrap().len(), 3);
    let notes = snapshot["readiness_notes"].to_string();
    assert!(notes.contains("No orchestrator is running"), "{notes}");

    let cli = repo.json(&["status", "--json"]);
    assert_eq!(cli["recommended_actions"], snapshot["recommended_actions"]);
    let text = repo.ok(&["status"]);
    assert!(
        text.contains(&format!("action: {ENABLE_REWRITE}")),
        "{text}"
    );
}

#[test]
fn flags_are_set_through_the_api_and_the_cli_and_say_where_they_came_from() {
    let repo = Repo::initialized();
    let server = serve(&repo);
    let path = "/api/v1/flags/lean.plan_rewrite";
    let on = Some(json!({"enabled": true}));
    assert_eq!(server.json("PUT", path, &[], on.clone()).0, 401);
    let (status, flag) = server.json("PUT", path, &[AUTH], on);
    assert_eq!(status, 200, "{flag}");
    assert_eq!(
        (flag["enabled"].clone(), flag["source"].clone()),
        (json!(true), json!("store"))
    );
    let (status, body) = server.json("PUT", path, &[AUTH], Some(json!({"enabled": "yes"})));
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().starts_with("enabled:"),
        "{body}"
    );
    let (status, body) = server.json(
        "PUT",
        "/api/v1/flags/nope",
        &[AUTH],
        Some(json!({"enabled": true})),
    );
    assert_eq!(status, 404, "{body}");

    let listed = repo.json(&["flags", "list", "--json"]);
    assert_eq!(listed[0]["name"], "lean.plan_rewrite");
    assert_eq!(listed[0]["enabled"], true);
    repo.ok(&["flags", "disable", "lean.plan_rewrite"]);
    let (_, flags) = server.get("/api/v1/flags");
    assert_eq!(flags[0]["enabled"], false);
    assert_eq!(flags[2]["name"], "planning.enabled");
    assert_eq!(
        flags[2]["source"], "config.toml",
        "init writes every default"
    );
    assert_refused(&repo.run(&["flags", "enable", "nope"]), &["unknown flag"]);

    let env = [("PLANNING__ENABLED", "false")];
    let out = support::agentry_with(repo.path(), &["flags", "list", "--json"], &env, None);
    let planning = &json_of(&out)[2];
    assert_eq!(
        (planning["enabled"].clone(), planning["source"].clone()),
        (json!(false), json!("env PLANNING__ENABLED"))
    );
}

#[test]
fn reviewers_are_assigned_to_issues_that_wait_on_a_person() {
    let repo = Repo::initialized();
    let server = serve(&repo);
    let id = create(&server, "needs a decision");
    let assign = |headers: &[&str], body: Value| {
        server.json("POST", "/api/v1/reviews/assign", headers, Some(body))
    };
    let body = json!({"task_id": id, "reviewer": "ana"});
    assert_eq!(assign(&[], body.clone()).0, 401);
    let (status, refused) = assign(&[AUTH], body.clone());
    assert_eq!(status, 409, "an open issue waits on no one: {refused}");

    let task = format!("/api/v1/tasks/{id}");
    let blocked = Some(json!({"status": "blocked", "reason": "which database?"}));
    assert_eq!(server.json("PATCH", &task, &[AUTH], blocked).0, 200);
    let (status, review) = assign(&[AUTH], body);
    assert_eq!(status, 200, "{review}");
    assert_eq!(review["title"], "needs a decision");
    assert_eq!(review["reviewer"], "ana");
    assert_eq!(
        assign(&[AUTH], json!({"task_id": "i-zzzz", "reviewer": "ana"})).0,
        404
    );
    assert_eq!(
        assign(&[AUTH], json!({"task_id": id, "reviewer": ""})).0,
        400
    );
    assert_eq!(assign(&[AUTH], json!({"task_id": id})).0, 400);

    let (_, reviews) = server.get("/api/v1/reviews");
    assert_eq!(reviews[0]["task_id"], json!(id));
    assert_eq!(reviews[0]["status"], "blocked");
    let (_, detail) = server.get(&task);
    assert_eq!(detail["review"]["reviewer"], "ana");
    let types: Vec<&Value> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["event_type"])
        .collect();
    assert!(types.contains(&&json!("REVIEW_ASSIGNED")), "{types:?}");
    repo.ok(&["reviews", "assign", &id, "bo"]);
    assert_eq!(
        repo.json(&["reviews", "list", "--json"])[0]["reviewer"],
        "bo"
    );
}

#[test]
fn the_guard_refuses_to_dispatch_while_something_needs_investigating() {
    let repo = scripted_repo();
    repo.add("write done.txt", &["--verify", "test -f done.txt"]);
    repo.ok(&["flags", "enable", "lean.plan_rewrite"]);
    let error = json!({"lastError": "req-9: the model timed out"});
    store_of(&repo)
        .put_state("lean:plan_rewrite", &error, Timestamp::now())
        .unwrap();
    let action = "Investigate recent plan rewrite error: req-9: the model timed out";

    let server = serve(&repo);
    let (_, snapshot) = server.get("/api/v1/status");
    assert_eq!(snapshot["recommended_actions"][0], action);
    drop(server);

    for args in [
        &["run", "--until-idle"][..],
        &["serve", "--bind", "127.0.0.1:0"],
    ] {
        let out = repo.run(args);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{args:?}: {}",
            support::stderr(&out)
        );
        assert!(
            support::stderr(&out).contains(action),
            "{}",
            support::stderr(&out)
        );
    }
    assert_eq!(repo.json(&["issue", "list", "--json"])[0]["status"], "open");
    let forced = repo.run(&["run", "--until-idle", "--force"]);
    assert!(forced.status.success(), "{}", support::stderr(&forced));
    assert!(support::stderr(&forced).contains("dispatching despite"));
    assert_eq!(
        repo.json(&["issue", "list", "--json"])[0]["status"],
        "needs_review"
    );
}

#[test]
fn tools_diagnostics_name_each_agent() {
    let repo = scripted_repo();
    let server = serve(&repo);
    let path = "/api/v1/tools/diagnostics";
    assert_eq!(server.json("GET", path, &[], None).0, 401);
    let (status, tools) = server.json("GET", path, &[AUTH], None);
    assert_eq!(status, 200, "{tools}");
    let script = &tools[0];
    assert_eq!(script["agent"], "script");
    assert_eq!(script["found"], true);
    assert_eq!(script["runs"], 0);
    assert_eq!(script["run_time_p50_s"], Value::Null);
}

/// A pid that no process has: one that ran and was reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn recover_puts_back_what_a_dead_orchestrator_left() {
    let repo = scripted_repo();
    let server = serve(&repo);
    let id = create(&server, "claimed by a crashed run");
    let store = store_of(&repo);
    let holder = ClaimHolder {
        session_id: "crashed-session".into(),
        orchestrator_id: "crashed".into(),
        host: agentry_engine::Identity::current().host,
        pid: dead_pid(),
    };
    let now = Timestamp::now();
    let claim = store
        .claim(&id.parse().unwrap(), &holder, now.plus_secs(3600), now)
        .unwrap();
    assert!(claim.claimed().is_some());
    let beat = |running: bool| {
        let value = json!({"running": running, "workers": 4, "backend": "async"});
        store
            .put_state("orchestrator:crashed", &value, Timestamp::now())
            .unwrap();
    };
    beat(true);
    assert_refused(
        &repo.run(&["recover"]),
        &["orchestrator crashed is running", "--force"],
    );
    beat(false);

    let out = repo.ok(&["recover"]);
    assert!(
        out.contains(&format!("{id}: orchestrator process")),
        "{out}"
    );
    let (_, task) = server.get(&format!("/api/v1/tasks/{id}"));
    assert_eq!(task["status"], "open");
    assert!(task["last_error"].to_string().contains("is gone"), "{task}");
    assert_eq!(repo.ok(&["recover"]), "nothing to recover\n");
}

#[test]
fn a_backup_taken_while_serving_restores_the_store_it_copied() {
    let repo = Repo::initialized();
    let server = serve(&repo);
    create(&server, "one");
    create(&server, "two");
    let backup = repo.file("backup.db");
    let backup_arg = backup.to_str().unwrap();
    repo.ok(&["backup", backup_arg]);
    assert_refused(&repo.run(&["backup", backup_arg]), &["already exists"]);
    create(&server, "three");
    assert_eq!(server.get("/api/v1/tasks").1["total"], 3);

    repo.ok(&["restore", backup_arg]);
    assert_eq!(
        server.get("/api/v1/tasks").1["total"],
        2,
        "the server reads the restored store"
    );
    std::fs::write(repo.file("junk.db"), "not a database").unwrap();
    let junk = repo.file("junk.db");
    assert_refused(
        &repo.run(&["restore", junk.to_str().unwrap()]),
        &["is not an agentry store"],
    );
    assert_refused(&repo.run(&["restore", "missing.db"]), &["no such file"]);
    assert!(Path::new(&backup).is_file());
    assert_eq!(server.get("/api/v1/tasks").1["total"], 2);
}

#[test]
fn the_planner_health_report_reaches_each_status() {
    let repo = Repo::initialized();
    let server = serve(&repo);
    let path = "/api/diagnostics/planner";
    assert_eq!(server.json("GET", path, &[], None).0, 401);
    let report = |server: &Server| {
        let (status, report) = server.json("GET", path, &[AUTH], None);
        assert_eq!(status, 200, "{report}");
        report
    };
    let healthy = report(&server);
    assert_eq!(healthy["status"], "Healthy", "{healthy}");
    assert_eq!(healthy["planners"][0]["steps"].as_array().unwrap().len(), 4);
    assert_eq!(healthy["planners"][1]["steps"][0]["template"], "planner");

    let id = create(&server, "fails");
    let failure = json!({"failed_items": ["agent crashed"]});
    let now = Timestamp::now();
    store_of(&repo)
        .append_event(
            &id.parse().unwrap(),
            agentry_core::EventType::SessionError,
            &failure,
            now,
        )
        .unwrap();
    let degraded = report(&server);
    assert_eq!(degraded["status"], "Degraded", "{degraded}");
    assert_eq!(degraded["alerts"][0]["id"], "planner_recent_failures");

    repo.ok(&["templates", "deactivate", "implementer"]);
    let critical = report(&server);
    assert_eq!(critical["status"], "Critical", "{critical}");
    assert_eq!(critical["alerts"][0]["id"], "planner_template_inactive");
    let cli = repo.json(&["planner", "health", "--json"]);
    assert_eq!(cli["status"], "Critical");
}

#[test]
fn every_path_the_openapi_document_names_is_served() {
    let repo = Repo::initialized();
    let server = serve(&repo);
    let id = create(&server, "a task for the paths");
    let (status, doc) = server.get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 16, "{}", paths.len());
    for (path, operations) in paths {
        if path.ends_with("/events") {
            continue; // streams never end; their own tests cover them
        }
        let concrete = path
            .replace("{task_id}", &id)
            .replace("{name}", "lean.plan_rewrite");
        for method in operations.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            let (status, body) = server.request(&method, &concrete, &[AUTH], b"{}");
            let text = String::from_utf8_lossy(&body);
            assert!(
                !text.contains("no such path") && status < 500,
                "{method} {concrete}: {status} {text}"
            );
        }
    }
}

#[test]
fn repeated_session_errors_need_investigating_unless_recovery_took_the_sessions_back() {
    let repo = Repo::initialized();
    let store = store_of(&repo);
    let issue = store
        .create_issue(agentry_core::NewIssue::new("crashes"), Timestamp::now())
        .unwrap();
    let fail = |reason: &str| {
        let data = json!({"failed_items": [reason]});
        let kind = agentry_core::EventType::SessionError;
        store
            .append_event(&issue.id, kind, &data, Timestamp::now())
            .unwrap();
    };
    let investigations = |repo: &Repo| -> Vec<String> {
        let status = repo.json(&["status", "--json"]);
        let actions = status["recommended_actions"].as_array().unwrap().clone();
        actions
            .into_iter()
            .map(|a| a.as_str().unwrap().to_string())
            .filter(|a| a.starts_with("Investigate"))
            .collect()
    };
    fail("lease expired");
    fail("orchestrator process 41 on host-a is gone");
    assert_eq!(investigations(&repo), Vec::<String>::new());
    fail("the agent crashed");
    fail("the agent crashed");
    let expected = format!(
        "Investigate repeated SESSION_ERROR on {}: its last 2 sessions failed (the agent crashed)",
        issue.id
    );
    assert_eq!(investigations(&repo), [expected]);
}

#[test]
fn the_handoff_and_the_digest_are_served() {
    let repo = Repo::initialized();
    let server = serve(&repo);
    let id = create(&server, "one");
    let (status, handoff) = server.get("/api/v1/handoff");
    assert_eq!(status, 200, "{handoff}");
    assert_eq!(handoff["pending"][0]["reason"], "ready, not started");
    assert_eq!(handoff["next"][0], json!(format!("start {id} one (open)")));

    let path = "/api/v1/sync-status";
    assert_eq!(server.json("POST", path, &[], None).0, 401);
    let (status, digest) = server.json("POST", path, &[AUTH], None);
    assert_eq!(status, 200, "{digest}");
    assert_eq!(digest["events"], json!({"ISSUE_CREATED": 1}));
    assert_eq!(server.json("POST", path, &[AUTH], None), (200, Value::Null));
}
