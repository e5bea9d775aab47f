//! The parse: text in, a packet out with, per field, its value, how sure the parse is of it
//! (0..1) and where it came from. The heuristics run first and alone here; a plan rewrite or a
//! field fallback (a model) may then fill or replace fields through [`ParseResult::set_field`],
//! which keeps what is missing, what is invalid and the overall confidence up to date.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::coerce::coerce;
use crate::heuristics::{self, Candidate, Method, Raw};
use crate::schema::{Field, Schema};
use crate::validate::{MISSING, Violation, escape, validate};

/// The largest input parsed: 10 MiB.
pub const MAX_INPUT_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    #[error("the input is {len} bytes; at most {MAX_INPUT_BYTES} bytes (10 MiB) are parsed")]
    TooLarge { len: usize },
}

/// Refuses an input longer than [`MAX_INPUT_BYTES`], before it is read in full.
pub fn check_size(len: usize) -> Result<(), InputError> {
    if len > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge { len });
    }
    Ok(())
}

/// Who gave a field its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Heuristic,
    /// A model rewrote the text into a plan the heuristics then read.
    Rewrite,
    /// A model was asked for the field itself.
    Fallback,
}

/// One field of the schema, as the parse left it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldResult {
    pub name: String,
    pub required: bool,
    /// None when nothing usable was found.
    pub value: Option<Value>,
    /// 0 when there is no value.
    pub confidence: f64,
    pub source: Option<Source>,
    /// Which heuristic found it (None for a model's value).
    pub method: Option<Method>,
}

/// A note on the parse, about one field or the whole text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub field: Option<String>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParseResult {
    pub schema: String,
    /// The fields that have a value, as one object.
    pub packet: Map<String, Value>,
    /// No required field missing and nothing invalid.
    pub complete: bool,
    /// The lowest confidence among the required fields and the fields found; 0 when a
    /// required field is missing.
    pub confidence: f64,
    /// Every field of the schema, in its order.
    pub fields: Vec<FieldResult>,
    /// Required fields without a value.
    pub missing: Vec<String>,
    /// Values that break the schema's limits.
    pub invalid: Vec<Violation>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FieldError {
    #[error("{schema} has no field {name:?}")]
    Unknown { schema: String, name: String },
    #[error("{name}: {reason}")]
    Unreadable { name: String, reason: String },
}

/// Reads `text` into a packet of `schema` with the heuristics alone.
pub fn parse(schema: &Schema, text: &str) -> Result<ParseResult, InputError> {
    check_size(text.len())?;
    let found = heuristics::find(schema, text);
    let mut candidates: Vec<Vec<Candidate>> = vec![Vec::new(); schema.fields().len()];
    for candidate in found.candidates {
        candidates[candidate.field].push(candidate);
    }
    let mut diagnostics: Vec<Diagnostic> = found
        .notes
        .into_iter()
        .map(|message| Diagnostic {
            field: None,
            message,
        })
        .collect();
    let fields = schema
        .fields()
        .iter()
        .zip(candidates)
        .map(|(field, candidates)| {
            let (result, notes) = best(field, candidates);
            diagnostics.extend(notes.into_iter().map(|message| Diagnostic {
                field: Some(field.name.clone()),
                message,
            }));
            result
        })
        .collect();
    let mut result = ParseResult {
        schema: schema.name().to_string(),
        packet: Map::new(),
        complete: false,
        confidence: 0.0,
        fields,
        missing: Vec::new(),
        invalid: Vec::new(),
        diagnostics,
    };
    result.refresh(schema);
    Ok(result)
}

/// The most confident candidate that converts to the field's type (the later of equals), and
/// why the others that did not convert were passed over.
fn best(field: &Field, candidates: Vec<Candidate>) -> (FieldResult, Vec<String>) {
    let mut chosen: Option<(Value, f64, Method, usize)> = None;
    let mut notes = Vec::new();
    for candidate in candidates {
        let method = candidate.method;
        match coerce(field, candidate.raw) {
            Ok((value, factor)) => {
                let confidence = (candidate.confidence * factor).clamp(0.0, 1.0);
                let better = chosen.as_ref().is_none_or(|(_, best, _, position)| {
                    confidence > *best || (confidence == *best && candidate.position > *position)
                });
                if better {
                    chosen = Some((value, confidence, method, candidate.position));
                }
            }
            Err(reason) => notes.push(format!(
                "passed over a value found by {}: {reason}",
                method_name(method)
            )),
        }
    }
    if chosen.is_some() {
        notes.clear();
    }
    let result = match chosen {
        Some((value, confidence, method, _)) => FieldResult {
            name: field.name.clone(),
            required: field.required,
            value: Some(value),
            confidence,
            source: Some(Source::Heuristic),
            method: Some(method),
        },
        None => FieldResult {
            name: field.name.clone(),
            required: field.required,
            value: None,
            confidence: 0.0,
            source: None,
            method: None,
        },
    };
    (result, notes)
}

fn method_name(method: Method) -> String {
    serde_json::to_value(method)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default()
}

impl ParseResult {
    /// Gives a field a value from a model (a plan rewrite or a field fallback), converted to
    /// the field's type as the heuristics' values are.
    pub fn set_field(
        &mut self,
        schema: &Schema,
        name: &str,
        value: Value,
        confidence: f64,
        source: Source,
    ) -> Result<(), FieldError> {
        let (index, field) = schema
            .fields()
            .iter()
            .enumerate()
            .find(|(_, field)| field.name == name)
            .ok_or_else(|| FieldError::Unknown {
                schema: schema.name().to_string(),
                name: name.to_string(),
            })?;
        let (value, factor) =
            coerce(field, Raw::Json(value)).map_err(|reason| FieldError::Unreadable {
                name: name.to_string(),
                reason,
            })?;
        let slot = &mut self.fields[index];
        slot.value = Some(value);
        slot.confidence = (confidence * factor).clamp(0.0, 1.0);
        slot.source = Some(source);
        slot.method = None;
        self.refresh(schema);
        Ok(())
    }

    /// The fields below `threshold`, the missing ones included: what a rewrite would redo.
    pub fn unsure_fields(&self, threshold: f64) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|field| {
                (field.required || field.value.is_some()) && field.confidence < threshold
            })
            .map(|field| field.name.as_str())
            .collect()
    }

    /// The packet as `T`, or every reason it is not one.
    pub fn to_packet<T: DeserializeOwned>(&self) -> Result<T, Vec<Violation>> {
        if !self.complete {
            let missing = self.missing.iter().map(|name| Violation {
                pointer: format!("/{}", escape(name)),
                reason: MISSING.into(),
            });
            return Err(missing.chain(self.invalid.iter().cloned()).collect());
        }
        serde_json::from_value(Value::Object(self.packet.clone()))
            .map_err(|err| vec![Violation::at_root(err.to_string())])
    }

    /// Recomputes the packet, what is missing or invalid, and the overall confidence.
    fn refresh(&mut self, schema: &Schema) {
        self.packet = self
            .fields
            .iter()
            .filter_map(|field| field.value.clone().map(|value| (field.name.clone(), value)))
            .collect();
        self.missing = self
            .fields
            .iter()
            .filter(|field| field.required && field.value.is_none())
            .map(|field| field.name.clone())
            .collect();
        let missing_pointers: Vec<String> = self
            .missing
            .iter()
            .map(|name| format!("/{}", escape(name)))
            .collect();
        self.invalid = validate(schema, &Value::Object(self.packet.clone()))
            .into_iter()
            .filter(|v| !(v.reason == MISSING && missing_pointers.contains(&v.pointer)))
            .collect();
        self.complete = self.missing.is_empty() && self.invalid.is_empty();
        self.confidence = self
            .fields
            .iter()
            .filter(|field| field.required || field.value.is_some())
            .map(|field| field.confidence)
            .reduce(f64::min)
            .unwrap_or(0.0);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{DispatchPacket, PacketKind};

    #[test]
    fn reads_a_dispatch_written_as_key_lines() {
        let text = "Sure — here is the task.\n\nTASK: Add `--json` to `agentry ready`\nSCOPE: crates/agentry/src/commands/ready.rs\nNOT-YOUR-JOB:\n- the store\nDONE-WHEN:\n- ready --json prints a JSON array\nVERIFY:\n```bash\ncargo test -p agentry --test cli\n```\nPRIORITY: P1\n\nLet me know if you want changes.";
        let schema = PacketKind::Dispatch.schema();
        let result = parse(schema, text).unwrap();
        assert!(result.complete, "{result:#?}");
        let packet: DispatchPacket = result.to_packet().unwrap();
        assert_eq!(packet.task, "Add `--json` to `agentry ready`");
        assert_eq!(packet.scope, ["crates/agentry/src/commands/ready.rs"]);
        assert_eq!(packet.verify, ["cargo test -p agentry --test cli"]);
        assert_eq!(packet.priority.value(), 1);
        assert!(result.confidence >= 0.85, "{}", result.confidence);
    }

    #[test]
    fn a_model_fills_what_the_heuristics_missed() {
        let schema = PacketKind::Debug.schema();
        let mut result = parse(schema, "BUG: crash on empty input\nROOT: unchecked index").unwrap();
        assert_eq!(result.missing, ["fix", "test", "result"]);
        assert_eq!(result.confidence, 0.0);
        assert_eq!(result.unsure_fields(0.75), ["fix", "test", "result"]);
        for name in ["fix", "test", "result"] {
            result
                .set_field(schema, name, json!("x"), 0.7, Source::Fallback)
                .unwrap();
        }
        assert!(result.complete);
        assert_eq!(result.confidence, 0.7);
        assert_eq!(result.fields[2].source, Some(Source::Fallback));
        assert!(
            result
                .set_field(schema, "nope", json!("x"), 1.0, Source::Fallback)
                .is_err()
        );
    }

    #[test]
    fn too_large_an_input_is_refused() {
        let big = "x".repeat(MAX_INPUT_BYTES + 1);
        let err = parse(PacketKind::Debug.schema(), &big).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the input is 10485761 bytes; at most 10485760 bytes (10 MiB) are parsed"
        );
    }
}
