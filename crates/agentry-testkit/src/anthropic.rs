//! The Anthropic Messages API (`POST /v1/messages`), as Claude Code uses it.

use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};

use crate::answer::{Content, Said, WireFormat};
use crate::reply::tokens;

/// The Messages API's wire format.
pub(crate) struct Anthropic;

impl WireFormat for Anthropic {
    /// message_start, content_block_start and the first delta.
    const CUT_AFTER: usize = 3;

    fn frames(said: &Said) -> Vec<String> {
        let (start, delta) = match &said.content {
            Content::Text(text) => (
                json!({"type": "text", "text": ""}),
                json!({"type": "text_delta", "text": text}),
            ),
            Content::Tool { name, input } => (
                json!({"type": "tool_use", "id": tool_id(said), "name": name, "input": {}}),
                json!({"type": "input_json_delta", "partial_json": input.to_string()}),
            ),
        };
        // The stream's message starts empty with a token of output, as the real API's does.
        let started = envelope(said, json!([]), Value::Null, 1);
        let delta_usage = json!({"output_tokens": said.output_tokens()});
        let stopped = json!({"stop_reason": stop_reason(said), "stop_sequence": null});
        vec![
            event(json!({"type": "message_start", "message": started})),
            event(json!({"type": "content_block_start", "index": 0, "content_block": start})),
            event(json!({"type": "content_block_delta", "index": 0, "delta": delta})),
            event(json!({"type": "content_block_stop", "index": 0})),
            event(json!({"type": "message_delta", "delta": stopped, "usage": delta_usage})),
            event(json!({"type": "message_stop"})),
        ]
    }

    fn message(said: &Said) -> Value {
        let block = match &said.content {
            Content::Text(text) => json!({"type": "text", "text": text}),
            Content::Tool { name, input } => {
                json!({"type": "tool_use", "id": tool_id(said), "name": name, "input": input})
            }
        };
        envelope(
            said,
            json!([block]),
            stop_reason(said).into(),
            said.output_tokens(),
        )
    }
}

/// `POST /v1/messages/count_tokens`: a count for the request, without using up a reply.
pub(crate) fn count_tokens(request_bytes: usize) -> Response {
    Json(json!({"input_tokens": tokens(request_bytes)})).into_response()
}

/// A message object with `content`, as sent whole or at the start of a stream.
fn envelope(said: &Said, content: Value, stop_reason: Value, output_tokens: u64) -> Value {
    json!({
        "id": format!("msg_testkit_{:04}", said.serial),
        "type": "message",
        "role": "assistant",
        "model": said.model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {"input_tokens": said.input_tokens, "output_tokens": output_tokens},
    })
}

/// One server-sent event; the event name repeats the data's type, as the API does.
fn event(data: Value) -> String {
    format!(
        "event: {}\ndata: {data}\n\n",
        data["type"].as_str().unwrap_or_default()
    )
}

fn stop_reason(said: &Said) -> &'static str {
    match said.content {
        Content::Text(_) => "end_turn",
        Content::Tool { .. } => "tool_use",
    }
}

/// A tool-use id, fresh for each answer, in the API's `toolu_` form.
fn tool_id(said: &Said) -> String {
    format!("toolu_testkit_{:04}", said.serial)
}
