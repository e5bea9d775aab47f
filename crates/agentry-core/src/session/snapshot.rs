//! `loop_snapshot.v1`: the record of each step of an issue session, and its strict schema.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{EventType, IssueId, Timestamp};

pub const SCHEMA_VERSION: &str = "loop_snapshot.v1";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Stage {
    Running,
    SpecReview,
    SpecFix,
    QualityReview,
    QualityFix,
    Verification,
    Overflow,
    ReviewGate,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SnapshotStatus {
    Start,
    Pass,
    Fail,
    FixCreated,
    VerifyFailed,
    NeedsReview,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempts {
    pub spec: u32,
    pub quality: u32,
}

/// Evidence that agentry ran the issue's verify commands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyEvidence {
    pub command: String,
    pub exit_code: i32,
    pub produced_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_ref: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema_version: String,
    pub session_id: String,
    pub orchestrator_id: String,
    pub issue_id: IssueId,
    pub task_id: IssueId,
    pub event_type: EventType,
    pub stage: Stage,
    pub status: SnapshotStatus,
    pub attempts: Attempts,
    pub failed_items: Vec<String>,
    pub fix_list: Vec<String>,
    pub verify: Option<VerifyEvidence>,
    pub timestamp: Timestamp,
}

impl Snapshot {
    /// The snapshot as JSON; keys come out sorted, as the schema asks.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a snapshot serialises")
    }
}

const KEYS: [&str; 13] = [
    "schema_version",
    "session_id",
    "orchestrator_id",
    "issue_id",
    "task_id",
    "event_type",
    "stage",
    "status",
    "attempts",
    "failed_items",
    "fix_list",
    "verify",
    "timestamp",
];

/// Checks a snapshot read from anywhere against `loop_snapshot.v1`: exactly its 13 keys, known
/// stages, statuses and event types, non-negative integer attempts (booleans refused), string
/// lists, and UTC timestamps ending in `Z` or `+00:00`.
pub fn validate(value: &Value) -> Result<(), String> {
    let object = value.as_object().ok_or("a snapshot is a JSON object")?;
    if let Some(key) = object.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("unknown key {key:?}"));
    }
    if let Some(key) = KEYS.iter().find(|k| !object.contains_key(**k)) {
        return Err(format!("missing key {key:?}"));
    }
    if object["schema_version"] != SCHEMA_VERSION {
        return Err(format!("schema_version must be {SCHEMA_VERSION:?}"));
    }
    for key in ["session_id", "orchestrator_id", "issue_id", "task_id"] {
        non_empty_string(object, key)?;
    }
    parse_as::<EventType>(object, "event_type")?;
    parse_as::<Stage>(object, "stage")?;
    parse_as::<SnapshotStatus>(object, "status")?;
    validate_attempts(&object["attempts"])?;
    string_list(object, "failed_items")?;
    string_list(object, "fix_list")?;
    utc_timestamp(&object["timestamp"], "timestamp")?;
    validate_verify(&object["verify"])
}

fn non_empty_string(object: &Map<String, Value>, key: &str) -> Result<(), String> {
    match object[key].as_str() {
        Some(text) if !text.is_empty() => Ok(()),
        _ => Err(format!("{key} must be a non-empty string")),
    }
}

fn parse_as<T: for<'de> Deserialize<'de>>(
    object: &Map<String, Value>,
    key: &str,
) -> Result<(), String> {
    T::deserialize(&object[key])
        .map(drop)
        .map_err(|e| format!("{key}: {e}"))
}

fn validate_attempts(value: &Value) -> Result<(), String> {
    let attempts = value
        .as_object()
        .ok_or("attempts must be an object {spec, quality}")?;
    if attempts.len() != 2 {
        return Err("attempts has exactly the keys spec and quality".into());
    }
    for key in ["spec", "quality"] {
        // A JSON boolean is not a number here, and as_u64 refuses negatives and fractions.
        if attempts.get(key).and_then(Value::as_u64).is_none() {
            return Err(format!("attempts.{key} must be a non-negative integer"));
        }
    }
    Ok(())
}

fn string_list(object: &Map<String, Value>, key: &str) -> Result<(), String> {
    match object[key].as_array() {
        Some(items) if items.iter().all(Value::is_string) => Ok(()),
        _ => Err(format!("{key} must be a list of strings")),
    }
}

fn utc_timestamp(value: &Value, key: &str) -> Result<(), String> {
    let text = value
        .as_str()
        .ok_or_else(|| format!("{key} must be a string"))?;
    if !(text.ends_with('Z') || text.ends_with("+00:00")) {
        return Err(format!(
            "{key} must be UTC (ending in Z or +00:00): {text:?}"
        ));
    }
    text.parse::<Timestamp>()
        .map(drop)
        .map_err(|e| format!("{key}: {e}"))
}

fn validate_verify(value: &Value) -> Result<(), String> {
    if value.is_null() {
        return Ok(());
    }
    let verify = value
        .as_object()
        .ok_or("verify must be null or an object")?;
    let allowed = ["command", "exit_code", "produced_at", "output_ref"];
    if let Some(key) = verify.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("unknown key verify.{key}"));
    }
    if !verify.get("command").is_some_and(Value::is_string) {
        return Err("verify.command must be a string".into());
    }
    if verify.get("exit_code").and_then(Value::as_u64).is_none() {
        return Err("verify.exit_code must be an integer >= 0".into());
    }
    if verify.get("output_ref").is_some_and(|r| !r.is_string()) {
        return Err("verify.output_ref must be a string".into());
    }
    utc_timestamp(
        verify.get("produced_at").unwrap_or(&Value::Null),
        "verify.produced_at",
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> Value {
        json!({
            "schema_version": "loop_snapshot.v1", "session_id": "s", "orchestrator_id": "o",
            "issue_id": "i-1", "task_id": "i-1", "event_type": "SPEC_REVIEW_FAIL",
            "stage": "SPEC_REVIEW", "status": "FAIL", "attempts": {"spec": 1, "quality": 0},
            "failed_items": ["x"], "fix_list": ["y"],
            "verify": {"command": "sh t.sh", "exit_code": 0, "produced_at": "2026-01-01T00:00:00+00:00"},
            "timestamp": "2026-01-01T00:00:00Z"
        })
    }

    fn with(key: &str, value: Value) -> Value {
        let mut snapshot = sample();
        snapshot[key] = value;
        snapshot
    }

    #[test]
    fn accepts_a_valid_snapshot() {
        assert_eq!(validate(&sample()), Ok(()));
    }

    #[test]
    fn rejects_what_the_schema_forbids() {
        let mut extra = sample();
        extra["note"] = json!("x");
        let cases = [
            extra,
            with("attempts", json!({"spec": -1, "quality": 0})),
            with("attempts", json!({"spec": true, "quality": 0})),
            with("attempts", json!({"spec": 1.5, "quality": 0})),
            with("timestamp", json!("2026-01-01T00:00:00+02:00")),
            with("timestamp", json!("2026-01-01T00:00:00")),
            with("stage", json!("LUNCH")),
            with("event_type", json!("SESSION_PAUSED")),
            with(
                "verify",
                json!({"command": "x", "exit_code": -1, "produced_at": "2026-01-01T00:00:00Z"}),
            ),
            with("failed_items", json!([1])),
        ];
        for case in cases {
            assert!(validate(&case).is_err(), "accepted {case}");
        }
    }
}
