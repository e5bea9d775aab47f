//! Which pages may call the API. A browser names the page behind a request in `Origin` (on
//! every cross-origin request, and on same-origin ones that change something), so a request
//! from a page that is neither the dashboard nor one `[server] allowed_origins` lists is
//! refused. Only such an allowed page gets CORS headers, and an answer to its preflight.

use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

/// What the API lets an allowed page send.
const METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
const HEADERS: &str = "authorization, content-type, last-event-id";
/// How long a browser may keep a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Who sent a request, as far as its `Origin` tells.
#[derive(Debug, PartialEq)]
pub enum Caller {
    /// No `Origin`: a program, or a page loading the server's own resources.
    NoOrigin,
    /// The dashboard: the page this server itself served.
    Dashboard,
    /// A page of another origin that `[server] allowed_origins` lists.
    Allowed(HeaderValue),
}

/// `[server] allowed_origins`.
pub struct Origins {
    /// Lowercase, without a trailing slash, as browsers send them.
    allowed: Vec<String>,
}

impl Origins {
    pub fn new(allowed: &[String]) -> Self {
        let allowed = allowed
            .iter()
            .map(|origin| origin.trim_end_matches('/').to_ascii_lowercase())
            .collect();
        Self { allowed }
    }

    /// Who sent a request that named `host`; `None` for a page that may not call the API.
    pub fn caller(&self, origin: Option<&HeaderValue>, host: &str) -> Option<Caller> {
        let Some(origin) = origin else {
            return Some(Caller::NoOrigin);
        };
        let text = origin.to_str().ok()?.to_ascii_lowercase();
        if text == format!("http://{}", host.to_ascii_lowercase()) {
            return Some(Caller::Dashboard);
        }
        self.allowed
            .contains(&text)
            .then(|| Caller::Allowed(origin.clone()))
    }
}

/// Lets `origin` read `response`.
pub fn allow(origin: HeaderValue, response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(VARY, HeaderValue::from_static("origin"));
}

/// Whether a request is a browser's preflight, asking before it sends the real one.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to an allowed page's preflight: what it may send.
pub fn preflight(origin: HeaderValue) -> Response {
    let mut response = (
        StatusCode::NO_CONTENT,
        [
            (ACCESS_CONTROL_ALLOW_METHODS, METHODS),
            (ACCESS_CONTROL_ALLOW_HEADERS, HEADERS),
            (ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE),
        ],
    )
        .into_response();
    allow(origin, &mut response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(allowed: &[&str]) -> Origins {
        let allowed: Vec<String> = allowed.iter().map(|o| o.to_string()).collect();
        Origins::new(&allowed)
    }

    fn value(text: &str) -> HeaderValue {
        HeaderValue::from_str(text).unwrap()
    }

    #[test]
    fn the_page_of_the_host_the_request_named_is_the_dashboard() {
        let origins = origins(&[]);
        let own = value("http://127.0.0.1:7878");
        assert_eq!(
            origins.caller(Some(&own), "127.0.0.1:7878"),
            Some(Caller::Dashboard)
        );
        assert_eq!(
            origins.caller(None, "127.0.0.1:7878"),
            Some(Caller::NoOrigin)
        );
        for foreign in [
            "http://evil.example",
            "http://127.0.0.1:7879",
            "https://127.0.0.1:7878",
            "null",
        ] {
            assert_eq!(
                origins.caller(Some(&value(foreign)), "127.0.0.1:7878"),
                None,
                "{foreign}"
            );
        }
    }

    #[test]
    fn a_listed_origin_is_an_allowed_page() {
        let origins = origins(&["https://Tools.Example/"]);
        let page = value("https://tools.example");
        assert_eq!(
            origins.caller(Some(&page), "127.0.0.1:7878"),
            Some(Caller::Allowed(page.clone()))
        );
        let response = preflight(page);
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let headers = response.headers();
        assert_eq!(
            headers[ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://tools.example"
        );
        assert_eq!(headers[VARY], "origin");
    }
}
