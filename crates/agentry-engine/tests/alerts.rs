//! The alert publisher against real webhook receivers on loopback and a real SQLite store:
//! routing, batching, the severity filter, debounce, SLO breaches, retries with backoff, the
//! request timeout, and the history every outcome leaves.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use agentry_core::Timestamp;
use agentry_core::alerts::{Alert, AlertsConfig, Route, Severity, WebhookBody};
use agentry_engine::{AlertPublisher, Retry};
use agentry_store::alert::{AlertOutcome, AlertRecord};
use agentry_store::{SqliteStore, Store};
use agentry_testkit::{RecordedRequest, WebhookReceiver, unreachable_url};
use serde_json::json;
use tempfile::TempDir;

/// Retries without waiting seconds for them.
const QUICK: Retry = Retry {
    attempts: 3,
    base_delay: Duration::from_millis(1),
    max_delay: Duration::from_millis(4),
    timeout: Duration::from_secs(5),
};

fn t(secs: i64) -> Timestamp {
    "2026-05-01T10:00:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .plus_secs(secs)
}

fn alert(id: &str, severity: Severity) -> Alert {
    Alert {
        id: id.into(),
        severity,
        title: format!("{id} is raised"),
        description: format!("what {id} means"),
        generated_at: t(0),
    }
}

fn config(webhook_url: String) -> AlertsConfig {
    AlertsConfig {
        enabled: true,
        webhook_url,
        routing_key: "default-key".into(),
        environment: "staging".into(),
        ..AlertsConfig::default()
    }
}

/// A publisher over a fresh store file, and that store.
struct Setup {
    publisher: AlertPublisher,
    store: Arc<SqliteStore>,
    _dir: TempDir,
}

fn setup(config: AlertsConfig, retry: Retry) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agentry.db");
    let store = Arc::new(SqliteStore::open(&path, Duration::from_secs(5)).unwrap());
    let publisher = AlertPublisher::new(config, store.clone(), retry).unwrap();
    Setup {
        publisher,
        store,
        _dir: dir,
    }
}

fn body(request: &RecordedRequest) -> WebhookBody {
    serde_json::from_value(request.body.clone()).expect("the body is a webhook body")
}

fn outcomes(records: &[AlertRecord]) -> Vec<(&str, AlertOutcome, u32)> {
    records
        .iter()
        .map(|r| (r.alert_id.as_str(), r.outcome, r.attempts))
        .collect()
}

#[tokio::test]
async fn a_failing_webhook_is_retried_until_it_takes_the_alert() {
    let receiver = WebhookReceiver::start(vec![500, 500]).await;
    let hook = format!("{}/hook", receiver.base_url());
    let setup = setup(config(hook), QUICK);
    let records = setup
        .publisher
        .publish(vec![alert("stale", Severity::Error)], t(0))
        .await;
    assert_eq!(outcomes(&records), [("stale", AlertOutcome::Sent, 3)]);
    assert_eq!(records[0].last_error, None);
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.method == "POST" && r.path == "/hook")
    );
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    assert_eq!(
        requests[2].body, requests[0].body,
        "every attempt sends the same body"
    );
    assert_eq!(setup.store.alerts(10).unwrap(), records);
}

#[tokio::test]
async fn a_webhook_that_keeps_failing_is_recorded_failed_and_tried_next_tick() {
    let receiver = WebhookReceiver::start(vec![503, 503, 503]).await;
    let setup = setup(config(receiver.base_url()), QUICK);
    let raised = || vec![alert("stale", Severity::Error)];
    let failed = setup.publisher.publish(raised(), t(0)).await;
    assert_eq!(outcomes(&failed), [("stale", AlertOutcome::Failed, 3)]);
    assert_eq!(
        failed[0].last_error.as_deref(),
        Some("HTTP 503 Service Unavailable")
    );
    // A failure is not debounced: the next tick tries again, and this time it lands.
    let sent = setup.publisher.publish(raised(), t(30)).await;
    assert_eq!(outcomes(&sent), [("stale", AlertOutcome::Sent, 1)]);
    assert_eq!(receiver.requests().len(), 4);
    let history = setup.store.alerts(10).unwrap();
    assert_eq!(
        outcomes(&history),
        [
            ("stale", AlertOutcome::Sent, 1),
            ("stale", AlertOutcome::Failed, 3)
        ]
    );
}

#[tokio::test]
async fn a_refusal_is_not_retried() {
    let receiver = WebhookReceiver::start(vec![400]).await;
    let setup = setup(config(receiver.base_url()), QUICK);
    let records = setup
        .publisher
        .publish(vec![alert("stale", Severity::Warning)], t(0))
        .await;
    assert_eq!(outcomes(&records), [("stale", AlertOutcome::Failed, 1)]);
    assert_eq!(
        records[0].last_error.as_deref(),
        Some("HTTP 400 Bad Request")
    );
}

#[tokio::test]
async fn an_unreachable_webhook_fails_with_the_reason() {
    let setup = setup(config(unreachable_url()), QUICK);
    let records = setup
        .publisher
        .publish(vec![alert("stale", Severity::Warning)], t(0))
        .await;
    assert_eq!(outcomes(&records), [("stale", AlertOutcome::Failed, 3)]);
    let error = records[0].last_error.as_deref().unwrap();
    assert!(error.contains("Connection refused"), "{error}");
}

#[tokio::test]
async fn a_webhook_that_does_not_answer_times_out() {
    // Connections are queued by the kernel but never accepted: the request gets no answer.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let retry = Retry {
        attempts: 1,
        timeout: Duration::from_millis(200),
        ..QUICK
    };
    let setup = setup(config(url), retry);
    let records = setup
        .publisher
        .publish(vec![alert("stale", Severity::Warning)], t(0))
        .await;
    assert_eq!(outcomes(&records), [("stale", AlertOutcome::Failed, 1)]);
    let error = records[0].last_error.as_deref().unwrap();
    assert!(error.contains("timed out"), "{error}");
}

#[tokio::test]
async fn routes_send_alerts_to_their_webhooks_one_request_per_destination() {
    let default = WebhookReceiver::start(Vec::new()).await;
    let pager = WebhookReceiver::start(Vec::new()).await;
    let mut config = config(default.base_url());
    let route = |url: String, key: &str| Route {
        webhook_url: url,
        routing_key: key.into(),
    };
    config.routes = BTreeMap::from([
        (
            "severity:error".into(),
            route(pager.base_url(), "pager-key"),
        ),
        (
            "alert:flapping".into(),
            route(default.base_url(), "default-key"),
        ),
    ]);
    let setup = setup(config, QUICK);
    let raised = vec![
        alert("stale", Severity::Warning),
        alert("down", Severity::Error),
        alert("flapping", Severity::Error),
        alert("failing", Severity::Error),
    ];
    let records = setup.publisher.publish(raised, t(0)).await;
    let routes: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r.alert_id.as_str(), r.route_key.as_str()))
        .collect();
    assert_eq!(
        routes,
        [
            ("stale", "default"),
            ("down", "severity:error"),
            ("flapping", "alert:flapping"),
            ("failing", "severity:error")
        ]
    );
    let ids = |receiver: &WebhookReceiver| -> Vec<(String, Vec<String>)> {
        receiver
            .requests()
            .iter()
            .map(body)
            .map(|b| (b.routing_key, b.alerts.into_iter().map(|a| a.id).collect()))
            .collect()
    };
    let pair =
        |key: &str, ids: &[&str]| (key.to_string(), ids.iter().map(|s| s.to_string()).collect());
    assert_eq!(ids(&default), [pair("default-key", &["stale", "flapping"])]);
    assert_eq!(ids(&pager), [pair("pager-key", &["down", "failing"])]);
}

#[tokio::test]
async fn the_body_has_the_webhook_shape() {
    let receiver = WebhookReceiver::start(Vec::new()).await;
    let mut config = config(receiver.base_url());
    config.slo_thresholds.insert("stale".into(), 30);
    let setup = setup(config, QUICK);
    setup
        .publisher
        .publish(vec![alert("stale", Severity::Warning)], t(0))
        .await;
    assert_eq!(
        receiver.requests()[0].body,
        json!({
            "source": "agentry",
            "environment": "staging",
            "routingKey": "default-key",
            "alerts": [{
                "id": "stale",
                "severity": "warning",
                "title": "stale is raised",
                "description": "what stale means",
                "generatedAt": "2026-05-01T10:00:00.000000Z",
                "sloMinutes": 30,
                "sloBreached": false
            }]
        })
    );
}

#[tokio::test]
async fn filtered_and_debounced_alerts_are_recorded_without_a_request() {
    let receiver = WebhookReceiver::start(Vec::new()).await;
    let config = AlertsConfig {
        severity_filter: Severity::Warning,
        debounce_window_secs: 300,
        ..config(receiver.base_url())
    };
    let setup = setup(config, QUICK);
    let raised = || {
        vec![
            alert("chatty", Severity::Info),
            alert("stale", Severity::Warning),
        ]
    };
    let first = setup.publisher.publish(raised(), t(0)).await;
    let second = setup.publisher.publish(raised(), t(299)).await;
    let third = setup.publisher.publish(raised(), t(300)).await;
    use AlertOutcome::*;
    assert_eq!(
        outcomes(&first),
        [("chatty", Filtered, 0), ("stale", Sent, 1)]
    );
    assert_eq!(
        outcomes(&second),
        [("chatty", Filtered, 0), ("stale", Debounced, 0)]
    );
    assert_eq!(
        outcomes(&third),
        [("chatty", Filtered, 0), ("stale", Sent, 1)]
    );
    assert_eq!(receiver.requests().len(), 2);
    let history = setup.store.alerts(100).unwrap();
    assert_eq!(history.len(), 6);
    assert_eq!(history[0], third[1], "newest first");
}

#[tokio::test]
async fn an_alert_raised_past_its_slo_is_sent_as_breached() {
    let receiver = WebhookReceiver::start(Vec::new()).await;
    let mut config = AlertsConfig {
        debounce_window_secs: 0,
        ..config(receiver.base_url())
    };
    config.slo_thresholds.insert("stale".into(), 10);
    let setup = setup(config, QUICK);
    let raised = || vec![alert("stale", Severity::Warning)];
    setup.publisher.publish(raised(), t(0)).await;
    let breached = setup.publisher.publish(raised(), t(600)).await;
    assert!(breached[0].slo_breached);
    let sent: Vec<(Option<i64>, bool)> = receiver
        .requests()
        .iter()
        .map(|r| {
            let alert = &body(r).alerts[0];
            (alert.slo_minutes, alert.slo_breached)
        })
        .collect();
    assert_eq!(sent, [(Some(10), false), (Some(10), true)]);
}
