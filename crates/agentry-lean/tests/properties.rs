//! Bad input: arbitrary text and arbitrary JSON never panic; an invalid packet is always
//! rejected naming the field and the reason; a valid packet always gets through; inputs up
//! to 10 MiB are parsed and larger ones refused. Work stays linear in the input (no
//! backtracking anywhere), which the large pathological inputs below exercise.

use agentry_core::verdict::{NOT_UNDERSTOOD, Verdict};
use agentry_lean::{
    DebugPacket, DispatchPacket, HandoffSummary, InputError, MAX_INPUT_BYTES, Packet, PacketKind,
    QuestionPacket, ReviewVerdict, parse, review_verdict, validate,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Pieces agents' answers are made of, so that generated text hits the heuristics' paths.
const PIECES: [&str; 40] = [
    "TASK:",
    "SCOPE:",
    "NOT-YOUR-JOB:",
    "VERIFY:",
    "PRIORITY: P1",
    "Verdict: FAIL",
    "LGTM",
    "## Root cause",
    "**Fix:**",
    "- ",
    "* ",
    "1. ",
    "- [ ] ",
    "- [x] ",
    "❌ ",
    "✅ ",
    "|",
    " | ",
    "BUG | ROOT | FIX",
    "```json\n",
    "```\n",
    "```rust\n",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "\"verdict\"",
    ": ",
    ", ",
    "\"fail\"",
    "\\",
    "\n",
    "\n\n",
    "   ",
    "evidence:",
    " — ",
    "none",
    "yes",
    "é漢🙂",
];

fn answer_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(&PIECES[..]).prop_map(str::to_string),
            1 => "[a-zA-Z0-9 ./`-]{0,12}",
        ],
        0..80,
    )
    .prop_map(|pieces| pieces.concat())
}

fn any_json() -> impl Strategy<Value = Value> {
    let field = prop::sample::select(vec![
        "task",
        "scope",
        "not_your_job",
        "done_when",
        "verify",
        "priority",
        "verdict",
        "failed_items",
        "fix_list",
        "question",
        "context",
        "files",
        "options",
        "recommended",
        "blocking",
        "bug",
        "root",
        "fix",
        "test",
        "result",
        "completed",
        "pending",
        "risks",
        "next",
        "item",
        "evidence",
        "reason",
        "other",
    ])
    .prop_map(str::to_string);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..8).prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop_oneof![
            Just("pass".to_string()),
            Just("fail".to_string()),
            "[a-z ]{0,8}",
            "x{255,265}"
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((field.clone(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// What serde alone says of `value` as a packet of `kind`, without the schema's limits.
fn serde_accepts(kind: PacketKind, value: &Value) -> bool {
    let value = value.clone();
    match kind {
        PacketKind::Dispatch => serde_json::from_value::<DispatchPacket>(value).is_ok(),
        PacketKind::ReviewVerdict => serde_json::from_value::<ReviewVerdict>(value).is_ok(),
        PacketKind::Question => serde_json::from_value::<QuestionPacket>(value).is_ok(),
        PacketKind::Debug => serde_json::from_value::<DebugPacket>(value).is_ok(),
        PacketKind::Handoff => serde_json::from_value::<HandoffSummary>(value).is_ok(),
    }
}

fn check_parse(text: &str) {
    for kind in PacketKind::ALL {
        let result = parse(kind.schema(), text).expect("small inputs are parsed");
        assert!((0.0..=1.0).contains(&result.confidence));
        for field in &result.fields {
            assert!((0.0..=1.0).contains(&field.confidence), "{field:?}");
            assert_eq!(field.value.is_none(), field.source.is_none());
            assert_eq!(
                field.required && field.value.is_none(),
                result.missing.contains(&field.name)
            );
        }
        for violation in &result.invalid {
            assert!(violation.pointer.starts_with('/') && !violation.reason.is_empty());
        }
        if result.complete {
            let packet = Value::Object(result.packet.clone());
            assert!(
                Packet::from_value(kind, &packet).is_ok(),
                "complete but rejected: {packet}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_parse(&text);
    }

    #[test]
    fn answer_like_text_never_panics_and_complete_packets_are_valid(text in answer_like()) {
        check_parse(&text);
    }

    #[test]
    fn arbitrary_json_is_accepted_only_when_valid_and_rejected_with_field_and_reason(value in any_json()) {
        for kind in PacketKind::ALL {
            let problems = validate(kind.schema(), &value);
            match Packet::from_value(kind, &value) {
                Ok(_) => prop_assert!(problems.is_empty()),
                Err(rejected) => {
                    prop_assert!(!rejected.is_empty());
                    for problem in &rejected {
                        prop_assert!(problem.pointer.is_empty() || problem.pointer.starts_with('/'));
                        prop_assert!(!problem.reason.is_empty());
                    }
                }
            }
            // the schema is never looser than the types
            if !serde_accepts(kind, &value) {
                prop_assert!(!problems.is_empty(), "{} accepted {value}", kind.name());
            }
            // and what it accepts, the types take
            if problems.is_empty() {
                prop_assert!(serde_accepts(kind, &value));
            }
        }
    }

    #[test]
    fn arbitrary_json_in_an_answer_never_panics(value in any_json()) {
        check_parse(&format!("Here you go:\n```json\n{value:#}\n```\nand inline {value}"));
    }

    /// The engine reads the last ```json block today; wherever that reading understands an
    /// answer, the lean parse reads the same verdict.
    #[test]
    fn the_lean_verdict_agrees_with_the_engines_reader(
        before in answer_like(),
        pass in any::<bool>(),
        failed in prop::collection::vec("[^\\x00-\\x1f]{1,40}", 0..4),
        after in "[^`{}]{0,80}",
    ) {
        let packet = json!({"verdict": if pass { "pass" } else { "fail" }, "failed_items": failed});
        let answer = format!("{before}\n```json\n{packet}\n```\n{after}");
        let engine = Verdict::from_answer(&answer);
        if engine.failed_items != [NOT_UNDERSTOOD] {
            prop_assert_eq!(review_verdict(&answer), engine);
        }
    }

    #[test]
    fn a_valid_verdict_in_a_json_block_comes_back_as_it_was(
        pass in any::<bool>(),
        failed in prop::collection::vec("[^\\x00-\\x1f]{1,40}", 0..5),
        fixes in prop::collection::vec("[^\\x00-\\x1f]{1,40}", 0..5),
    ) {
        let packet = json!({"verdict": if pass { "pass" } else { "fail" }, "failed_items": failed, "fix_list": fixes});
        let text = format!("Reasoning first.\n\n```json\n{packet}\n```\n");
        let result = parse(PacketKind::ReviewVerdict.schema(), &text).unwrap();
        prop_assert_eq!(Value::Object(result.packet), packet);
    }
}

/// 256 KiB of one pattern: a pass quadratic in the input would not finish here.
#[test]
fn pathological_inputs_finish() {
    let size = 256 << 10;
    let patterns = [
        "{\"verdict\": ",
        "{",
        "\"",
        "[",
        "{\"a\": \"{\\\"",
        "| BUG | ROOT |\n",
        "BUG: x | ROOT: y | ",
        "- [ ] item\n",
        "```\n",
        "TASK:\n",
        "  - nested\n",
        "## Verdict\n",
        "verdict verdict lgtm not ",
        "completed — evidence: (",
        "a,",
    ];
    for pattern in patterns {
        let text = pattern.repeat(size / pattern.len());
        for kind in [PacketKind::ReviewVerdict, PacketKind::Handoff] {
            parse(kind.schema(), &text).expect("under the limit");
        }
    }
}

#[test]
fn ten_mebibytes_are_parsed_and_a_byte_more_is_refused() {
    let answer = "Verdict: FAIL\nFailed items:\n- no test\nFix list:\n- add one\n\n";
    let mut text = answer.repeat(1000);
    text.push_str(&" ".repeat(MAX_INPUT_BYTES - text.len()));
    let result = parse(PacketKind::ReviewVerdict.schema(), &text).expect("exactly the limit");
    assert_eq!(result.packet["verdict"], "fail");
    text.push(' ');
    assert_eq!(
        parse(PacketKind::ReviewVerdict.schema(), &text).unwrap_err(),
        InputError::TooLarge {
            len: MAX_INPUT_BYTES + 1
        }
    );
}
