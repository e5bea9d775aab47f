//! The Messages API: streamed and whole answers, tool calls, token counts.

use agentry_testkit::{ModelServer, Reply};
use serde_json::{Value, json};

use crate::raw_http::post;

fn request(stream: bool) -> Value {
    json!({
        "model": "claude-test",
        "max_tokens": 1024,
        "stream": stream,
        "messages": [{"role": "user", "content": "write the file"}],
    })
}

fn tool_reply() -> Reply {
    Reply::Tool {
        name: "Write".to_string(),
        input: json!({"file_path": "/tmp/x", "content": "hello\n"}),
    }
}

#[tokio::test]
async fn a_text_reply_streams_the_whole_event_sequence() {
    let server = ModelServer::start(vec![Reply::Text("Hi there.".to_string())]).await;
    let response = post(&server.base_url(), "/v1/messages?beta=true", &request(true)).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert!(response.complete);
    let events = response.events();
    let names: Vec<_> = events
        .iter()
        .map(|(name, _)| name.as_deref().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let start = &events[0].1["message"];
    assert_eq!(start["model"], "claude-test");
    assert!(start["usage"]["input_tokens"].as_u64().unwrap() > 10);
    assert_eq!(
        events[2].1["delta"],
        json!({"type": "text_delta", "text": "Hi there."})
    );
    assert_eq!(events[4].1["delta"]["stop_reason"], "end_turn");
    assert_eq!(events[4].1["usage"]["output_tokens"], 3);
}

#[tokio::test]
async fn a_tool_reply_streams_a_tool_use_block_and_records_the_tool_result() {
    let server = ModelServer::start(vec![tool_reply()]).await;
    let response = post(&server.base_url(), "/v1/messages", &request(true)).await;
    let events = response.events();
    let block = &events[1].1["content_block"];
    assert_eq!(block["type"], "tool_use");
    assert_eq!(block["name"], "Write");
    let id = block["id"].as_str().unwrap();
    assert!(id.starts_with("toolu_"), "{id}");
    let delta = &events[2].1["delta"];
    assert_eq!(delta["type"], "input_json_delta");
    let input: Value = serde_json::from_str(delta["partial_json"].as_str().unwrap()).unwrap();
    assert_eq!(input, json!({"file_path": "/tmp/x", "content": "hello\n"}));
    assert_eq!(events[4].1["delta"]["stop_reason"], "tool_use");

    let mut follow_up = request(true);
    follow_up["messages"] = json!([{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": id, "content": "File created"}
    ]}]);
    let last = post(&server.base_url(), "/v1/messages", &follow_up).await;
    assert_eq!(
        last.events()[2].1["delta"]["text"],
        "done",
        "the script ran out"
    );
    let recorded = server.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(
        recorded[1].body["messages"][0]["content"][0]["tool_use_id"],
        id
    );
}

#[tokio::test]
async fn a_request_without_stream_gets_one_message() {
    let server = ModelServer::start(vec![tool_reply(), Reply::Text("ok".to_string())]).await;
    let first = post(&server.base_url(), "/v1/messages", &request(false))
        .await
        .json();
    assert_eq!(first["type"], "message");
    assert_eq!(first["stop_reason"], "tool_use");
    assert_eq!(first["content"][0]["input"]["content"], "hello\n");
    let second = post(&server.base_url(), "/v1/messages", &request(false))
        .await
        .json();
    assert_ne!(second["id"], first["id"]);
    assert_eq!(second["content"], json!([{"type": "text", "text": "ok"}]));
}

#[tokio::test]
async fn counting_tokens_uses_up_no_reply() {
    let server = ModelServer::start(vec![Reply::Text("kept".to_string())]).await;
    let url = server.base_url();
    let count = post(&url, "/v1/messages/count_tokens", &request(false))
        .await
        .json();
    assert!(count["input_tokens"].as_u64().unwrap() > 0);
    let message = post(&url, "/v1/messages", &request(false)).await.json();
    assert_eq!(message["content"][0]["text"], "kept");
}
