//! `agentry schema` and `agentry parse`, driven through the binary. Neither needs a project.

mod support;

use std::collections::HashSet;

use serde_json::{Value, json};
use support::{agentry, agentry_with, assert_refused, json_of, stderr, stdout};
use tempfile::TempDir;

const SCHEMAS: [&str; 5] = ["dispatch", "review_verdict", "question", "debug", "handoff"];

const DISPATCH: &str = "\
I'll hand this to the next worker.

TASK: Add `--json` to `agentry ready`
SCOPE: crates/agentry/src/commands/ready.rs
NOT-YOUR-JOB:
- the store
DONE-WHEN:
- `agentry ready --json` prints a JSON array
VERIFY:
```bash
cargo test -p agentry --test cli
```
PRIORITY: P1

Let me know if you want changes.
";

fn parse(args: &[&str], stdin: &str) -> std::process::Output {
    let dir = TempDir::new().expect("a temporary directory");
    let mut all = vec!["parse"];
    all.extend_from_slice(args);
    agentry_with(dir.path(), &all, &[], Some(stdin))
}

fn keys(value: &Value) -> HashSet<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn schema_prints_each_packet_schema_strict_and_with_its_limits() {
    let dir = TempDir::new().unwrap();
    for name in SCHEMAS {
        let schema = json_of(&agentry(dir.path(), &["schema", name]));
        assert_eq!(schema["type"], "object", "{name}");
        assert_eq!(schema["additionalProperties"], false, "{name}");
    }
    let dispatch = json_of(&agentry(dir.path(), &["schema", "dispatch"]));
    assert_eq!(
        keys(&dispatch["properties"]),
        HashSet::from([
            "task",
            "scope",
            "not_your_job",
            "done_when",
            "verify",
            "priority"
        ])
    );
    assert_eq!(dispatch["properties"]["scope"]["maxItems"], 40);
    assert_eq!(dispatch["properties"]["scope"]["items"]["maxLength"], 260);
    assert_eq!(dispatch["properties"]["not_your_job"]["maxItems"], 30);
    assert_eq!(dispatch["properties"]["task"]["maxLength"], 5000);
    let verdict = json_of(&agentry(dir.path(), &["schema", "review_verdict"]));
    assert_eq!(
        verdict["properties"]["verdict"]["enum"],
        json!(["pass", "fail"])
    );
    assert_eq!(verdict["required"], json!(["verdict"]));
}

#[test]
fn schema_refuses_an_unknown_name_naming_the_schemas() {
    let dir = TempDir::new().unwrap();
    let out = agentry(dir.path(), &["schema", "plan"]);
    assert_refused(
        &out,
        &[
            "unknown schema \"plan\"",
            "dispatch, review_verdict, question, debug, handoff",
        ],
    );
}

#[test]
fn parse_prints_the_packet_and_each_fields_confidence_and_source() {
    let out = parse(&["--schema", "dispatch"], DISPATCH);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.starts_with("dispatch packet, complete, confidence 0.9"),
        "{text}"
    );
    assert!(text.contains("\"priority\": 1"), "{text}");
    assert!(
        text.contains("verify        0.90  heuristic  key_value"),
        "{text}"
    );
}

#[test]
fn parse_json_gives_the_packet_fields_missing_invalid_and_diagnostics() {
    let out = parse(&["--schema", "dispatch", "-", "--json"], DISPATCH);
    let result = json_of(&out);
    assert_eq!(
        keys(&result),
        HashSet::from([
            "schema",
            "packet",
            "complete",
            "confidence",
            "fields",
            "missing",
            "invalid",
            "diagnostics",
            "telemetry"
        ])
    );
    assert_eq!(result["complete"], true);
    assert_eq!(
        result["packet"]["verify"],
        json!(["cargo test -p agentry --test cli"])
    );
    let task = &result["fields"][0];
    assert_eq!(
        keys(task),
        HashSet::from([
            "name",
            "required",
            "value",
            "confidence",
            "source",
            "method"
        ])
    );
    assert_eq!(task["source"], "heuristic");
    assert_eq!(task["method"], "key_value");
}

#[test]
fn parse_reads_the_ways_reviewers_write_a_verdict() {
    for (answer, verdict) in [
        ("LGTM", "pass"),
        ("Verdict: FAIL\nFailed items:\n- no test", "fail"),
        ("- [x] flag added\n- [ ] test added", "fail"),
        ("```json\n{\"verdict\": \"pass\"}\n```", "pass"),
    ] {
        let result = json_of(&parse(&["--schema", "review_verdict", "--json"], answer));
        assert_eq!(result["packet"]["verdict"], verdict, "{answer}");
    }
}

#[test]
fn an_incomplete_packet_exits_1_naming_the_missing_fields() {
    let out = parse(
        &["--schema", "debug"],
        "BUG: crash on empty input\nROOT: unchecked index\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("fix"), "the fields are still printed");
    assert_eq!(
        stderr(&out),
        "agentry: the debug packet is not complete: missing fix, test, result\n"
    );
}

#[test]
fn an_invalid_packet_exits_1_with_each_field_and_reason() {
    let long = "x".repeat(261);
    let answer = format!(
        "```json\n{{\"task\": \"t\", \"scope\": [\"{long}\"], \"not_your_job\": [\"a\"], \"done_when\": [\"b\"], \"verify\": [\"c\"], \"priority\": 9}}\n```"
    );
    let out = parse(&["--schema", "dispatch", "--json"], &answer);
    assert_eq!(out.status.code(), Some(1));
    let result: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        result["invalid"],
        json!([
            {"pointer": "/scope/0", "reason": "must be at most 260 characters long (it has 261)"},
            {"pointer": "/priority", "reason": "must be from 0 to 4 (got 9)"}
        ])
    );
    let err = stderr(&out);
    assert!(
        err.contains("/scope/0: must be at most 260 characters long"),
        "{err}"
    );
    assert!(
        err.contains("/priority: must be from 0 to 4 (got 9)"),
        "{err}"
    );
}

#[test]
fn a_schema_file_gives_the_fields_and_their_aliases() {
    let dir = TempDir::new().unwrap();
    let schema = json!({
        "type": "object",
        "properties": {
            "summary": {"type": "string", "x-aliases": ["tl;dr", "overview"]},
            "files_changed": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
            "tests_pass": {"type": "boolean"}
        },
        "required": ["summary", "files_changed", "tests_pass"],
        "additionalProperties": false
    });
    std::fs::write(dir.path().join("report.json"), schema.to_string()).unwrap();
    std::fs::write(
        dir.path().join("answer.md"),
        "## Overview\nAdded the flag.\n\n**Files changed:**\n- src/a.rs\n- src/b.rs\n\nTests pass: yes\n",
    )
    .unwrap();
    let out = agentry(
        dir.path(),
        &["parse", "--schema", "report.json", "answer.md", "--json"],
    );
    let result = json_of(&out);
    assert_eq!(result["schema"], "report");
    assert_eq!(
        result["packet"],
        json!({"summary": "Added the flag.", "files_changed": ["src/a.rs", "src/b.rs"], "tests_pass": true})
    );
}

#[test]
fn a_schema_that_is_unknown_or_unsupported_is_refused() {
    let dir = TempDir::new().unwrap();
    let out = agentry_with(dir.path(), &["parse", "--schema", "plan"], &[], Some("x"));
    assert_refused(&out, &["unknown schema \"plan\"", "no such file"]);
    let schema =
        json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "^x"}}});
    std::fs::write(dir.path().join("s.json"), schema.to_string()).unwrap();
    let out = agentry_with(
        dir.path(),
        &["parse", "--schema", "s.json"],
        &[],
        Some("a: x"),
    );
    assert_refused(
        &out,
        &["s.json", "/properties/a", "\"pattern\" is not supported"],
    );
    std::fs::write(dir.path().join("bad.json"), "{not json").unwrap();
    let out = agentry_with(
        dir.path(),
        &["parse", "--schema", "bad.json"],
        &[],
        Some("a: x"),
    );
    assert_refused(&out, &["bad.json is not JSON"]);
}

#[test]
fn an_input_over_10_mib_is_refused() {
    let dir = TempDir::new().unwrap();
    let big = dir.path().join("big.txt");
    std::fs::write(&big, vec![b' '; 10 * 1024 * 1024 + 1]).unwrap();
    let out = agentry(dir.path(), &["parse", "--schema", "debug", "big.txt"]);
    assert_refused(&out, &["big.txt: input larger than 10 MiB is refused"]);
    let out = agentry(dir.path(), &["parse", "--schema", "debug", "missing.txt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("could not read missing.txt"));
}

#[test]
fn force_is_accepted() {
    let out = parse(&["--schema", "review_verdict", "--force", "--json"], "LGTM");
    assert_eq!(json_of(&out)["packet"]["verdict"], "pass");
}
