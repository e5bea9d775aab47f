//! The lean fallbacks through the binary: `agentry parse` with the plan rewrite and the field
//! fallback asking an `openai` agent pointed at the scripted model server, their state in
//! `agentry lean state`, the guard a model error raises, and `agentry lean clear-queue`.

mod support;

use std::process::Output;

use agentry_testkit::{ModelServer, Reply};
use serde_json::Value;
use support::{Repo, agentry_with, json_of, scripted_repo, stderr, stdout};

/// The heuristics find two of the debug packet's five required fields.
const HALF_A_DEBUG: &str = "BUG: crash on empty input\nROOT: unchecked index\n";

const THREE_FIELDS: &str = "```json\n{\"fix\": {\"value\": \"check the length\", \"confidence\": 0.9}, \"test\": {\"value\": \"empty_input_is_refused\", \"confidence\": 0.9}, \"result\": {\"value\": \"passes\", \"confidence\": 0.9}}\n```";

/// A runnable repository whose lean model agent is an `openai` agent on a scripted server.
struct Lean {
    repo: Repo,
    server: ModelServer,
    _runtime: tokio::runtime::Runtime,
}

impl Lean {
    fn new(replies: Vec<Reply>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(ModelServer::start(replies));
        let repo = scripted_repo();
        repo.append_config(&format!(
            "[agents.model]\nkind = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"gpt-test\"\n",
            server.base_url()
        ));
        repo.set_config("model_agent", "\"model\"");
        Self {
            repo,
            server,
            _runtime: runtime,
        }
    }

    fn parse(&self, extra: &[&str]) -> Output {
        let args = [&["parse", "--schema", "debug", "--json"][..], extra].concat();
        agentry_with(self.repo.path(), &args, &[], Some(HALF_A_DEBUG))
    }

    fn state(&self) -> Value {
        self.repo.json(&["lean", "state", "--json"])
    }

    fn requests(&self) -> usize {
        self.server.requests().len()
    }
}

fn parsed(out: &Output) -> Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}\n{}", stdout(out), stderr(out)))
}

fn telemetry(parse: &Value, event: &str) -> Vec<(String, Option<String>)> {
    parse["telemetry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["event"] == event)
        .map(|entry| {
            let reason = entry["reason"].as_str().map(str::to_string);
            (entry["action"].as_str().unwrap().to_string(), reason)
        })
        .collect()
}

fn source(parse: &Value, field: &str) -> Value {
    let fields = parse["fields"].as_array().unwrap();
    fields.iter().find(|f| f["name"] == field).unwrap()["source"].clone()
}

#[test]
fn with_the_flags_off_parse_asks_no_model_and_the_state_says_disabled() {
    let lean = Lean::new(vec![Reply::Text(THREE_FIELDS.into())]);
    let out = lean.parse(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let parse = parsed(&out);
    assert_eq!(
        parse["missing"],
        serde_json::json!(["fix", "test", "result"])
    );
    assert_eq!(
        telemetry(&parse, "field:fallback"),
        [("skipped".to_string(), Some("disabled".to_string()))]
    );
    assert_eq!(lean.requests(), 0);
    let state = lean.state();
    for name in ["plan_rewrite", "field_fallback"] {
        assert_eq!(state[name]["enabled"], false);
        assert_eq!(state[name]["concurrency"], 0);
        assert_eq!(state[name]["queue"]["size"], 0);
    }
    assert_eq!(state["field_fallback"]["attempts"], 0);
}

#[test]
fn a_plan_rewrite_fills_the_unsure_fields_then_its_cooldown_skips_the_next() {
    let lean = Lean::new(vec![Reply::Text(THREE_FIELDS.into())]);
    lean.repo.set_config("plan_rewrite", "true");
    // Long enough that the second parse surely falls inside it.
    lean.repo.set_config("cooldown_ms", "600000");
    let first = json_of(&lean.parse(&[]));
    assert_eq!(first["complete"], true);
    assert_eq!(source(&first, "fix"), "rewrite");
    assert_eq!(source(&first, "bug"), "heuristic");
    let actions: Vec<String> = telemetry(&first, "plan:rewrite")
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert_eq!(actions, ["queued", "started", "applied"]);

    let second = lean.parse(&[]);
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    let second = parsed(&second);
    assert_eq!(
        telemetry(&second, "plan:rewrite"),
        [("skipped".to_string(), Some("cooldown".to_string()))]
    );
    let notes = second["diagnostics"].to_string();
    assert!(notes.contains("plan rewrite skipped: cooldown"), "{notes}");
    assert_eq!(lean.requests(), 1);

    let state = lean.state()["plan_rewrite"].clone();
    assert_eq!(state["enabled"], true);
    assert_eq!(state["concurrency"], 1);
    assert_eq!(state["pendingCooldown"], true);
    assert_eq!(state["queue"]["completed"], 1);
    assert_eq!(state["lastUsage"]["model"], "gpt-test");
}

#[test]
fn the_field_fallback_fills_the_missing_required_fields_in_one_request() {
    let lean = Lean::new(vec![Reply::Text(THREE_FIELDS.into())]);
    lean.repo.set_config("field_fallback", "true");
    let parse = json_of(&lean.parse(&[]));
    assert_eq!(parse["complete"], true);
    for field in ["fix", "test", "result"] {
        assert_eq!(source(&parse, field), "fallback");
    }
    assert_eq!(lean.requests(), 1);
    let state = lean.state()["field_fallback"].clone();
    assert_eq!(
        (state["attempts"].clone(), state["successes"].clone()),
        (1.into(), 1.into())
    );
}

#[test]
fn a_model_error_stops_runs_and_parses_until_the_queue_is_cleared() {
    // The agent tries three times, as told at once.
    let error = Reply::Status {
        code: 500,
        body: r#"{"error":{"message":"the model is down","type":"server_error"}}"#.into(),
        retry_after: Some(0),
    };
    let lean = Lean::new(vec![error; 3]);
    lean.repo.set_config("plan_rewrite", "true");
    let failed = parsed(&lean.parse(&[]));
    assert_eq!(
        telemetry(&failed, "plan:rewrite").last().unwrap(),
        &("failed".to_string(), Some("error".to_string()))
    );
    let last_error = lean.state()["plan_rewrite"]["lastError"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        last_error.contains("HTTP 500: the model is down"),
        "{last_error}"
    );
    let action = format!("Investigate recent plan rewrite error: {last_error}");
    let status = lean.repo.json(&["status", "--json"]);
    assert_eq!(
        status["recommended_actions"][0],
        action.as_str(),
        "{status}"
    );

    lean.repo.add("Something to do", &[]);
    let run = lean.repo.run(&["run", "--until-idle"]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    assert!(stderr(&run).contains(&action), "{}", stderr(&run));
    let refused = lean.parse(&[]);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("refusing to parse"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(stdout(&refused), "");
    let forced = lean.parse(&["--force"]);
    assert_eq!(forced.status.code(), Some(1), "{}", stderr(&forced));
    assert!(
        stderr(&forced).contains("parsing despite"),
        "{}",
        stderr(&forced)
    );
    assert_eq!(parsed(&forced)["schema"], "debug");

    let cleared = lean.repo.ok(&["lean", "clear-queue"]);
    assert!(
        cleared.starts_with("cleared the lean fallback queues"),
        "{cleared}"
    );
    let state = lean.state()["plan_rewrite"].clone();
    assert_eq!(state["lastError"], Value::Null);
    assert_eq!(state["queue"]["inFlight"], 0);
    assert_eq!(state["queue"]["failed"], 1);
    let status = lean.repo.json(&["status", "--json"]);
    assert!(
        !status["recommended_actions"]
            .to_string()
            .contains("Investigate"),
        "{status}"
    );
    assert_eq!(lean.parse(&[]).status.code(), Some(1), "no longer refused");
}

#[test]
fn a_fallback_on_without_a_model_agent_is_refused_naming_the_key() {
    let repo = scripted_repo();
    repo.set_config("field_fallback", "true");
    let out = agentry_with(
        repo.path(),
        &["parse", "--schema", "debug"],
        &[],
        Some(HALF_A_DEBUG),
    );
    support::assert_refused(&out, &["lean.model_agent", "lean.field_fallback is on"]);
}
