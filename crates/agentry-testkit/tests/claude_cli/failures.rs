//! How claude reports a failing model API: it retries (10 times by default, with backoff
//! from about 0.5 s doubling each time, or after the server's retry-after when that is at
//! most 60 s; a longer retry-after is not retried), then exits 1 with an `is_error` result.
//! A dropped stream is retried the same way, then asked once more without streaming.
//! CLAUDE_CODE_MAX_RETRIES keeps these runs short.

use agentry_testkit::{ModelServer, RecordedRequest, Reply};
use serde_json::Value;

use crate::PROMPT;
use crate::harness::{Run, claude_or_skip, run_claude, save_fixture};

/// Runs claude against `replies`, allowing it `retries` retries.
async fn run_against(replies: Vec<Reply>, retries: &str) -> Option<(Run, Vec<RecordedRequest>)> {
    let claude = claude_or_skip()?;
    let dir = tempfile::tempdir().unwrap();
    let server = ModelServer::start(replies).await;
    let env = [("CLAUDE_CODE_MAX_RETRIES", retries)];
    let run = run_claude(&claude, &server, dir.path(), PROMPT, &env).await;
    Some((run, server.requests()))
}

fn status(code: u16, error_type: &str, retry_after: Option<u64>) -> Reply {
    let body = format!(
        r#"{{"type":"error","error":{{"type":"{error_type}","message":"scripted {code}"}}}}"#
    );
    Reply::Status {
        code,
        body,
        retry_after,
    }
}

/// The `api_retry` system lines: one per retry, before it is made.
fn retries(run: &Run) -> Vec<Value> {
    let mut lines = run.of_type("system");
    lines.retain(|line| line["subtype"] == "api_retry");
    lines
}

/// Checks the failed run's exit code and final line, and returns that line.
fn failed(run: &Run, api_error_status: Value) -> Value {
    assert_eq!(run.status.code(), Some(1), "{}\n{}", run.stdout, run.stderr);
    let result = run.lines().pop().unwrap();
    assert_eq!(result["type"], "result");
    assert_eq!(result["is_error"], true);
    // Not "error_*": only is_error tells a failed run from a good one.
    assert_eq!(result["subtype"], "success");
    assert_eq!(result["terminal_reason"], "api_error");
    assert_eq!(result["api_error_status"], api_error_status);
    result
}

#[tokio::test]
async fn a_rate_limit_is_retried_after_retry_after_then_reported() {
    let limited = || status(429, "rate_limit_error", Some(1));
    let Some((run, requests)) = run_against(vec![limited(), limited()], "1").await else {
        return;
    };
    assert_eq!(requests.len(), 2);
    let retries = retries(&run);
    assert_eq!(retries.len(), 1);
    assert_eq!(
        (&retries[0]["error_status"], &retries[0]["error"]),
        (&429.into(), &"rate_limit".into())
    );
    assert!(retries[0]["retry_delay_ms"].as_u64().unwrap() >= 1000);
    let result = failed(&run, 429.into());
    assert_eq!(
        result["result"],
        "API Error: Request rejected (429) · scripted 429"
    );
    save_fixture("rate_limited.jsonl", &run.stdout);
}

#[tokio::test]
async fn a_rate_limit_longer_than_a_minute_is_reported_at_once() {
    let replies = vec![status(429, "rate_limit_error", Some(61))];
    let Some((run, requests)) = run_against(replies, "10").await else {
        return;
    };
    assert_eq!(requests.len(), 1);
    assert!(retries(&run).is_empty());
    failed(&run, 429.into());
}

#[tokio::test]
async fn a_server_error_is_retried_with_backoff_then_reported() {
    let broken = || status(500, "api_error", None);
    let Some((run, requests)) = run_against(vec![broken(), broken()], "1").await else {
        return;
    };
    assert_eq!(requests.len(), 2);
    assert_eq!(retries(&run)[0]["error"], "server_error");
    let result = failed(&run, 500.into());
    assert!(
        result["result"]
            .as_str()
            .unwrap()
            .starts_with("API Error: 500 scripted 500")
    );
    save_fixture("server_error.jsonl", &run.stdout);
}

#[tokio::test]
async fn a_cut_stream_is_asked_again_without_streaming() {
    let replies = vec![Reply::CutOff, Reply::Text("Recovered.".to_string())];
    let Some((run, requests)) = run_against(replies, "0").await else {
        return;
    };
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    let streamed: Vec<_> = requests.iter().map(|r| r.body["stream"].clone()).collect();
    assert_eq!(streamed, [true, false]);
    assert_eq!(run.lines().pop().unwrap()["result"], "Recovered.");
}

#[tokio::test]
async fn a_connection_lost_twice_is_reported_without_a_status() {
    let Some((run, requests)) = run_against(vec![Reply::CutOff, Reply::CutOff], "0").await else {
        return;
    };
    assert_eq!(requests.len(), 2);
    let result = failed(&run, Value::Null);
    let text = result["result"].as_str().unwrap();
    assert!(
        text.starts_with("API Error: Connection to the API was lost"),
        "{text}"
    );
}
