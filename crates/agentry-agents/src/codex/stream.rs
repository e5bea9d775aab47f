//! Codex's `exec --json` output, one JSON object per line, turned into agentry's events and,
//! at the end, the turn's result: `thread.started` (its id), `turn.started`,
//! `item.started`/`item.completed` (agent messages, tool items such as `command_execution`
//! and `file_change`, warnings), top-level `error` lines (a reconnection, or the failure
//! about to end the turn), and the end: `turn.completed` with usage or `turn.failed`.

use std::collections::HashSet;

use serde_json::Value;

use crate::words::{string, summary};

use crate::{AgentEvent, Usage};

/// Items that are no tool call: what the agent says, thinks, plans or warns of.
const NOT_TOOLS: [&str; 4] = ["agent_message", "reasoning", "todo_list", "error"];

/// A `codex exec --json` output being read: what it said so far, and by its end.
#[derive(Debug, Default)]
pub(crate) struct CodexStream {
    /// How the turn ended, if it did: the final answer or the failure, and whether it failed.
    pub(crate) result: Option<(String, bool)>,
    pub(crate) usage: Usage,
    /// Every agent message, the answer when the turn never ends.
    pub(crate) said: String,
    /// The last agent message: codex's final answer.
    last_message: String,
    /// Tool items whose call was reported at `item.started`.
    started: HashSet<String>,
}

impl CodexStream {
    /// What the output said by its end.
    pub(crate) fn end(self) -> crate::json_lines::StreamEnd {
        crate::json_lines::StreamEnd {
            result: self.result,
            said: self.said,
            usage: self.usage,
        }
    }

    /// A stream from codex asked to use `model`: its output never names the model.
    pub(crate) fn new(model: Option<String>) -> Self {
        let usage = Usage {
            model,
            ..Usage::default()
        };
        Self {
            usage,
            ..Self::default()
        }
    }

    /// The events one line of output stands for.
    pub(crate) fn line(&mut self, line: &str) -> Vec<AgentEvent> {
        let line = line.trim();
        if line.is_empty() {
            return Vec::new();
        }
        match serde_json::from_str::<Value>(line) {
            Ok(event) if event.is_object() => self.event(&event),
            // Not codex's JSON (a warning, a cut line): passed on as it is.
            _ => vec![AgentEvent::Text(line.to_string())],
        }
    }

    fn event(&mut self, event: &Value) -> Vec<AgentEvent> {
        match event["type"].as_str().unwrap_or_default() {
            "thread.started" => vec![AgentEvent::SessionStarted {
                session_id: string(&event["thread_id"]),
                model: self.usage.model.clone(),
            }],
            "item.started" => self.started(&event["item"]).into_iter().collect(),
            "item.completed" => self.completed(&event["item"]),
            "error" => vec![AgentEvent::Error(message(event))],
            "turn.completed" => self.turn_completed(&event["usage"]),
            "turn.failed" => {
                let failure = message(&event["error"]);
                self.result = Some((failure.clone(), true));
                vec![AgentEvent::Result {
                    text: failure,
                    is_error: true,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// A tool call as it begins.
    fn started(&mut self, item: &Value) -> Option<AgentEvent> {
        let call = tool_call(item)?;
        self.started.insert(id(item));
        Some(call)
    }

    fn completed(&mut self, item: &Value) -> Vec<AgentEvent> {
        match item["type"].as_str().unwrap_or_default() {
            "agent_message" => {
                let said = item["text"].as_str().unwrap_or_default();
                self.said.push_str(said);
                self.said.push('\n');
                self.last_message = said.to_string();
                vec![AgentEvent::Text(said.to_string())]
            }
            // A warning, e.g. that the model's metadata is unknown; the turn goes on.
            "error" => vec![AgentEvent::Error(message(item))],
            _ => match tool_call(item) {
                None => Vec::new(),
                // A call is reported once: at its start, when codex showed one.
                Some(_) if self.started.remove(&id(item)) => vec![tool_result(item)],
                Some(call) => vec![call, tool_result(item)],
            },
        }
    }

    /// The turn's usage, summed over its model requests by codex.
    fn turn_completed(&mut self, usage: &Value) -> Vec<AgentEvent> {
        // OpenAI counts cached tokens inside the input; agentry, like Anthropic, apart.
        let cache = ["cached_input_tokens", "cache_write_input_tokens"].map(|k| usage[k].as_u64());
        self.usage.tokens_cache = cache.iter().flatten().copied().reduce(|a, b| a + b);
        let cached = self.usage.tokens_cache.unwrap_or(0);
        self.usage.tokens_in = usage["input_tokens"]
            .as_u64()
            .map(|n| n.saturating_sub(cached));
        self.usage.tokens_out = usage["output_tokens"].as_u64();
        self.result = Some((self.last_message.clone(), false));
        vec![
            AgentEvent::Usage(self.usage.clone()),
            AgentEvent::Result {
                text: self.last_message.clone(),
                is_error: false,
            },
        ]
    }
}

/// The call a tool item stands for: its type as the tool's name, and what it acts on.
fn tool_call(item: &Value) -> Option<AgentEvent> {
    let kind = item["type"].as_str()?;
    (!NOT_TOOLS.contains(&kind)).then(|| AgentEvent::ToolCall {
        name: kind.to_string(),
        summary: summary(&target(item)),
    })
}

/// What a finished tool item reports: its output, its error, or else its target.
fn tool_result(item: &Value) -> AgentEvent {
    let output = item["aggregated_output"]
        .as_str()
        .filter(|output| !output.trim().is_empty());
    let said = output
        .or(item["error"]["message"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| target(item));
    AgentEvent::ToolResult {
        summary: summary(&said),
        is_error: matches!(item["status"].as_str(), Some("failed" | "declined")),
    }
}

/// What a tool item acts on: the files it changes ("add /w/a.txt"), its command, its query
/// or its tool.
fn target(item: &Value) -> String {
    if let Some(changes) = item["changes"].as_array() {
        let changes = changes.iter().map(|change| {
            let field = |key: &str| change[key].as_str().unwrap_or("?").to_string();
            format!("{} {}", field("kind"), field("path"))
        });
        return changes.collect::<Vec<_>>().join(", ");
    }
    let telling = ["command", "query", "tool"];
    let found = telling.iter().find_map(|key| item[key].as_str());
    found.map_or_else(|| item.to_string(), str::to_string)
}

fn id(item: &Value) -> String {
    string(&item["id"]).unwrap_or_default()
}

fn message(value: &Value) -> String {
    string(&value["message"]).unwrap_or_else(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (CodexStream, Vec<AgentEvent>) {
        let mut stream = CodexStream::new(Some("gpt-test".into()));
        let events = text.lines().flat_map(|line| stream.line(line)).collect();
        (stream, events)
    }

    fn fixture(name: &str) -> String {
        let path = format!("{}/testdata/codex/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn a_real_session_writing_a_file_reads_back() {
        let (stream, events) = read(&fixture("write_file.jsonl"));
        let texts = events.iter().filter(|e| matches!(e, AgentEvent::Text(_)));
        assert_eq!(texts.count(), 1, "only the agent's message is text");
        assert!(matches!(
            &events[0],
            AgentEvent::SessionStarted { session_id: Some(_), model: Some(m) } if m == "gpt-test"
        ));
        let tools: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::ToolCall { name, summary } => Some(format!("{name}: {summary}")),
                _ => None,
            })
            .collect();
        assert_eq!(tools.len(), 2);
        assert!(tools[0].starts_with("file_change: add /") && tools[0].ends_with("/hello.txt"));
        assert_eq!(tools[1], "command_execution: /bin/bash -lc 'cat hello.txt'");
        assert!(events.contains(&AgentEvent::ToolResult {
            summary: "hello".into(),
            is_error: false
        }));
        assert_eq!(stream.result, Some(("Wrote hello.txt.".into(), false)));
        let usage = Usage {
            turns: None,
            tokens_in: Some(28867),
            tokens_out: Some(33),
            tokens_cache: Some(0),
            cost_usd: None,
            model: Some("gpt-test".into()),
        };
        assert_eq!(stream.usage, usage);
        assert_eq!(
            events.last(),
            Some(&AgentEvent::Result {
                text: "Wrote hello.txt.".into(),
                is_error: false
            })
        );
    }

    #[test]
    fn real_api_failures_end_in_a_failed_turn_after_error_lines() {
        let (limited, events) = read(&fixture("rate_limited.jsonl"));
        let failure = "exceeded retry limit, last status: 429 Too Many Requests";
        assert_eq!(limited.result, Some((failure.into(), true)));
        let errors = events.iter().filter(|e| matches!(e, AgentEvent::Error(_)));
        assert_eq!(errors.count(), 2);
        let (failed, _) = read(&fixture("server_error.jsonl"));
        let (message, is_error) = failed.result.unwrap();
        assert!(is_error && message.contains("high demand"), "{message}");
    }

    #[test]
    fn cached_tokens_are_counted_apart_from_the_input() {
        let (stream, _) = read(
            r#"{"type":"turn.completed","usage":{"input_tokens":100,"cached_input_tokens":20,"cache_write_input_tokens":7,"output_tokens":10,"reasoning_output_tokens":0}}"#,
        );
        assert_eq!(
            (
                stream.usage.tokens_in,
                stream.usage.tokens_cache,
                stream.usage.tokens_out
            ),
            (Some(73), Some(27), Some(10))
        );
    }

    #[test]
    fn a_failed_command_and_a_warning_are_reported() {
        let (stream, events) = read(concat!(
            r#"{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for `m` not found."}}"#,
            "\n",
            r#"{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"false","aggregated_output":"","exit_code":1,"status":"failed"}}"#,
        ));
        assert_eq!(
            events,
            [
                AgentEvent::Error("Model metadata for `m` not found.".into()),
                AgentEvent::ToolCall {
                    name: "command_execution".into(),
                    summary: "false".into()
                },
                AgentEvent::ToolResult {
                    summary: "false".into(),
                    is_error: true
                },
            ]
        );
        assert_eq!(stream.result, None);
    }

    #[test]
    fn stray_and_truncated_lines_are_text_and_leave_no_result() {
        let (stream, events) = read("WARNING: proceeding\n{\"type\":\"turn.compl");
        assert_eq!(
            events,
            [
                AgentEvent::Text("WARNING: proceeding".into()),
                AgentEvent::Text("{\"type\":\"turn.compl".into())
            ]
        );
        assert_eq!(stream.result, None);
    }
}
