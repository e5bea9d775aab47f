//! The model the fallbacks ask: a configured agent (usually of kind `openai`), given a prompt
//! that asks for one JSON object, whose answer is read with agentry-lean's own heuristics.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use agentry_agents::{Agent, AgentRequest};
use agentry_core::{IssueId, Role};
use agentry_lean::{Field, Kind, ParseResult, Schema};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::state::LastUsage;
use crate::sandbox::ReadingAgent;

/// The model agent and where its turns run.
pub struct LeanModel {
    pub agent: Arc<dyn Agent>,
    pub(crate) sandbox: ReadingAgent,
    /// The agent's working directory: the repository root.
    pub workdir: PathBuf,
}

/// A value the model gave a field, with the confidence it gave it, if it did.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    pub field: String,
    pub value: Value,
    pub confidence: Option<f64>,
}

/// One model call's outcome.
pub struct Reply {
    pub request_id: String,
    pub usage: LastUsage,
    /// Why the call failed, if it did.
    pub error: Option<String>,
    pub proposals: Vec<Proposal>,
}

impl LeanModel {
    /// Asks the model for `fields` of `schema` in `text`; `task` says what to do.
    pub async fn ask(&self, schema: &Schema, fields: &[&Field], task: &str, text: &str) -> Reply {
        let request_id = format!("lean-{:016x}", fastrand::u64(..));
        // Agents that take the prompt as a file get one here, removed after the call.
        let scratch = match tempfile::tempdir() {
            Ok(scratch) => scratch,
            Err(err) => return Reply::failed(request_id, format!("no scratch folder: {err}")),
        };
        let prompt_file = scratch.path().join("prompt.md");
        let confinement = match self.sandbox.confinement(&prompt_file) {
            Ok(confinement) => confinement,
            Err(err) => return Reply::failed(request_id, err),
        };
        let request = AgentRequest {
            role: Role::SpecReviewer,
            issue_id: "i-lean".parse::<IssueId>().expect("a valid id"),
            issue_title: format!("lean parse {request_id}"),
            session_id: request_id.clone(),
            prompt: prompt(schema, fields, task, text),
            workdir: self.workdir.clone(),
            prompt_file,
            confinement,
        };
        let (events, _ignored) = mpsc::unbounded_channel();
        let started = Instant::now();
        let outcome = self
            .agent
            .run(&request, &events, &CancellationToken::new())
            .await;
        let usage = LastUsage {
            tokens_used: outcome.usage.tokens_in.unwrap_or(0)
                + outcome.usage.tokens_out.unwrap_or(0),
            latency_ms: started.elapsed().as_millis() as u64,
            model: outcome.usage.model.clone(),
        };
        let error = outcome.failure.as_ref().map(|failure| {
            format!(
                "request {request_id} to the {} model agent failed: {}",
                self.agent.kind(),
                failure.describe()
            )
        });
        let proposals = match error {
            Some(_) => Vec::new(),
            None => read_answer(fields, &outcome.text),
        };
        Reply {
            request_id,
            usage,
            error,
            proposals,
        }
    }
}

impl Reply {
    fn failed(request_id: String, why: String) -> Self {
        Self {
            error: Some(format!("request {request_id} failed: {why}")),
            request_id,
            usage: LastUsage::default(),
            proposals: Vec::new(),
        }
    }
}

fn prompt(schema: &Schema, fields: &[&Field], task: &str, text: &str) -> String {
    let listed: Vec<String> = schema
        .fields()
        .iter()
        .map(|field| {
            let need = if field.required {
                "required"
            } else {
                "optional"
            };
            format!(
                "- {} ({need}, {})",
                field.name,
                kind_name(&field.shape.kind)
            )
        })
        .collect();
    let asked: Vec<&str> = fields.iter().map(|field| field.name.as_str()).collect();
    format!(
        "You read an agent's answer into a `{schema}` packet. Its fields:\n{fields}\n\n{task}\n\
         Fields to give: {asked}.\n\n\
         Answer with one JSON object only, in a ```json block: each key a field name from that \
         list, each value {{\"value\": <the field's value>, \"confidence\": <0 to 1>}}. Leave out \
         a field the text does not give.\n\nThe answer:\n<<<\n{text}\n>>>\n",
        schema = schema.name(),
        fields = listed.join("\n"),
        asked = asked.join(", "),
    )
}

/// The heuristics' extraction, for the rewrite prompt: each field's value and confidence.
pub fn extraction(result: &ParseResult) -> String {
    let fields: Map<String, Value> = result
        .fields
        .iter()
        .filter(|field| field.value.is_some())
        .map(|field| {
            let entry = json!({"value": field.value, "confidence": field.confidence});
            (field.name.clone(), entry)
        })
        .collect();
    serde_json::to_string_pretty(&fields).unwrap_or_default()
}

fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Text { .. } => "text",
        Kind::Integer { .. } => "integer",
        Kind::Number { .. } => "number",
        Kind::Boolean => "true or false",
        Kind::List { .. } => "list",
        Kind::Object { .. } => "object",
        Kind::Any => "any JSON value",
    }
}

/// The model's answer read with the lean heuristics, against a schema of the fields asked
/// for; a value may come bare or as `{"value", "confidence"}`.
fn read_answer(fields: &[&Field], answer: &str) -> Vec<Proposal> {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|field| (field.name.clone(), json!({})))
        .collect();
    let root = json!({"type": "object", "properties": properties});
    let Ok(schema) = Schema::from_json_schema("model_answer", &root) else {
        return Vec::new();
    };
    let Ok(read) = agentry_lean::parse(&schema, answer) else {
        return Vec::new();
    };
    read.packet
        .into_iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(field, value)| match value {
            Value::Object(mut marked) if marked.contains_key("value") => Proposal {
                field,
                confidence: marked.get("confidence").and_then(Value::as_f64),
                value: marked.remove("value").unwrap_or(Value::Null),
            },
            value => Proposal {
                field,
                value,
                confidence: None,
            },
        })
        .filter(|proposal| !proposal.value.is_null())
        .collect()
}

#[cfg(test)]
mod tests {
    use agentry_lean::PacketKind;

    use super::*;

    #[test]
    fn a_fenced_object_of_marked_and_bare_values_is_read() {
        let schema = PacketKind::Debug.schema();
        let fields: Vec<&Field> = schema.fields().iter().take(2).collect();
        let answer = "Here:\n```json\n{\"bug\": {\"value\": \"crash\", \"confidence\": 0.9}, \"root\": \"index\"}\n```";
        let proposals = read_answer(&fields, answer);
        assert_eq!(
            proposals,
            [
                Proposal {
                    field: "bug".into(),
                    value: json!("crash"),
                    confidence: Some(0.9)
                },
                Proposal {
                    field: "root".into(),
                    value: json!("index"),
                    confidence: None
                },
            ]
        );
        assert!(read_answer(&fields, "no idea").is_empty());
    }
}
