//! Scoring a parse against the packet expected of it: the corpus test's floor and the
//! benchmark's figures both count with this.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::parse::ParseResult;

/// What a corpus case expects: the schema to parse with, and the packet (null when the text
/// holds none, and the parse must find no required field); `missing` gives the JSON pointers
/// of required values the text lacks, which the parse must leave out rather than invent.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub schema: String,
    pub packet: Option<Map<String, Value>>,
    #[serde(default)]
    pub missing: Vec<String>,
}

/// Per field, whether the parse got it right; and whether it got every required field right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Score {
    pub fields: Vec<(String, bool)>,
    pub required_right: bool,
}

pub fn score(expected: &Expected, result: &ParseResult) -> Score {
    let mut required_right = true;
    let fields = result
        .fields
        .iter()
        .map(|field| {
            let want = expected
                .packet
                .as_ref()
                .and_then(|packet| packet.get(&field.name));
            let right = same(want, field.value.as_ref());
            required_right &= right || !field.required;
            (field.name.clone(), right)
        })
        .collect();
    Score {
        fields,
        required_right,
    }
}

/// Equal, with whitespace runs counted as one space, and an absent list counted as empty.
fn same(want: Option<&Value>, got: Option<&Value>) -> bool {
    let empty = |value: &Value| value.as_array().is_some_and(Vec::is_empty);
    match (want, got) {
        (None, None) => true,
        (Some(one), None) | (None, Some(one)) => empty(one),
        (Some(want), Some(got)) => equal(want, got),
    }
}

fn equal(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::String(a), Value::String(b)) => a.split_whitespace().eq(b.split_whitespace()),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| equal(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, value)| b.get(key).is_some_and(|other| equal(value, other)))
        }
        (a, b) => a == b,
    }
}
