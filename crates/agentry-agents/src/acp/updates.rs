//! `session/update` notifications turned into agentry's events. Message chunks stream in
//! pieces, so they are gathered and said as one text when something else happens.

use serde_json::Value;

use crate::AgentEvent;
use crate::words::summary;

/// The updates of one prompt turn read so far.
#[derive(Debug, Default)]
pub(crate) struct Updates {
    /// The agent message being streamed.
    message: String,
    /// The last whole message: the turn's answer.
    pub(crate) last_message: String,
}

impl Updates {
    /// The events one update (the `update` of a notification's params) stands for.
    pub(crate) fn update(&mut self, update: &Value) -> Vec<AgentEvent> {
        let kind = update["sessionUpdate"].as_str().unwrap_or_default();
        if kind == "agent_message_chunk" {
            self.message
                .push_str(update["content"]["text"].as_str().unwrap_or_default());
            return Vec::new();
        }
        let mut events: Vec<AgentEvent> = self.flush().into_iter().collect();
        match kind {
            "tool_call" => events.push(AgentEvent::ToolCall {
                name: text_of(&update["title"]).unwrap_or_else(|| "tool".into()),
                summary: input_summary(update),
            }),
            "tool_call_update" => events.extend(tool_result(update)),
            _ => {}
        }
        events
    }

    /// Says the message streamed so far, if any; it becomes the answer.
    pub(crate) fn flush(&mut self) -> Option<AgentEvent> {
        if self.message.trim().is_empty() {
            self.message.clear();
            return None;
        }
        self.last_message = std::mem::take(&mut self.message);
        Some(AgentEvent::Text(self.last_message.clone()))
    }
}

/// A tool call's paths, else its raw input, in a line.
fn input_summary(update: &Value) -> String {
    let paths: Vec<&str> = update["locations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|location| location["path"].as_str())
        .collect();
    match (paths.is_empty(), &update["rawInput"]) {
        (false, _) => summary(&paths.join(" ")),
        (true, Value::Null) => String::new(),
        (true, input) => summary(&input.to_string()),
    }
}

/// A finished tool call's result; an update that only reports progress gives none.
fn tool_result(update: &Value) -> Option<AgentEvent> {
    let is_error = match update["status"].as_str()? {
        "completed" => false,
        "failed" => true,
        _ => return None,
    };
    let text = update["content"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|block| text_of(&block["content"]["text"]))
        .or_else(|| text_of(&update["rawOutput"]))
        .unwrap_or_default();
    Some(AgentEvent::ToolResult {
        summary: summary(&text),
        is_error,
    })
}

fn text_of(value: &Value) -> Option<String> {
    value.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn chunk(text: &str) -> Value {
        json!({"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": text}})
    }

    #[test]
    fn chunks_become_one_text_before_the_next_tool_call() {
        let mut updates = Updates::default();
        assert!(updates.update(&chunk("Writing ")).is_empty());
        assert!(updates.update(&chunk("it.")).is_empty());
        let call = json!({"sessionUpdate": "tool_call", "toolCallId": "t1", "title": "Write hello.txt",
            "kind": "edit", "status": "pending", "locations": [{"path": "/w/hello.txt"}]});
        let expected = vec![
            AgentEvent::Text("Writing it.".into()),
            AgentEvent::ToolCall {
                name: "Write hello.txt".into(),
                summary: "/w/hello.txt".into(),
            },
        ];
        assert_eq!(updates.update(&call), expected);
        updates.update(&chunk("Done."));
        assert_eq!(updates.flush(), Some(AgentEvent::Text("Done.".into())));
        assert_eq!(updates.last_message, "Done.");
    }

    #[test]
    fn only_finished_tool_calls_give_results() {
        let mut updates = Updates::default();
        let progress = json!({"sessionUpdate": "tool_call_update", "toolCallId": "t1", "status": "in_progress"});
        assert!(updates.update(&progress).is_empty());
        let failed = json!({"sessionUpdate": "tool_call_update", "toolCallId": "t1", "status": "failed",
            "content": [{"type": "content", "content": {"type": "text", "text": "denied\nmore"}}]});
        let expected = AgentEvent::ToolResult {
            summary: "denied".into(),
            is_error: true,
        };
        assert_eq!(updates.update(&failed), vec![expected]);
    }
}
