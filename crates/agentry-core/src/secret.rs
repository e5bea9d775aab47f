//! Secrets as they may be shown: what a person needs to recognise a setting, never the value
//! that would let someone else use it. Tokens, routing keys and agents' environment values are
//! only said to be set; a URL keeps its scheme, host and port, and loses what may be a
//! credential (user info, path, query), since a webhook's path is often its key.

/// What is shown in place of a secret that is set.
pub const HIDDEN: &str = "(set, hidden)";

/// [`HIDDEN`] for a value that is set, the empty string for one that is not.
pub fn hidden(value: &str) -> String {
    match value.is_empty() {
        true => String::new(),
        false => HIDDEN.to_string(),
    }
}

/// `scheme://host[:port]`, followed by `/(hidden)` when the URL carries anything more; a value
/// that is not an absolute URL is hidden whole.
pub fn url(value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return HIDDEN.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (credentials, host) = match authority.rsplit_once('@') {
        Some((_, host)) => (true, host),
        None => (false, authority),
    };
    match credentials || !matches!(tail, "" | "/") {
        true => format!("{scheme}://{host}/(hidden)"),
        false => format!("{scheme}://{host}{tail}"),
    }
}

/// An API's base URL with its path kept (`/v1` says which API) and its user info and query,
/// which may be credentials, hidden.
pub fn base_url(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return value.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("(hidden)@{host}"),
        None => authority.to_string(),
    };
    let path = match tail.find(['?', '#']) {
        Some(at) => format!("{}?(hidden)", &tail[..at]),
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_keeps_its_host_and_loses_its_key() {
        assert_eq!(
            url("https://hooks.slack.com/services/T0/B0/XXXX"),
            "https://hooks.slack.com/(hidden)"
        );
        assert_eq!(
            url("https://user:pass@example.com:8443"),
            "https://example.com:8443/(hidden)"
        );
        assert_eq!(
            url("https://example.com/?token=x"),
            "https://example.com/(hidden)"
        );
        assert_eq!(url("http://127.0.0.1:9/"), "http://127.0.0.1:9/");
        assert_eq!(url("not a url with a secret"), HIDDEN);
        assert_eq!(url(""), "");
    }

    #[test]
    fn a_base_url_keeps_its_path() {
        assert_eq!(
            base_url("https://api.openai.com/v1"),
            "https://api.openai.com/v1"
        );
        assert_eq!(
            base_url("https://me:key@llm.example/v1?api-key=k"),
            "https://(hidden)@llm.example/v1?(hidden)"
        );
    }

    #[test]
    fn only_set_values_are_said_to_be_hidden() {
        assert_eq!(hidden("k"), HIDDEN);
        assert_eq!(hidden(""), "");
    }
}
