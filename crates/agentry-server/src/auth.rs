//! What a request needs to change something or read diagnostics: mutating and diagnostic
//! handlers take [`Authorized`], which checks `Authorization: Bearer <token>` and that a
//! change was sent as JSON. A web page can send a form or `text/plain` to any server without
//! asking, but JSON to another origin only after the browser's preflight, which only
//! `[server] allowed_origins` pass (see the boundary). Checked here, on the routes that take
//! it, so that a path or method that does not exist is still answered 404 or 405.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};

use crate::AppState;
use crate::error::ApiError;

/// Proof that the request carried the service token and, for a change, a JSON type.
pub struct Authorized;

impl FromRequestParts<AppState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let given = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        match given {
            Some(given) if same(given.as_bytes(), state.token.as_bytes()) => {}
            Some(_) => return Err(unauthorized("the bearer token is wrong")),
            None => {
                return Err(unauthorized(
                    "this endpoint needs `Authorization: Bearer <service token>`",
                ));
            }
        }
        match changes_state(&parts.method) && !is_json(&parts.headers) {
            true => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "a change must be sent as JSON: set `Content-Type: application/json`",
            )),
            false => Ok(Authorized),
        }
    }
}

fn changes_state(method: &Method) -> bool {
    [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
}

/// Whether the body is declared as JSON (`application/json`, with any parameters).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

fn unauthorized(reason: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, reason)
}

/// Compares in time that depends only on the lengths, so that timing does not reveal how much
/// of a guess was right. The length itself is not secret enough to hide.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_application_json_is_json() {
        let typed = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, value.parse().unwrap());
            is_json(&headers)
        };
        assert!(typed("application/json"));
        assert!(typed("Application/JSON ; charset=utf-8"));
        for other in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/jsonx",
        ] {
            assert!(!typed(other), "{other}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn only_equal_bytes_are_the_same() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secrets"));
        assert!(same(b"", b""));
    }
}
