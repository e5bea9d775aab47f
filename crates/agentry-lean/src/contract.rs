//! The planner contract `planner.contract.v1`: the one shape a planner's answer may take,
//! checked strictly. A plan has at least one step and a `confidence` in [0, 1]; each step names
//! its agent, why it exists, its tools, its confidence, an optional parallel group, the steps
//! it depends on, and what agentry needs to make an issue of it: a title and a dispatch
//! packet (TASK, SCOPE, NOT-YOUR-JOB, DONE-WHEN, VERIFY, PRIORITY).
//!
//! Unknown fields are rejected everywhere. Every rejection carries a stable machine reason
//! (the label of `planner_contract_failure_total`) and a message naming the path, e.g.
//! `steps[2].depends_on[0]`, written for the model that must correct its answer.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::packets::{DispatchPacket, Packet, PacketKind};
use crate::parse::MAX_INPUT_BYTES;

/// The contract's name, which a plan may repeat in its `contract` field.
pub const CONTRACT: &str = "planner.contract.v1";
/// The most steps one plan may have.
pub const MAX_STEPS: usize = 50;
/// The longest step id, title, agent or parallel group.
pub const NAME_MAX: usize = 200;
/// The most tools (or fallback tools) one step may list.
pub const MAX_TOOLS: usize = 40;
/// At most this many problems are reported for one answer.
const MAX_REJECTIONS: usize = 20;

/// A plan the contract accepted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub confidence: f64,
    pub steps: Vec<PlanStep>,
}

/// One step of a plan: one issue for one agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanStep {
    /// Unique within the plan; what `depends_on` names.
    pub id: String,
    pub title: String,
    pub agent: String,
    pub reason: String,
    pub tools: Vec<String>,
    pub fallback_tools: Vec<String>,
    pub confidence: f64,
    /// Steps sharing a group may run side by side.
    pub parallel_group: Option<String>,
    pub depends_on: Vec<String>,
    pub packet: DispatchPacket,
}

/// Why an answer was rejected: the stable label of the failure counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    TooLarge,
    InvalidJson,
    NotAnObject,
    UnknownField,
    MissingField,
    WrongType,
    WrongContract,
    EmptyPlan,
    /// Too many steps or list entries, or a name too long.
    TooLong,
    ConfidenceOutOfRange,
    EmptyField,
    EmptyAgent,
    UnknownAgent,
    DuplicateStep,
    UnknownDependency,
    DependencyCycle,
    PacketInvalid,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::TooLarge => "too_large",
            Reason::InvalidJson => "invalid_json",
            Reason::NotAnObject => "not_an_object",
            Reason::UnknownField => "unknown_field",
            Reason::MissingField => "missing_field",
            Reason::WrongType => "wrong_type",
            Reason::WrongContract => "wrong_contract",
            Reason::EmptyPlan => "empty_plan",
            Reason::TooLong => "too_long",
            Reason::ConfidenceOutOfRange => "confidence_out_of_range",
            Reason::EmptyField => "empty_field",
            Reason::EmptyAgent => "empty_agent",
            Reason::UnknownAgent => "unknown_agent",
            Reason::DuplicateStep => "duplicate_step",
            Reason::UnknownDependency => "unknown_dependency",
            Reason::DependencyCycle => "dependency_cycle",
            Reason::PacketInvalid => "packet_invalid",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with an answer: its reason, where (`steps[2].agent`, empty for the whole
/// answer) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub reason: Reason,
    pub path: String,
    pub message: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path.is_empty() {
            true => write!(f, "{} ({})", self.message, self.reason),
            false => write!(f, "{}: {} ({})", self.path, self.message, self.reason),
        }
    }
}

/// What a plan is checked against beyond its shape.
#[derive(Clone, Copy, Debug, Default)]
pub struct ContractRules<'a> {
    /// The agents a step may name; `None` accepts any non-empty name.
    pub agents: Option<&'a [String]>,
}

/// Reads a model's answer: the JSON in its first ```json fence (or any fence holding an
/// object), else the text from its first `{` to its last `}`, checked against the contract.
/// Never panics; an `Err` always holds at least one rejection.
pub fn read_plan(answer: &str, rules: ContractRules<'_>) -> Result<Plan, Vec<Rejection>> {
    if answer.len() > MAX_INPUT_BYTES {
        let message = format!(
            "the answer is {} bytes; at most {MAX_INPUT_BYTES}",
            answer.len()
        );
        return Err(vec![reject(Reason::TooLarge, "", message)]);
    }
    let json = extract_json(answer);
    let value: Value = serde_json::from_str(json).map_err(|err| {
        vec![reject(
            Reason::InvalidJson,
            "",
            format!("the answer holds no valid JSON object: {err}"),
        )]
    })?;
    validate_plan(&value, rules)
}

/// The JSON part of an answer (see [`read_plan`]).
pub fn extract_json(answer: &str) -> &str {
    if let Some(fenced) = fences(answer).find(|body| body.trim_start().starts_with('{')) {
        return fenced.trim();
    }
    match (answer.find('{'), answer.rfind('}')) {
        (Some(start), Some(end)) if start < end => &answer[start..=end],
        _ => answer.trim(),
    }
}

/// The bodies of the answer's ``` fences, the info string (e.g. `json`) left out.
fn fences(answer: &str) -> impl Iterator<Item = &str> {
    answer
        .split("```")
        .skip(1)
        .step_by(2)
        .map(|block| match block.find('\n') {
            Some(newline) => &block[newline + 1..],
            None => block,
        })
}

/// Checks a JSON value against the contract (see the module's doc). Never panics; an `Err`
/// always holds at least one rejection.
pub fn validate_plan(value: &Value, rules: ContractRules<'_>) -> Result<Plan, Vec<Rejection>> {
    let mut check = Check::default();
    let Some(root) = value.as_object() else {
        let message = format!("the plan must be a JSON object, not {}", kind(value));
        return Err(vec![reject(Reason::NotAnObject, "", message)]);
    };
    check.fields(root, "", &["confidence", "steps"], &["contract"]);
    if let Some(contract) = root.get("contract") {
        if contract.as_str() != Some(CONTRACT) {
            check.add(
                Reason::WrongContract,
                "contract",
                format!("must be {CONTRACT:?}"),
            );
        }
    }
    check.confidence(root, "");
    match root.get("steps") {
        Some(Value::Array(steps)) => check.steps(steps, rules),
        Some(other) => check.wrong_type("steps", "a list of steps", other),
        None => {}
    }
    if !check.found.is_empty() {
        return Err(check.found);
    }
    serde_json::from_value(value.clone())
        .map_err(|err| vec![reject(Reason::WrongType, "", err.to_string())])
}

/// A step's fields: required, then optional.
const STEP_REQUIRED: &[&str] = &[
    "id",
    "title",
    "agent",
    "reason",
    "tools",
    "fallback_tools",
    "confidence",
    "depends_on",
    "packet",
];
const STEP_OPTIONAL: &[&str] = &["parallel_group"];

#[derive(Default)]
struct Check {
    found: Vec<Rejection>,
}

impl Check {
    fn add(&mut self, reason: Reason, path: &str, message: String) {
        if self.found.len() < MAX_REJECTIONS {
            self.found.push(reject(reason, path, message));
        }
    }

    fn wrong_type(&mut self, path: &str, wanted: &str, found: &Value) {
        self.add(
            Reason::WrongType,
            path,
            format!("must be {wanted}, not {}", kind(found)),
        );
    }

    /// Required fields present, and no field outside `required` and `optional`.
    fn fields(
        &mut self,
        object: &Map<String, Value>,
        at: &str,
        required: &[&str],
        optional: &[&str],
    ) {
        for name in required.iter().filter(|name| !object.contains_key(**name)) {
            self.add(
                Reason::MissingField,
                &join(at, name),
                "required field missing".into(),
            );
        }
        let known = |name: &str| required.contains(&name) || optional.contains(&name);
        for name in object.keys().filter(|name| !known(name)) {
            let listed = [required, optional].concat().join(", ");
            let message = format!("unknown field (the fields are: {listed})");
            self.add(Reason::UnknownField, &join(at, name), message);
        }
    }

    fn confidence(&mut self, object: &Map<String, Value>, at: &str) {
        let path = join(at, "confidence");
        match object.get("confidence") {
            Some(Value::Number(n)) => {
                let value = n.as_f64().unwrap_or(f64::NAN);
                if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
                    let message = format!("must be a number from 0 to 1, not {n}");
                    self.add(Reason::ConfidenceOutOfRange, &path, message);
                }
            }
            Some(other) => self.wrong_type(&path, "a number from 0 to 1", other),
            None => {}
        }
    }

    fn steps(&mut self, steps: &[Value], rules: ContractRules<'_>) {
        if steps.is_empty() {
            self.add(
                Reason::EmptyPlan,
                "steps",
                "a plan needs at least one step".into(),
            );
            return;
        }
        if steps.len() > MAX_STEPS {
            let message = format!("{} steps; at most {MAX_STEPS}", steps.len());
            self.add(Reason::TooLong, "steps", message);
            return;
        }
        let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
        for (index, step) in steps.iter().enumerate() {
            let at = format!("steps[{index}]");
            let Some(step) = step.as_object() else {
                self.wrong_type(&at, "a step object", step);
                continue;
            };
            self.step(step, &at, rules);
            if let Some(id) = step.get("id").and_then(Value::as_str) {
                if ids.insert(id, index).is_some() {
                    let message = format!("the id {id:?} is used by an earlier step");
                    self.add(Reason::DuplicateStep, &format!("{at}.id"), message);
                }
            }
        }
        self.dependencies(steps, &ids);
    }

    fn step(&mut self, step: &Map<String, Value>, at: &str, rules: ContractRules<'_>) {
        self.fields(step, at, STEP_REQUIRED, STEP_OPTIONAL);
        for name in ["id", "title"] {
            self.name(step, at, name, Reason::EmptyField);
        }
        self.name(step, at, "agent", Reason::EmptyAgent);
        if let (Some(agent), Some(agents)) =
            (step.get("agent").and_then(Value::as_str), rules.agents)
        {
            if !agent.is_empty() && !agents.iter().any(|known| known == agent) {
                let message = format!("names no agent; the agents are: {}", agents.join(", "));
                self.add(Reason::UnknownAgent, &join(at, "agent"), message);
            }
        }
        match step.get("reason") {
            Some(Value::String(_)) | None => {}
            Some(other) => self.wrong_type(&join(at, "reason"), "a string", other),
        }
        let lists = [
            ("tools", MAX_TOOLS),
            ("fallback_tools", MAX_TOOLS),
            ("depends_on", MAX_STEPS),
        ];
        for (name, max) in lists {
            self.strings(step, at, name, max);
        }
        self.confidence(step, at);
        match step.get("parallel_group") {
            Some(Value::String(_) | Value::Null) | None => {}
            Some(other) => self.wrong_type(&join(at, "parallel_group"), "a string or null", other),
        }
        if let Some(packet) = step.get("packet") {
            self.packet(packet, &join(at, "packet"));
        }
    }

    /// A non-empty string of at most [`NAME_MAX`] characters.
    fn name(&mut self, step: &Map<String, Value>, at: &str, name: &str, empty: Reason) {
        let path = join(at, name);
        match step.get(name) {
            Some(Value::String(text)) if text.trim().is_empty() => {
                self.add(empty, &path, "must not be empty".into())
            }
            Some(Value::String(text)) if text.chars().count() > NAME_MAX => self.add(
                Reason::TooLong,
                &path,
                format!("at most {NAME_MAX} characters"),
            ),
            Some(Value::String(_)) | None => {}
            Some(other) => self.wrong_type(&path, "a string", other),
        }
    }

    /// A list of at most `max` strings.
    fn strings(&mut self, step: &Map<String, Value>, at: &str, name: &str, max: usize) {
        let path = join(at, name);
        match step.get(name) {
            Some(Value::Array(items)) => {
                if items.len() > max {
                    let message = format!("{} entries; at most {max}", items.len());
                    self.add(Reason::TooLong, &path, message);
                }
                for (index, item) in items.iter().enumerate() {
                    if !item.is_string() {
                        self.wrong_type(&format!("{path}[{index}]"), "a string", item);
                    }
                }
            }
            Some(other) => self.wrong_type(&path, "a list of strings", other),
            None => {}
        }
    }

    fn packet(&mut self, packet: &Value, at: &str) {
        if let Err(violations) = Packet::from_value(PacketKind::Dispatch, packet) {
            for violation in violations {
                let path = pointer_path(at, &violation.pointer);
                self.add(Reason::PacketInvalid, &path, violation.reason);
            }
        }
    }

    /// Each dependency names another step, and following them never comes back.
    fn dependencies(&mut self, steps: &[Value], ids: &BTreeMap<&str, usize>) {
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
        for (index, step) in steps.iter().enumerate() {
            let Some(deps) = step.get("depends_on").and_then(Value::as_array) else {
                continue;
            };
            for (n, dep) in deps.iter().enumerate() {
                let Some(dep) = dep.as_str() else { continue };
                let path = format!("steps[{index}].depends_on[{n}]");
                match ids.get(dep) {
                    Some(&target) if target == index => self.add(
                        Reason::DependencyCycle,
                        &path,
                        "a step cannot depend on itself".into(),
                    ),
                    Some(&target) => edges[index].push(target),
                    None => {
                        let message = format!("{dep:?} is not the id of a step in this plan");
                        self.add(Reason::UnknownDependency, &path, message);
                    }
                }
            }
        }
        if let Some(index) = first_in_cycle(&edges) {
            let message = "the dependencies go round in a cycle through this step".into();
            self.add(
                Reason::DependencyCycle,
                &format!("steps[{index}].depends_on"),
                message,
            );
        }
    }
}

/// A step on a dependency cycle, if there is one (an iterative depth-first search, so a long
/// chain cannot overflow the stack).
fn first_in_cycle(edges: &[Vec<usize>]) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; edges.len()];
    for start in 0..edges.len() {
        if marks[start] != Mark::New {
            continue;
        }
        let mut stack = vec![(start, 0)];
        marks[start] = Mark::Open;
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            match edges[node].get(*next) {
                Some(&target) => {
                    *next += 1;
                    match marks[target] {
                        Mark::Open => return Some(target),
                        Mark::New => {
                            marks[target] = Mark::Open;
                            stack.push((target, 0));
                        }
                        Mark::Done => {}
                    }
                }
                None => {
                    marks[node] = Mark::Done;
                    stack.pop();
                }
            }
        }
    }
    None
}

impl Plan {
    /// The steps in an order where each comes after the steps it depends on (the plan's own
    /// order where it allows). An accepted plan has no cycle.
    pub fn in_dependency_order(&self) -> Vec<&PlanStep> {
        let mut placed: BTreeSet<&str> = BTreeSet::new();
        let mut ordered = Vec::with_capacity(self.steps.len());
        while ordered.len() < self.steps.len() {
            let before = ordered.len();
            for step in &self.steps {
                let ready = step
                    .depends_on
                    .iter()
                    .all(|dep| placed.contains(dep.as_str()));
                if !placed.contains(step.id.as_str()) && ready {
                    placed.insert(&step.id);
                    ordered.push(step);
                }
            }
            if ordered.len() == before {
                break;
            }
        }
        ordered
    }

    /// The plan as the contract spells it, `contract` field included.
    pub fn to_contract_json(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(object) = value.as_object_mut() {
            object.insert("contract".into(), Value::String(CONTRACT.into()));
        }
        value
    }
}

/// The contract as a planner prompt states it: an example and the rules.
pub fn describe() -> String {
    format!(
        r#"{{
  "contract": "{CONTRACT}",
  "confidence": 0.8,
  "steps": [
    {{
      "id": "s1",
      "title": "A short issue title",
      "agent": "<one of the agents>",
      "reason": "why this step is needed",
      "tools": ["git"],
      "fallback_tools": [],
      "confidence": 0.8,
      "parallel_group": null,
      "depends_on": [],
      "packet": {{
        "task": "one measurable objective",
        "scope": ["src/module/**"],
        "not_your_job": ["what to leave alone"],
        "done_when": ["what must hold when done"],
        "verify": ["a shell command that proves it"],
        "priority": 2
      }}
    }}
  ]
}}
Rules: no other fields; 1 to {MAX_STEPS} steps with unique ids; confidences from 0 to 1;
agent, id and title non-empty; depends_on lists ids of other steps, without cycles; scope and
verify 1 to 40 entries, not_your_job and done_when 1 to 30, each at most 260 characters;
priority 0 (most urgent) to 4."#
    )
}

fn reject(reason: Reason, path: &str, message: String) -> Rejection {
    Rejection {
        reason,
        path: path.to_string(),
        message,
    }
}

/// A JSON pointer below `at` written as a path: `/scope/0` → `at.scope[0]`.
fn pointer_path(at: &str, pointer: &str) -> String {
    let mut path = at.to_string();
    for segment in pointer.split('/').filter(|s| !s.is_empty()) {
        match segment.parse::<usize>() {
            Ok(index) => path.push_str(&format!("[{index}]")),
            Err(_) => path = join(&path, &segment.replace("~1", "/").replace("~0", "~")),
        }
    }
    path
}

fn join(at: &str, name: &str) -> String {
    match at.is_empty() {
        true => name.to_string(),
        false => format!("{at}.{name}"),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
