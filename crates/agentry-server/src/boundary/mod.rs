//! The HTTP boundary: one layer over every route that decides, before any handler runs,
//! whether a request may reach the API at all, so that no web page can act through agentry.
//!
//! In order: the `Host` must name this server (421 otherwise, for every route: a rebinding
//! page must not even read), the `Origin`, when there is one, must be the dashboard's own or
//! an allowed one (403), and a change must be sent as JSON (415): a page can send a form or
//! `text/plain` anywhere without asking, but sending JSON elsewhere needs the browser's
//! preflight, which only an allowed origin passes. The token is checked by the handlers.

mod host;
mod origin;

use std::net::IpAddr;
use std::sync::Arc;

use agentry_core::config::ServerConfig;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use self::host::Hosts;
use self::origin::{Caller, Origins};
use crate::error::ApiError;

/// Who may call this server, from the config and the address it is bound to.
pub struct Boundary {
    hosts: Hosts,
    origins: Origins,
}

impl Boundary {
    pub fn new(config: &ServerConfig, bound: IpAddr) -> Self {
        Self {
            hosts: Hosts::new(bound, &config.allowed_hosts),
            origins: Origins::new(&config.allowed_origins),
        }
    }
}

/// `router` behind the boundary.
pub fn guarded(router: Router, boundary: Boundary) -> Router {
    router.layer(middleware::from_fn_with_state(Arc::new(boundary), guard))
}

async fn guard(State(boundary): State<Arc<Boundary>>, request: Request, next: Next) -> Response {
    let host = match named_host(&boundary.hosts, &request) {
        Ok(host) => host,
        Err(refusal) => return refusal.into_response(),
    };
    let origin = request.headers().get(ORIGIN);
    let Some(caller) = boundary.origins.caller(origin, &host) else {
        return foreign_origin().into_response();
    };
    let page = match caller {
        Caller::AllowedPage(origin) => Some(origin),
        Caller::NoPage | Caller::OwnPage => None,
    };
    if let Some(origin) = &page
        && origin::is_preflight(request.method(), request.headers())
    {
        return origin::preflight(origin.clone());
    }
    let mut response = match changes_state(request.method()) && !is_json(request.headers()) {
        true => not_json().into_response(),
        false => next.run(request).await,
    };
    if let Some(origin) = page {
        origin::allow(origin, &mut response);
    }
    response
}

/// The `Host` the request named, if it names this server. A request in absolute form names
/// its host in the target too; both must name this server.
fn named_host(hosts: &Hosts, request: &Request) -> Result<String, ApiError> {
    let host = request
        .headers()
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| misdirected("the request names no host"))?;
    let target = request.uri().authority().map(|authority| authority.as_str());
    for named in std::iter::once(host).chain(target) {
        if !hosts.name_this_server(named) {
            return Err(misdirected(&format!(
                "this server does not answer to the host {named:?}: call it by a loopback name or its address, or add the name to [server] allowed_hosts"
            )));
        }
    }
    Ok(host.to_string())
}

fn misdirected(reason: &str) -> ApiError {
    ApiError::new(StatusCode::MISDIRECTED_REQUEST, reason)
}

fn foreign_origin() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "requests from other web pages are refused: add the page's origin to [server] allowed_origins to let it call the API",
    )
}

fn not_json() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "a change must be sent as JSON: set `Content-Type: application/json`",
    )
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

#[cfg(test)]
mod tests;
