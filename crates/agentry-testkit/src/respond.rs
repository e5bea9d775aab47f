//! HTTP responses the wire formats share: event streams, errors, dropped connections.

use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, StreamExt};
use serde_json::{Value, json};

/// How long a cut-off body waits before failing: the frames already yielded get flushed to
/// the client first, so it sees an answer begin and then the connection drop.
const FLUSH_PAUSE: Duration = Duration::from_millis(20);

/// A `text/event-stream` response of `frames`; with `cut`, the connection drops after them
/// instead of the stream ending.
pub(crate) fn sse(frames: Vec<String>, cut: bool) -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/event-stream"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, body(frames, cut)).into_response()
}

/// The first half of `message`'s JSON, then a dropped connection.
pub(crate) fn cut_json(message: &Value) -> Response {
    let mut half = message.to_string().into_bytes();
    half.truncate(half.len() / 2);
    let headers = [(header::CONTENT_TYPE, "application/json")];
    (headers, body(vec![half], true)).into_response()
}

/// A failed request: `code` with `body` as JSON and, if given, a `retry-after` header.
pub(crate) fn status(code: u16, body: String, retry_after: Option<u64>) -> Response {
    let code = StatusCode::from_u16(code).expect("Reply::Status codes are checked at start");
    let mut response = (code, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
    }
    response
}

/// A 404 in the Anthropic error shape, so an agent that calls an unserved path says which.
pub(crate) fn not_found(method: &str, path: &str) -> Response {
    let message = format!("the model server does not serve {method} {path}");
    let error = json!({"type": "error", "error": {"type": "not_found_error", "message": message}});
    (StatusCode::NOT_FOUND, axum::Json(error)).into_response()
}

/// A streamed body of `chunks`; with `cut`, it fails after them, which makes the server
/// close the connection without ending the chunked body.
fn body<C: Into<Bytes> + Send + 'static>(chunks: Vec<C>, cut: bool) -> Body {
    let sent = stream::iter(chunks.into_iter().map(Ok::<_, io::Error>));
    if !cut {
        return Body::from_stream(sent);
    }
    let dropped = stream::once(async {
        tokio::time::sleep(FLUSH_PAUSE).await;
        Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "scripted cut-off",
        ))
    });
    Body::from_stream(sent.chain(dropped))
}
