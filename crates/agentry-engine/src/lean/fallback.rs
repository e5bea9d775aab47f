//! The field fallback: one batched model call for the required fields still missing after
//! the heuristics and the rewrite (optional ones too with `include_optional_fields`); a
//! value is applied only at confidence 0.65 or more.

use agentry_core::Timestamp;
use agentry_lean::{Field, Schema, Source};
use agentry_store::StoreError;

use super::attempt::{Call, attempt};
use super::model::Proposal;
use super::state::{FIELD_FALLBACK_KEY, FeatureState};
use super::telemetry::{Action, FIELD_FALLBACK, Reason, Telemetry};
use super::{LeanParse, LeanParser, MIN_FALLBACK_CONFIDENCE, note};

pub(super) async fn run(
    parser: &LeanParser,
    schema: &Schema,
    text: &str,
    now: Timestamp,
    parse: &mut LeanParse,
) -> Result<(), StoreError> {
    let settings = parser.settings.fallback;
    let model = parser.model.as_ref().filter(|_| settings.enabled);
    let Some(model) = model else {
        parse
            .telemetry
            .push(Telemetry::skipped(FIELD_FALLBACK, Reason::Disabled));
        return Ok(());
    };
    let fields = match pending(schema, parser.settings.include_optional_fields, text, parse) {
        Ok(fields) => fields,
        Err(reason) => {
            parse
                .telemetry
                .push(Telemetry::skipped(FIELD_FALLBACK, reason));
            return Ok(());
        }
    };
    let state = FeatureState::load(parser.store.as_ref(), FIELD_FALLBACK_KEY, settings, now)?;
    let call = Call {
        event: FIELD_FALLBACK,
        key: FIELD_FALLBACK_KEY,
        schema,
        fields,
        task: "The heuristics could not find some fields. Give them from the answer.".into(),
        text,
    };
    let asked: Vec<String> = call.fields.iter().map(|f| f.name.clone()).collect();
    let Some(reply) = attempt(parser, model, call, state, now, parse).await? else {
        return Ok(());
    };
    let applied = apply(schema, &asked, reply.proposals, parse);
    if !applied.is_empty() {
        note(parse, format!("field fallback set {}", applied.join(", ")));
    }
    parse.telemetry.push(Telemetry {
        fields: applied,
        request_id: Some(reply.request_id),
        ..Telemetry::new(FIELD_FALLBACK, Action::Applied)
    });
    Ok(())
}

/// The fields to ask for, or why there are none.
fn pending<'a>(
    schema: &'a Schema,
    include_optional: bool,
    text: &str,
    parse: &LeanParse,
) -> Result<Vec<&'a Field>, Reason> {
    if text.trim().is_empty() {
        return Err(Reason::NoPlan);
    }
    let missing = |field: &&Field| {
        parse
            .result
            .fields
            .iter()
            .any(|f| f.name == field.name && f.value.is_none())
    };
    let (required, optional): (Vec<&Field>, Vec<&Field>) = schema
        .fields()
        .iter()
        .filter(missing)
        .partition(|f| f.required);
    match (required.is_empty(), optional.is_empty(), include_optional) {
        (true, true, _) => Err(Reason::NoPendingFields),
        (true, false, false) => Err(Reason::OptionalField),
        (_, _, true) => Ok(required.into_iter().chain(optional).collect()),
        (false, _, false) => Ok(required),
    }
}

/// Sets the asked-for fields the model gave at confidence 0.65 or more (an unmarked value
/// gets 0.65); the names of the fields set.
fn apply(
    schema: &Schema,
    asked: &[String],
    proposals: Vec<Proposal>,
    parse: &mut LeanParse,
) -> Vec<String> {
    let mut applied = Vec::new();
    for proposal in proposals.into_iter().filter(|p| asked.contains(&p.field)) {
        let confidence = proposal.confidence.unwrap_or(MIN_FALLBACK_CONFIDENCE);
        if confidence < MIN_FALLBACK_CONFIDENCE {
            note(
                parse,
                format!(
                    "field fallback value for {} not used: confidence {confidence:.2} is below {MIN_FALLBACK_CONFIDENCE}",
                    proposal.field
                ),
            );
            continue;
        }
        let set = parse.result.set_field(
            schema,
            &proposal.field,
            proposal.value,
            confidence.min(1.0),
            Source::Fallback,
        );
        match set {
            Ok(()) => applied.push(proposal.field),
            Err(err) => note(parse, format!("field fallback value not used: {err}")),
        }
    }
    applied
}
