//! A response that is not the answer: what the server said, whether to try again, and how
//! the turn fails if not.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

use crate::AgentFailure;

/// The most of a body that is not an API error object kept as the message (in characters):
/// a proxy's HTML error page says little past its start.
const BODY_CAP: usize = 500;

/// A response with a status other than success.
#[derive(Debug)]
pub(super) struct Refusal {
    status: StatusCode,
    /// The server's own words.
    message: String,
    /// How long the server asked to wait (`Retry-After`, in seconds).
    pub(super) retry_after: Option<Duration>,
}

impl Refusal {
    pub(super) fn new(status: StatusCode, headers: &HeaderMap, body: &str) -> Self {
        Self {
            status,
            message: message(status, body),
            retry_after: headers
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse().ok())
                .map(Duration::from_secs),
        }
    }

    /// Rate limits and server errors pass; any other refusal would come again the same way.
    pub(super) fn retryable(&self) -> bool {
        self.status == StatusCode::TOO_MANY_REQUESTS || self.status.is_server_error()
    }

    /// One line, e.g. "HTTP 400: Invalid model".
    pub(super) fn describe(&self) -> String {
        format!("HTTP {}: {}", self.status.as_u16(), self.message)
    }

    /// How the turn fails when no try is left.
    pub(super) fn failure(self) -> AgentFailure {
        if self.status != StatusCode::TOO_MANY_REQUESTS {
            return AgentFailure::Reported(self.describe());
        }
        AgentFailure::RateLimited {
            reset_at: self
                .retry_after
                .map(|wait| unix_now() + wait.as_secs() as i64),
            message: self.message,
        }
    }
}

/// The message of an API error object: OpenAI's `{"message": ...}`, or a bare string.
pub(super) fn message_of(error: &Value) -> String {
    match error["message"].as_str().or(error.as_str()) {
        Some(message) => message.to_string(),
        None => error.to_string(),
    }
}

/// The error object's message when the body is OpenAI's `{"error": ...}`, else the body
/// itself, else the status's name.
fn message(status: StatusCode, body: &str) -> String {
    let error = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|value| value.get("error").cloned());
    if let Some(error) = error {
        return message_of(&error);
    }
    match body.trim() {
        "" => status
            .canonical_reason()
            .unwrap_or("no message")
            .to_string(),
        text => text.chars().take(BODY_CAP).collect(),
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn refusal(code: u16, retry_after: Option<&'static str>, body: &str) -> Refusal {
        let mut headers = HeaderMap::new();
        if let Some(seconds) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(seconds));
        }
        Refusal::new(StatusCode::from_u16(code).unwrap(), &headers, body)
    }

    #[test]
    fn rate_limits_and_server_errors_are_retried_other_refusals_not() {
        assert!(refusal(429, None, "").retryable());
        assert!(refusal(503, None, "").retryable());
        assert!(!refusal(400, None, "").retryable());
        assert!(!refusal(401, None, "").retryable());
    }

    #[test]
    fn the_message_is_the_api_errors_or_the_body_or_the_status() {
        let api = r#"{"error":{"message":"Invalid model","type":"invalid_request_error"}}"#;
        assert_eq!(
            refusal(400, None, api).describe(),
            "HTTP 400: Invalid model"
        );
        assert_eq!(
            refusal(502, None, " bad gateway\n").describe(),
            "HTTP 502: bad gateway"
        );
        assert_eq!(
            refusal(503, None, "").describe(),
            "HTTP 503: Service Unavailable"
        );
        assert_eq!(
            refusal(400, None, &"x".repeat(2000)).describe().len(),
            "HTTP 400: ".len() + BODY_CAP
        );
    }

    #[test]
    fn a_rate_limit_resets_after_its_retry_after() {
        let before = unix_now();
        let limited = refusal(429, Some("30"), r#"{"error":{"message":"slow down"}}"#);
        assert_eq!(limited.retry_after, Some(Duration::from_secs(30)));
        let AgentFailure::RateLimited { reset_at, message } = limited.failure() else {
            panic!("a 429 is a rate limit");
        };
        assert_eq!(message, "slow down");
        assert!((before + 30..=unix_now() + 30).contains(&reset_at.unwrap()));
        // Retry-After may also be a date; only seconds are used.
        let dated = refusal(429, Some("Wed, 21 Oct 2015 07:28:00 GMT"), "");
        assert_eq!(dated.retry_after, None);
        assert!(matches!(
            dated.failure(),
            AgentFailure::RateLimited { reset_at: None, .. }
        ));
    }
}
