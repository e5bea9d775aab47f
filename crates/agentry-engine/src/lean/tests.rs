//! The lean parser against the scripted model server, through an `openai` agent, with a real
//! SQLite store. Time is passed in, so the cooldown is tested without waiting.

use std::path::Path;
use std::sync::Arc;

use agentry_core::Timestamp;
use agentry_core::config::{AgentConfig, AgentKind, Config};
use agentry_lean::{PacketKind, Source};
use agentry_store::{SqliteStore, Store};
use agentry_testkit::{ModelServer, Reply};
use serde_json::json;

use super::*;

/// The heuristics find two of the debug packet's five required fields: confidence 0.
const HALF_A_DEBUG: &str = "BUG: crash on empty input\nROOT: unchecked index";

const THREE_FIELDS: &str = "```json\n{\"fix\": {\"value\": \"check the length\", \"confidence\": 0.9}, \"test\": \"empty_input_is_refused\", \"result\": {\"value\": \"passes\", \"confidence\": 0.8}}\n```";

fn t0() -> Timestamp {
    Timestamp::from_unix_micros(1_700_000_000_000_000)
}

fn config(server: &ModelServer, rewrite: bool, fallback: bool) -> Config {
    let mut config = Config::default();
    config.agents.insert(
        "model".into(),
        AgentConfig {
            base_url: Some(format!("{}/v1", server.base_url())),
            model: Some("gpt-test".into()),
            ..AgentConfig::new(AgentKind::Openai)
        },
    );
    config.lean.model_agent = "model".into();
    config.lean.plan_rewrite = rewrite;
    config.lean.field_fallback = fallback;
    config
}

struct Setup {
    server: ModelServer,
    store: Arc<dyn Store>,
    config: Config,
}

impl Setup {
    async fn new(replies: Vec<Reply>, rewrite: bool, fallback: bool) -> Self {
        let server = ModelServer::start(replies).await;
        let config = config(&server, rewrite, fallback);
        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
        Self {
            server,
            store,
            config,
        }
    }

    fn parser(&self) -> LeanParser {
        LeanParser::new(Arc::clone(&self.store), &self.config, Path::new(".")).unwrap()
    }

    fn states(&self, now: Timestamp) -> LeanStates {
        states(self.store.as_ref(), &self.config, now).unwrap()
    }
}

async fn parse_debug(parser: &LeanParser, text: &str, now: Timestamp) -> LeanParse {
    parser
        .parse(PacketKind::Debug.schema(), text, None, now)
        .await
        .unwrap()
}

fn entries(parse: &LeanParse, event: &str) -> Vec<(Action, Option<Reason>)> {
    parse
        .telemetry
        .iter()
        .filter(|entry| entry.event == event)
        .map(|entry| (entry.action, entry.reason))
        .collect()
}

fn source(parse: &LeanParse, name: &str) -> Option<Source> {
    parse.result.fields.iter().find(|f| f.name == name)?.source
}

#[tokio::test]
async fn with_the_flags_off_no_model_is_asked_and_the_states_say_disabled() {
    let setup = Setup::new(vec![Reply::Text(THREE_FIELDS.into())], false, false).await;
    let parse = parse_debug(&setup.parser(), HALF_A_DEBUG, t0()).await;
    assert_eq!(parse.result.missing, ["fix", "test", "result"]);
    assert!(entries(&parse, PLAN_REWRITE).is_empty());
    assert_eq!(
        entries(&parse, FIELD_FALLBACK),
        [(Action::Skipped, Some(Reason::Disabled))]
    );
    assert!(setup.server.requests().is_empty());
    let states = setup.states(t0());
    for state in [&states.plan_rewrite, &states.field_fallback] {
        assert_eq!((state.enabled, state.concurrency), (false, 0));
        assert_eq!(state.queue, QueueState::default());
    }
    assert_eq!(states.field_fallback.counts, Some(Counts::default()));
    assert_eq!(states.plan_rewrite.counts, None);
}

#[tokio::test]
async fn a_rewrite_redoes_the_unsure_fields_then_waits_out_its_cooldown() {
    let replies = vec![
        Reply::Text(THREE_FIELDS.into()),
        Reply::Text(THREE_FIELDS.into()),
    ];
    let setup = Setup::new(replies, true, false).await;
    let parser = setup.parser();
    let first = parse_debug(&parser, HALF_A_DEBUG, t0()).await;
    assert!(first.result.complete, "{first:#?}");
    assert_eq!(source(&first, "fix"), Some(Source::Rewrite));
    assert_eq!(source(&first, "bug"), Some(Source::Heuristic));
    assert_eq!(
        first.result.confidence, 0.75,
        "an unmarked value counts at the threshold"
    );
    assert_eq!(
        entries(&first, PLAN_REWRITE),
        [
            (Action::Queued, None),
            (Action::Started, None),
            (Action::Applied, None)
        ]
    );
    let state = setup.states(t0()).plan_rewrite;
    assert_eq!(state.last_attempt_at, Some(t0()));
    assert_eq!(state.last_success_at, Some(t0()));
    assert_eq!((state.queue.completed, state.queue.size), (1, 0));
    assert!(state.pending_cooldown);
    assert_eq!(state.last_usage.unwrap().model.as_deref(), Some("gpt-test"));

    let soon = parse_debug(&parser, HALF_A_DEBUG, t0().plus_secs(4)).await;
    assert_eq!(
        entries(&soon, PLAN_REWRITE),
        [(Action::Skipped, Some(Reason::Cooldown))]
    );
    assert!(
        soon.result
            .diagnostics
            .iter()
            .any(|d| d.message.starts_with("plan rewrite skipped: cooldown")),
        "{:?}",
        soon.result.diagnostics
    );
    assert_eq!(setup.server.requests().len(), 1);

    let later = parse_debug(&parser, HALF_A_DEBUG, t0().plus_secs(5)).await;
    assert_eq!(source(&later, "fix"), Some(Source::Rewrite));
    assert_eq!(setup.server.requests().len(), 2);
}

#[tokio::test]
async fn a_sure_parse_skips_the_rewrite_on_the_threshold() {
    let setup = Setup::new(Vec::new(), true, true).await;
    let text = "BUG: crash\nROOT: index\nFIX: check\nTEST: t\nRESULT: passes";
    let parse = parse_debug(&setup.parser(), text, t0()).await;
    assert_eq!(
        entries(&parse, PLAN_REWRITE),
        [(Action::Skipped, Some(Reason::Threshold))]
    );
    assert_eq!(
        entries(&parse, FIELD_FALLBACK),
        [(Action::Skipped, Some(Reason::NoPendingFields))]
    );
    assert!(setup.server.requests().is_empty());
}

#[tokio::test]
async fn the_field_fallback_asks_once_for_the_missing_required_fields() {
    let answer = "```json\n{\"fix\": \"check the length\", \"test\": {\"value\": \"t\", \"confidence\": 0.5}, \"result\": {\"value\": \"passes\", \"confidence\": 0.9}}\n```";
    let setup = Setup::new(vec![Reply::Text(answer.into())], false, true).await;
    let parse = parse_debug(&setup.parser(), HALF_A_DEBUG, t0()).await;
    let requests = setup.server.requests();
    assert_eq!(requests.len(), 1);
    let asked = requests[0].body.to_string();
    assert!(
        asked.contains("Fields to give: fix, test, result."),
        "{asked}"
    );
    assert_eq!(source(&parse, "fix"), Some(Source::Fallback));
    assert_eq!(source(&parse, "result"), Some(Source::Fallback));
    assert_eq!(
        parse.result.missing,
        ["test"],
        "a value marked below 0.65 is not used"
    );
    let fix = parse
        .result
        .fields
        .iter()
        .find(|f| f.name == "fix")
        .unwrap();
    assert_eq!(fix.confidence, MIN_FALLBACK_CONFIDENCE);
    let applied = parse.telemetry.last().unwrap();
    assert_eq!(applied.action, Action::Applied);
    assert_eq!(applied.fields, ["fix", "result"]);
    let state = setup.states(t0()).field_fallback;
    assert_eq!(
        state.counts,
        Some(Counts {
            attempts: 1,
            successes: 1,
            failures: 0
        })
    );
}

#[tokio::test]
async fn only_optional_fields_missing_are_left_unless_asked_for() {
    let setup = Setup::new(Vec::new(), false, true).await;
    let schema = agentry_lean::Schema::from_json_schema(
        "note",
        &json!({"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}, "body": {"type": "string"}}}),
    )
    .unwrap();
    let parse = setup
        .parser()
        .parse(&schema, "TITLE: hello", None, t0())
        .await
        .unwrap();
    assert_eq!(
        entries(&parse, FIELD_FALLBACK),
        [(Action::Skipped, Some(Reason::OptionalField))]
    );
    assert!(setup.server.requests().is_empty());
}

#[tokio::test]
async fn a_model_error_stands_in_the_state_and_the_status_until_the_queue_is_cleared() {
    // The agent tries three times, as told at once.
    let error = Reply::Status {
        code: 500,
        body: r#"{"error":{"message":"the model is down","type":"server_error"}}"#.into(),
        retry_after: Some(0),
    };
    let setup = Setup::new(vec![error; 3], true, false).await;
    let parse = parse_debug(&setup.parser(), HALF_A_DEBUG, t0()).await;
    let failed = parse
        .telemetry
        .iter()
        .find(|entry| entry.action == Action::Failed)
        .unwrap_or_else(|| panic!("{:?}", parse.telemetry));
    assert_eq!(
        (failed.event, failed.reason),
        (PLAN_REWRITE, Some(Reason::Error))
    );
    let request_id = failed.request_id.clone().unwrap();
    let state = setup.states(t0()).plan_rewrite;
    let last_error = state.last_error.clone().unwrap();
    assert!(last_error.contains(&request_id), "{last_error}");
    assert!(
        last_error.contains("HTTP 500: the model is down"),
        "{last_error}"
    );
    assert_eq!((state.queue.failed, state.queue.in_flight), (1, 0));
    assert_eq!(state.last_failure_at, Some(t0()));

    let status = crate::status::snapshot(setup.store.as_ref(), &setup.config, t0()).unwrap();
    let expected = format!("Investigate recent plan rewrite error: {last_error}");
    assert!(
        status.recommended_actions.contains(&expected),
        "{:?}",
        status.recommended_actions
    );

    let cleared = clear_queue(setup.store.as_ref(), &setup.config, t0()).unwrap();
    assert_eq!(cleared.plan_rewrite.last_error, None);
    assert_eq!(cleared.plan_rewrite.queue.failed, 1, "history is kept");
    let status = crate::status::snapshot(setup.store.as_ref(), &setup.config, t0()).unwrap();
    assert!(
        !status
            .recommended_actions
            .iter()
            .any(|a| a.starts_with("Investigate")),
        "{:?}",
        status.recommended_actions
    );
}

#[tokio::test]
async fn a_fallback_on_without_a_model_agent_is_refused_naming_the_key() {
    let setup = Setup::new(Vec::new(), false, true).await;
    let mut config = setup.config.clone();
    config.lean.model_agent.clear();
    let err = LeanParser::new(Arc::clone(&setup.store), &config, Path::new("."))
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "lean.model_agent: lean.field_fallback is on but no model agent is set; name an [agents.NAME] (e.g. of kind openai) in lean.model_agent"
    );
}
