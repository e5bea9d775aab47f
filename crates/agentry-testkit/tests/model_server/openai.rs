//! Chat Completions: streamed chunks and whole answers.

use agentry_testkit::{ModelServer, Reply};
use serde_json::{Value, json};

use crate::raw_http::post;

fn request(stream: bool) -> Value {
    json!({"model": "gpt-test", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn a_streamed_completion_sends_content_usage_and_done() {
    let server = ModelServer::start(vec![Reply::Text("Hello.".to_string())]).await;
    let response = post(&server.base_url(), "/v1/chat/completions", &request(true)).await;
    assert!(response.complete);
    let data: Vec<Value> = response
        .events()
        .into_iter()
        .map(|(_, data)| data)
        .collect();
    assert_eq!(data.len(), 4);
    assert_eq!(data[0]["choices"][0]["delta"]["content"], "Hello.");
    assert_eq!(data[1]["choices"][0]["finish_reason"], "stop");
    assert_eq!(data[2]["usage"]["completion_tokens"], 2);
    assert_eq!(data[3], "[DONE]");
}

#[tokio::test]
async fn a_tool_call_streams_and_answers_whole() {
    let call = Reply::Tool {
        name: "shell".to_string(),
        input: json!({"cmd": ["ls"]}),
    };
    let server = ModelServer::start(vec![call.clone(), call]).await;
    let url = server.base_url();
    let streamed = post(&url, "/v1/chat/completions", &request(true))
        .await
        .events();
    let delta = &streamed[0].1["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(delta["index"], 0);
    assert_eq!(delta["function"]["name"], "shell");
    assert_eq!(delta["function"]["arguments"], r#"{"cmd":["ls"]}"#);
    assert_eq!(streamed[1].1["choices"][0]["finish_reason"], "tool_calls");

    let whole = post(&url, "/v1/chat/completions", &request(false))
        .await
        .json();
    let choice = &whole["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["tool_calls"][0]["type"], "function");
    assert!(whole["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
}
