//! The `openai` backend against the scripted model server and against a server that never
//! answers.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use agentry_agents::{Agent, AgentEvent, AgentFailure, AgentOutcome, build};
use agentry_core::Role;
use agentry_core::config::{AgentConfig, AgentKind};
use agentry_testkit::{ModelServer, Reply};
use common::{Dirs, config, run, texts};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Far more than any of these turns should take, so a slow machine does not fail them.
const PROMPT_BOUND: Duration = Duration::from_secs(10);

fn openai(base_url: String) -> AgentConfig {
    AgentConfig {
        base_url: Some(base_url),
        model: Some("gpt-test".to_string()),
        ..config(AgentKind::Openai)
    }
}

fn agent(config: &AgentConfig) -> Arc<dyn Agent> {
    build("reviewer", config, Path::new(".")).unwrap()
}

/// The model server's chat completions API, as a config's base URL names it.
fn v1(server: &ModelServer) -> String {
    format!("{}/v1", server.base_url())
}

async fn review(config: &AgentConfig) -> (AgentOutcome, Vec<AgentEvent>) {
    let dirs = Dirs::new();
    let request = dirs.request(Role::SpecReviewer, "i-greet1", "Greeting");
    run(agent(config).as_ref(), &request).await
}

/// One scripted reply, answered through an openai agent.
async fn answer(replies: Vec<Reply>) -> (AgentOutcome, Vec<AgentEvent>, ModelServer) {
    let server = ModelServer::start(replies).await;
    let (outcome, events) = review(&openai(v1(&server))).await;
    (outcome, events, server)
}

fn status(code: u16, message: &str, retry_after: Option<u64>) -> Reply {
    Reply::Status {
        code,
        body: format!(r#"{{"error":{{"message":"{message}","type":"test"}}}}"#),
        retry_after,
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A server that accepts one connection and never answers; `accepted` fires once it has.
async fn silent_server() -> (String, oneshot::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let (accepted, on_accept) = oneshot::channel();
    tokio::spawn(async move {
        let (_connection, _) = listener.accept().await.unwrap();
        let _ = accepted.send(());
        std::future::pending::<()>().await;
    });
    (url, on_accept)
}

#[tokio::test]
async fn a_streamed_answer_comes_with_its_events_and_usage() {
    let key_var = "CARGO_PKG_NAME"; // Set by cargo for every test run: any set variable will do.
    let server = ModelServer::start(vec![Reply::Text("Hello there.".to_string())]).await;
    let config = AgentConfig {
        api_key_env: Some(key_var.to_string()),
        ..openai(v1(&server))
    };
    let (outcome, events) = review(&config).await;
    assert_eq!(outcome.failure, None, "{outcome:?}");
    assert_eq!(
        (outcome.text.as_str(), outcome.exit_code),
        ("Hello there.", Some(0))
    );
    let usage = &outcome.usage;
    assert_eq!(usage.model.as_deref(), Some("gpt-test"));
    assert!(usage.tokens_in.unwrap() > 0 && usage.tokens_out.unwrap() > 0);
    assert_eq!(texts(&events), ["Hello there."]);
    assert!(matches!(events[0], AgentEvent::Started { pid: None }));
    assert!(events.contains(&AgentEvent::Usage(usage.clone())));
    let tail = &events[events.len() - 2..];
    assert_eq!(
        tail,
        [
            AgentEvent::Result {
                text: "Hello there.".to_string(),
                is_error: false
            },
            AgentEvent::Finished { ok: true }
        ]
    );

    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    let key = std::env::var(key_var).unwrap();
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {key}").as_str())
    );
    assert_eq!(sent.body["model"], "gpt-test");
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["stream_options"]["include_usage"], true);
    let messages = sent.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["content"], "Fix the greeting.\nSecond line.");
}

#[tokio::test]
async fn a_reviewers_json_verdict_comes_back_whole() {
    let verdict = "The greeting is fixed, but nothing tests it.\n\n```json\n{\"verdict\": \"fail\", \
                   \"failed_items\": [\"tests\"], \"fix_list\": [\"add a test for the greeting\"]}\n```\n";
    let (outcome, _, _) = answer(vec![Reply::Text(verdict.to_string())]).await;
    assert_eq!(outcome.failure, None);
    assert_eq!(outcome.text, verdict);
}

#[tokio::test]
async fn a_rate_limit_with_retry_after_is_waited_out() {
    let limited = status(429, "slow down", Some(1));
    let (outcome, events, server) = answer(vec![limited, Reply::Text("ok".to_string())]).await;
    assert_eq!((outcome.failure, outcome.text.as_str()), (None, "ok"));
    assert_eq!(server.requests().len(), 2);
    assert!(events.contains(&AgentEvent::Error(
        "HTTP 429: slow down (trying again in 1s)".to_string()
    )));
}

#[tokio::test]
async fn a_rate_limit_that_lasts_fails_the_turn_with_its_reset_time() {
    let before = unix_now();
    let replies = vec![status(429, "slow down", Some(1)); 3];
    let (outcome, _, server) = answer(replies).await;
    let Some(AgentFailure::RateLimited { reset_at, message }) = outcome.failure else {
        panic!("not rate limited: {outcome:?}");
    };
    assert_eq!(message, "slow down");
    assert!((before + 1..=unix_now() + 1).contains(&reset_at.unwrap()));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_retry_after_past_the_timeout_fails_at_once() {
    let started = Instant::now();
    let (outcome, _, server) = answer(vec![status(429, "come back in an hour", Some(3600))]).await;
    assert!(matches!(
        outcome.failure,
        Some(AgentFailure::RateLimited { reset_at: Some(at), .. }) if at >= unix_now() + 3500
    ));
    assert_eq!(server.requests().len(), 1);
    assert!(started.elapsed() < PROMPT_BOUND);
}

#[tokio::test]
async fn a_server_error_is_tried_again() {
    let failing = status(500, "internal error", None);
    let (outcome, _, server) = answer(vec![failing, Reply::Text("ok".to_string())]).await;
    assert_eq!((outcome.failure, outcome.text.as_str()), (None, "ok"));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_bad_request_is_reported_with_the_servers_message_and_not_retried() {
    let bad = status(400, "The model `gpt-test` does not exist", None);
    let (outcome, events, server) = answer(vec![bad]).await;
    let expected = "HTTP 400: The model `gpt-test` does not exist";
    assert_eq!(
        outcome.failure,
        Some(AgentFailure::Reported(expected.to_string()))
    );
    assert!(events.contains(&AgentEvent::Error(expected.to_string())));
    assert!(events.contains(&AgentEvent::Finished { ok: false }));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_cut_off_stream_gives_no_result_but_keeps_what_was_said() {
    let (outcome, events, _) = answer(vec![Reply::CutOff]).await;
    assert_eq!(
        outcome.failure,
        Some(AgentFailure::NoResult { exit_code: None })
    );
    assert_eq!(outcome.text, "This answer is cut off before it ends.");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AgentEvent::Result { .. }))
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let (url, _) = silent_server().await;
    let config = AgentConfig {
        timeout_secs: 1,
        ..openai(url)
    };
    let started = Instant::now();
    let (outcome, _) = review(&config).await;
    assert_eq!(
        outcome.failure,
        Some(AgentFailure::TimedOut { after_secs: 1 })
    );
    assert!(started.elapsed() < PROMPT_BOUND);
}

#[tokio::test]
async fn a_server_silent_for_the_idle_timeout_is_left() {
    let (url, _) = silent_server().await;
    let config = AgentConfig {
        idle_timeout_secs: 1,
        ..openai(url)
    };
    let (outcome, _) = review(&config).await;
    assert_eq!(outcome.failure, Some(AgentFailure::Idle { after_secs: 1 }));
}

#[tokio::test]
async fn a_cancelled_turn_ends_promptly() {
    let (url, accepted) = silent_server().await;
    let agent = agent(&openai(url));
    let dirs = Dirs::new();
    let request = dirs.request(Role::QualityReviewer, "i-greet1", "Greeting");
    let cancel = CancellationToken::new();
    let (events, _received) = mpsc::unbounded_channel();
    let started = Instant::now();
    let (outcome, ()) = tokio::join!(agent.run(&request, &events, &cancel), async {
        accepted.await.unwrap();
        cancel.cancel();
    });
    assert_eq!(outcome.failure, Some(AgentFailure::Cancelled));
    assert!(started.elapsed() < PROMPT_BOUND);
}

#[tokio::test]
async fn a_missing_api_key_variable_is_named() {
    let server = ModelServer::start(vec![]).await;
    let config = AgentConfig {
        api_key_env: Some("AGENTRY_TEST_UNSET_OPENAI_KEY".to_string()),
        ..openai(v1(&server))
    };
    let (outcome, _) = review(&config).await;
    let Some(AgentFailure::Spawn(message)) = outcome.failure else {
        panic!("not a start failure: {outcome:?}");
    };
    assert!(
        message.contains("AGENTRY_TEST_UNSET_OPENAI_KEY") && message.contains("not set"),
        "{message}"
    );
    assert!(server.requests().is_empty());
}
