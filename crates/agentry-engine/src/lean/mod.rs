//! The lean parser: agentry-lean's heuristics, then, when their flags are on, the model
//! fallbacks of seeds/000. A **plan rewrite** asks the model to redo the fields the
//! heuristics were unsure of, when their confidence is below the threshold and the last
//! rewrite is past its cooldown; a **field fallback** asks it, in one call, for the required
//! fields still missing. Each keeps a state object in the store, which `agentry status`
//! reads: a failed call leaves a `lastError` there until the queue is cleared.

mod attempt;
mod fallback;
mod model;
mod rewrite;
mod state;
mod telemetry;

use std::path::Path;
use std::sync::Arc;

use agentry_core::Timestamp;
use agentry_core::config::Config;
use agentry_core::flags::Flag;
use agentry_lean::{Diagnostic, InputError, ParseResult, Schema};
use agentry_store::{Store, StoreError};
use serde::Serialize;
use tokio::sync::Semaphore;

pub use state::{
    Counts, FIELD_FALLBACK_KEY, FeatureSettings, FeatureState, LastUsage, PLAN_REWRITE_KEY,
    QueueState,
};
pub use telemetry::{Action, FIELD_FALLBACK, PLAN_REWRITE, Reason, Telemetry};

use crate::sandbox::ReadingAgent;
use model::LeanModel;

/// The least confidence a field fallback's value is applied with.
pub const MIN_FALLBACK_CONFIDENCE: f64 = 0.65;
/// Plan rewrites at once, per process.
const REWRITE_CONCURRENCY: usize = 1;

#[derive(Debug, thiserror::Error)]
pub enum LeanError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A parse and what the fallbacks did in it.
#[derive(Clone, Debug, Serialize)]
pub struct LeanParse {
    #[serde(flatten)]
    pub result: ParseResult,
    pub telemetry: Vec<Telemetry>,
}

/// Both state objects, as `agentry lean state` shows them.
#[derive(Clone, Debug, Serialize)]
pub struct LeanStates {
    pub plan_rewrite: FeatureState,
    pub field_fallback: FeatureState,
}

/// How the fallbacks are set: the flags' runtime values and the `[lean]` settings.
#[derive(Clone, Copy, Debug)]
struct Settings {
    rewrite: FeatureSettings,
    fallback: FeatureSettings,
    include_optional_fields: bool,
}

impl Settings {
    fn read(store: &dyn Store, config: &Config) -> Result<Self, StoreError> {
        let flags = crate::status::flags(store, config)?;
        let on = |flag: Flag| flags.iter().any(|f| f.name == flag.name() && f.enabled);
        let lean = &config.lean;
        Ok(Self {
            rewrite: FeatureSettings {
                enabled: on(Flag::LeanPlanRewrite),
                min_heuristic_confidence: lean.min_heuristic_confidence,
                cooldown_ms: lean.cooldown_ms,
                counted: false,
            },
            // One batched call per parse: the field fallback has no cooldown.
            fallback: FeatureSettings {
                enabled: on(Flag::LeanFieldFallback),
                min_heuristic_confidence: lean.min_heuristic_confidence,
                cooldown_ms: 0,
                counted: true,
            },
            include_optional_fields: lean.include_optional_fields,
        })
    }
}

pub struct LeanParser {
    store: Arc<dyn Store>,
    settings: Settings,
    /// None while both fallbacks are off.
    model: Option<LeanModel>,
    rewrites: Semaphore,
}

impl LeanParser {
    /// Reads the flags and, when either fallback is on, builds the model agent that
    /// `lean.model_agent` names; `root` is the repository root.
    pub fn new(store: Arc<dyn Store>, config: &Config, root: &Path) -> Result<Self, LeanError> {
        let settings = Settings::read(store.as_ref(), config)?;
        let model = if settings.rewrite.enabled || settings.fallback.enabled {
            Some(model_agent(config, &settings, root)?)
        } else {
            None
        };
        Ok(Self {
            store,
            settings,
            model,
            rewrites: Semaphore::new(REWRITE_CONCURRENCY),
        })
    }

    /// Parses `text` into `schema`: heuristics, plan rewrite, field fallback. `threshold` is
    /// the request's confidence threshold, if it has one; `now` decides the cooldown.
    pub async fn parse(
        &self,
        schema: &Schema,
        text: &str,
        threshold: Option<f64>,
        now: Timestamp,
    ) -> Result<LeanParse, LeanError> {
        let mut parse = LeanParse {
            result: agentry_lean::parse(schema, text)?,
            telemetry: Vec::new(),
        };
        if let Some(model) = &self.model {
            rewrite::run(self, model, schema, text, threshold, now, &mut parse).await?;
        }
        fallback::run(self, schema, text, now, &mut parse).await?;
        Ok(parse)
    }
}

/// Both state objects as the flags and settings show them now.
pub fn states(
    store: &dyn Store,
    config: &Config,
    now: Timestamp,
) -> Result<LeanStates, StoreError> {
    let settings = Settings::read(store, config)?;
    Ok(LeanStates {
        plan_rewrite: FeatureState::load(store, PLAN_REWRITE_KEY, settings.rewrite, now)?,
        field_fallback: FeatureState::load(store, FIELD_FALLBACK_KEY, settings.fallback, now)?,
    })
}

/// Empties both queues and clears their last errors (the runbook's step once the cause of an
/// error is dealt with); the states as they are after.
pub fn clear_queue(
    store: &dyn Store,
    config: &Config,
    now: Timestamp,
) -> Result<LeanStates, StoreError> {
    let mut states = states(store, config, now)?;
    for (state, key) in [
        (&mut states.plan_rewrite, PLAN_REWRITE_KEY),
        (&mut states.field_fallback, FIELD_FALLBACK_KEY),
    ] {
        state.clear_queue();
        state.save(store, key, now)?;
    }
    Ok(states)
}

fn model_agent(config: &Config, settings: &Settings, root: &Path) -> Result<LeanModel, LeanError> {
    let name = &config.lean.model_agent;
    if name.is_empty() {
        let on = if settings.rewrite.enabled {
            Flag::LeanPlanRewrite
        } else {
            Flag::LeanFieldFallback
        };
        return Err(LeanError::Config(format!(
            "lean.model_agent: {} is on but no model agent is set; name an [agents.NAME] (e.g. of kind openai) in lean.model_agent",
            on.name()
        )));
    }
    let agent_config = config
        .agents
        .get(name)
        .ok_or_else(|| LeanError::Config(format!("lean.model_agent = {name:?} names no agent")))?;
    let agent = agentry_agents::build(name, agent_config, root)
        .map_err(|err| LeanError::Config(format!("lean.model_agent: {err}")))?;
    Ok(LeanModel {
        agent,
        sandbox: ReadingAgent::new(config, agent_config, root),
        workdir: root.to_path_buf(),
    })
}

/// A note on the whole parse.
fn note(parse: &mut LeanParse, message: String) {
    parse.result.diagnostics.push(Diagnostic {
        field: None,
        message,
    });
}

#[cfg(test)]
mod tests;
