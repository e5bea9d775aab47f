//! The Responses API: streamed items (message, function call, freeform tool call), usage,
//! whole answers and cut-off streams.

use agentry_testkit::{ModelServer, Reply};
use serde_json::{Value, json};

use crate::raw_http::post;

fn request(stream: bool) -> Value {
    json!({"model": "gpt-test", "stream": stream, "input": [{"type": "message", "role": "user",
        "content": [{"type": "input_text", "text": "hi"}]}]})
}

/// The streamed events' data, after checking each event's name is its data's type.
async fn streamed(server: &ModelServer) -> Vec<Value> {
    let response = post(&server.base_url(), "/v1/responses", &request(true)).await;
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert!(response.complete);
    let events = response.events();
    for (n, (name, data)) in events.iter().enumerate() {
        assert_eq!(name.as_deref(), data["type"].as_str());
        assert_eq!(data["sequence_number"], n);
    }
    events.into_iter().map(|(_, data)| data).collect()
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_text_reply_streams_a_message_item_and_completes_with_usage() {
    let server = ModelServer::start(vec![Reply::Text("Hello.".to_string())]).await;
    let events = streamed(&server).await;
    assert_eq!(
        types(&events),
        [
            "response.created",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    assert_eq!(events[1]["item"]["status"], "in_progress");
    assert_eq!(events[3]["delta"], "Hello.");
    assert_eq!(events[6]["item"]["content"][0]["text"], "Hello.");
    let response = &events[7]["response"];
    assert_eq!(
        (&response["status"], &response["model"]),
        (&json!("completed"), &json!("gpt-test"))
    );
    assert_eq!(response["usage"]["output_tokens"], 2);
    assert!(response["usage"]["input_tokens"].as_u64().unwrap() > 10);
}

#[tokio::test]
async fn an_object_input_is_a_function_call_and_a_string_a_freeform_call() {
    let function = Reply::Tool {
        name: "exec_command".to_string(),
        input: json!({"cmd": "ls"}),
    };
    let freeform = Reply::Tool {
        name: "apply_patch".to_string(),
        input: json!("*** Begin Patch\n*** End Patch\n"),
    };
    let server = ModelServer::start(vec![function, freeform]).await;
    let events = streamed(&server).await;
    assert_eq!(
        types(&events)[2..4],
        [
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done"
        ]
    );
    let call = &events[4]["item"];
    assert_eq!(
        (&call["type"], &call["name"], &call["call_id"]),
        (
            &json!("function_call"),
            &json!("exec_command"),
            &json!("call_testkit_0001")
        )
    );
    assert_eq!(call["arguments"], r#"{"cmd":"ls"}"#);

    let events = streamed(&server).await;
    assert_eq!(events[2]["type"], "response.custom_tool_call_input.delta");
    let call = &events[4]["item"];
    assert_eq!(call["type"], "custom_tool_call");
    assert_eq!(call["input"], "*** Begin Patch\n*** End Patch\n");
}

#[tokio::test]
async fn a_whole_answer_is_the_completed_response() {
    let server = ModelServer::start(vec![Reply::Text("Hi.".to_string())]).await;
    let whole = post(&server.base_url(), "/v1/responses", &request(false))
        .await
        .json();
    assert_eq!(whole["object"], "response");
    assert_eq!(whole["output"][0]["content"][0]["text"], "Hi.");
    assert!(whole["usage"]["total_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_cut_off_stream_drops_after_the_first_text_delta() {
    let server = ModelServer::start(vec![Reply::CutOff]).await;
    let response = post(&server.base_url(), "/v1/responses", &request(true)).await;
    assert!(!response.complete);
    let events = response.events();
    let last = &events.last().unwrap().1;
    assert_eq!(events.len(), 4);
    assert_eq!(last["type"], "response.output_text.delta");
}
