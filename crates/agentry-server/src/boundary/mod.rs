//! The HTTP boundary: one layer over every route that decides, before any handler runs,
//! whether a request may reach the API at all, so that no web page can act through agentry.
//!
//! In order: the `Host` must name this server (421 otherwise, for every path: a rebinding
//! page must not even read), and the `Origin`, when there is one, must be the dashboard's own
//! or an allowed one (403). The token, and a change's JSON type, are checked by the handlers
//! that take them (see the `auth` module).

mod host;
mod origin;

use std::net::IpAddr;
use std::sync::Arc;

use agentry_core::config::ServerConfig;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::{HOST, ORIGIN};
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
        Caller::Allowed(origin) => Some(origin),
        Caller::NoOrigin | Caller::Dashboard => None,
    };
    if let Some(origin) = &page
        && origin::is_preflight(request.method(), request.headers())
    {
        return origin::preflight(origin.clone());
    }
    let mut response = next.run(request).await;
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
    let target = request
        .uri()
        .authority()
        .map(|authority| authority.as_str());
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

#[cfg(test)]
mod tests;
