//! What the fallbacks did in one parse, as telemetry entries (seeds/000): `plan:rewrite` with
//! actions skipped|queued|started|applied|failed, and `field:fallback`.

use serde::Serialize;

pub const PLAN_REWRITE: &str = "plan:rewrite";
pub const FIELD_FALLBACK: &str = "field:fallback";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Skipped,
    Queued,
    Started,
    Applied,
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The heuristics were sure enough.
    Threshold,
    /// The last rewrite was too recent.
    Cooldown,
    /// The model gave nothing usable.
    EmptyPlan,
    /// The model call failed.
    Error,
    /// The feature is switched off.
    Disabled,
    /// Only optional fields are missing and they are not asked for.
    OptionalField,
    /// There is no text to extract from.
    NoPlan,
    /// Nothing is missing.
    NoPendingFields,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Telemetry {
    pub event: &'static str,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The fields concerned: asked for, or set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Telemetry {
    pub fn new(event: &'static str, action: Action) -> Self {
        Self {
            event,
            action,
            reason: None,
            fields: Vec::new(),
            request_id: None,
        }
    }

    pub fn skipped(event: &'static str, reason: Reason) -> Self {
        Self {
            reason: Some(reason),
            ..Self::new(event, Action::Skipped)
        }
    }
}
