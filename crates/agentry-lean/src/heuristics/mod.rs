//! The heuristics: each reads the classified lines (or the raw text, for JSON) and proposes
//! values for fields, each with a confidence. The parse keeps, per field, the proposal whose
//! value fits the field with the highest confidence. A whole packet in JSON (every required
//! field, in a ```json block or the prose) is the agent's answer as it meant it: the other
//! heuristics do not add to it, as the engine's own verdict reader never did.
//!
//! Confidences (before a key given by alias or a value needing conversion lowers them):
//!
//! | where the value was found | confidence |
//! |---|---|
//! | a JSON object in a ```json (or unlabelled) block | 0.98 |
//! | a JSON object in the prose | 0.95 |
//! | a `KEY: value` line, or a markdown heading (or a bold line) and its section | 0.90 |
//! | an `A: x \| B: y` packet line, or a table | 0.85 |
//! | a JSON object in a code block of another language | 0.80 |
//! | a verdict phrase ("LGTM", "changes requested") | 0.75 |
//! | a checklist (`- [ ]`) | 0.70 |
//! | ✅ / ❌ marks | 0.65 |

pub(crate) mod json;
pub(crate) mod keys;
pub(crate) mod sections;
pub(crate) mod table;
pub(crate) mod verdict;

use serde::Serialize;
use serde_json::Value;

use crate::schema::{KeyHit, Schema};
use crate::text::lines::{self, Line};

/// How a field's value was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    FencedJson,
    Json,
    KeyValue,
    Heading,
    PacketLine,
    VerdictPhrase,
    Checklist,
}

/// A value as found, before it is converted to the field's type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Raw {
    Json(Value),
    Text(String),
    Items(Vec<String>),
}

/// A proposed value for one field.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    pub field: usize,
    pub raw: Raw,
    pub confidence: f64,
    pub method: Method,
    /// Byte offset where it was found: of two equally sure proposals the later wins, as agents
    /// correct themselves further down.
    pub position: usize,
}

/// What the heuristics found, and notes on what they passed over.
#[derive(Default)]
pub(crate) struct Found {
    pub candidates: Vec<Candidate>,
    pub notes: Vec<String>,
}

/// A key given by an alias is a little less sure than the field's own name.
const ALIAS_FACTOR: f64 = 0.95;

impl Found {
    pub fn propose(
        &mut self,
        hit: KeyHit,
        raw: Raw,
        confidence: f64,
        method: Method,
        position: usize,
    ) {
        let confidence = if hit.exact {
            confidence
        } else {
            confidence * ALIAS_FACTOR
        };
        self.candidates.push(Candidate {
            field: hit.field,
            raw,
            confidence,
            method,
            position,
        });
    }
}

/// Runs every heuristic over `text`.
pub(crate) fn find(schema: &Schema, text: &str) -> Found {
    let lines: Vec<Line<'_>> = lines::classify(text, |line| match keys::key_line(schema, line) {
        Some(key) => vec![key.hit.field],
        None => table::header_fields(schema, line),
    });
    let mut found = Found::default();
    if json::find(schema, text, &lines, &mut found) {
        return found;
    }
    let packet_lines = table::find(schema, &lines, &mut found);
    sections::find(schema, &lines, &packet_lines, &mut found);
    if let Some(fields) = verdict::VerdictFields::of(schema) {
        verdict::find(&fields, &lines, &mut found);
    }
    found
}
