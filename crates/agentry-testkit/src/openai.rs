//! OpenAI's Chat Completions API (`POST /v1/chat/completions`), for agents that speak it.

use serde_json::{Value, json};

use crate::answer::{Content, Said, WireFormat};

/// The Chat Completions wire format.
pub(crate) struct OpenAi;

impl WireFormat for OpenAi {
    /// The chunk carrying the content.
    const CUT_AFTER: usize = 1;

    fn frames(said: &Said) -> Vec<String> {
        let delta = match &said.content {
            Content::Text(text) => json!({"role": "assistant", "content": text}),
            Content::Tool { name, input } => {
                let mut call = tool_call(said, name, input);
                call["index"] = 0.into();
                json!({"role": "assistant", "content": null, "tool_calls": [call]})
            }
        };
        let stopped = json!({"index": 0, "delta": {}, "finish_reason": finish_reason(said)});
        let mut usage = chunk(said, json!([]));
        usage["usage"] = self::usage(said);
        vec![
            data(chunk(
                said,
                json!([{"index": 0, "delta": delta, "finish_reason": null}]),
            )),
            data(chunk(said, json!([stopped]))),
            data(usage),
            "data: [DONE]\n\n".to_string(),
        ]
    }

    fn message(said: &Said) -> Value {
        let message = match &said.content {
            Content::Text(text) => json!({"role": "assistant", "content": text}),
            Content::Tool { name, input } => {
                let call = tool_call(said, name, input);
                json!({"role": "assistant", "content": null, "tool_calls": [call]})
            }
        };
        let choice = json!({"index": 0, "message": message, "finish_reason": finish_reason(said)});
        json!({
            "id": completion_id(said),
            "object": "chat.completion",
            "created": 0,
            "model": said.model,
            "choices": [choice],
            "usage": usage(said),
        })
    }
}

/// A streamed chunk with `choices`.
fn chunk(said: &Said, choices: Value) -> Value {
    json!({
        "id": completion_id(said),
        "object": "chat.completion.chunk",
        "created": 0,
        "model": said.model,
        "choices": choices,
    })
}

fn data(chunk: Value) -> String {
    format!("data: {chunk}\n\n")
}

/// The answer's call of tool `name`; arguments are a JSON string, as the API sends them.
fn tool_call(said: &Said, name: &str, input: &Value) -> Value {
    json!({
        "id": format!("call_testkit_{:04}", said.serial),
        "type": "function",
        "function": {"name": name, "arguments": input.to_string()},
    })
}

fn usage(said: &Said) -> Value {
    let (prompt, completion) = (said.input_tokens, said.output_tokens());
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

fn finish_reason(said: &Said) -> &'static str {
    match said.content {
        Content::Text(_) => "stop",
        Content::Tool { .. } => "tool_calls",
    }
}

fn completion_id(said: &Said) -> String {
    format!("chatcmpl-testkit-{:04}", said.serial)
}
