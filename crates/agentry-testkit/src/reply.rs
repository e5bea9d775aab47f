//! What the scripted model answers, one reply per model request.

use serde_json::Value;

/// One scripted answer to one model request (a Messages, Chat Completions or Responses call).
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// The model says `text` and ends its turn.
    Text(String),
    /// The model calls the tool `name` with `input`; the agent runs it and sends the result
    /// in its next request.
    Tool {
        /// The tool's name as the agent knows it, e.g. "Write".
        name: String,
        /// The tool's arguments. In the Responses API a string is the input of a freeform
        /// tool (a `custom_tool_call`, e.g. Codex's `apply_patch`), anything else a function's.
        input: Value,
    },
    /// The API fails with HTTP `code` and `body` (sent as JSON).
    Status {
        /// The HTTP status, e.g. 429 or 500.
        code: u16,
        /// The response body, e.g. an API error object.
        body: String,
        /// Becomes a `retry-after` header, in seconds.
        retry_after: Option<u64>,
    },
    /// The API starts streaming an answer, then closes the connection midway.
    CutOff,
}

impl Reply {
    /// What the server answers once the script has run out, so a chatty agent still ends.
    pub(crate) fn done() -> Self {
        Self::Text("done".to_string())
    }
}

/// A stand-in token count for `bytes` of text: about four bytes a token, as for English,
/// and never zero, so usage and cost are plausible and the same on every run.
pub(crate) fn tokens(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(4).max(1)
}
