//! The dashboard: plain HTML, CSS and ES modules compiled into the binary, served at `/` and
//! `/assets/{file}`. There is no build step: the files under `assets/` are what the browser runs.
//!
//! The file names carry no content hash, so browsers revalidate every time (`no-cache`) with an
//! ETag made from the content; an unchanged file costs a 304 and a new binary is seen at once.

use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Only the dashboard's own files may run or be fetched by the page.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
                      base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// FNV-1a of the body, for the ETag.
    hash: u64,
}

impl Asset {
    const fn new(name: &'static str, content_type: &'static str, body: &'static [u8]) -> Self {
        Self {
            name,
            content_type,
            body,
            hash: fnv1a(body),
        }
    }
}

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset::new(
            $name,
            $content_type,
            include_bytes!(concat!("../assets/", $name)),
        )
    };
}

const JS: &str = "text/javascript; charset=utf-8";

const INDEX: Asset = asset!("index.html", "text/html; charset=utf-8");

const ASSETS: [Asset; 13] = [
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("live.js", JS),
    asset!("panel.js", JS),
    asset!("board.js", JS),
    asset!("detail.js", JS),
    asset!("question.js", JS),
    asset!("status.js", JS),
    asset!("reviews.js", JS),
    asset!("flags.js", JS),
    asset!("new_issue.js", JS),
];

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// `GET /`: the page.
pub async fn index(headers: HeaderMap) -> Response {
    serve(&INDEX, &headers)
}

/// `GET /assets/{file}`: a stylesheet or module of the page.
pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|asset| asset.name == name) {
        Some(asset) => serve(asset, &headers),
        None => ApiError::not_found(format!("no asset {name}")).into_response(),
    }
}

fn serve(asset: &Asset, request: &HeaderMap) -> Response {
    let etag = format!("\"{:016x}\"", asset.hash);
    let headers = [
        (CACHE_CONTROL, "no-cache"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (CONTENT_SECURITY_POLICY, POLICY),
    ];
    if matches(request, &etag) {
        return (StatusCode::NOT_MODIFIED, headers, [(ETAG, etag)]).into_response();
    }
    let content = [(CONTENT_TYPE, asset.content_type)];
    (headers, [(ETAG, etag)], content, asset.body).into_response()
}

/// Whether the request's `If-None-Match` names `etag` (it may list several, or be `*`).
fn matches(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_imports_is_served() {
        let sources = std::iter::once(&INDEX).chain(&ASSETS);
        for source in sources {
            let text = std::str::from_utf8(source.body).expect("assets are UTF-8");
            for name in imported(text) {
                assert!(
                    ASSETS.iter().any(|asset| asset.name == name),
                    "{} refers to {name}, which is not in ASSETS",
                    source.name
                );
            }
        }
    }

    /// The `/assets/NAME` and `./NAME.js` references in a file.
    fn imported(text: &str) -> Vec<&str> {
        let after = |marker: &'static str| {
            text.match_indices(marker).map(move |(at, _)| {
                let rest = &text[at + marker.len()..];
                let end = rest.find(['"', '\'']).unwrap_or(rest.len());
                &rest[..end]
            })
        };
        let relative = after("\"./").map(|name| name.trim_start_matches("./"));
        after("\"/assets/").chain(relative).collect()
    }

    #[test]
    fn the_etag_matches_lists_and_weak_tags() {
        let mut request = HeaderMap::new();
        request.insert(IF_NONE_MATCH, "\"a\", W/\"b\"".parse().unwrap());
        assert!(matches(&request, "\"b\""));
        assert!(!matches(&request, "\"c\""));
        assert!(!matches(&HeaderMap::new(), "\"a\""));
    }
}
