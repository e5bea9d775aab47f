//! The answer as its streamed chunks arrive: the text so far, the usage, and whether it
//! ended.

use serde_json::Value;

use crate::{AgentEvent, AgentFailure, Usage};

/// What a chat completion stream has said so far.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) text: String,
    pub(super) usage: Usage,
    /// The first chunk came (it names the model and the completion).
    begun: bool,
    /// The choice ended with a `finish_reason`: the text is whole.
    finished: bool,
    /// `[DONE]` came: nothing follows.
    pub(super) done: bool,
}

impl Answer {
    /// An answer from `model`, until the stream names the model that actually answers.
    pub(super) fn new(model: &str) -> Self {
        Self {
            text: String::new(),
            usage: Usage {
                model: Some(model.to_string()),
                ..Usage::default()
            },
            begun: false,
            finished: false,
            done: false,
        }
    }

    /// Whether the answer is whole: a stream that stops before either mark was cut off.
    pub(super) fn ended(&self) -> bool {
        self.finished || self.done
    }

    /// The events one `data:` payload makes. An error object in the stream (some APIs report
    /// failures that way after the 200) fails the turn.
    pub(super) fn data(&mut self, data: &str) -> Result<Vec<AgentEvent>, AgentFailure> {
        if data == "[DONE]" {
            self.done = true;
            return Ok(Vec::new());
        }
        // A payload that is not JSON says nothing agentry can use; the markers above decide.
        let Ok(chunk) = serde_json::from_str::<Value>(data) else {
            return Ok(Vec::new());
        };
        if let Some(error) = chunk.get("error").filter(|error| !error.is_null()) {
            let message = super::refusal::message_of(error);
            return Err(AgentFailure::Reported(message));
        }
        let mut events = Vec::new();
        if !self.begun {
            self.begun = true;
            if let Some(model) = chunk["model"].as_str() {
                self.usage.model = Some(model.to_string());
            }
            events.push(AgentEvent::SessionStarted {
                session_id: chunk["id"].as_str().map(str::to_string),
                model: self.usage.model.clone(),
            });
        }
        let choice = &chunk["choices"][0];
        if let Some(text) = choice["delta"]["content"]
            .as_str()
            .filter(|t| !t.is_empty())
        {
            self.text.push_str(text);
            events.push(AgentEvent::Text(text.to_string()));
        }
        self.finished |= !choice["finish_reason"].is_null();
        if chunk["usage"].is_object() {
            self.count(&chunk["usage"]);
            events.push(AgentEvent::Usage(self.usage.clone()));
        }
        Ok(events)
    }

    fn count(&mut self, usage: &Value) {
        self.usage.tokens_in = usage["prompt_tokens"].as_u64();
        self.usage.tokens_out = usage["completion_tokens"].as_u64();
        self.usage.tokens_cache = usage["prompt_tokens_details"]["cached_tokens"].as_u64();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_become_text_and_the_usage_chunk_counts_cached_tokens() {
        let mut answer = Answer::new("configured");
        let first = r#"{"id":"c1","model":"gpt-x","choices":[{"delta":{"role":"assistant","content":"Hi"}}]}"#;
        assert_eq!(
            answer.data(first).unwrap(),
            [
                AgentEvent::SessionStarted {
                    session_id: Some("c1".into()),
                    model: Some("gpt-x".into())
                },
                AgentEvent::Text("Hi".into())
            ]
        );
        assert!(!answer.ended());
        answer
            .data(r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#)
            .unwrap();
        assert!(answer.ended());
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":8}}}"#;
        let events = answer.data(usage).unwrap();
        let expected = Usage {
            tokens_in: Some(10),
            tokens_out: Some(2),
            tokens_cache: Some(8),
            model: Some("gpt-x".into()),
            ..Usage::default()
        };
        assert_eq!(events, [AgentEvent::Usage(expected.clone())]);
        assert_eq!((answer.text.as_str(), &answer.usage), ("Hi", &expected));
        assert!(answer.data("[DONE]").unwrap().is_empty() && answer.done);
    }

    #[test]
    fn an_error_in_the_stream_is_reported() {
        let mut answer = Answer::new("m");
        let failure = answer.data(r#"{"error":{"message":"overloaded"}}"#);
        assert_eq!(failure, Err(AgentFailure::Reported("overloaded".into())));
    }
}
