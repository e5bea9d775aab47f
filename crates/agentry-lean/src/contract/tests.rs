use proptest::prelude::*;
use serde_json::json;

use super::*;

fn step(id: &str, depends_on: &[&str]) -> Value {
    json!({
        "id": id,
        "title": format!("Step {id}"),
        "agent": "impl",
        "reason": "needed",
        "tools": ["git"],
        "fallback_tools": [],
        "confidence": 0.7,
        "depends_on": depends_on,
        "packet": {
            "task": format!("Do {id}"),
            "scope": ["src/**"],
            "not_your_job": ["docs"],
            "done_when": ["it works"],
            "verify": ["true"],
            "priority": 2
        }
    })
}

fn plan(steps: Vec<Value>) -> Value {
    json!({"contract": CONTRACT, "confidence": 0.9, "steps": steps})
}

fn reasons(value: &Value) -> Vec<(Reason, String)> {
    validate_plan(value, ContractRules::default())
        .unwrap_err()
        .into_iter()
        .map(|r| (r.reason, r.path))
        .collect()
}

#[test]
fn a_chain_is_accepted_and_ordered_by_dependency() {
    let value = plan(vec![step("c", &["b"]), step("a", &[]), step("b", &["a"])]);
    let plan = validate_plan(&value, ContractRules::default()).unwrap();
    let order: Vec<&str> = plan
        .in_dependency_order()
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(order, ["a", "b", "c"]);
    assert_eq!(plan.to_contract_json(), value_with_null_group(value));
}

fn value_with_null_group(mut value: Value) -> Value {
    for step in value["steps"].as_array_mut().unwrap() {
        step["parallel_group"] = Value::Null;
    }
    value
}

#[test]
fn each_rule_has_its_reason_and_path() {
    let mut unknown = plan(vec![step("a", &[])]);
    unknown["steps"][0]["extra"] = json!(1);
    assert_eq!(
        reasons(&unknown),
        [(Reason::UnknownField, "steps[0].extra".into())]
    );

    let mut missing = plan(vec![step("a", &[])]);
    missing["steps"][0].as_object_mut().unwrap().remove("agent");
    assert_eq!(
        reasons(&missing),
        [(Reason::MissingField, "steps[0].agent".into())]
    );

    assert_eq!(
        reasons(&plan(vec![])),
        [(Reason::EmptyPlan, "steps".into())]
    );

    let mut high = plan(vec![step("a", &[])]);
    high["confidence"] = json!(1.5);
    assert_eq!(
        reasons(&high),
        [(Reason::ConfidenceOutOfRange, "confidence".into())]
    );

    let mut empty_agent = plan(vec![step("a", &[])]);
    empty_agent["steps"][0]["agent"] = json!(" ");
    assert_eq!(
        reasons(&empty_agent),
        [(Reason::EmptyAgent, "steps[0].agent".into())]
    );

    let duplicate = plan(vec![step("a", &[]), step("a", &[])]);
    assert_eq!(
        reasons(&duplicate),
        [(Reason::DuplicateStep, "steps[1].id".into())]
    );

    let dangling = plan(vec![step("a", &["zz"])]);
    assert_eq!(
        reasons(&dangling),
        [(Reason::UnknownDependency, "steps[0].depends_on[0]".into())]
    );

    let cycle = plan(vec![step("a", &["b"]), step("b", &["a"])]);
    assert_eq!(
        reasons(&cycle),
        [(Reason::DependencyCycle, "steps[0].depends_on".into())]
    );

    let mut packet = plan(vec![step("a", &[])]);
    packet["steps"][0]["packet"]["scope"] = json!([""]);
    assert_eq!(
        reasons(&packet)[0],
        (Reason::PacketInvalid, "steps[0].packet.scope[0]".into())
    );

    let mut tools = plan(vec![step("a", &[])]);
    tools["steps"][0]["tools"] = json!("git");
    assert_eq!(
        reasons(&tools),
        [(Reason::WrongType, "steps[0].tools".into())]
    );

    assert_eq!(reasons(&json!([1])), [(Reason::NotAnObject, String::new())]);
}

#[test]
fn agents_outside_the_rules_are_unknown() {
    let agents = vec!["other".to_string()];
    let rules = ContractRules {
        agents: Some(&agents),
    };
    let err = validate_plan(&plan(vec![step("a", &[])]), rules).unwrap_err();
    assert_eq!(err[0].reason, Reason::UnknownAgent);
    assert_eq!(
        err[0].to_string(),
        "steps[0].agent: names no agent; the agents are: other (unknown_agent)"
    );
}

#[test]
fn the_json_is_read_from_a_fence_or_a_bare_object() {
    let body = plan(vec![step("a", &[])]).to_string();
    for answer in [
        format!("Here it is:\n```json\n{body}\n```\nDone."),
        format!("```\n{body}\n```"),
        format!("The plan: {body} — as asked."),
    ] {
        assert!(
            read_plan(&answer, ContractRules::default()).is_ok(),
            "{answer}"
        );
    }
    let err = read_plan("no plan today", ContractRules::default()).unwrap_err();
    assert_eq!(err[0].reason, Reason::InvalidJson);
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(|f| json!(f)),
        any::<i64>().prop_map(|i| json!(i)),
        prop_oneof![
            Just("steps".to_string()),
            Just("id".to_string()),
            Just("a".to_string()),
            ".{0,8}"
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        let keys = prop_oneof![
            Just("steps".to_string()),
            Just("confidence".to_string()),
            Just("depends_on".to_string()),
            Just("packet".to_string()),
            Just("id".to_string()),
            "[a-z_]{1,12}"
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A valid plan of `n` steps, each depending on any of the steps before it.
fn valid_plan() -> impl Strategy<Value = Value> {
    (
        1usize..8,
        prop::collection::vec(any::<u8>(), 8),
        0.0f64..=1.0,
    )
        .prop_map(|(n, picks, confidence)| {
            let steps = (0..n)
                .map(|i| {
                    let deps: Vec<String> = (0..i)
                        .filter(|d| picks[i] & (1 << d) != 0)
                        .map(|d| format!("s{d}"))
                        .collect();
                    let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
                    step(&format!("s{i}"), &deps)
                })
                .collect();
            let mut value = plan(steps);
            value["confidence"] = json!(confidence);
            value
        })
}

proptest! {
    #[test]
    fn any_json_is_accepted_or_rejected_with_a_reason(value in any_json()) {
        if let Err(rejections) = validate_plan(&value, ContractRules::default()) {
            prop_assert!(!rejections.is_empty());
            prop_assert!(rejections.iter().all(|r| !r.message.is_empty()));
        }
    }

    #[test]
    fn a_plan_shaped_object_with_arbitrary_fields_never_panics(steps in prop::collection::vec(any_json(), 0..4)) {
        let value = json!({"confidence": 0.5, "steps": steps});
        if let Err(rejections) = validate_plan(&value, ContractRules::default()) {
            prop_assert!(!rejections.is_empty());
        }
    }

    #[test]
    fn any_text_is_accepted_or_rejected_with_a_reason(text in ".{0,200}") {
        if let Err(rejections) = read_plan(&text, ContractRules::default()) {
            prop_assert!(!rejections.is_empty());
        }
    }

    #[test]
    fn generated_valid_plans_are_accepted(value in valid_plan()) {
        let accepted = validate_plan(&value, ContractRules::default());
        prop_assert!(accepted.is_ok(), "{:?}", accepted.err());
        let plan = accepted.unwrap();
        let order = plan.in_dependency_order();
        prop_assert_eq!(order.len(), plan.steps.len());
    }
}
