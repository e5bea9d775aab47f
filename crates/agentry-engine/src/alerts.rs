//! Publishing ops alerts: each tick's raised alerts go through the severity filter, routing
//! and debounce (`agentry_core::alerts`), are POSTed to their webhooks with retries, and every
//! outcome is kept in the store's alert history.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use agentry_core::alerts::{
    Alert, AlertsConfig, Debouncer, Destination, Planned, Verdict, WebhookBody, batches,
    debounce_key, plan,
};
use agentry_core::{Timestamp, secret};
use agentry_store::Store;
use agentry_store::alert::{AlertOutcome, AlertRecord};
use reqwest::StatusCode;

/// How hard a webhook is tried: `attempts` requests at most, `base_delay · 2^n` apart (at
/// most `max_delay`), each given up after `timeout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

impl Retry {
    /// The pause after the `attempt`th failed request (1-based).
    fn delay(&self, attempt: u32) -> Duration {
        let doubled = self
            .base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        doubled.min(self.max_delay)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot set up the HTTP client for alerts: {0}")]
pub struct AlertClientError(String);

/// Sends alerts as `[alerts]` says. Remembers, between calls, when each alert was first
/// raised (for its SLO) and what was sent when (for the debounce); a new publisher debounces
/// nothing.
pub struct AlertPublisher {
    config: AlertsConfig,
    store: Arc<dyn Store>,
    client: reqwest::Client,
    retry: Retry,
    debouncer: Mutex<Debouncer>,
}

/// How one request for a batch of alerts went.
struct Delivery {
    attempts: u32,
    error: Option<String>,
}

impl AlertPublisher {
    pub fn new(
        config: AlertsConfig,
        store: Arc<dyn Store>,
        retry: Retry,
    ) -> Result<Self, AlertClientError> {
        let client = reqwest::Client::builder()
            .timeout(retry.timeout)
            .user_agent(concat!("agentry/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AlertClientError(e.to_string()))?;
        Ok(Self {
            debouncer: Mutex::new(Debouncer::new(config.debounce_window_secs)),
            config,
            store,
            client,
            retry,
        })
    }

    pub fn config(&self) -> &AlertsConfig {
        &self.config
    }

    /// Publishes the alerts raised now (all of them, each tick: an alert missing from the
    /// list counts as cleared). Sends whatever passes the filter and the debounce, one request
    /// per webhook and routing key, whether or not `alerts.enabled` is set: that is the
    /// caller's to check. Returns every alert's history record, as written.
    pub async fn publish(&self, raised: Vec<Alert>, now: Timestamp) -> Vec<AlertRecord> {
        let planned = plan(&self.config, &mut self.debouncer(), raised, now);
        let mut deliveries = HashMap::new();
        for batch in batches(&planned) {
            let to = target(batch[0]);
            let body = WebhookBody::new(&self.config, &to.1, &batch);
            deliveries.insert(to.clone(), self.deliver(&to.0, &body).await);
        }
        planned
            .iter()
            .map(|item| {
                let delivery = (item.verdict == Verdict::Send).then(|| &deliveries[&target(item)]);
                self.record(item, delivery, now)
            })
            .collect()
    }

    fn debouncer(&self) -> MutexGuard<'_, Debouncer> {
        self.debouncer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// POSTs `body`, retrying failures that may pass (no answer, 5xx, 408, 429).
    async fn deliver(&self, url: &str, body: &WebhookBody) -> Delivery {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (error, retryable) = match self.client.post(url).json(body).send().await {
                Ok(response) if response.status().is_success() => {
                    return Delivery {
                        attempts,
                        error: None,
                    };
                }
                Ok(response) => {
                    let status = response.status();
                    (refusal(response).await, retryable(status))
                }
                // Without the URL: a webhook's path is often its key, and this error is shown.
                Err(error) => (chain(&error.without_url()), true),
            };
            if !retryable || attempts >= self.retry.attempts {
                return Delivery {
                    attempts,
                    error: Some(error),
                };
            }
            tokio::time::sleep(self.retry.delay(attempts)).await;
        }
    }

    /// Writes one alert's outcome to the history; a failed delivery is released from the
    /// debounce so that the next tick tries again. A store failure is logged, not fatal.
    fn record(&self, item: &Planned, delivery: Option<&Delivery>, now: Timestamp) -> AlertRecord {
        let (outcome, attempts, last_error) = match (item.verdict, delivery) {
            (Verdict::Debounced, _) => (AlertOutcome::Debounced, 0, None),
            (Verdict::Filtered, _) => (AlertOutcome::Filtered, 0, None),
            (Verdict::Send, sent) => {
                let sent = sent.expect("every alert to be sent was delivered");
                match &sent.error {
                    None => (AlertOutcome::Sent, sent.attempts, None),
                    Some(error) => (AlertOutcome::Failed, sent.attempts, Some(error.clone())),
                }
            }
        };
        let destination = item.destination.clone().unwrap_or_else(nowhere);
        if outcome == AlertOutcome::Failed {
            self.debouncer()
                .release(&debounce_key(&item.alert, &destination));
        }
        let alert = &item.alert;
        let mut record = AlertRecord {
            id: 0,
            alert_id: alert.id.clone(),
            severity: alert.severity,
            title: alert.title.clone(),
            description: alert.description.clone(),
            route_key: destination.route_key,
            // The history is shown by the CLI and the API: it keeps what identifies the
            // destination, never what would let someone else post to it.
            webhook_url: secret::url(&destination.webhook_url),
            routing_key: secret::hidden(&destination.routing_key),
            outcome,
            attempts,
            last_error,
            slo_breached: item.slo_breached,
            created_at: now,
        };
        match self.store.record_alert(&record) {
            Ok(id) => record.id = id,
            Err(err) => tracing::warn!(
                operation = "alerts",
                alert_id = %record.alert_id,
                "could not record the alert's outcome ({outcome}): {err}"
            ),
        }
        record
    }
}

/// What the history says of an alert no route has a webhook for.
fn nowhere() -> Destination {
    Destination {
        route_key: "none".into(),
        webhook_url: String::new(),
        routing_key: String::new(),
    }
}

/// The webhook and routing key an alert to be sent goes to.
fn target(item: &Planned) -> (String, String) {
    let to = item
        .destination
        .as_ref()
        .expect("an alert to be sent has a destination");
    (to.webhook_url.clone(), to.routing_key.clone())
}

fn retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
}

/// How much of a refusal's body is kept: enough for the receiver's reason.
const REASON_CHARS: usize = 200;

/// `HTTP 400 Bad Request: <the start of the body>`.
async fn refusal(response: reqwest::Response) -> String {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let reason: String = body.trim().chars().take(REASON_CHARS).collect();
    match reason.is_empty() {
        true => format!("HTTP {status}"),
        false => format!("HTTP {status}: {reason}"),
    }
}

/// An error with its causes: reqwest's own message only says that sending failed, the causes
/// say why (refused, timed out, TLS).
fn chain(error: &dyn std::error::Error) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let retry = Retry {
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
            ..Retry::default()
        };
        let delays: Vec<u64> = (1..=5).map(|n| retry.delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 5, 5]);
        assert_eq!(retry.delay(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn only_failures_that_may_pass_are_retried() {
        for code in [500, 502, 503, 408, 429] {
            assert!(retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [400, 401, 404, 413] {
            assert!(!retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }
}
