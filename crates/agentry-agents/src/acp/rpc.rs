//! JSON-RPC 2.0 as ACP frames it on stdio: one JSON object per line, no headers.

use serde_json::{Value, json};

/// "Method not found": the answer to a request from the agent that this client does not serve.
pub(crate) const METHOD_NOT_FOUND: i64 = -32601;

/// One message read from the agent.
#[derive(Debug, PartialEq)]
pub(crate) enum Message {
    /// The answer to one of our requests: its result, or its error's message.
    Response {
        id: u64,
        result: Result<Value, String>,
    },
    /// The agent asks something of us; `id` is echoed back as the agent sent it.
    Request {
        id: Value,
        method: String,
        params: Value,
    },
    /// The agent tells us something (`session/update`).
    Notification { method: String, params: Value },
}

/// The message on `line`; None for a line that is no JSON-RPC message (ignored, as a
/// stray log line on stdout must not end the turn).
pub(crate) fn parse(line: &str) -> Option<Message> {
    let mut value: Value = serde_json::from_str(line.trim()).ok()?;
    let params = value["params"].take();
    match (value.get("id").cloned(), value["method"].as_str()) {
        (Some(id), Some(method)) => Some(Message::Request {
            id,
            method: method.to_string(),
            params,
        }),
        (None, Some(method)) => Some(Message::Notification {
            method: method.to_string(),
            params,
        }),
        (Some(id), None) => Some(Message::Response {
            id: id.as_u64()?,
            result: match value.get("error") {
                Some(error) => Err(error_text(error)),
                None => Ok(value["result"].take()),
            },
        }),
        (None, None) => None,
    }
}

/// An error's message, with its data when it has some (where agents put the cause).
fn error_text(error: &Value) -> String {
    let message = error["message"].as_str().unwrap_or("error").to_string();
    match &error["data"] {
        Value::Null => message,
        data => format!("{message}: {data}"),
    }
}

/// Our request `id`, as a line.
pub(crate) fn request(id: u64, method: &str, params: Value) -> String {
    line(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
}

/// Our answer to the agent's request `id`: a result, or an error code and message.
pub(crate) fn response(id: &Value, result: Result<Value, (i64, String)>) -> String {
    line(match result {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, message)) => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
        }
    })
}

fn line(message: Value) -> String {
    format!("{message}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses_are_single_lines() {
        let sent = request(3, "session/prompt", json!({"text": "a\nb"}));
        assert_eq!(sent.matches('\n').count(), 1);
        assert!(sent.ends_with('\n'));
        let back: Value = serde_json::from_str(&sent).unwrap();
        assert_eq!(back["id"], 3);
        assert_eq!(back["method"], "session/prompt");
        let answer = response(&json!("p-1"), Err((METHOD_NOT_FOUND, "no".into())));
        let back: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(back["id"], "p-1");
        assert_eq!(back["error"]["code"], METHOD_NOT_FOUND);
    }

    #[test]
    fn incoming_lines_are_told_apart() {
        let response = parse(r#"{"jsonrpc":"2.0","id":1,"result":{"stopReason":"end_turn"}}"#);
        let expected = Message::Response {
            id: 1,
            result: Ok(json!({"stopReason": "end_turn"})),
        };
        assert_eq!(response, Some(expected));
        let request =
            parse(r#"{"jsonrpc":"2.0","id":"x","method":"fs/read_text_file","params":{}}"#);
        assert!(matches!(request, Some(Message::Request { id, .. }) if id == "x"));
        let note = parse(r#"{"jsonrpc":"2.0","method":"session/update","params":{"a":1}}"#);
        let expected = Message::Notification {
            method: "session/update".into(),
            params: json!({"a": 1}),
        };
        assert_eq!(note, Some(expected));
        assert_eq!(parse("a log line"), None);
    }

    #[test]
    fn an_error_response_carries_its_message_and_data() {
        let line = r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32603,"message":"Internal error","data":"429"}}"#;
        let expected = Message::Response {
            id: 2,
            result: Err("Internal error: \"429\"".into()),
        };
        assert_eq!(parse(line), Some(expected));
    }
}
