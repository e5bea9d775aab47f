//! `agentry plan` and `agentry replan` through the binary: a model (an `openai` agent on the
//! scripted model server) plans issues with dependencies that `agentry run` then works in
//! their order; answers that fail the contract are asked again with the reasons and counted;
//! planning off makes one issue as written; a replan splits an issue into parts; the
//! transcript; and the same over the API.

mod support;

use std::process::Output;

use agentry_testkit::{ModelServer, Reply};
use serde_json::{Value, json};
use support::server::{Server, error_of};
use support::{
    Repo, agentry_with, assert_ok, assert_refused, git, json_of, rule, scripted_repo, stderr,
    write_step,
};

/// A scripted repository whose `planning.agent` is an `openai` agent on a scripted server.
struct Planned {
    repo: Repo,
    server: ModelServer,
    _runtime: tokio::runtime::Runtime,
}

impl Planned {
    fn new(answers: &[&str]) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let replies = answers.iter().map(|a| Reply::Text(a.to_string())).collect();
        let server = runtime.block_on(ModelServer::start(replies));
        let repo = scripted_repo();
        repo.append_config(&format!(
            "[agents.model]\nkind = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"gpt-test\"\n",
            server.base_url()
        ));
        repo.set_config("agent", "\"model\"");
        Self {
            repo,
            server,
            _runtime: runtime,
        }
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        agentry_with(self.repo.path(), args, env, None)
    }

    /// Every prompt the model was sent, as its request body's text.
    fn prompts(&self) -> Vec<String> {
        self.server
            .requests()
            .iter()
            .map(|request| request.body.to_string())
            .collect()
    }
}

fn step(id: &str, title: &str, depends_on: &[&str]) -> Value {
    json!({
        "id": id,
        "title": title,
        "agent": "script",
        "reason": format!("{title} comes first") ,
        "tools": ["git"],
        "fallback_tools": [],
        "confidence": 0.8,
        "parallel_group": null,
        "depends_on": depends_on,
        "packet": {
            "task": format!("{title}, as the goal needs"),
            "scope": [format!("src/{id}/**")],
            "not_your_job": ["the docs"],
            "done_when": [format!("{title} is done")],
            "verify": ["true"],
            "priority": 1
        }
    })
}

fn answer(steps: Vec<Value>) -> String {
    let plan = json!({"contract": "planner.contract.v1", "confidence": 0.8, "steps": steps});
    format!("Here is the plan.\n```json\n{plan:#}\n```\n")
}

/// s2 needs s1, s3 needs s2.
fn chain() -> String {
    answer(vec![
        step("s1", "Add the parser", &[]),
        step("s2", "Use the parser", &["s1"]),
        step("s3", "Document the parser", &["s2"]),
    ])
}

fn ids(value: &Value) -> Vec<String> {
    support::strings(value)
}

fn links(repo: &Repo, id: &str, kind: &str) -> Vec<String> {
    repo.show(id)["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|link| link["src"] == id && link["kind"] == kind)
        .map(|link| link["dst"].as_str().unwrap().to_string())
        .collect()
}

/// So that each issue's branch has a change of its own to merge (the worktree's folder is
/// named after its issue).
fn each_implementer_writes_its_own_file(repo: &Repo) {
    let path = repo.file("script.toml");
    let script = std::fs::read_to_string(&path).unwrap();
    let write = write_step("done.txt", "done");
    let own = r#"{ run = "basename \"$PWD\" > \"$(basename \"$PWD\").txt\"" }"#;
    assert!(script.contains(&write), "{script}");
    std::fs::write(path, script.replace(&write, own)).unwrap();
}

fn sessions_of(repo: &Repo, id: &str) -> usize {
    repo.show(id)["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["event_type"] == "SESSION_START")
        .count()
}

/// `run --until-idle`, then the issues that had a session for the first time.
fn run_once(repo: &Repo, ids: &[String], before: &mut Vec<usize>) -> Vec<String> {
    let out = agentry_with(
        repo.path(),
        &["run", "--until-idle", "--json"],
        &[("AGENTRY_LOG", "warn")],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let now: Vec<usize> = ids.iter().map(|id| sessions_of(repo, id)).collect();
    let started = ids
        .iter()
        .zip(now.iter().zip(before.iter()))
        .filter(|(_, (now, was))| now > was)
        .map(|(id, _)| id.clone())
        .collect();
    *before = now;
    started
}

#[test]
fn an_applied_plan_creates_linked_issues_that_run_in_dependency_order() {
    let planned = Planned::new(&[&chain()]);
    let report = json_of(&planned.run(
        &["plan", "Add a parser and use it", "--apply", "--json"],
        &[],
    ));
    assert_eq!(report["outcome"], "Success");
    assert_eq!(report["planner"], "goal");
    assert_eq!(report["attempts"], 1);
    assert_eq!(report["applied"], true);
    assert!(report["durationMs"].is_u64(), "{report}");
    assert!(report["run_id"].is_i64(), "{report}");
    assert_eq!(report["plan"]["steps"].as_array().unwrap().len(), 3);
    let created = ids(&report["created"]);
    assert_eq!(created.len(), 3);

    let repo = &planned.repo;
    each_implementer_writes_its_own_file(repo);
    let first = repo.show(&created[0]);
    assert_eq!(first["title"], "Add the parser");
    assert_eq!(
        first["body"],
        "Add the parser, as the goal needs\n\nWhy: Add the parser comes first"
    );
    assert_eq!(first["priority"], 1);
    assert_eq!(first["labels"], json!(["agent:script"]));
    assert_eq!(first["scope"], json!(["src/s1/**"]));
    assert_eq!(first["verify"], json!(["true"]));
    assert_eq!(first["done_when"], json!(["Add the parser is done"]));
    assert_eq!(first["not_your_job"], json!(["the docs"]));
    assert!(links(repo, &created[0], "depends-on").is_empty());
    assert_eq!(links(repo, &created[1], "depends-on"), [created[0].clone()]);
    assert_eq!(links(repo, &created[2], "depends-on"), [created[1].clone()]);

    let prompt = &planned.prompts()[0];
    assert!(prompt.contains("Add a parser and use it"), "{prompt}");
    assert!(prompt.contains("planner.contract.v1"), "{prompt}");

    // Each run takes only the issue whose dependency is closed, which it is once a person
    // merges its branch.
    let mut before = vec![0; 3];
    for (index, id) in created.iter().enumerate() {
        assert_eq!(
            run_once(repo, &created, &mut before),
            std::slice::from_ref(id),
            "run {index}"
        );
        assert_eq!(repo.show(id)["status"], "needs_review");
        let branch = format!("agentry/{id}");
        git(
            repo.path(),
            &["merge", "--no-ff", "-q", "-m", "Merge", &branch],
        );
        assert_ok(&repo.run(&["merge-watch", "--once"]));
        assert_eq!(repo.show(id)["status"], "closed");
    }
}

#[test]
fn a_step_is_implemented_by_the_agent_it_names() {
    let mut other = step("s2", "Write the other file", &[]);
    other["agent"] = json!("other");
    let planned = Planned::new(&[&answer(vec![step("s1", "Write done", &[]), other])]);
    let repo = &planned.repo;
    let other_script = rule("implementer", "*", &[&[&write_step("other.txt", "other")]]);
    std::fs::write(repo.file("other.toml"), other_script).unwrap();
    repo.append_config("[agents.other]\nkind = \"scripted\"\nscript = \"other.toml\"\n");
    let report = json_of(&planned.run(&["plan", "Two files", "--apply", "--json"], &[]));
    let created = ids(&report["created"]);
    assert_eq!(repo.show(&created[1])["labels"], json!(["agent:other"]));

    let mut before = vec![0; 2];
    assert_eq!(run_once(repo, &created, &mut before), created);
    let files = |id: &str| {
        let out = std::process::Command::new("git")
            .args(["ls-tree", "--name-only", &format!("agentry/{id}")])
            .current_dir(repo.path())
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let (first, second) = (files(&created[0]), files(&created[1]));
    assert!(
        first.contains("done.txt") && !first.contains("other.txt"),
        "{first}"
    );
    assert!(
        second.contains("other.txt") && !second.contains("done.txt"),
        "{second}"
    );
}

#[test]
fn a_plan_without_apply_is_only_printed() {
    let planned = Planned::new(&[&chain()]);
    let out = planned.run(&["plan", "Add a parser"], &[]);
    let text = assert_ok(&out);
    assert!(text.contains("Success after 1 answer(s)"), "{text}");
    assert!(
        text.contains("s2: [script] Use the parser (after s1)"),
        "{text}"
    );
    assert!(text.contains("run again with --apply"), "{text}");
    assert_eq!(planned.repo.json(&["issue", "list", "--json"]), json!([]));
}

#[test]
fn garbage_three_times_fails_the_run_feeds_back_the_errors_and_counts_each() {
    let planned = Planned::new(&[
        "I would rather not.",
        "[1, 2]",
        "```json\n{\"steps\": []}\n```",
    ]);
    let out = planned.run(&["plan", "Add a parser", "--apply"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("ended Failed"), "{err}");
    assert!(
        err.contains("failed the planner.contract.v1 contract 3 times"),
        "{err}"
    );
    assert!(
        err.contains("(missing_field)"),
        "the last answer's rejections: {err}"
    );

    let prompts = planned.prompts();
    assert_eq!(prompts.len(), 3);
    assert!(!prompts[0].contains("was rejected"), "{}", prompts[0]);
    assert!(prompts[1].contains("(invalid_json)"), "{}", prompts[1]);
    assert!(prompts[2].contains("(not_an_object)"), "{}", prompts[2]);

    let health = planned.repo.json(&["planner", "health", "--json"]);
    assert_eq!(health["telemetry"]["contract_failures"], 3, "{health}");
    assert_eq!(planned.repo.json(&["issue", "list", "--json"]), json!([]));
}

#[test]
fn planning_off_makes_one_issue_as_written_without_asking_the_model() {
    let planned = Planned::new(&[]);
    let goal = "Add a greeting\n\nSay hello to the user on start.";
    let report = json_of(&planned.run(
        &["plan", goal, "--apply", "--json"],
        &[("PLANNING__ENABLED", "false")],
    ));
    assert_eq!(report["planner"], "pass_through");
    assert_eq!(report["outcome"], "Success");
    assert_eq!(report["attempts"], 0);
    let created = ids(&report["created"]);
    assert_eq!(created.len(), 1);
    let issue = planned.repo.show(&created[0]);
    assert_eq!(issue["title"], "Add a greeting");
    assert_eq!(issue["body"], goal);
    assert_eq!(issue["labels"], json!(["agent:script"]));
    assert!(planned.server.requests().is_empty());

    let transcript = planned.repo.read(&format!(
        ".agentry/transcripts/plan-{}.jsonl",
        report["run_id"]
    ));
    let end: Value = serde_json::from_str(transcript.lines().last().unwrap()).unwrap();
    assert_eq!(end["end"]["outcome"], "Success");
}

#[test]
fn planning_on_without_a_model_agent_is_refused_naming_the_key() {
    let planned = Planned::new(&[]);
    planned.repo.set_config("agent", "\"\"");
    let out = planned.run(&["plan", "Add a parser"], &[]);
    assert_refused(&out, &["planning.agent", "PLANNING__ENABLED=false"]);
}

#[test]
fn a_replan_splits_an_issue_into_parts_and_blocks_it() {
    let parts = answer(vec![
        step("a", "Parse headers", &[]),
        step("b", "Parse bodies", &["a"]),
    ]);
    let planned = Planned::new(&[&parts]);
    let repo = &planned.repo;
    let original = repo.add("Parse requests", &["--verify", "true"]);
    let report = json_of(&planned.run(
        &[
            "replan",
            &original,
            "--reason",
            "it overflowed",
            "--apply",
            "--json",
        ],
        &[],
    ));
    assert_eq!(report["planner"], "replan");
    let created = ids(&report["created"]);
    assert_eq!(created.len(), 2);
    for part in &created {
        assert_eq!(links(repo, part, "parent"), std::slice::from_ref(&original));
    }
    assert_eq!(links(repo, &created[1], "depends-on"), [created[0].clone()]);
    let detail = repo.show(&original);
    assert_eq!(detail["status"], "blocked");
    let changed = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["event_type"] == "STATUS_CHANGED")
        .unwrap()
        .clone();
    let reason = changed["data"]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&created[0]) && reason.contains(&created[1]),
        "{reason}"
    );

    let prompt = &planned.prompts()[0];
    assert!(
        prompt.contains("Parse requests") && prompt.contains("it overflowed"),
        "{prompt}"
    );
}

#[test]
fn a_transcript_that_cannot_be_written_leaves_the_run_going() {
    let planned = Planned::new(&[]);
    std::fs::write(planned.repo.file(".agentry/transcripts"), "in the way").unwrap();
    let out = planned.run(
        &["plan", "Add a greeting", "--apply", "--json"],
        &[("PLANNING__ENABLED", "false")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot write the planner transcript"),
        "{}",
        stderr(&out)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ids(&report["created"]).len(), 1);
}

#[test]
fn the_api_plans_and_replans_and_answers_failures_with_their_status() {
    let planned = Planned::new(&["nope", "nope", "nope"]);
    let repo = &planned.repo;
    let server = Server::start(repo, &["--no-dispatch"], &[]);

    let (status, body) = server.post("/api/v1/plans", json!({"goal": "Add a parser"}));
    assert_eq!(status, 422, "{body}");
    assert!(error_of(&body).contains("(invalid_json)"), "{body}");
    let (_, metrics) = server.request("GET", "/metrics", &[], b"");
    let metrics = String::from_utf8(metrics).unwrap();
    for line in [
        "planner_contract_failure_total 3",
        "planner_contract_failure_total{reason=\"invalid_json\"} 3",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line:?} in:\n{metrics}"
        );
    }

    let (status, body) = server.post("/api/v1/plans", json!({"goal": "  "}));
    assert_eq!((status, error_of(&body)), (400, "goal: must not be empty"));
    let (status, _) = server.post("/api/v1/tasks/i-zzzz/replan", json!({}));
    assert_eq!(status, 404);
    drop(server);

    let server = Server::start(repo, &["--no-dispatch"], &[("PLANNING__ENABLED", "false")]);
    let (status, body) = server.post(
        "/api/v1/plans",
        json!({"goal": "Add a greeting", "apply": true}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["planner"], "pass_through");
    let created = ids(&body["created"]);
    let (status, body) = server.post(
        &format!("/api/v1/tasks/{}/replan", created[0]),
        json!({"reason": "too big", "apply": true}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(repo.show(&created[0])["status"], "blocked");
    assert_ok(&repo.run(&["issue", "close", &created[0]]));
    let (status, body) = server.post(&format!("/api/v1/tasks/{}/replan", created[0]), json!({}));
    assert_eq!(status, 409, "{body}");
}
