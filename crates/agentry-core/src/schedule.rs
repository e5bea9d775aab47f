//! Scheduling rules: the backoff after a failed session, and when an issue is blocked for a
//! person. Whether two issues' scopes may touch the same files is [`crate::scope`]'s.

use crate::Timestamp;

/// The first retry waits this long; each later one twice as long as the one before.
const BACKOFF_BASE_SECS: i64 = 10;
const BACKOFF_CAP_SECS: i64 = 300;

/// Where an issue goes after a failed session (verify failure or error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Back to the queue, not before `ready_at`.
    Retry { ready_at: Timestamp },
    /// Too many failed sessions: a person has to look.
    Block { reason: String },
}

/// `failed_sessions` counts this failure too: 10 s · 2^(n−1), capped at 5 minutes, and
/// blocked once `max_sessions` sessions have failed.
pub fn after_failure(failed_sessions: u32, max_sessions: u32, now: Timestamp) -> AfterFailure {
    if failed_sessions >= max_sessions {
        return AfterFailure::Block {
            reason: format!(
                "{failed_sessions} of {max_sessions} sessions failed; a person has to look"
            ),
        };
    }
    AfterFailure::Retry {
        ready_at: now.plus_secs(backoff_secs(failed_sessions)),
    }
}

pub fn backoff_secs(failed_sessions: u32) -> i64 {
    let doublings = failed_sessions.saturating_sub(1).min(16);
    (BACKOFF_BASE_SECS << doublings).min(BACKOFF_CAP_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds_up_to_five_minutes() {
        let secs: Vec<i64> = (1..=7).map(backoff_secs).collect();
        assert_eq!(secs, vec![10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(backoff_secs(u32::MAX), 300);
    }

    #[test]
    fn the_last_allowed_failure_blocks() {
        let now = Timestamp::from_unix_micros(0);
        assert_eq!(
            after_failure(1, 3, now),
            AfterFailure::Retry {
                ready_at: now.plus_secs(10)
            }
        );
        assert!(
            matches!(after_failure(3, 3, now), AfterFailure::Block { reason } if reason.contains("3 of 3"))
        );
    }
}
