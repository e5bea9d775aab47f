//! The corpus of agent outputs (testdata/corpus): each case's text parsed by the heuristics
//! alone against the packet expected of it. A correctness floor, not a timing.

use std::collections::BTreeSet;
use std::path::Path;

use agentry_lean::score::{Expected, score};
use agentry_lean::{MISSING, PacketKind, parse, validate};
use serde_json::Value;

/// The share of cases whose every required field must come out right.
const FLOOR: f64 = 0.95;

struct Case {
    name: String,
    text: String,
    expected: Expected,
}

fn corpus() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the corpus folder")
        .map(|entry| {
            entry
                .expect("a corpus entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter_map(|name| name.strip_suffix(".txt").map(str::to_string))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let read = |suffix: &str| {
                let path = dir.join(format!("{name}{suffix}"));
                std::fs::read_to_string(&path)
                    .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
            };
            let expected = serde_json::from_str(&read(".expected.json"))
                .unwrap_or_else(|err| panic!("{name}.expected.json: {err}"));
            Case {
                text: read(".txt"),
                expected,
                name,
            }
        })
        .collect()
}

fn kind(case: &Case) -> PacketKind {
    PacketKind::from_name(&case.expected.schema)
        .unwrap_or_else(|| panic!("{}: unknown schema {}", case.name, case.expected.schema))
}

#[test]
fn the_corpus_covers_every_schema_with_at_least_200_valid_cases() {
    let cases = corpus();
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    let schemas: BTreeSet<&str> = cases
        .iter()
        .map(|case| case.expected.schema.as_str())
        .collect();
    assert_eq!(schemas.len(), PacketKind::ALL.len(), "{schemas:?}");
    for case in &cases {
        if let Some(packet) = &case.expected.packet {
            let problems: Vec<_> = validate(kind(case).schema(), &Value::Object(packet.clone()))
                .into_iter()
                .filter(|v| !(v.reason == MISSING && case.expected.missing.contains(&v.pointer)))
                .collect();
            assert!(
                problems.is_empty(),
                "{}: the expected packet is invalid: {problems:?}",
                case.name
            );
        }
    }
}

#[test]
fn the_heuristics_alone_get_every_required_field_right_in_95_percent_of_cases() {
    let cases = corpus();
    let mut wrong = Vec::new();
    for case in &cases {
        let result = parse(kind(case).schema(), &case.text).expect("corpus texts are small");
        let score = score(&case.expected, &result);
        if !score.required_right {
            let fields: Vec<&str> = score
                .fields
                .iter()
                .filter(|(_, right)| !right)
                .map(|(n, _)| n.as_str())
                .collect();
            wrong.push(format!("{} ({})", case.name, fields.join(", ")));
        }
    }
    let share = 1.0 - wrong.len() as f64 / cases.len() as f64;
    assert!(
        share >= FLOOR,
        "{:.1}% fully right, below {:.0}%; wrong:\n{}",
        share * 100.0,
        FLOOR * 100.0,
        wrong.join("\n")
    );
}
