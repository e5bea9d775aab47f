//! How codex reports a failing model API. It retries a request that failed with a 5xx
//! `request_max_retries` times (4 by default), a 429 not at all; then it reconnects the
//! whole stream, `stream_max_retries` times (5 by default, with backoff), printing an
//! `error` line "Reconnecting... n/N (reason)" before each; then it ends the turn with
//! `turn.failed` and exits 1. The reason names a 429 but not the server's message; a 500
//! becomes a canned "high demand" message; a 400 is the server's body verbatim.

use agentry_testkit::{ModelServer, RecordedRequest, Reply};
use serde_json::Value;

use crate::PROMPT;
use crate::harness::{Run, codex_or_skip, run_codex, save_fixture};

/// Runs codex against `replies`, allowing it `retries` request retries and as many
/// reconnections.
async fn run_against(replies: Vec<Reply>, retries: u32) -> Option<(Run, Vec<RecordedRequest>)> {
    let codex = codex_or_skip()?;
    let dir = tempfile::tempdir().unwrap();
    let server = ModelServer::start(replies).await;
    let setting = |key: &str| format!("model_providers.testkit.{key}={retries}");
    let (stream, request) = (
        setting("stream_max_retries"),
        setting("request_max_retries"),
    );
    let run = run_codex(
        &codex,
        &server,
        dir.path(),
        PROMPT,
        &["-c", &stream, "-c", &request],
    )
    .await;
    Some((run, server.requests()))
}

fn status(code: u16, error_type: &str, retry_after: Option<u64>) -> Reply {
    let body = format!(
        r#"{{"error":{{"message":"scripted {code}","type":"{error_type}","param":null,"code":null}}}}"#
    );
    Reply::Status {
        code,
        body,
        retry_after,
    }
}

/// The messages of the `error` lines.
fn errors(run: &Run) -> Vec<String> {
    let lines = run.lines().into_iter();
    let errors = lines.filter(|line| line["type"] == "error");
    errors
        .map(|line| line["message"].as_str().unwrap().to_string())
        .collect()
}

/// Checks the failed run's exit code and last line, and returns its error message.
fn failed(run: &Run) -> String {
    assert_eq!(run.status.code(), Some(1), "{}\n{}", run.stdout, run.stderr);
    let last = run.lines().pop().unwrap();
    assert_eq!(last["type"], "turn.failed");
    last["error"]["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_rate_limit_is_reconnected_then_reported_with_its_status() {
    let limited = || status(429, "rate_limit_exceeded", Some(1));
    let Some((run, requests)) = run_against(vec![limited(), limited()], 1).await else {
        return;
    };
    assert_eq!(requests.len(), 2);
    let message = "exceeded retry limit, last status: 429 Too Many Requests";
    assert_eq!(
        errors(&run),
        [
            format!("Reconnecting... 1/1 ({message})"),
            message.to_string()
        ]
    );
    assert_eq!(failed(&run), message);
    save_fixture("rate_limited.jsonl", &run.stdout);
}

#[tokio::test]
async fn a_server_error_is_reported_in_codex_words() {
    let Some((run, requests)) = run_against(vec![status(500, "server_error", None); 9], 1).await
    else {
        return;
    };
    // Each of the two streams is the request and its one retry.
    assert_eq!(requests.len(), 4);
    let message = failed(&run);
    assert!(message.contains("high demand"), "{message}");
    assert_eq!(errors(&run)[0], format!("Reconnecting... 1/1 ({message})"));
    save_fixture("server_error.jsonl", &run.stdout);
}

#[tokio::test]
async fn a_bad_request_is_reported_with_the_server_body() {
    let Some((run, _)) = run_against(vec![status(400, "invalid_request_error", None)], 0).await
    else {
        return;
    };
    assert!(failed(&run).contains("scripted 400"));
}

#[tokio::test]
async fn a_cut_stream_is_reconnected() {
    let replies = vec![Reply::CutOff, Reply::Text("Recovered.".to_string())];
    let Some((run, requests)) = run_against(replies, 1).await else {
        return;
    };
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(requests.len(), 2);
    let errors = errors(&run);
    assert!(
        errors[0].starts_with("Reconnecting... 1/1 (stream disconnected"),
        "{errors:?}"
    );
    let last_item = run.completed_items().pop().unwrap();
    assert_eq!(last_item["text"], "Recovered.");
}

#[tokio::test]
async fn a_stream_cut_every_time_fails_the_turn() {
    let Some((run, requests)) = run_against(vec![Reply::CutOff, Reply::CutOff], 1).await else {
        return;
    };
    assert_eq!(requests.len(), 2);
    let message = failed(&run);
    assert!(message.starts_with("stream disconnected"), "{message}");
    let last: Value = run.lines().pop().unwrap();
    assert_eq!(last["error"]["message"], message.as_str());
}
