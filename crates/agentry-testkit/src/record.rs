//! What the server saw: every request, served or not.

use axum::http::{HeaderMap, Method, Uri};
use serde::Serialize;
use serde_json::Value;

/// One HTTP request the server received.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedRequest {
    /// "POST", "GET", …
    pub method: String,
    /// The path without the query, e.g. "/v1/messages".
    pub path: String,
    /// The query string without '?', e.g. "beta=true".
    pub query: Option<String>,
    /// Every header, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON; `Value::Null` when it was empty or not JSON.
    pub body: Value,
}

impl RecordedRequest {
    pub(crate) fn new(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Self {
        Self {
            method: method.to_string(),
            path: uri.path().to_string(),
            query: uri.query().map(str::to_string),
            headers: headers
                .iter()
                .map(|(name, value)| {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    (name.to_string(), value)
                })
                .collect(),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}
