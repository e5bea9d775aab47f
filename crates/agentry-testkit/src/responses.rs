//! OpenAI's Responses API (`POST /v1/responses`), as Codex uses it.
//!
//! A streamed answer is one output item: a `message`, a `function_call` (a tool whose input
//! is a JSON object, e.g. Codex's `exec_command`) or a `custom_tool_call` (a freeform tool
//! whose input is a string, e.g. Codex's `apply_patch`). Codex reads the finished item from
//! `response.output_item.done` and ends the request at `response.completed`, whose usage it
//! adds up into its own.

use serde_json::{Value, json};

use crate::answer::{Content, Said, WireFormat};

/// The Responses API's wire format.
pub(crate) struct Responses;

impl WireFormat for Responses {
    /// response.created, output_item.added, content_part.added and the first text delta.
    const CUT_AFTER: usize = 4;

    fn frames(said: &Said) -> Vec<String> {
        let item = item(said);
        let started = response(said, "in_progress", json!([]), Value::Null);
        let mut events = vec![
            json!({"type": "response.created", "response": started}),
            json!({"type": "response.output_item.added", "output_index": 0, "item": begun(&item)}),
        ];
        events.extend(deltas(&item));
        events.push(json!({"type": "response.output_item.done", "output_index": 0, "item": item}));
        events.push(json!({"type": "response.completed", "response": Self::message(said)}));
        events
            .into_iter()
            .enumerate()
            .map(|(n, mut event)| {
                event["sequence_number"] = n.into();
                frame(&event)
            })
            .collect()
    }

    fn message(said: &Said) -> Value {
        response(said, "completed", json!([item(said)]), usage(said))
    }
}

/// The answer's one output item, finished.
fn item(said: &Said) -> Value {
    let call_id = format!("call_testkit_{:04}", said.serial);
    match &said.content {
        Content::Text(text) => json!({
            "id": format!("msg_testkit_{:04}", said.serial),
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [output_text(text)],
        }),
        Content::Tool {
            name,
            input: Value::String(input),
        } => json!({
            "id": format!("ctc_testkit_{:04}", said.serial),
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": call_id,
            "name": name,
            "input": input,
        }),
        Content::Tool { name, input } => json!({
            "id": format!("fc_testkit_{:04}", said.serial),
            "type": "function_call",
            "status": "completed",
            "call_id": call_id,
            "name": name,
            "arguments": input.to_string(),
        }),
    }
}

/// `item` as `output_item.added` shows it: in progress, its content still empty.
fn begun(item: &Value) -> Value {
    let mut begun = item.clone();
    begun["status"] = "in_progress".into();
    for (key, empty) in [
        ("content", json!([])),
        ("input", json!("")),
        ("arguments", json!("")),
    ] {
        if begun.get(key).is_some() {
            begun[key] = empty;
        }
    }
    begun
}

/// The events that stream `item`'s content, each content in one delta.
fn deltas(item: &Value) -> Vec<Value> {
    let event = |kind: &str, mut fields: Value| {
        fields["type"] = kind.into();
        fields["item_id"] = item["id"].clone();
        fields["output_index"] = 0.into();
        fields
    };
    match item["type"].as_str() {
        Some("message") => {
            let text = item["content"][0]["text"].as_str().unwrap_or_default();
            vec![
                event(
                    "response.content_part.added",
                    json!({"content_index": 0, "part": output_text("")}),
                ),
                event(
                    "response.output_text.delta",
                    json!({"content_index": 0, "delta": text}),
                ),
                event(
                    "response.output_text.done",
                    json!({"content_index": 0, "text": text}),
                ),
                event(
                    "response.content_part.done",
                    json!({"content_index": 0, "part": output_text(text)}),
                ),
            ]
        }
        Some("custom_tool_call") => vec![
            event(
                "response.custom_tool_call_input.delta",
                json!({"delta": item["input"]}),
            ),
            event(
                "response.custom_tool_call_input.done",
                json!({"input": item["input"]}),
            ),
        ],
        _ => vec![
            event(
                "response.function_call_arguments.delta",
                json!({"delta": item["arguments"]}),
            ),
            event(
                "response.function_call_arguments.done",
                json!({"arguments": item["arguments"]}),
            ),
        ],
    }
}

fn output_text(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": []})
}

/// A response object, as `response.created` and `response.completed` carry it.
fn response(said: &Said, status: &str, output: Value, usage: Value) -> Value {
    json!({
        "id": format!("resp_testkit_{:04}", said.serial),
        "object": "response",
        "created_at": 0,
        "status": status,
        "model": said.model,
        "output": output,
        "usage": usage,
    })
}

fn usage(said: &Said) -> Value {
    let (input, output) = (said.input_tokens, said.output_tokens());
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input + output,
    })
}

/// One server-sent event; the event name repeats the data's type, as the API does.
fn frame(data: &Value) -> String {
    format!(
        "event: {}\ndata: {data}\n\n",
        data["type"].as_str().unwrap_or_default()
    )
}
