//! Checking a packet against its schema. Each problem names the field by JSON pointer and says
//! why; unknown fields are rejected where the schema is closed.
//!
//! Hand-written over the compiled [`Schema`] rather than a general JSON Schema validator: the
//! packets need a small part of JSON Schema, the messages are written for the people and
//! agents who must fix the packet, and the dependency tree stays small.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::schema::{Field, Kind, Schema, Shape};

/// At most this many problems are listed; the last one says how many more there were.
const MAX_VIOLATIONS: usize = 50;
/// The reason given for a required field that is absent.
pub const MISSING: &str = "required field missing";

/// One problem with a packet: where (a JSON pointer, "" for the whole packet) and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub pointer: String,
    pub reason: String,
}

impl Violation {
    pub fn at_root(reason: String) -> Violation {
        Violation {
            pointer: String::new(),
            reason,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.reason)
    }
}

/// Every way `value` breaks `schema`; empty when it is a valid packet.
pub fn validate(schema: &Schema, value: &Value) -> Vec<Violation> {
    let mut check = Check::default();
    match value {
        Value::Object(object) => check.fields(schema.fields(), schema.closed(), object, ""),
        other => check.add("", format!("must be an object, not {}", type_name(other))),
    }
    check.finish()
}

/// `~` and `/` escaped as a JSON pointer needs.
pub(crate) fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[derive(Default)]
struct Check {
    found: Vec<Violation>,
    more: usize,
}

impl Check {
    fn add(&mut self, pointer: &str, reason: String) {
        if self.found.len() < MAX_VIOLATIONS {
            self.found.push(Violation {
                pointer: pointer.to_string(),
                reason,
            });
        } else {
            self.more += 1;
        }
    }

    fn finish(mut self) -> Vec<Violation> {
        if self.more > 0 {
            let reason = format!("and {} more problems", self.more);
            self.found.push(Violation::at_root(reason));
        }
        self.found
    }

    fn fields(&mut self, fields: &[Field], closed: bool, object: &Map<String, Value>, at: &str) {
        for field in fields {
            let pointer = format!("{at}/{}", escape(&field.name));
            match object.get(&field.name) {
                Some(value) => self.shape(&field.shape, value, &pointer),
                None if field.required => self.add(&pointer, MISSING.into()),
                None => {}
            }
        }
        if closed {
            let known = || {
                fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            for name in object
                .keys()
                .filter(|name| !fields.iter().any(|f| &f.name == *name))
            {
                let reason = format!("unknown field (the fields are: {})", known());
                self.add(&format!("{at}/{}", escape(name)), reason);
            }
        }
    }

    fn shape(&mut self, shape: &Shape, value: &Value, at: &str) {
        if value.is_null() && shape.nullable {
            return;
        }
        match (&shape.kind, value) {
            (Kind::Any, _) => {}
            (
                Kind::Text {
                    min_len,
                    max_len,
                    one_of,
                },
                Value::String(text),
            ) => self.text(text, *min_len, *max_len, one_of.as_deref(), at),
            (Kind::Integer { min, max }, Value::Number(n)) if n.is_i64() || n.is_u64() => {
                self.range(n.as_f64().unwrap_or_default(), *min, *max, at)
            }
            (Kind::Number { min, max }, Value::Number(n)) => {
                self.range(n.as_f64().unwrap_or_default(), *min, *max, at)
            }
            (Kind::Boolean, Value::Bool(_)) => {}
            (
                Kind::List {
                    items,
                    min_items,
                    max_items,
                },
                Value::Array(values),
            ) => {
                self.count(values.len(), *min_items, *max_items, at);
                for (index, item) in values.iter().enumerate() {
                    self.shape(items, item, &format!("{at}/{index}"));
                }
            }
            (Kind::Object { fields, closed }, Value::Object(object)) => {
                self.fields(fields, *closed, object, at)
            }
            (kind, other) => self.add(
                at,
                format!("must be {}, not {}", kind_name(kind), type_name(other)),
            ),
        }
    }

    fn text(
        &mut self,
        text: &str,
        min: usize,
        max: Option<usize>,
        one_of: Option<&[String]>,
        at: &str,
    ) {
        if let Some(allowed) = one_of {
            if !allowed.iter().any(|value| value == text) {
                let reason = format!("must be one of {} (got {text:?})", allowed.join(", "));
                self.add(at, reason);
            }
            return;
        }
        let chars = text.chars().count();
        if chars < min {
            let reason = match min {
                1 => "must not be empty".to_string(),
                _ => format!("must be at least {min} characters long (it has {chars})"),
            };
            self.add(at, reason);
        }
        if let Some(max) = max.filter(|max| chars > *max) {
            self.add(
                at,
                format!("must be at most {max} characters long (it has {chars})"),
            );
        }
    }

    fn range(&mut self, n: f64, min: Option<f64>, max: Option<f64>, at: &str) {
        if min.is_some_and(|min| n < min) || max.is_some_and(|max| n > max) {
            let bound = |b: Option<f64>| b.map_or("any".to_string(), |b| b.to_string());
            let reason = format!("must be from {} to {} (got {n})", bound(min), bound(max));
            self.add(at, reason);
        }
    }

    fn count(&mut self, len: usize, min: usize, max: Option<usize>, at: &str) {
        if len < min {
            self.add(at, format!("must have at least {min} items (it has {len})"));
        }
        if let Some(max) = max.filter(|max| len > *max) {
            self.add(at, format!("must have at most {max} items (it has {len})"));
        }
    }
}

fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Text { .. } => "a string",
        Kind::Integer { .. } => "an integer",
        Kind::Number { .. } => "a number",
        Kind::Boolean => "true or false",
        Kind::List { .. } => "a list",
        Kind::Object { .. } => "an object",
        Kind::Any => "anything",
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::PacketKind;

    fn problems(kind: PacketKind, value: Value) -> Vec<String> {
        validate(kind.schema(), &value)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_valid_packet_has_no_problems() {
        let verdict = json!({"verdict": "fail", "failed_items": ["no test"], "fix_list": []});
        assert!(problems(PacketKind::ReviewVerdict, verdict).is_empty());
    }

    #[test]
    fn each_problem_names_the_field_and_the_reason() {
        let long = "x".repeat(261);
        let dispatch = json!({
            "task": "", "scope": [long], "not_your_job": [], "done_when": ["a"],
            "verify": "cargo test", "priority": 7, "owner": "me"
        });
        assert_eq!(
            problems(PacketKind::Dispatch, dispatch),
            [
                "/task: must not be empty",
                "/scope/0: must be at most 260 characters long (it has 261)",
                "/not_your_job: must have at least 1 items (it has 0)",
                "/verify: must be a list, not a string",
                "/priority: must be from 0 to 4 (got 7)",
                "/owner: unknown field (the fields are: task, scope, not_your_job, done_when, verify, priority)",
            ]
        );
        assert_eq!(
            problems(PacketKind::ReviewVerdict, json!({"verdict": "maybe"})),
            ["/verdict: must be one of pass, fail (got \"maybe\")"]
        );
        assert_eq!(
            problems(
                PacketKind::Handoff,
                json!({"completed": [{"item": "a"}], "pending": [], "risks": [], "next": []})
            ),
            ["/completed/0/evidence: required field missing"]
        );
        assert_eq!(
            problems(PacketKind::Debug, json!([])),
            ["/: must be an object, not a list"]
        );
    }
}
