//! JSON objects in the answer: in a ```json block, in another code block, or in the prose.
//!
//! One pass over the text pairs braces (strings end at a line's end, and nothing pairs across
//! a fence, so one stray quote or brace cannot hide the rest of the answer); the outermost
//! pairs that look like objects are then parsed, within a budget of a few times the text's
//! size, so the work stays linear whatever the text.

use serde_json::{Map, Value};

use super::{Found, Method, Raw};
use crate::schema::{KeyHit, Schema};
use crate::text::lines::{Line, LineKind};

/// Bytes handed to the JSON parser, as a multiple of the text's size (plus a floor).
const BUDGET_FACTOR: usize = 4;
const BUDGET_FLOOR: usize = 64 * 1024;
/// An object whose keys are mostly not the schema's is less likely the packet.
const STRANGER_FACTOR: f64 = 0.6;

/// Where an object was found, from most to least trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    OtherCode,
    Prose,
    JsonBlock,
}

impl Place {
    fn confidence(self) -> f64 {
        match self {
            Place::JsonBlock => 0.98,
            Place::Prose => 0.95,
            Place::OtherCode => 0.80,
        }
    }

    fn method(self) -> Method {
        match self {
            Place::JsonBlock => Method::FencedJson,
            Place::Prose | Place::OtherCode => Method::Json,
        }
    }
}

struct Object {
    start: usize,
    place: Place,
    fields: Map<String, Value>,
}

/// Proposes the fields of the object that best fits the schema; true if that object is a
/// whole packet (every required field) in a ```json block or the prose, which the agent meant
/// as its answer, so nothing else in the text should add to it.
pub(crate) fn find(schema: &Schema, text: &str, lines: &[Line<'_>], found: &mut Found) -> bool {
    let objects = objects(text, lines, found);
    let best = objects
        .iter()
        .filter_map(|object| fitting(schema, object).map(|(map, fields)| (object, map, fields)))
        .max_by_key(|(object, _, fields)| {
            let required = fields
                .iter()
                .filter(|(hit, _)| schema.fields()[hit.field].required)
                .count();
            (required, object.place, object.start)
        });
    let Some((object, map, fields)) = best else {
        return false;
    };
    let mut required: Vec<usize> = fields
        .iter()
        .map(|(hit, _)| hit.field)
        .filter(|field| schema.fields()[*field].required)
        .collect();
    required.sort_unstable();
    required.dedup();
    let whole = required.len() == schema.fields().iter().filter(|f| f.required).count();
    let strangers: Vec<&String> = map.keys().filter(|k| schema.key(k).is_none()).collect();
    let mut confidence = object.place.confidence();
    if strangers.len() > fields.len() {
        confidence *= STRANGER_FACTOR;
    }
    for name in &strangers {
        found.notes.push(format!(
            "ignored key {name:?} of the JSON object: not a field of {}",
            schema.name()
        ));
    }
    for (hit, value) in fields {
        found.propose(
            hit,
            Raw::Json(value.clone()),
            confidence,
            object.place.method(),
            object.start,
        );
    }
    whole && object.place != Place::OtherCode
}

/// The object's fields, or those of the one object it wraps (`{"review": {...}}`).
fn fields_of(object: &Object) -> &Map<String, Value> {
    match object.fields.values().next() {
        Some(Value::Object(inner)) if object.fields.len() == 1 => inner,
        _ => &object.fields,
    }
}

type Fitting<'a> = (&'a Map<String, Value>, Vec<(KeyHit, &'a Value)>);

/// The object (or the one it wraps) with the schema's fields among its keys; None unless one
/// key is a field's own name (`{"status": "ok"}` from a tool is not a verdict) and at least
/// a third of its keys are fields (a stream-json event with a `result` is not a debug packet).
fn fitting<'a>(schema: &Schema, object: &'a Object) -> Option<Fitting<'a>> {
    let (map, fields) = [&object.fields, fields_of(object)]
        .into_iter()
        .map(|map| {
            let fields: Vec<(KeyHit, &Value)> = map
                .iter()
                .filter_map(|(key, value)| schema.key(key).map(|hit| (hit, value)))
                .collect();
            (map, fields)
        })
        .max_by_key(|(_, fields)| fields.len())?;
    let named = fields.iter().any(|(hit, _)| hit.exact);
    (named && fields.len() * 3 >= map.len()).then_some((map, fields))
}

/// Every outermost `{...}` in the text that parses as a JSON object.
fn objects(text: &str, lines: &[Line<'_>], found: &mut Found) -> Vec<Object> {
    let mut spans = brace_pairs(text, lines);
    spans.sort_unstable_by_key(|span| span.0);
    let mut budget = text.len() * BUDGET_FACTOR + BUDGET_FLOOR;
    let mut covered = 0;
    let mut objects = Vec::new();
    for (start, end, place) in spans {
        if start < covered || !looks_like_object(&text[start + 1..end]) {
            continue;
        }
        let span = &text[start..=end];
        if span.len() > budget {
            found.notes.push(
                "stopped looking for JSON objects: the text has too many unbalanced braces".into(),
            );
            break;
        }
        budget -= span.len();
        if let Some(fields) = parse_object(span) {
            covered = end;
            objects.push(Object {
                start,
                place,
                fields,
            });
        }
    }
    objects
}

/// The object in `span`, forgiving the trailing commas models often leave.
fn parse_object(span: &str) -> Option<Map<String, Value>> {
    let parsed = serde_json::from_str(span).or_else(|err| match without_trailing_commas(span) {
        Some(repaired) => serde_json::from_str(&repaired),
        None => Err(err),
    });
    match parsed {
        Ok(Value::Object(fields)) => Some(fields),
        _ => None,
    }
}

/// `span` without each comma that comes right before a `}` or `]` (outside strings); None if
/// there is none.
fn without_trailing_commas(span: &str) -> Option<String> {
    let mut out = String::with_capacity(span.len());
    let (mut in_string, mut escaped, mut dropped) = (false, false, false);
    for (at, c) in span.char_indices() {
        if in_string {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            in_string = true;
        } else if c == ',' && span[at + 1..].trim_start().starts_with(['}', ']']) {
            dropped = true;
            continue;
        }
        out.push(c);
    }
    dropped.then_some(out)
}

/// `{` then a key or `}`.
fn looks_like_object(inner: &str) -> bool {
    matches!(inner.trim_start().chars().next(), Some('"') | None)
}

/// The byte offsets of each `{` and the `}` closing it, with where they are.
fn brace_pairs(text: &str, lines: &[Line<'_>]) -> Vec<(usize, usize, Place)> {
    let bytes = text.as_bytes();
    let mut pairs = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for line in lines {
        let place = match line.kind {
            LineKind::Fence { .. } => {
                open.clear();
                continue;
            }
            LineKind::Code {
                lang: "" | "json" | "jsonc" | "json5" | "JSON",
            } => Place::JsonBlock,
            LineKind::Code { .. } => Place::OtherCode,
            _ => Place::Prose,
        };
        let mut in_string = false;
        let mut escaped = false;
        for (index, byte) in bytes[line.offset..line.offset + line.text.len()]
            .iter()
            .enumerate()
        {
            let at = line.offset + index;
            match byte {
                _ if escaped => escaped = false,
                b'\\' if in_string => escaped = true,
                b'"' if !open.is_empty() => in_string = !in_string,
                b'{' if !in_string => open.push(at),
                b'}' if !in_string => {
                    if let Some(start) = open.pop() {
                        pairs.push((start, at, place));
                    }
                }
                _ => {}
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PacketKind;
    use crate::text::lines::classify;

    fn verdicts(text: &str) -> Vec<(Value, Method)> {
        let schema = PacketKind::ReviewVerdict.schema();
        let lines = classify(text, |_| Vec::new());
        let mut found = Found::default();
        find(schema, text, &lines, &mut found);
        found
            .candidates
            .into_iter()
            .filter(|c| c.field == 0)
            .map(|c| match c.raw {
                Raw::Json(value) => (value, c.method),
                other => panic!("not JSON: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn the_last_block_with_a_verdict_wins_as_the_engine_reads_it() {
        let text = "```json\n{\"verdict\":\"pass\"}\n```\nbut { no\n```json\n{\"verdict\": \"fail\", \"failed_items\": [\"a } b\"]}\n```";
        assert_eq!(verdicts(text), [(Value::from("fail"), Method::FencedJson)]);
    }

    #[test]
    fn finds_objects_in_prose_and_skips_ones_of_other_shapes() {
        let text = "Tool said {\"status\": \"ok\"} then I decided: {\"review\": {\"verdict\": \"pass\"}} done";
        assert_eq!(verdicts(text), [(Value::from("pass"), Method::Json)]);
    }

    #[test]
    fn unbalanced_braces_and_quotes_hide_nothing_after_their_line() {
        let text = "fn x() { let q = '\"';\n```rust\nif a {\n```\n{\"verdict\": \"fail\"}";
        assert_eq!(verdicts(text), [(Value::from("fail"), Method::Json)]);
    }
}
