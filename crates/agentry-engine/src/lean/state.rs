//! The state object each lean fallback keeps in the store (seeds/000): its switch and
//! settings, its last attempt, success, failure and error, what the model used, and its queue.
//! `agentry status` reads `lastError` from it; `agentry lean state` prints it.

use agentry_core::Timestamp;
use agentry_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// The store key of the plan rewrite's state.
pub const PLAN_REWRITE_KEY: &str = "lean:plan_rewrite";
/// The store key of the field fallback's state.
pub const FIELD_FALLBACK_KEY: &str = "lean:field_fallback";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FeatureState {
    pub enabled: bool,
    pub min_heuristic_confidence: f64,
    pub cooldown_ms: u64,
    pub concurrency: u32,
    /// An attempt was made less than `cooldownMs` ago.
    pub pending_cooldown: bool,
    pub last_attempt_at: Option<Timestamp>,
    pub last_success_at: Option<Timestamp>,
    pub last_failure_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_usage: Option<LastUsage>,
    pub queue: QueueState,
    /// The field fallback's counts; absent from the plan rewrite's state.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LastUsage {
    pub tokens_used: u64,
    pub latency_ms: u64,
    pub model: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueState {
    pub pending: u32,
    pub in_flight: u32,
    pub completed: u64,
    pub failed: u64,
    /// Pending and in flight.
    pub size: u32,
    pub last_duration_ms: Option<u64>,
    pub last_error: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Counts {
    pub attempts: u64,
    pub successes: u64,
    pub failures: u64,
}

/// What a feature is configured with, for its state object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FeatureSettings {
    pub enabled: bool,
    pub min_heuristic_confidence: f64,
    pub cooldown_ms: u64,
    /// The field fallback counts attempts; the plan rewrite does not.
    pub counted: bool,
}

impl FeatureState {
    /// The stored state under `key` as `settings` and `now` show it: a disabled feature has
    /// concurrency 0 and an empty queue, whatever was stored.
    pub fn load(
        store: &dyn Store,
        key: &str,
        settings: FeatureSettings,
        now: Timestamp,
    ) -> Result<Self, StoreError> {
        let stored = store
            .state(key)?
            .and_then(|entry| serde_json::from_value::<FeatureState>(entry.value).ok())
            .unwrap_or_default();
        Ok(stored.shown(settings, now))
    }

    pub fn save(&self, store: &dyn Store, key: &str, now: Timestamp) -> Result<(), StoreError> {
        let value = serde_json::to_value(self).expect("a state object serializes");
        store.put_state(key, &value, now)
    }

    fn shown(mut self, settings: FeatureSettings, now: Timestamp) -> Self {
        self.enabled = settings.enabled;
        self.min_heuristic_confidence = settings.min_heuristic_confidence;
        self.cooldown_ms = settings.cooldown_ms;
        self.concurrency = u32::from(settings.enabled);
        self.counts = settings.counted.then(|| self.counts.unwrap_or_default());
        if !settings.enabled {
            self.queue = QueueState::default();
        }
        self.pending_cooldown = self.cooling_until().is_some_and(|until| now < until);
        self
    }

    /// When the cooldown after the last attempt ends.
    pub fn cooling_until(&self) -> Option<Timestamp> {
        let ms = i64::try_from(self.cooldown_ms).unwrap_or(i64::MAX);
        self.last_attempt_at
            .map(|at| Timestamp::from_unix_micros(at.unix_micros().saturating_add(ms * 1_000)))
    }

    /// An attempt joins the queue.
    pub fn queued(&mut self) {
        self.queue.pending += 1;
        self.queue.size = self.queue.pending + self.queue.in_flight;
    }

    /// The queued attempt starts.
    pub fn started(&mut self, now: Timestamp) {
        self.queue.pending = self.queue.pending.saturating_sub(1);
        self.queue.in_flight += 1;
        self.queue.size = self.queue.pending + self.queue.in_flight;
        self.last_attempt_at = Some(now);
        self.pending_cooldown = self.cooldown_ms > 0;
        if let Some(counts) = &mut self.counts {
            counts.attempts += 1;
        }
    }

    /// The attempt in flight ended: `error` is why it failed, if it did.
    pub fn ended(&mut self, now: Timestamp, duration_ms: u64, error: Option<String>) {
        self.queue.in_flight = self.queue.in_flight.saturating_sub(1);
        self.queue.size = self.queue.pending + self.queue.in_flight;
        self.queue.last_duration_ms = Some(duration_ms);
        match error {
            Some(error) => {
                self.queue.failed += 1;
                self.queue.last_error = Some(error.clone());
                self.last_failure_at = Some(now);
                self.last_error = Some(error);
                if let Some(counts) = &mut self.counts {
                    counts.failures += 1;
                }
            }
            None => {
                self.queue.completed += 1;
                self.last_success_at = Some(now);
                self.last_error = None;
                if let Some(counts) = &mut self.counts {
                    counts.successes += 1;
                }
            }
        }
    }

    /// The runbook's "clear the rewrite queue": nothing pending or in flight (an attempt a
    /// crash left behind), and no last error standing.
    pub fn clear_queue(&mut self) {
        self.queue.pending = 0;
        self.queue.in_flight = 0;
        self.queue.size = 0;
        self.queue.last_error = None;
        self.last_error = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(enabled: bool) -> FeatureSettings {
        FeatureSettings {
            enabled,
            min_heuristic_confidence: 0.75,
            cooldown_ms: 5_000,
            counted: false,
        }
    }

    #[test]
    fn an_attempt_moves_through_the_queue_and_starts_the_cooldown() {
        let t0 = Timestamp::from_unix_micros(1_000_000_000);
        let mut state = FeatureState::default().shown(settings(true), t0);
        state.queued();
        assert_eq!((state.queue.pending, state.queue.size), (1, 1));
        state.started(t0);
        assert_eq!((state.queue.pending, state.queue.in_flight), (0, 1));
        state.ended(t0, 12, Some("boom".into()));
        assert_eq!(state.queue.failed, 1);
        assert_eq!(state.last_error.as_deref(), Some("boom"));
        assert!(
            state
                .clone()
                .shown(settings(true), t0.plus_secs(4))
                .pending_cooldown
        );
        assert!(
            !state
                .clone()
                .shown(settings(true), t0.plus_secs(5))
                .pending_cooldown
        );
        let disabled = state.shown(settings(false), t0);
        assert_eq!((disabled.enabled, disabled.concurrency), (false, 0));
        assert_eq!(disabled.queue, QueueState::default());
    }

    #[test]
    fn the_state_object_has_the_documented_camel_case_fields() {
        let counted = FeatureSettings {
            counted: true,
            ..settings(false)
        };
        let value =
            serde_json::to_value(FeatureState::default().shown(counted, Timestamp::now())).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "enabled",
            "minHeuristicConfidence",
            "cooldownMs",
            "concurrency",
            "pendingCooldown",
            "lastAttemptAt",
            "lastSuccessAt",
            "lastFailureAt",
            "lastError",
            "lastUsage",
            "queue",
            "attempts",
            "successes",
            "failures",
        ] {
            assert!(keys.contains(&key), "{key} in {keys:?}");
        }
        let queue = value["queue"].as_object().unwrap();
        for key in [
            "pending",
            "inFlight",
            "completed",
            "failed",
            "size",
            "lastDurationMs",
            "lastError",
        ] {
            assert!(queue.contains_key(key), "queue.{key}");
        }
    }
}
