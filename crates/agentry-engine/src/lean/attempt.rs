//! One model call of a fallback, through its queue: queued, started, then applied or failed,
//! the state object saved at each step so `agentry status` sees a call in flight or failed.

use agentry_core::Timestamp;
use agentry_lean::{Field, Schema};
use agentry_store::StoreError;

use super::model::{LeanModel, Reply};
use super::state::FeatureState;
use super::telemetry::{Action, Reason, Telemetry};
use super::{LeanParse, LeanParser, note};

/// What to ask and where its state lives.
pub(super) struct Call<'a> {
    pub event: &'static str,
    pub key: &'static str,
    pub schema: &'a Schema,
    pub fields: Vec<&'a Field>,
    pub task: String,
    pub text: &'a str,
}

/// Runs `call` with `state` (loaded under the call's key); the model's reply when the call
/// succeeded, None (with a `failed` entry and a note) when it failed.
pub(super) async fn attempt(
    parser: &LeanParser,
    model: &LeanModel,
    call: Call<'_>,
    mut state: FeatureState,
    now: Timestamp,
    parse: &mut LeanParse,
) -> Result<Option<Reply>, StoreError> {
    let store = parser.store.as_ref();
    let names: Vec<String> = call.fields.iter().map(|f| f.name.clone()).collect();
    let entry = |action| Telemetry {
        fields: names.clone(),
        ..Telemetry::new(call.event, action)
    };
    state.queued();
    state.save(store, call.key, now)?;
    parse.telemetry.push(entry(Action::Queued));
    state.started(now);
    state.save(store, call.key, now)?;
    parse.telemetry.push(entry(Action::Started));
    let reply = model
        .ask(call.schema, &call.fields, &call.task, call.text)
        .await;
    state.last_usage = Some(reply.usage.clone());
    state.ended(now, reply.usage.latency_ms, reply.error.clone());
    state.save(store, call.key, now)?;
    let Some(error) = &reply.error else {
        return Ok(Some(reply));
    };
    parse.telemetry.push(Telemetry {
        reason: Some(Reason::Error),
        request_id: Some(reply.request_id.clone()),
        ..entry(Action::Failed)
    });
    note(parse, format!("{}: {error}", call.event));
    Ok(None)
}
