//! Turning the next scripted reply into an HTTP response, whatever the wire format.

use axum::response::{IntoResponse, Json, Response};
use serde_json::Value;

use crate::reply::{Reply, tokens};
use crate::respond;

/// What the model says in one answer, with what every wire format needs to write it.
pub(crate) struct Said {
    /// The answer's serial number on this server; ids are made from it.
    pub serial: u64,
    /// The model the request named, echoed back as the API does.
    pub model: String,
    /// The request's size in tokens.
    pub input_tokens: u64,
    pub content: Content,
}

/// The content of an answer: text, or one tool call.
pub(crate) enum Content {
    Text(String),
    Tool { name: String, input: Value },
}

impl Said {
    /// The answer's size in tokens.
    pub fn output_tokens(&self) -> u64 {
        match &self.content {
            Content::Text(text) => tokens(text.len()),
            Content::Tool { name, input } => tokens(name.len() + input.to_string().len()),
        }
    }
}

/// A model API's way of writing an answer.
pub(crate) trait WireFormat {
    /// How many frames a cut-off stream sends before the connection drops: enough that an
    /// answer has begun.
    const CUT_AFTER: usize;

    /// The server-sent-event frames of a streamed answer, in order.
    fn frames(said: &Said) -> Vec<String>;

    /// The JSON body of an answer that is not streamed.
    fn message(said: &Said) -> Value;
}

/// Answers `request` (whose body was `request_bytes` long) with `reply`, the server's
/// `serial`-th, streamed when the request asks for a stream.
pub(crate) fn answer<W: WireFormat>(
    reply: Reply,
    serial: u64,
    request: &Value,
    request_bytes: usize,
) -> Response {
    let stream = request["stream"].as_bool().unwrap_or(false);
    let said = |content| Said {
        serial,
        model: request["model"].as_str().unwrap_or("scripted").to_string(),
        input_tokens: tokens(request_bytes),
        content,
    };
    let content = match reply {
        Reply::Text(text) => Content::Text(text),
        Reply::Tool { name, input } => Content::Tool { name, input },
        Reply::Status {
            code,
            body,
            retry_after,
        } => return respond::status(code, body, retry_after),
        Reply::CutOff => return cut_off::<W>(&said(Content::Text(CUT_TEXT.to_string())), stream),
    };
    let said = said(content);
    if stream {
        respond::sse(W::frames(&said), false)
    } else {
        Json(W::message(&said)).into_response()
    }
}

/// The text a cut-off answer was going to say.
const CUT_TEXT: &str = "This answer is cut off before it ends.";

/// The start of `said`, then a dropped connection.
fn cut_off<W: WireFormat>(said: &Said, stream: bool) -> Response {
    if stream {
        let mut frames = W::frames(said);
        frames.truncate(W::CUT_AFTER);
        respond::sse(frames, true)
    } else {
        respond::cut_json(&W::message(said))
    }
}
