//! Which `Host` names this server. A web page can have its own name resolve to this machine
//! (DNS rebinding) and then call the API as if it were the page's own server; its requests
//! still carry that name in `Host`. So a request is answered only when its `Host` is a loopback
//! name or address, the address the server is bound to, or a name `[server] allowed_hosts`
//! lists.

use std::net::IpAddr;

use axum::http::uri::Authority;

/// The names and addresses a request's `Host` may give.
pub struct Hosts {
    /// The address the server listens on; unspecified (`0.0.0.0`, `::`) when on all of them.
    bound: IpAddr,
    /// `[server] allowed_hosts`, lowercase.
    allowed: Vec<String>,
}

impl Hosts {
    pub fn new(bound: IpAddr, allowed: &[String]) -> Self {
        let allowed = allowed.iter().map(|name| normalized(name)).collect();
        Self { bound, allowed }
    }

    /// Whether `authority` (a `Host` value: a host and an optional port) names this server.
    /// The port is not checked: a rebinding page is told apart by its name, and a proxy in
    /// front of the server may listen on another port.
    pub fn name_this_server(&self, authority: &str) -> bool {
        let Ok(authority) = authority.parse::<Authority>() else {
            return false;
        };
        if authority.as_str().contains('@') {
            return false; // a Host never carries credentials
        }
        let host = normalized(authority.host());
        if self.allowed.contains(&host) {
            return true;
        }
        match ip_literal(&host) {
            // An address cannot be rebound: only a name can point elsewhere than it did.
            Some(ip) => {
                ip.to_canonical().is_loopback() || self.bound.is_unspecified() || ip == self.bound
            }
            None => host == "localhost" || host.ends_with(".localhost"),
        }
    }
}

/// A host name compared as DNS does: without case, and without the root's trailing dot.
fn normalized(host: &str) -> String {
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

/// The address a host names literally (IPv6 in brackets, as in a URL).
fn ip_literal(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound_to(ip: &str, allowed: &[&str]) -> Hosts {
        let allowed: Vec<String> = allowed.iter().map(|name| name.to_string()).collect();
        Hosts::new(ip.parse().unwrap(), &allowed)
    }

    #[test]
    fn loopback_names_and_addresses_name_the_server() {
        let hosts = bound_to("127.0.0.1", &[]);
        for host in [
            "localhost",
            "LocalHost:7878",
            "localhost.",
            "app.localhost:80",
            "127.0.0.1:7878",
            "127.3.2.1",
            "[::1]:7878",
            "[::ffff:127.0.0.1]",
        ] {
            assert!(hosts.name_this_server(host), "{host}");
        }
    }

    #[test]
    fn other_names_and_addresses_do_not() {
        let hosts = bound_to("127.0.0.1", &[]);
        for host in [
            "evil.example:7878",
            "localhost.evil.example",
            "evillocalhost",
            "10.0.0.1:7878",
            "[::2]",
            "user@127.0.0.1",
            "",
            "bad host",
        ] {
            assert!(!hosts.name_this_server(host), "{host}");
        }
    }

    #[test]
    fn the_bound_address_and_the_allowed_names_name_the_server() {
        let hosts = bound_to("192.168.1.5", &["Agentry.Internal"]);
        assert!(hosts.name_this_server("192.168.1.5:7878"));
        assert!(!hosts.name_this_server("192.168.1.6:7878"));
        assert!(hosts.name_this_server("agentry.internal:443"));
        assert!(!hosts.name_this_server("other.internal"));
    }

    #[test]
    fn on_every_address_any_address_but_no_other_name_does() {
        let hosts = bound_to("0.0.0.0", &[]);
        assert!(hosts.name_this_server("192.168.1.6:7878"));
        assert!(hosts.name_this_server("[fe80::1]:7878"));
        assert!(!hosts.name_this_server("evil.example:7878"));
    }
}
