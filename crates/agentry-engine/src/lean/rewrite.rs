//! The plan rewrite: when the heuristics' confidence is below the threshold, the model gets
//! the text, the schema's fields and the heuristics' extraction, and gives a revised
//! extraction for the fields below the threshold or missing.

use agentry_core::Timestamp;
use agentry_lean::{Schema, Source};
use agentry_store::StoreError;

use super::attempt::{Call, attempt};
use super::model::{LeanModel, Proposal, extraction};
use super::state::{FeatureState, PLAN_REWRITE_KEY};
use super::telemetry::{Action, PLAN_REWRITE, Reason, Telemetry};
use super::{LeanParse, LeanParser, note};

pub(super) async fn run(
    parser: &LeanParser,
    model: &LeanModel,
    schema: &Schema,
    text: &str,
    threshold: Option<f64>,
    now: Timestamp,
    parse: &mut LeanParse,
) -> Result<(), StoreError> {
    let settings = parser.settings.rewrite;
    if !settings.enabled {
        return Ok(());
    }
    let threshold = threshold.map_or(settings.min_heuristic_confidence, |t| {
        t.max(settings.min_heuristic_confidence)
    });
    if parse.result.confidence >= threshold {
        parse
            .telemetry
            .push(Telemetry::skipped(PLAN_REWRITE, Reason::Threshold));
        return Ok(());
    }
    // Held from the cooldown check to the end of the call, so that two parses at once make
    // one rewrite.
    let _permit = parser
        .rewrites
        .acquire()
        .await
        .expect("the rewrite semaphore is never closed");
    let state = FeatureState::load(parser.store.as_ref(), PLAN_REWRITE_KEY, settings, now)?;
    if let Some(until) = state.cooling_until().filter(|until| now < *until) {
        parse
            .telemetry
            .push(Telemetry::skipped(PLAN_REWRITE, Reason::Cooldown));
        let ms = settings.cooldown_ms;
        note(
            parse,
            format!(
                "plan rewrite skipped: cooldown (the last rewrite was less than {ms} ms ago; next after {until})"
            ),
        );
        return Ok(());
    }
    let unsure: Vec<String> = parse
        .result
        .unsure_fields(threshold)
        .into_iter()
        .map(str::to_string)
        .collect();
    let call = call(schema, &unsure, threshold, text, parse);
    let Some(reply) = attempt(parser, model, call, state, now, parse).await? else {
        return Ok(());
    };
    let applied = apply(schema, &unsure, reply.proposals, threshold, parse);
    record(applied, reply.request_id, parse);
    Ok(())
}

/// The telemetry entry and note of a rewrite the model answered.
fn record(applied: Vec<String>, request_id: String, parse: &mut LeanParse) {
    let entry = if applied.is_empty() {
        Telemetry::skipped(PLAN_REWRITE, Reason::EmptyPlan)
    } else {
        note(parse, format!("plan rewrite set {}", applied.join(", ")));
        Telemetry {
            fields: applied,
            ..Telemetry::new(PLAN_REWRITE, Action::Applied)
        }
    };
    parse.telemetry.push(Telemetry {
        request_id: Some(request_id),
        ..entry
    });
}

/// The model call: the unsure fields, and what the heuristics read.
fn call<'a>(
    schema: &'a Schema,
    unsure: &[String],
    threshold: f64,
    text: &'a str,
    parse: &LeanParse,
) -> Call<'a> {
    let task = format!(
        "The heuristics read the answer with too little confidence ({:.2}, below {threshold:.2}). What they read, with each field's confidence:\n{}\nRevise the extraction.",
        parse.result.confidence,
        extraction(&parse.result)
    );
    Call {
        event: PLAN_REWRITE,
        key: PLAN_REWRITE_KEY,
        schema,
        fields: unsure
            .iter()
            .filter_map(|name| schema.field(name))
            .collect(),
        task,
        text,
    }
}

/// Sets the unsure fields the model gave a value surer than the heuristics'; an unmarked
/// value counts as sure as the threshold. The names of the fields set.
fn apply(
    schema: &Schema,
    unsure: &[String],
    proposals: Vec<Proposal>,
    threshold: f64,
    parse: &mut LeanParse,
) -> Vec<String> {
    let mut applied = Vec::new();
    for proposal in proposals {
        if !unsure.contains(&proposal.field) {
            continue;
        }
        let confidence = proposal.confidence.unwrap_or(threshold).clamp(0.0, 1.0);
        let current = parse
            .result
            .fields
            .iter()
            .find(|f| f.name == proposal.field)
            .map_or(0.0, |f| f.confidence);
        if confidence <= current {
            continue;
        }
        let set = parse.result.set_field(
            schema,
            &proposal.field,
            proposal.value,
            confidence,
            Source::Rewrite,
        );
        match set {
            Ok(()) => applied.push(proposal.field),
            Err(err) => note(parse, format!("plan rewrite value not used: {err}")),
        }
    }
    applied
}
