//! `agentry alerts test` and `agentry alerts list`.

use std::sync::Arc;

use agentry_core::Timestamp;
use agentry_core::alerts::{Alert, Severity};
use agentry_engine::{AlertPublisher, Retry};
use agentry_store::Store;
use agentry_store::alert::{AlertOutcome, AlertRecord};
use anyhow::{Result, anyhow};
use serde::Serialize;

use super::engine::runtime;
use crate::cli::AlertsCommand;
use crate::error::usage;
use crate::output::{self, outln};
use crate::project::{CONFIG_FILE, Project};

pub fn run(project: &Project, command: AlertsCommand) -> Result<()> {
    match command {
        AlertsCommand::Test { severity, id } => test(project, severity, id),
        AlertsCommand::List { limit, json } => list(project, limit, json),
    }
}

/// Sends one synthetic alert with a fresh publisher, so nothing debounces it.
fn test(project: &Project, severity: Severity, id: String) -> Result<()> {
    let config = &project.config.alerts;
    if id.trim().is_empty() || id.contains(char::is_whitespace) {
        return Err(usage(format!("--id {id:?}: an alert id is one word")));
    }
    if config.destination(&id, severity).is_none() {
        return Err(usage(format!(
            "no webhook takes alert {id} ({severity}): set alerts.webhook_url, or add a route, in {CONFIG_FILE}"
        )));
    }
    let store: Arc<dyn Store> = Arc::new(project.open_store()?);
    let publisher = AlertPublisher::new(config.clone(), store, Retry::default())?;
    let now = Timestamp::now();
    let alert = Alert {
        id,
        severity,
        title: "Test alert from agentry".into(),
        description: "Sent by `agentry alerts test` to check where alerts go; nothing needs doing."
            .into(),
        generated_at: now,
    };
    let mut records = runtime()?.block_on(publisher.publish(vec![alert], now));
    let record = records.pop().expect("one record for one alert");
    outln!("{}", describe(&record));
    if record.outcome == AlertOutcome::Filtered {
        outln!("(alerts.severity_filter is {})", config.severity_filter);
    }
    if !config.enabled {
        outln!("(alerts.enabled is false: raised conditions are not sent)");
    }
    match record.last_error {
        Some(error) if record.outcome == AlertOutcome::Failed => Err(anyhow!(
            "the test alert was not delivered ({}): {error}",
            attempts(record.attempts)
        )),
        _ => Ok(()),
    }
}

/// `alert ID (SEVERITY) via route KEY to URL: OUTCOME (N attempts)`.
fn describe(record: &AlertRecord) -> String {
    let tried = match record.outcome {
        AlertOutcome::Sent | AlertOutcome::Failed => format!(" ({})", attempts(record.attempts)),
        AlertOutcome::Debounced | AlertOutcome::Filtered => String::new(),
    };
    format!(
        "alert {} ({}) via route {} to {}: {}{tried}",
        record.alert_id, record.severity, record.route_key, record.webhook_url, record.outcome
    )
}

fn attempts(n: u32) -> String {
    match n {
        1 => "1 attempt".into(),
        n => format!("{n} attempts"),
    }
}

#[derive(Serialize)]
struct History {
    alerts: Vec<AlertRecord>,
}

fn list(project: &Project, limit: usize, json: bool) -> Result<()> {
    let alerts = project.open_store()?.alerts(limit)?;
    if json {
        return output::json(&History { alerts });
    }
    if alerts.is_empty() {
        outln!("no alerts");
    }
    for record in &alerts {
        let error = record
            .last_error
            .as_deref()
            .map_or(String::new(), |e| format!(": {e}"));
        outln!(
            "{}  {:<9} {:<7} {:<20} {:<16} {}{}{error}",
            record.created_at,
            record.outcome,
            record.severity,
            record.alert_id,
            record.route_key,
            record.title,
            if record.slo_breached {
                " [SLO breached]"
            } else {
                ""
            },
        );
    }
    Ok(())
}
