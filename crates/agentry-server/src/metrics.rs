//! `GET /metrics`: Prometheus text format, computed from the store at each scrape (the store
//! is the only source of truth, so there is nothing to keep in memory between scrapes).

use std::collections::BTreeMap;
use std::fmt::Write;

use agentry_core::{EventType, Status};
use agentry_store::{IssueFilter, Store};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::AppState;
use crate::error::ApiError;

/// Events read per store call while counting them.
const EVENT_PAGE: usize = 10_000;

pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let text = state.with_store(render).await?;
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4")], text))
}

fn render(store: &dyn Store) -> Result<String, ApiError> {
    let mut out = String::new();
    issues(&mut out, store)?;
    family(&mut out, "agentry_claims", "gauge", "Claims held now.");
    line(&mut out, "agentry_claims", "", store.claims()?.len());
    events(&mut out, store)?;
    runs(&mut out, store)?;
    // Registered at 0 so that dashboards and alerts find it before a planner ever fails.
    family(
        &mut out,
        "planner_contract_failure_total",
        "counter",
        "Planner outputs rejected by the contract.",
    );
    line(&mut out, "planner_contract_failure_total", "", 0);
    Ok(out)
}

fn issues(out: &mut String, store: &dyn Store) -> Result<(), ApiError> {
    family(out, "agentry_issues", "gauge", "Issues by status.");
    for status in Status::ALL {
        let filter = IssueFilter {
            status: Some(status),
            label: None,
        };
        let labels = format!("status=\"{status}\"");
        line(
            out,
            "agentry_issues",
            &labels,
            store.list_issues(&filter)?.len(),
        );
    }
    Ok(())
}

/// Events by type, and sessions by how they ended (each records one terminal event).
fn events(out: &mut String, store: &dyn Store) -> Result<(), ApiError> {
    let mut by_type: BTreeMap<&str, u64> = EventType::ALL.iter().map(|t| (t.as_str(), 0)).collect();
    let mut after = 0;
    loop {
        let page = store.events_after(after, None, EVENT_PAGE)?;
        for event in &page {
            *by_type.entry(event.event_type.as_str()).or_default() += 1;
        }
        match page.last() {
            Some(last) if page.len() == EVENT_PAGE => after = last.id,
            _ => break,
        }
    }
    family(out, "agentry_events_total", "counter", "Events by type.");
    for (kind, n) in &by_type {
        line(out, "agentry_events_total", &format!("type=\"{kind}\""), n);
    }
    family(
        out,
        "agentry_sessions_total",
        "counter",
        "Sessions by outcome.",
    );
    for (outcome, kind) in [
        ("done", EventType::SessionDone),
        ("overflowed", EventType::OverflowFixCreated),
        ("verify_failed", EventType::VerifyFailed),
        ("error", EventType::SessionError),
    ] {
        let labels = format!("outcome=\"{outcome}\"");
        line(
            out,
            "agentry_sessions_total",
            &labels,
            by_type[kind.as_str()],
        );
    }
    Ok(())
}

/// Tokens and cost of the agent runs, by backend.
fn runs(out: &mut String, store: &dyn Store) -> Result<(), ApiError> {
    let mut tokens: BTreeMap<(String, &str), u64> = BTreeMap::new();
    let mut cost: BTreeMap<String, f64> = BTreeMap::new();
    for run in store.agent_runs(None)? {
        for (direction, n) in [
            ("in", run.tokens_in),
            ("out", run.tokens_out),
            ("cache", run.tokens_cache),
        ] {
            *tokens.entry((run.backend.clone(), direction)).or_default() += n.unwrap_or(0);
        }
        *cost.entry(run.backend).or_default() += run.cost_usd.unwrap_or(0.0);
    }
    family(
        out,
        "agentry_agent_tokens_total",
        "counter",
        "Tokens the agents reported, by backend and direction.",
    );
    for ((backend, direction), n) in &tokens {
        let labels = format!("backend=\"{}\",direction=\"{direction}\"", escape(backend));
        line(out, "agentry_agent_tokens_total", &labels, n);
    }
    family(
        out,
        "agentry_agent_cost_usd_total",
        "counter",
        "Cost the agents reported, in USD, by backend.",
    );
    for (backend, usd) in &cost {
        let labels = format!("backend=\"{}\"", escape(backend));
        line(out, "agentry_agent_cost_usd_total", &labels, usd);
    }
    Ok(())
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn line(out: &mut String, name: &str, labels: &str, value: impl std::fmt::Display) {
    let _ = match labels {
        "" => writeln!(out, "{name} {value}"),
        _ => writeln!(out, "{name}{{{labels}}} {value}"),
    };
}

/// A label value as the text format wants it: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
