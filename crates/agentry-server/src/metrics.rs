//! `GET /metrics`: Prometheus text format, computed from the store at each scrape (the store
//! is the source of truth), plus the timings this process measured (dispatch latency, verify
//! time).

use std::collections::BTreeMap;
use std::fmt::Write;

use agentry_core::{EventType, Status};
use std::time::Duration;

use agentry_engine::timings::{DISPATCH_LATENCY, Histogram, HistogramSnapshot, VERIFY_TIME};
use agentry_store::alert::AlertOutcome;
use agentry_store::session::AgentRun;
use agentry_store::{Store, Tallies};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::AppState;
use crate::error::ApiError;

pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let text = state.with_store(render).await?;
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4")], text))
}

fn render(store: &dyn Store) -> Result<String, ApiError> {
    let mut out = String::new();
    let tallies = store.tallies()?;
    issues(&mut out, &tallies);
    family(
        &mut out,
        "agentry_active_sessions",
        "gauge",
        "Sessions running now (claims held).",
    );
    line(
        &mut out,
        "agentry_active_sessions",
        "",
        store.claims()?.len(),
    );
    events(&mut out, &tallies);
    let runs = store.agent_runs(None)?;
    run_totals(&mut out, &runs);
    run_times(&mut out, &runs);
    timings(&mut out);
    alerts(&mut out, &tallies);
    contract_failures(&mut out, store)?;
    Ok(out)
}

/// Rejected plans: the total (0 before a planner ever fails, so that dashboards and alerts
/// find it) and one line per reason.
fn contract_failures(out: &mut String, store: &dyn Store) -> Result<(), ApiError> {
    let name = "planner_contract_failure_total";
    family(
        out,
        name,
        "counter",
        "Planner outputs rejected by the contract.",
    );
    let by_reason = store.contract_failures(None)?;
    line(out, name, "", by_reason.values().sum::<u64>());
    for (reason, n) in &by_reason {
        line(out, name, &format!("reason=\"{}\"", escape(reason)), n);
    }
    Ok(())
}

/// How many of each of `kinds` the tally counts, every kind listed (0 when it has none).
fn count_each<'a>(
    tally: &BTreeMap<String, u64>,
    kinds: impl Iterator<Item = &'a str>,
) -> BTreeMap<&'a str, u64> {
    kinds
        .map(|kind| (kind, tally.get(kind).copied().unwrap_or(0)))
        .collect()
}

fn issues(out: &mut String, tallies: &Tallies) {
    family(out, "agentry_issues", "gauge", "Issues by status.");
    let statuses = Status::ALL.iter().map(|s| s.as_str());
    for (status, n) in count_each(&tallies.issues, statuses) {
        line(out, "agentry_issues", &format!("status=\"{status}\""), n);
    }
}

/// Events by type, and sessions by how they ended (each records one terminal event).
fn events(out: &mut String, tallies: &Tallies) {
    let by_type = count_each(&tallies.events, EventType::ALL.iter().map(|t| t.as_str()));
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
}

/// Tokens and cost of the agent runs, by backend.
fn run_totals(out: &mut String, runs: &[AgentRun]) {
    let mut tokens: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    let mut cost: BTreeMap<&str, f64> = BTreeMap::new();
    for run in runs {
        for (direction, n) in [
            ("in", run.tokens_in),
            ("out", run.tokens_out),
            ("cache", run.tokens_cache),
        ] {
            *tokens.entry((&run.backend, direction)).or_default() += n.unwrap_or(0);
        }
        *cost.entry(&run.backend).or_default() += run.cost_usd.unwrap_or(0.0);
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
}

/// How long finished agent runs took, by backend and role.
fn run_times(out: &mut String, runs: &[AgentRun]) {
    let name = "agentry_agent_run_seconds";
    family(
        out,
        name,
        "histogram",
        "Agent run time, by backend and role.",
    );
    let mut by: BTreeMap<(&str, &str), Histogram> = BTreeMap::new();
    for run in runs {
        let Some(end) = run.ended_at else { continue };
        let micros = (end.unix_micros() - run.started_at.unix_micros()).max(0) as u64;
        by.entry((&run.backend, &run.role))
            .or_default()
            .record(Duration::from_micros(micros));
    }
    for ((backend, role), histogram) in &by {
        let labels = format!("backend=\"{}\",role=\"{role}\"", escape(backend));
        buckets(out, name, &labels, &histogram.snapshot());
    }
}

/// Alerts by what became of them (sent, failed, debounced, filtered).
fn alerts(out: &mut String, tallies: &Tallies) {
    family(
        out,
        "agentry_alerts_total",
        "counter",
        "Ops alerts, by outcome.",
    );
    let outcomes = AlertOutcome::ALL.iter().map(|o| o.as_str());
    for (outcome, n) in count_each(&tallies.alerts, outcomes) {
        line(
            out,
            "agentry_alerts_total",
            &format!("outcome=\"{outcome}\""),
            n,
        );
    }
}

fn timings(out: &mut String) {
    for (name, help, histogram) in [
        (
            "agentry_dispatch_latency_seconds",
            "From an issue's ready_at to its claim, in this process.",
            &DISPATCH_LATENCY,
        ),
        (
            "agentry_verify_seconds",
            "Verify command runs, in this process.",
            &VERIFY_TIME,
        ),
    ] {
        family(out, name, "histogram", help);
        buckets(out, name, "", &histogram.snapshot());
    }
}

/// A histogram's `_bucket`, `_sum` and `_count` lines; `labels` go before `le`.
fn buckets(out: &mut String, name: &str, labels: &str, h: &HistogramSnapshot) {
    let sep = if labels.is_empty() { "" } else { "," };
    for (bound, n) in &h.cumulative {
        line(
            out,
            &format!("{name}_bucket"),
            &format!("{labels}{sep}le=\"{bound}\""),
            n,
        );
    }
    let all = format!("{labels}{sep}le=\"+Inf\"");
    line(out, &format!("{name}_bucket"), &all, h.count);
    line(out, &format!("{name}_sum"), labels, h.sum_secs);
    line(out, &format!("{name}_count"), labels, h.count);
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
