//! Cases for the alert history.

use agentry_core::alerts::Severity;
use agentry_store::alert::{AlertOutcome, AlertRecord};

use crate::MakeStore;
use crate::cases::t0;

pub(crate) fn record(alert_id: &str, outcome: AlertOutcome, seconds: i64) -> AlertRecord {
    AlertRecord {
        id: 0,
        alert_id: alert_id.into(),
        severity: Severity::Warning,
        title: format!("{alert_id} is raised"),
        description: "what and since when".into(),
        route_key: "severity:warning".into(),
        webhook_url: "https://hooks.example/warn".into(),
        routing_key: "rk".into(),
        outcome,
        attempts: 3,
        last_error: Some("HTTP 500".into()),
        slo_breached: true,
        created_at: t0().plus_secs(seconds),
    }
}

pub(crate) fn alert_history_is_kept_newest_first(make: MakeStore) {
    let store = make();
    assert_eq!(store.alerts(10).unwrap(), Vec::new());
    let written: Vec<AlertRecord> = [
        record("stale", AlertOutcome::Failed, 0),
        record("stale", AlertOutcome::Sent, 1),
        record("flapping", AlertOutcome::Debounced, 1),
        record("noise", AlertOutcome::Filtered, 2),
    ]
    .into_iter()
    .map(|mut r| {
        r.id = store.record_alert(&r).unwrap();
        r
    })
    .collect();
    let ids: Vec<i64> = written.iter().map(|r| r.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");
    let newest_first: Vec<AlertRecord> = written.into_iter().rev().collect();
    assert_eq!(store.alerts(10).unwrap(), newest_first);
    assert_eq!(store.alerts(2).unwrap(), newest_first[..2]);
    assert_eq!(store.alerts(0).unwrap(), Vec::new());
}

pub(crate) fn an_alert_record_keeps_absent_errors_and_every_severity(make: MakeStore) {
    let store = make();
    for severity in Severity::ALL {
        let mut sent = AlertRecord {
            severity,
            last_error: None,
            slo_breached: false,
            attempts: 1,
            webhook_url: String::new(),
            ..record("s", AlertOutcome::Sent, 0)
        };
        sent.id = store.record_alert(&sent).unwrap();
        assert_eq!(store.alerts(1).unwrap(), [sent]);
    }
}
