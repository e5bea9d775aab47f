//! Claude Code's `stream-json` output, one JSON object per line, turned into agentry's events
//! and, at the end, the turn's result: `system`/`init`, `assistant` (text and `tool_use`
//! blocks), `user` (`tool_result` blocks) and the final `result` with usage and cost.

use serde_json::Value;

use crate::words::{string, summary};

use crate::{AgentEvent, Usage};

/// A Claude Code `stream-json` output being read: what it said so far, and by its end.
#[derive(Debug, Default)]
pub struct ClaudeStream {
    /// The final `result` line, if one came: its text and whether it was an error.
    pub(crate) result: Option<(String, bool)>,
    pub(crate) usage: Usage,
    /// Text the agent said along the way, the answer when no result line comes.
    pub(crate) said: String,
    /// Lines that were not JSON objects of the stream (kept as text events).
    pub(crate) stray_lines: usize,
    /// The HTTP status of the model API error that ended the turn, if one did.
    pub(crate) api_error_status: Option<u64>,
}

impl ClaudeStream {
    /// What the output said by its end.
    pub(crate) fn end(self) -> crate::json_lines::StreamEnd {
        crate::json_lines::StreamEnd {
            result: self.result,
            said: self.said,
            usage: self.usage,
        }
    }

    /// The events one line of output stands for.
    pub fn line(&mut self, line: &str) -> Vec<AgentEvent> {
        let line = line.trim();
        if line.is_empty() {
            return Vec::new();
        }
        match serde_json::from_str::<Value>(line) {
            Ok(message) if message.is_object() => self.message(&message),
            _ => {
                self.stray_lines += 1;
                vec![AgentEvent::Text(line.to_string())]
            }
        }
    }

    fn message(&mut self, message: &Value) -> Vec<AgentEvent> {
        match message["type"].as_str().unwrap_or_default() {
            "system" if message["subtype"] == "init" => {
                self.usage.model = string(&message["model"]);
                vec![AgentEvent::SessionStarted {
                    session_id: string(&message["session_id"]),
                    model: self.usage.model.clone(),
                }]
            }
            "assistant" => self.assistant(&message["message"]),
            "user" => tool_results(&message["message"]["content"]),
            "result" => self.result(message),
            _ => Vec::new(),
        }
    }

    fn assistant(&mut self, message: &Value) -> Vec<AgentEvent> {
        if let Some(model) = string(&message["model"]) {
            self.usage.model = Some(model);
        }
        let mut events = Vec::new();
        for block in message["content"].as_array().into_iter().flatten() {
            match block["type"].as_str().unwrap_or_default() {
                "text" => {
                    let said = block["text"].as_str().unwrap_or_default();
                    self.said.push_str(said);
                    self.said.push('\n');
                    events.push(AgentEvent::Text(said.to_string()));
                }
                "tool_use" => events.push(AgentEvent::ToolCall {
                    name: block["name"].as_str().unwrap_or("?").to_string(),
                    summary: input_summary(&block["input"]),
                }),
                _ => {}
            }
        }
        events
    }

    fn result(&mut self, message: &Value) -> Vec<AgentEvent> {
        let is_error =
            message["is_error"].as_bool().unwrap_or(false) || message["subtype"] != "success";
        let answer = string(&message["result"])
            .unwrap_or_else(|| message["subtype"].as_str().unwrap_or("").to_string());
        self.api_error_status = message["api_error_status"].as_u64();
        self.usage.turns = message["num_turns"].as_u64().map(|n| n as u32);
        self.usage.cost_usd = message["total_cost_usd"].as_f64();
        let usage = &message["usage"];
        self.usage.tokens_in = usage["input_tokens"].as_u64();
        self.usage.tokens_out = usage["output_tokens"].as_u64();
        let cache =
            ["cache_creation_input_tokens", "cache_read_input_tokens"].map(|k| usage[k].as_u64());
        self.usage.tokens_cache = cache.iter().flatten().copied().reduce(|a, b| a + b);
        self.result = Some((answer.clone(), is_error));
        vec![
            AgentEvent::Usage(self.usage.clone()),
            AgentEvent::Result {
                text: answer,
                is_error,
            },
        ]
    }
}

fn tool_results(content: &Value) -> Vec<AgentEvent> {
    content
        .as_array()
        .into_iter()
        .flatten()
        .filter(|block| block["type"] == "tool_result")
        .map(|block| AgentEvent::ToolResult {
            summary: summary(&content_text(&block["content"])),
            is_error: block["is_error"].as_bool().unwrap_or(false),
        })
        .collect()
}

/// A tool result's content: a string, or a list of text blocks.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// The most telling field of a tool's input (a path, a command, a pattern), or its JSON.
fn input_summary(input: &Value) -> String {
    let telling = [
        "file_path",
        "path",
        "command",
        "pattern",
        "url",
        "description",
    ]
    .iter()
    .find_map(|key| input[key].as_str());
    summary(
        &telling
            .map(str::to_string)
            .unwrap_or_else(|| input.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = r#"{"type":"system","subtype":"init","session_id":"s-1","model":"claude-test","tools":["Write"]}
{"type":"assistant","message":{"model":"claude-test","content":[{"type":"text","text":"Writing it."},{"type":"tool_use","id":"toolu_1","name":"Write","input":{"file_path":"/w/hello.txt","content":"hello\n"}}]}}
{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"File created successfully at: /w/hello.txt"}]}}
{"type":"result","subtype":"success","is_error":false,"num_turns":2,"result":"Wrote the file.","total_cost_usd":0.0123,"usage":{"input_tokens":40,"cache_creation_input_tokens":5,"cache_read_input_tokens":7,"output_tokens":12}}"#;

    fn tally(text: &str) -> (ClaudeStream, Vec<AgentEvent>) {
        let mut tally = ClaudeStream::default();
        let events = text.lines().flat_map(|line| tally.line(line)).collect();
        (tally, events)
    }

    #[test]
    fn a_session_becomes_events_and_a_result_with_usage() {
        let (tally, events) = tally(SESSION);
        assert_eq!(
            events[0],
            AgentEvent::SessionStarted {
                session_id: Some("s-1".into()),
                model: Some("claude-test".into())
            }
        );
        assert!(events.contains(&AgentEvent::ToolCall {
            name: "Write".into(),
            summary: "/w/hello.txt".into()
        }));
        assert!(events.contains(&AgentEvent::ToolResult {
            summary: "File created successfully at: /w/hello.txt".into(),
            is_error: false
        }));
        assert_eq!(tally.result, Some(("Wrote the file.".into(), false)));
        let usage = Usage {
            turns: Some(2),
            tokens_in: Some(40),
            tokens_out: Some(12),
            tokens_cache: Some(12),
            cost_usd: Some(0.0123),
            model: Some("claude-test".into()),
        };
        assert_eq!(tally.usage, usage);
    }

    #[test]
    fn stray_and_truncated_lines_are_text_and_leave_no_result() {
        let (tally, events) =
            tally("npm WARN something\n{\"type\":\"assistant\",\"message\":{\"content\":[{\"ty");
        assert_eq!(tally.stray_lines, 2);
        assert_eq!(events.len(), 2);
        assert_eq!(tally.result, None);
    }

    fn fixture(name: &str) -> String {
        let path = format!("{}/testdata/claude/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn a_real_session_writing_a_file_reads_back() {
        let (tally, events) = tally(&fixture("write_file.jsonl"));
        assert_eq!(tally.stray_lines, 0);
        assert!(
            matches!(&events[0], AgentEvent::SessionStarted { model: Some(m), .. } if m == "claude-sonnet-4-5")
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, AgentEvent::ToolCall { name, .. } if name == "Write"))
        );
        assert!(events.iter().any(|e| matches!(
            e,
            AgentEvent::ToolResult {
                is_error: false,
                ..
            }
        )));
        let (_, is_error) = tally.result.clone().unwrap();
        assert!(!is_error);
        assert!(tally.usage.cost_usd.unwrap() > 0.0 && tally.usage.tokens_in.unwrap() > 0);
        assert_eq!(tally.usage.turns, Some(2));
    }

    #[test]
    fn real_api_failures_are_error_results_with_their_status() {
        let (limited, _) = tally(&fixture("rate_limited.jsonl"));
        assert_eq!(limited.api_error_status, Some(429));
        assert!(limited.result.unwrap().1);
        let (failed, _) = tally(&fixture("server_error.jsonl"));
        assert_eq!(failed.api_error_status, Some(500));
        assert!(failed.result.unwrap().1);
    }

    #[test]
    fn an_error_result_is_marked() {
        let (tally, _) =
            tally(r#"{"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":9}"#);
        assert_eq!(tally.result, Some(("error_max_turns".into(), true)));
        assert_eq!(tally.usage.turns, Some(9));
    }
}
