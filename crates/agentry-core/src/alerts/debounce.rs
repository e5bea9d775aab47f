//! What a publisher remembers between ticks: when each raised alert was first seen (for its
//! SLO) and when each debounce key was last sent.

use std::collections::BTreeMap;

use super::{Alert, Destination};
use crate::Timestamp;

const MICROS_PER_SEC: i64 = 1_000_000;

/// `id:severity:webhook:routing_key`: the same alert to the same place.
pub fn debounce_key(alert: &Alert, destination: &Destination) -> String {
    format!(
        "{}:{}:{}:{}",
        alert.id, alert.severity, destination.webhook_url, destination.routing_key
    )
}

/// Whether an alert first seen at `first_seen` has stayed raised for `threshold_minutes` by
/// `now`.
pub fn slo_breached(first_seen: Timestamp, now: Timestamp, threshold_minutes: i64) -> bool {
    let raised_for = now.unix_micros().saturating_sub(first_seen.unix_micros());
    raised_for >= threshold_minutes.saturating_mul(60 * MICROS_PER_SEC)
}

/// Debounce and first-seen state. Pure: every call takes the time.
#[derive(Clone, Debug)]
pub struct Debouncer {
    window_secs: i64,
    first_seen: BTreeMap<String, Timestamp>,
    last_sent: BTreeMap<String, Timestamp>,
}

impl Debouncer {
    pub fn new(window_secs: i64) -> Self {
        Self {
            window_secs,
            first_seen: BTreeMap::new(),
            last_sent: BTreeMap::new(),
        }
    }

    /// Notes the alerts raised now: a new id is first seen now, an id no longer raised is
    /// forgotten (its condition cleared, so raising it again starts its SLO afresh). Sends
    /// older than the window are forgotten too.
    pub fn observe(&mut self, raised: &[Alert], now: Timestamp) {
        self.first_seen
            .retain(|id, _| raised.iter().any(|alert| &alert.id == id));
        for alert in raised {
            self.first_seen.entry(alert.id.clone()).or_insert(now);
        }
        let window = self.window_secs;
        self.last_sent.retain(|_, sent| within(*sent, now, window));
    }

    /// When the alert was first seen raised; `now` for one not observed.
    pub fn first_seen(&self, id: &str, now: Timestamp) -> Timestamp {
        self.first_seen.get(id).copied().unwrap_or(now)
    }

    /// Whether `key` may be sent now; if so it counts as sent now.
    pub fn claim(&mut self, key: &str, now: Timestamp) -> bool {
        if let Some(sent) = self.last_sent.get(key)
            && within(*sent, now, self.window_secs)
        {
            return false;
        }
        self.last_sent.insert(key.to_string(), now);
        true
    }

    /// Undoes a claim whose delivery failed, so the next tick tries again.
    pub fn release(&mut self, key: &str) {
        self.last_sent.remove(key);
    }
}

fn within(sent: Timestamp, now: Timestamp, window_secs: i64) -> bool {
    now.unix_micros().saturating_sub(sent.unix_micros())
        < window_secs.saturating_mul(MICROS_PER_SEC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Severity;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_unix_micros(1_800_000_000 * MICROS_PER_SEC).plus_secs(secs)
    }

    fn alert(id: &str) -> Alert {
        Alert {
            id: id.into(),
            severity: Severity::Warning,
            title: "t".into(),
            description: "d".into(),
            generated_at: t(0),
        }
    }

    #[test]
    fn the_key_is_id_severity_webhook_and_routing_key() {
        let destination = Destination {
            route_key: "default".into(),
            webhook_url: "http://h/x".into(),
            routing_key: "rk".into(),
        };
        assert_eq!(
            debounce_key(&alert("stale"), &destination),
            "stale:warning:http://h/x:rk"
        );
    }

    #[test]
    fn a_key_is_sent_once_per_window() {
        let mut debouncer = Debouncer::new(300);
        assert!(debouncer.claim("k", t(0)));
        assert!(!debouncer.claim("k", t(299)));
        assert!(debouncer.claim("other", t(299)));
        assert!(debouncer.claim("k", t(300)));
    }

    #[test]
    fn a_released_claim_may_be_sent_again_at_once() {
        let mut debouncer = Debouncer::new(300);
        assert!(debouncer.claim("k", t(0)));
        debouncer.release("k");
        assert!(debouncer.claim("k", t(1)));
    }

    #[test]
    fn a_zero_window_never_debounces() {
        let mut debouncer = Debouncer::new(0);
        assert!(debouncer.claim("k", t(0)));
        assert!(debouncer.claim("k", t(0)));
    }

    #[test]
    fn first_seen_lasts_while_raised_and_restarts_after_clearing() {
        let mut debouncer = Debouncer::new(300);
        debouncer.observe(&[alert("a")], t(0));
        debouncer.observe(&[alert("a"), alert("b")], t(60));
        assert_eq!(debouncer.first_seen("a", t(60)), t(0));
        assert_eq!(debouncer.first_seen("b", t(60)), t(60));
        debouncer.observe(&[alert("b")], t(120));
        debouncer.observe(&[alert("a"), alert("b")], t(180));
        assert_eq!(debouncer.first_seen("a", t(180)), t(180));
        assert_eq!(debouncer.first_seen("b", t(180)), t(60));
        assert_eq!(debouncer.first_seen("never", t(200)), t(200));
    }

    #[test]
    fn the_slo_is_breached_at_the_threshold() {
        assert!(!slo_breached(t(0), t(599), 10));
        assert!(slo_breached(t(0), t(600), 10));
        assert!(slo_breached(t(0), t(6000), 10));
    }
}
