//! The packets agents write, as types. Their JSON Schemas are generated from these types
//! (`schemars`), with the limits the operations playbook gives; `x-aliases` lists other names
//! agents use for a field, which the heuristics accept as keys.

use std::sync::OnceLock;

use agentry_core::Priority;
use agentry_core::scope::check_glob;
use agentry_core::verdict::{Verdict, VerdictKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::schema::Schema;
use crate::validate::{Violation, validate};

/// The longest free text (a task, a question, a root cause).
pub const TEXT_MAX: u32 = 5000;
/// The longest path, glob, command or definition-of-done item.
pub const ITEM_MAX: u32 = 260;
/// The longest sentence-like list item (a failed item, a risk, an option).
pub const NOTE_MAX: u32 = 1000;

/// A task for a worker: what to do, where, what not to touch, when it is done and how that is
/// checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchPacket {
    /// One measurable objective.
    #[schemars(length(min = 1, max = TEXT_MAX), extend("x-aliases" = ["objective", "goal"]))]
    pub task: String,
    /// The paths or globs the work may change.
    #[schemars(
        length(min = 1, max = 40),
        inner(length(min = 1, max = ITEM_MAX)),
        extend("x-aliases" = ["in scope", "allowed paths", "files in scope"])
    )]
    pub scope: Vec<String>,
    /// What the worker must leave alone.
    #[schemars(
        length(min = 1, max = 30),
        inner(length(min = 1, max = ITEM_MAX)),
        extend("x-aliases" = ["out of scope", "non goals", "do not touch", "not in scope"])
    )]
    pub not_your_job: Vec<String>,
    /// What must hold when the work is done.
    #[schemars(
        length(min = 1, max = 30),
        inner(length(min = 1, max = ITEM_MAX)),
        extend("x-aliases" = ["acceptance criteria", "definition of done", "done criteria"])
    )]
    pub done_when: Vec<String>,
    /// The commands that prove it.
    #[schemars(
        length(min = 1, max = 40),
        inner(length(min = 1, max = ITEM_MAX)),
        extend("x-aliases" = ["verification", "verify commands", "checks", "how to verify"])
    )]
    pub verify: Vec<String>,
    /// 0 is the most urgent, 4 the least.
    #[schemars(with = "u8", range(min = 0, max = 4), extend("x-aliases" = ["prio", "urgency"]))]
    pub priority: Priority,
}

/// A reviewer's decision: the shape the engine reads from a review's last JSON block, so
/// that it converts into agentry-core's Verdict as is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewVerdict {
    /// pass or fail.
    #[schemars(
        with = "VerdictWord",
        extend("x-aliases" = ["review verdict", "final verdict", "decision", "outcome", "result", "status", "review result"])
    )]
    pub verdict: VerdictKind,
    /// Each DONE-WHEN, scope or quality item not met.
    #[serde(default)]
    #[schemars(
        length(max = 100),
        inner(length(min = 1, max = NOTE_MAX)),
        extend("x-aliases" = ["failed", "failures", "issues", "issues found", "problems", "findings", "blocking issues", "blockers", "unmet items", "not met", "failed checks"])
    )]
    pub failed_items: Vec<String>,
    /// Each concrete change that would fix them.
    #[serde(default)]
    #[schemars(
        length(max = 100),
        inner(length(min = 1, max = NOTE_MAX)),
        extend("x-aliases" = ["fixes", "fix", "required changes", "requested changes", "changes requested", "suggested fixes", "to fix", "action items", "required fixes"])
    )]
    pub fix_list: Vec<String>,
}

// How a verdict is spelled in JSON (core's VerdictKind has no schema); only its schema is
// used.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
#[allow(dead_code)]
enum VerdictWord {
    Pass,
    Fail,
}

impl From<ReviewVerdict> for Verdict {
    fn from(packet: ReviewVerdict) -> Verdict {
        Verdict {
            verdict: packet.verdict,
            failed_items: packet.failed_items,
            fix_list: packet.fix_list,
        }
    }
}

/// A worker's question that needs a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionPacket {
    /// The decision needed, as one question.
    #[schemars(length(min = 1, max = TEXT_MAX), extend("x-aliases" = ["q", "open question"]))]
    pub question: String,
    /// What led to it.
    #[schemars(length(min = 1, max = TEXT_MAX), extend("x-aliases" = ["background", "situation"]))]
    pub context: String,
    /// The files it concerns.
    #[schemars(
        length(max = 40),
        inner(length(min = 1, max = ITEM_MAX)),
        extend("x-aliases" = ["relevant files", "paths", "files involved"])
    )]
    pub files: Vec<String>,
    /// The choices seen.
    #[schemars(
        length(min = 1, max = 10),
        inner(length(min = 1, max = NOTE_MAX)),
        extend("x-aliases" = ["choices", "alternatives", "possible options"])
    )]
    pub options: Vec<String>,
    /// The choice the worker would make.
    #[schemars(
        length(min = 1, max = NOTE_MAX),
        extend("x-aliases" = ["recommendation", "recommended option", "my recommendation", "suggestion", "proposal"])
    )]
    pub recommended: String,
    /// Whether the worker cannot go on without an answer.
    #[schemars(extend("x-aliases" = ["blocker", "is blocking", "blocked"]))]
    pub blocking: bool,
}

/// A bug found and fixed, with the proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DebugPacket {
    /// What goes wrong, and how to see it.
    #[schemars(length(min = 1, max = TEXT_MAX), extend("x-aliases" = ["symptom", "problem", "issue"]))]
    pub bug: String,
    /// Why it goes wrong.
    #[schemars(length(min = 1, max = TEXT_MAX), extend("x-aliases" = ["root cause", "cause", "root cause analysis"]))]
    pub root: String,
    /// The change that fixes it.
    #[schemars(length(min = 1, max = TEXT_MAX), extend("x-aliases" = ["fix applied", "solution", "change", "patch"]))]
    pub fix: String,
    /// The test that shows it fixed.
    #[schemars(length(min = 1, max = TEXT_MAX), extend("x-aliases" = ["tests", "regression test", "test added"]))]
    pub test: String,
    /// What the test run gave.
    #[schemars(length(min = 1, max = TEXT_MAX), extend("x-aliases" = ["outcome", "verification", "test result"]))]
    pub result: String,
}

/// The summary a worker or an orchestrator leaves when it stops.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoffSummary {
    /// What is done, each with its evidence.
    #[schemars(length(max = 100), extend("x-aliases" = ["done", "completed work", "finished", "what was done"]))]
    pub completed: Vec<Completed>,
    /// What is not done, each with the reason.
    #[schemars(length(max = 100), extend("x-aliases" = ["remaining", "not done", "outstanding", "open items", "todo"]))]
    pub pending: Vec<Pending>,
    /// What could go wrong.
    #[schemars(
        length(max = 100),
        inner(length(min = 1, max = NOTE_MAX)),
        extend("x-aliases" = ["risk", "known risks", "concerns", "caveats"])
    )]
    pub risks: Vec<String>,
    /// What should happen next.
    #[schemars(
        length(max = 100),
        inner(length(min = 1, max = NOTE_MAX)),
        extend("x-aliases" = ["next steps", "next step", "follow ups", "follow up", "next actions"])
    )]
    pub next: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Completed {
    #[schemars(length(min = 1, max = NOTE_MAX))]
    pub item: String,
    /// How it was shown to be done: a command and its result, a test, a commit.
    #[schemars(length(min = 1, max = NOTE_MAX), extend("x-aliases" = ["proof", "verified by"]))]
    pub evidence: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    #[schemars(length(min = 1, max = NOTE_MAX))]
    pub item: String,
    /// Why it is not done.
    #[schemars(length(min = 1, max = NOTE_MAX), extend("x-aliases" = ["because", "why", "blocked by"]))]
    pub reason: String,
}

/// The built-in packet schemas, by the names `agentry schema` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PacketKind {
    Dispatch,
    ReviewVerdict,
    Question,
    Debug,
    Handoff,
}

/// A packet of any built-in kind, checked against its schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Packet {
    Dispatch(DispatchPacket),
    ReviewVerdict(ReviewVerdict),
    Question(QuestionPacket),
    Debug(DebugPacket),
    Handoff(HandoffSummary),
}

impl PacketKind {
    pub const ALL: [PacketKind; 5] = [
        PacketKind::Dispatch,
        PacketKind::ReviewVerdict,
        PacketKind::Question,
        PacketKind::Debug,
        PacketKind::Handoff,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PacketKind::Dispatch => "dispatch",
            PacketKind::ReviewVerdict => "review_verdict",
            PacketKind::Question => "question",
            PacketKind::Debug => "debug",
            PacketKind::Handoff => "handoff",
        }
    }

    pub fn from_name(name: &str) -> Option<PacketKind> {
        PacketKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// "dispatch, review_verdict, question, debug, handoff", for messages.
    pub fn names() -> String {
        PacketKind::ALL.map(PacketKind::name).join(", ")
    }

    /// The JSON Schema generated from the packet's type.
    pub fn json_schema(self) -> Value {
        let schema = match self {
            PacketKind::Dispatch => schemars::schema_for!(DispatchPacket),
            PacketKind::ReviewVerdict => schemars::schema_for!(ReviewVerdict),
            PacketKind::Question => schemars::schema_for!(QuestionPacket),
            PacketKind::Debug => schemars::schema_for!(DebugPacket),
            PacketKind::Handoff => schemars::schema_for!(HandoffSummary),
        };
        schema.to_value()
    }

    /// The compiled schema, built once per process.
    pub fn schema(self) -> &'static Schema {
        static SCHEMAS: [OnceLock<Schema>; 5] = [const { OnceLock::new() }; 5];
        SCHEMAS[self as usize].get_or_init(|| {
            Schema::from_json_schema(self.name(), &self.json_schema())
                .expect("the built-in schemas use only what Schema supports")
        })
    }
}

impl Packet {
    /// `value` as a packet of `kind`: rejected, naming each field and the reason, unless it
    /// meets every limit of the schema.
    pub fn from_value(kind: PacketKind, value: &Value) -> Result<Packet, Vec<Violation>> {
        let violations = validate(kind.schema(), value);
        if !violations.is_empty() {
            return Err(violations);
        }
        let value = value.clone();
        let packet = match kind {
            PacketKind::Dispatch => serde_json::from_value(value).map(Packet::Dispatch),
            PacketKind::ReviewVerdict => serde_json::from_value(value).map(Packet::ReviewVerdict),
            PacketKind::Question => serde_json::from_value(value).map(Packet::Question),
            PacketKind::Debug => serde_json::from_value(value).map(Packet::Debug),
            PacketKind::Handoff => serde_json::from_value(value).map(Packet::Handoff),
        };
        let packet = packet.map_err(|err| vec![Violation::at_root(err.to_string())])?;
        if let Packet::Dispatch(dispatch) = &packet {
            check_scope(&dispatch.scope)?;
        }
        Ok(packet)
    }
}

/// A dispatch packet's scope is what an issue's scope must be: paths and globs that parse.
fn check_scope(scope: &[String]) -> Result<(), Vec<Violation>> {
    let bad: Vec<Violation> = scope
        .iter()
        .enumerate()
        .filter_map(|(index, glob)| {
            check_glob(glob).err().map(|err| Violation {
                pointer: format!("/scope/{index}"),
                reason: err.reason,
            })
        })
        .collect();
    match bad.is_empty() {
        true => Ok(()),
        false => Err(bad),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_dispatch_scope_with_a_bad_glob_is_refused_naming_the_entry() {
        let mut dispatch = json!({
            "task": "t", "scope": ["src/**", "src/[ab.rs"], "not_your_job": ["n"],
            "done_when": ["d"], "verify": ["v"], "priority": 2
        });
        let violations = Packet::from_value(PacketKind::Dispatch, &dispatch).unwrap_err();
        assert_eq!(
            violations
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["/scope/1: unclosed character class; missing ']'"]
        );
        dispatch["scope"] = json!(["src/[ab].rs"]);
        assert!(Packet::from_value(PacketKind::Dispatch, &dispatch).is_ok());
    }
}
