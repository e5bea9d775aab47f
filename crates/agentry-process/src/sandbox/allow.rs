//! The hosts a sandboxed child may reach through the proxy: `name` (any port), `name:port`,
//! and `*.name` for the subdomains of `name`; IPv6 addresses in brackets.

use thiserror::Error;

/// An entry that names no host.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{entry:?} is not a host (name, name:port or *.name, an IPv6 address in brackets)")]
pub struct BadHost {
    pub entry: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList(Vec<Pattern>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern {
    /// Lower case, without brackets.
    host: String,
    subdomains: bool,
    port: Option<u16>,
}

impl AllowList {
    pub fn parse(entries: &[impl AsRef<str>]) -> Result<Self, BadHost> {
        entries
            .iter()
            .map(|entry| Pattern::parse(entry.as_ref()))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether `host` (a name or an address, IPv6 with or without brackets) at `port` is
    /// allowed.
    pub fn permits(&self, host: &str, port: u16) -> bool {
        let host = unbracket(host).to_ascii_lowercase();
        self.0.iter().any(|pattern| pattern.matches(&host, port))
    }
}

impl Pattern {
    fn parse(entry: &str) -> Result<Self, BadHost> {
        let bad = || BadHost {
            entry: entry.to_string(),
        };
        let (host, port) = split_port(entry.trim()).ok_or_else(bad)?;
        let (subdomains, host) = match host.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, host),
        };
        let valid = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
        valid
            .then(|| Self {
                host: host.to_ascii_lowercase(),
                subdomains,
                port,
            })
            .ok_or_else(bad)
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        let named = match self.subdomains {
            true => host
                .strip_suffix(self.host.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
            false => host == self.host,
        };
        named && self.port.is_none_or(|allowed| allowed == port)
    }
}

/// The host and the port of `entry`; None when the port is not a number.
fn split_port(entry: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = entry.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port.parse().ok()?))),
            None => after.is_empty().then_some((host, None)),
        };
    }
    match entry.split_once(':') {
        // More than one colon without brackets: an IPv6 address alone.
        Some((_, rest)) if rest.contains(':') => Some((entry, None)),
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((entry, None)),
    }
}

fn unbracket(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        AllowList::parse(entries).unwrap()
    }

    #[test]
    fn a_name_allows_any_port_and_a_port_only_itself() {
        let allowed = list(&["api.anthropic.com", "127.0.0.1:8080"]);
        assert!(allowed.permits("api.anthropic.com", 443));
        assert!(allowed.permits("API.Anthropic.com", 80));
        assert!(allowed.permits("127.0.0.1", 8080));
        assert!(!allowed.permits("127.0.0.1", 8081));
        assert!(!allowed.permits("anthropic.com", 443));
        assert!(!allowed.permits("evil.api.anthropic.com", 443));
    }

    #[test]
    fn a_wildcard_allows_subdomains_only() {
        let allowed = list(&["*.github.com:443"]);
        assert!(allowed.permits("api.github.com", 443));
        assert!(allowed.permits("a.b.github.com", 443));
        assert!(!allowed.permits("github.com", 443));
        assert!(!allowed.permits("evilgithub.com", 443));
        assert!(!allowed.permits("api.github.com", 80));
    }

    #[test]
    fn ipv6_addresses_take_brackets_for_a_port() {
        let allowed = list(&["[::1]:9000", "fe80::1"]);
        assert!(allowed.permits("[::1]", 9000));
        assert!(allowed.permits("::1", 9000));
        assert!(!allowed.permits("::1", 9001));
        assert!(allowed.permits("fe80::1", 1));
    }

    #[test]
    fn entries_that_name_no_host_are_refused() {
        for entry in [
            "",
            "*.",
            "a b",
            "host:port",
            "host:99999",
            "[::1",
            "http://x",
        ] {
            assert_eq!(
                AllowList::parse(&[entry]),
                Err(BadHost {
                    entry: entry.to_string()
                }),
                "{entry:?}"
            );
        }
    }
}
