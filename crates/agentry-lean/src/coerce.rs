//! A found value turned into its field's type: a list from "a; b", a boolean from "yes —
//! I cannot go on", a priority from "P1 (high)", a verdict from "**FAIL** ❌", a completed
//! item and its evidence from "Added X — evidence: tests pass". A conversion that had to guess
//! lowers the confidence by its factor.

use serde_json::{Map, Number, Value};

use crate::heuristics::Raw;
use crate::schema::{Field, Kind, Shape};
use crate::text::{clean_item, split_inline};

/// The value as the field's type, and the factor its confidence is multiplied by; or why it
/// cannot be.
pub(crate) fn coerce(field: &Field, raw: Raw) -> Result<(Value, f64), String> {
    shape(&field.shape, &field.name, raw)
}

fn shape(shape: &Shape, name: &str, raw: Raw) -> Result<(Value, f64), String> {
    if shape.nullable && raw == Raw::Json(Value::Null) {
        return Ok((Value::Null, 1.0));
    }
    match &shape.kind {
        Kind::Text { one_of: None, .. } => text(raw),
        Kind::Text {
            one_of: Some(values),
            ..
        } => one_of(values, &text(raw)?.0),
        Kind::Integer { .. } => integer(name, raw),
        Kind::Number { .. } => number(raw),
        Kind::Boolean => boolean(raw),
        Kind::List { items, .. } => list(items, name, raw),
        Kind::Object { fields, .. } => object(fields, raw),
        Kind::Any => Ok((any(raw), 1.0)),
    }
}

fn any(raw: Raw) -> Value {
    match raw {
        Raw::Json(value) => value,
        Raw::Text(text) => Value::String(text),
        Raw::Items(items) => items.into_iter().map(Value::String).collect(),
    }
}

fn text(raw: Raw) -> Result<(Value, f64), String> {
    match raw {
        Raw::Json(Value::String(text)) | Raw::Text(text) => Ok((Value::String(text), 1.0)),
        Raw::Json(value @ (Value::Number(_) | Value::Bool(_))) => {
            Ok((value.to_string().into(), 0.9))
        }
        Raw::Json(Value::Array(values)) if values.iter().all(Value::is_string) => {
            let lines: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
            Ok((lines.join("\n").into(), 0.85))
        }
        Raw::Items(items) => Ok((items.join("\n").into(), 0.9)),
        Raw::Json(other) => Err(format!("expected text, found {}", short(&other))),
    }
}

/// Words reviewers use for pass and fail, when a field allows exactly those.
const PASS_WORDS: [&str; 14] = [
    "pass", "passed", "passes", "passing", "approve", "approved", "approves", "lgtm", "accept",
    "accepted", "ship", "yes", "green", "success",
];
const FAIL_WORDS: [&str; 12] = [
    "fail",
    "failed",
    "fails",
    "failing",
    "reject",
    "rejected",
    "rejects",
    "no",
    "red",
    "blocked",
    "failure",
    "unacceptable",
];
const FAIL_OPENINGS: [&str; 6] = [
    "changes requested",
    "request changes",
    "needs changes",
    "needs work",
    "not approved",
    "does not pass",
];

fn one_of(values: &[String], written: &Value) -> Result<(Value, f64), String> {
    let written = written.as_str().unwrap_or_default();
    if values.iter().any(|value| value == written) {
        return Ok((written.into(), 1.0));
    }
    let words = words(written);
    let first = words.split(' ').next().unwrap_or_default();
    if let Some(value) = values
        .iter()
        .find(|value| value.eq_ignore_ascii_case(first))
    {
        let factor = if words == first { 0.95 } else { 0.9 };
        return Ok((value.as_str().into(), factor));
    }
    let verdicts = ["pass", "fail"]
        .iter()
        .all(|v| values.iter().any(|value| value == v));
    match verdicts.then(|| verdict_word(written)).flatten() {
        Some(pass) => Ok((if pass { "pass" } else { "fail" }.into(), 0.85)),
        None => Err(format!(
            "{:?} is not one of {}",
            excerpt(written),
            values.join(", ")
        )),
    }
}

/// Lower-case words of letters and digits, single-spaced.
fn words(text: &str) -> String {
    let letters: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    letters.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a reviewer's word for the outcome ("Approved", "changes requested", "❌") means
/// pass (true) or fail (false).
pub(crate) fn verdict_word(written: &str) -> Option<bool> {
    let words = words(written);
    let first = words.split(' ').next().unwrap_or_default();
    if FAIL_OPENINGS
        .iter()
        .any(|opening| words.starts_with(opening))
        || FAIL_WORDS.contains(&first)
    {
        Some(false)
    } else if PASS_WORDS.contains(&first) {
        Some(true)
    } else if written.contains('❌') {
        Some(false)
    } else if written.contains('✅') {
        Some(true)
    } else {
        None
    }
}

fn words_of(raw: Raw) -> Result<String, String> {
    match raw {
        Raw::Json(Value::String(text)) | Raw::Text(text) => Ok(text),
        Raw::Items(items) => Ok(items.join(" ")),
        Raw::Json(other) => Err(format!("expected a value, found {}", short(&other))),
    }
}

fn integer(name: &str, raw: Raw) -> Result<(Value, f64), String> {
    if let Raw::Json(Value::Number(n)) = &raw {
        return match n.as_f64() {
            _ if n.is_i64() || n.is_u64() => Ok((Value::Number(n.clone()), 1.0)),
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(((f as i64).into(), 0.95)),
            _ => Err(format!("{n} is not a whole number")),
        };
    }
    let text = words_of(raw)?;
    let lower = text.trim().to_ascii_lowercase();
    if name.contains("priority") {
        if let Some(level) = priority_word(&lower) {
            return Ok((level.into(), 0.9));
        }
    }
    let token = first_number(&lower).ok_or_else(|| format!("no number in {:?}", excerpt(&text)))?;
    let value: i64 = token
        .parse()
        .map_err(|_| format!("{token} is not a whole number"))?;
    let factor = if lower.trim_start_matches('p') == token {
        1.0
    } else {
        0.9
    };
    Ok((value.into(), factor))
}

/// "critical" → 0 … "lowest" → 4.
fn priority_word(lower: &str) -> Option<i64> {
    let first = lower
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())?;
    let level = match first {
        "critical" | "urgent" | "highest" | "blocker" => 0,
        "high" => 1,
        "medium" | "normal" | "moderate" | "default" => 2,
        "low" => 3,
        "lowest" | "trivial" | "minor" => 4,
        _ => return None,
    };
    Some(level)
}

/// The first run of digits (with its minus sign) in the text.
fn first_number(text: &str) -> Option<&str> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let start = if text[..start].ends_with('-') {
        start - 1
    } else {
        start
    };
    let len = text[start + 1..]
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or(text.len() - start, |n| n + 1);
    Some(text[start..start + len].trim_end_matches('.'))
}

fn number(raw: Raw) -> Result<(Value, f64), String> {
    if let Raw::Json(Value::Number(n)) = raw {
        return Ok((Value::Number(n), 1.0));
    }
    let text = words_of(raw)?;
    let token = first_number(&text).ok_or_else(|| format!("no number in {:?}", excerpt(&text)))?;
    let value: f64 = token
        .parse()
        .map_err(|_| format!("{token} is not a number"))?;
    let number = Number::from_f64(value).ok_or_else(|| format!("{token} is not a number"))?;
    Ok((
        Value::Number(number),
        if text.trim() == token { 1.0 } else { 0.9 },
    ))
}

fn boolean(raw: Raw) -> Result<(Value, f64), String> {
    if let Raw::Json(Value::Bool(b)) = raw {
        return Ok((b.into(), 1.0));
    }
    let text = words_of(raw)?;
    let lower = text.trim().to_lowercase().replace(['*', '`', '_'], "");
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let value = match words.as_slice() {
        ["non" | "not", "blocking", ..] => false,
        [first, ..] if ["yes", "true", "y", "blocking", "blocked", "1"].contains(first) => true,
        [first, ..] if ["no", "false", "n", "nonblocking", "0"].contains(first) => false,
        _ => return Err(format!("{:?} is not yes or no", excerpt(&text))),
    };
    Ok((value.into(), if words.len() == 1 { 1.0 } else { 0.9 }))
}

fn list(items: &Shape, name: &str, raw: Raw) -> Result<(Value, f64), String> {
    let (raws, mut factor): (Vec<Raw>, f64) = match raw {
        Raw::Json(Value::Array(values)) => (values.into_iter().map(Raw::Json).collect(), 1.0),
        Raw::Json(Value::String(text)) => (
            split_inline(&text).into_iter().map(Raw::Text).collect(),
            0.9,
        ),
        Raw::Text(text) => (
            split_inline(&text).into_iter().map(Raw::Text).collect(),
            1.0,
        ),
        Raw::Items(list) => (list.into_iter().map(Raw::Text).collect(), 1.0),
        Raw::Json(other) => return Err(format!("expected a list, found {}", short(&other))),
    };
    let mut values = Vec::with_capacity(raws.len());
    for (index, raw) in raws.into_iter().enumerate() {
        let (value, item_factor) =
            shape(items, name, raw).map_err(|why| format!("item {index}: {why}"))?;
        factor = factor.min(item_factor);
        values.push(value);
    }
    Ok((Value::Array(values), factor))
}

fn object(fields: &[Field], raw: Raw) -> Result<(Value, f64), String> {
    match raw {
        Raw::Json(value @ Value::Object(_)) => Ok((value, 1.0)),
        Raw::Json(Value::String(text)) | Raw::Text(text) => record(fields, &text),
        Raw::Json(other) => Err(format!("expected an object, found {}", short(&other))),
        Raw::Items(_) => Err("expected an object, found a list".into()),
    }
}

/// "Added X — evidence: `cargo test` passes" as {item, evidence}: the object's first two text
/// fields, split at the second's name ("evidence:"), else at a dash, an arrow or a colon, else
/// at a closing parenthesis.
fn record(fields: &[Field], text: &str) -> Result<(Value, f64), String> {
    let texts: Vec<&Field> = fields
        .iter()
        .filter(|field| matches!(field.shape.kind, Kind::Text { one_of: None, .. }))
        .take(2)
        .collect();
    let [first, second] = texts[..] else {
        return Err("expected an object, found text".into());
    };
    let (head, tail, factor) = split_labelled(text, second)
        .map(|(head, tail)| (head, tail, 0.85))
        .or_else(|| split_plain(text).map(|(head, tail)| (head, tail, 0.8)))
        .unwrap_or((text, "", 0.8));
    let mut object = Map::new();
    for (field, part) in [(first, head), (second, tail)] {
        let part = clean_item(part);
        if !part.is_empty() {
            object.insert(field.name.clone(), part.into());
        }
    }
    Ok((Value::Object(object), factor))
}

/// Split at "evidence:" (or an alias of the field, with a colon), dropping a bracket opened
/// just before it.
fn split_labelled<'a>(text: &'a str, second: &Field) -> Option<(&'a str, &'a str)> {
    let lower = text.to_ascii_lowercase();
    let (at, len) = std::iter::once(&second.name)
        .chain(&second.aliases)
        .filter_map(|label| {
            let needle = format!("{}:", label.to_ascii_lowercase());
            lower.find(&needle).map(|at| (at, needle.len()))
        })
        .min()?;
    let head = text[..at].trim_end();
    let (head, closer) = match head.strip_suffix('(').or_else(|| head.strip_suffix('[')) {
        Some(head) => (
            head,
            Some(if text[..at].trim_end().ends_with('(') {
                ')'
            } else {
                ']'
            }),
        ),
        None => (head, None),
    };
    let tail = text[at + len..].trim();
    let tail = closer.and_then(|c| tail.strip_suffix(c)).unwrap_or(tail);
    let head = head.trim_end_matches([' ', '-', '–', '—', ':', ',', ';', '.']);
    Some((head, tail))
}

fn split_plain(text: &str) -> Option<(&str, &str)> {
    for separator in [" — ", " – ", " -- ", " - ", " → ", " -> ", ": "] {
        if let Some(at) = text.find(separator) {
            return Some((&text[..at], &text[at + separator.len()..]));
        }
    }
    let body = text.trim_end().strip_suffix(')')?;
    let open = body.rfind('(')?;
    Some((&body[..open], &body[open + 1..]))
}

fn short(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The start of a value, for messages.
fn excerpt(text: &str) -> String {
    let mut chars = text.trim().chars();
    let head: String = chars.by_ref().take(60).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::PacketKind;

    fn read(kind: PacketKind, name: &str, raw: Raw) -> Result<Value, String> {
        let field = kind.schema().field(name).unwrap();
        coerce(field, raw).map(|(value, _)| value)
    }

    fn text(s: &str) -> Raw {
        Raw::Text(s.into())
    }

    #[test]
    fn reads_verdicts_priorities_and_yes_or_no() {
        let verdict = |s| read(PacketKind::ReviewVerdict, "verdict", text(s));
        assert_eq!(verdict("**FAIL** ❌"), Ok(json!("fail")));
        assert_eq!(verdict("Changes requested"), Ok(json!("fail")));
        assert_eq!(verdict("✅ Approved"), Ok(json!("pass")));
        assert!(verdict("maybe later").is_err());
        let priority = |s| read(PacketKind::Dispatch, "priority", text(s));
        assert_eq!(priority("P1 (high)"), Ok(json!(1)));
        assert_eq!(priority("low"), Ok(json!(3)));
        assert_eq!(priority("2"), Ok(json!(2)));
        let blocking = |s| read(PacketKind::Question, "blocking", text(s));
        assert_eq!(blocking("Yes — I cannot continue"), Ok(json!(true)));
        assert_eq!(blocking("non-blocking"), Ok(json!(false)));
    }

    #[test]
    fn splits_items_and_their_evidence() {
        let completed = |items: &[&str]| {
            let items = items.iter().map(|s| s.to_string()).collect();
            read(PacketKind::Handoff, "completed", Raw::Items(items))
        };
        assert_eq!(
            completed(&[
                "Added the flag (evidence: `cargo test` passes)",
                "Docs — README updated",
                "Cleanup",
            ]),
            Ok(json!([
                {"item": "Added the flag", "evidence": "`cargo test` passes"},
                {"item": "Docs", "evidence": "README updated"},
                {"item": "Cleanup"},
            ]))
        );
    }

    #[test]
    fn converts_json_of_the_wrong_shape_where_it_can() {
        assert_eq!(
            read(
                PacketKind::Dispatch,
                "scope",
                Raw::Json(json!("src/a.rs, src/b.rs"))
            ),
            Ok(json!(["src/a.rs", "src/b.rs"]))
        );
        assert_eq!(
            read(PacketKind::Dispatch, "priority", Raw::Json(json!(2.0))),
            Ok(json!(2))
        );
        assert!(read(PacketKind::Dispatch, "scope", Raw::Json(json!({"a": 1}))).is_err());
    }
}
