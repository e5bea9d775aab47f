//! Unserved paths, API errors and dropped streams.

use agentry_testkit::{ModelServer, Reply};
use serde_json::json;

use crate::raw_http::{get, post};

fn streamed() -> serde_json::Value {
    json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn an_unserved_path_is_answered_404_and_recorded() {
    let server = ModelServer::start(vec![]).await;
    let response = get(&server.base_url(), "/v1/models?limit=5").await;
    assert_eq!(response.status, 404);
    assert_eq!(response.json()["error"]["type"], "not_found_error");
    let recorded = server.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (recorded[0].method.as_str(), recorded[0].path.as_str()),
        ("GET", "/v1/models")
    );
    assert_eq!(recorded[0].query.as_deref(), Some("limit=5"));
    assert_eq!(recorded[0].header("HOST"), Some(&server.base_url()[7..]));
}

#[tokio::test]
async fn a_status_reply_sends_its_code_body_and_retry_after() {
    let body = r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#;
    let server = ModelServer::start(vec![Reply::Status {
        code: 429,
        body: body.to_string(),
        retry_after: Some(7),
    }])
    .await;
    let response = post(&server.base_url(), "/v1/messages", &streamed()).await;
    assert_eq!(response.status, 429);
    assert_eq!(response.header("retry-after"), Some("7"));
    assert_eq!(response.body, body);
}

#[tokio::test]
async fn a_cut_off_stream_begins_an_answer_then_drops_the_connection() {
    let server = ModelServer::start(vec![Reply::CutOff, Reply::CutOff]).await;
    let response = post(&server.base_url(), "/v1/messages", &streamed()).await;
    assert_eq!(response.status, 200);
    assert!(!response.complete, "the chunked body must not end");
    let names: Vec<_> = response
        .events()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names.len(), 3);
    assert_eq!(names[0].as_deref(), Some("message_start"));
    assert!(!response.body.contains("message_stop"));

    let whole = json!({"model": "m", "messages": []});
    let response = post(&server.base_url(), "/v1/messages", &whole).await;
    assert!(!response.complete);
    assert!(serde_json::from_str::<serde_json::Value>(&response.body).is_err());
}

#[test]
#[should_panic(expected = "not an HTTP status")]
fn an_impossible_status_code_fails_at_start() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reply = Reply::Status {
        code: 42,
        body: String::new(),
        retry_after: None,
    };
    runtime.block_on(ModelServer::start(vec![reply]));
}
