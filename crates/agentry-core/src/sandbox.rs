//! What an agent's sandbox holds, as the config decides it: its mode and network, the hosts
//! it may reach, the paths it may write and the ones hidden from it. A run adds its own
//! paths (the worktree, the store).

use crate::config::{AgentConfig, AgentKind, NetworkMode, SandboxConfig, SandboxMode};

/// Credentials in a home folder, hidden from every sandboxed agent.
pub const HOME_CREDENTIALS: [&str; 17] = [
    ".ssh",
    ".aws",
    ".config/gh",
    ".config/hub",
    ".git-credentials",
    ".netrc",
    ".docker/config.json",
    ".gnupg",
    ".kube",
    ".config/gcloud",
    ".azure",
    ".npmrc",
    ".pypirc",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".password-store",
    ".local/share/keyrings",
];

/// Sockets that give root or a way out of the sandbox (container engines, the system bus,
/// systemd), and the users' runtime folders (session bus, ssh and gpg agents).
pub const HOST_SOCKETS: [&str; 11] = [
    "/run/docker.sock",
    "/var/run/docker.sock",
    "/run/podman",
    "/run/containerd",
    "/run/crio",
    "/run/libvirt",
    "/run/dbus/system_bus_socket",
    "/var/run/dbus/system_bus_socket",
    "/run/systemd/private",
    "/run/snapd.socket",
    "/run/user",
];

/// One agent's sandbox, or the verify commands'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentSandbox {
    pub mode: SandboxMode,
    pub network: NetworkMode,
    /// With `network = "allow"`: its API host, its base URL's host, `sandbox.allow_hosts`
    /// and its own.
    pub allow_hosts: Vec<String>,
    /// Loopback ports of its base URL, reached through the proxy as if outside the sandbox.
    pub loopback_ports: Vec<u16>,
    /// Paths it may write besides its worktree, `~` made its home; those under a home it
    /// does not have are left out.
    pub writable: Vec<String>,
    /// Paths hidden from it: credentials in its home and agentry's, the host's sockets,
    /// `sandbox.hide`.
    pub hidden: Vec<String>,
    /// Its HOME, which stays visible.
    pub home: Option<String>,
}

/// Whether a run is sandboxed, from its mode and whether a sandbox works here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Containment {
    Sandboxed,
    /// Not sandboxed; the warning is what every such run logs when a sandbox was wanted.
    Unconfined {
        warning: Option<String>,
    },
    /// The mode requires a sandbox and there is none: the run fails with this.
    Refused(String),
}

/// What `mode` makes of a run where `sandbox` says whether bubblewrap works, or why not.
pub fn containment(mode: SandboxMode, sandbox: Result<(), &str>) -> Containment {
    match (mode, sandbox) {
        (SandboxMode::Off, _) => Containment::Unconfined { warning: None },
        (_, Ok(())) => Containment::Sandboxed,
        (SandboxMode::Auto, Err(why)) => Containment::Unconfined {
            warning: Some(format!(
                "no sandbox ({why}): this run can write, read and reach all its user can; install bubblewrap, or set sandbox.mode = \"off\" to say that is meant"
            )),
        },
        (SandboxMode::Bwrap, Err(why)) => Containment::Refused(format!(
            "sandbox.mode is \"bwrap\" but there is no sandbox here ({why}); install bubblewrap, or set sandbox.mode = \"auto\" to run without one"
        )),
    }
}

impl SandboxConfig {
    /// The sandbox of `agent`, whose settings win over these; `agentry_home` is agentry's
    /// own HOME, which the agent has when it passes HOME through.
    pub fn for_agent(&self, agent: &AgentConfig, agentry_home: Option<&str>) -> AgentSandbox {
        let home = agent_home(agent, agentry_home);
        let base_url = base_url(agent);
        let mut allow_hosts: Vec<String> = api_hosts(agent.kind)
            .iter()
            .map(|h| h.to_string())
            .collect();
        allow_hosts.extend(base_url.as_ref().map(|url| url.allowed.clone()));
        allow_hosts.extend(self.allow_hosts.iter().cloned());
        allow_hosts.extend(agent.allow_hosts.iter().cloned());
        let writable = self.writable.iter().chain(&agent.writable);
        AgentSandbox {
            mode: agent.sandbox.unwrap_or(self.mode),
            network: agent.network.unwrap_or(self.network),
            allow_hosts,
            loopback_ports: base_url
                .and_then(|url| url.loopback_port)
                .into_iter()
                .collect(),
            writable: writable.filter_map(|path| expand(path, home)).collect(),
            hidden: self.hidden(home, agentry_home),
            home: home.map(String::from),
        }
    }

    /// The sandbox of the verify commands: these settings alone, agentry's HOME theirs.
    pub fn for_verify(&self, agentry_home: Option<&str>) -> AgentSandbox {
        AgentSandbox {
            mode: self.mode,
            network: self.network,
            allow_hosts: self.allow_hosts.clone(),
            loopback_ports: Vec::new(),
            writable: self
                .writable
                .iter()
                .filter_map(|path| expand(path, agentry_home))
                .collect(),
            hidden: self.hidden(agentry_home, agentry_home),
            home: agentry_home.map(String::from),
        }
    }

    fn hidden(&self, home: Option<&str>, agentry_home: Option<&str>) -> Vec<String> {
        let mut homes = vec![home, agentry_home];
        homes.dedup();
        let credentials = homes.into_iter().flatten().flat_map(|home| {
            HOME_CREDENTIALS
                .iter()
                .map(move |file| format!("{}/{file}", home.trim_end_matches('/')))
        });
        let hide = self.hide.iter().filter_map(|path| expand(path, home));
        credentials
            .chain(HOST_SOCKETS.iter().map(|path| path.to_string()))
            .chain(hide)
            .collect()
    }
}

/// The HOME an agent runs with: the one its `env` sets, else agentry's when it passes HOME.
pub fn agent_home<'a>(agent: &'a AgentConfig, agentry_home: Option<&'a str>) -> Option<&'a str> {
    match agent.env.get("HOME") {
        Some(home) => Some(home),
        None => agent
            .pass_env
            .iter()
            .any(|name| name == "HOME")
            .then_some(agentry_home)
            .flatten(),
    }
}

/// `path` with a leading `~` made `home`; None when it needs a home there is none of.
fn expand(path: &str, home: Option<&str>) -> Option<String> {
    match path.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            Some(format!("{}{rest}", home?.trim_end_matches('/')))
        }
        _ => Some(path.to_string()),
    }
}

/// The hosts an agent kind's CLI talks to for its model.
fn api_hosts(kind: AgentKind) -> &'static [&'static str] {
    match kind {
        AgentKind::Claude | AgentKind::Acp => &["api.anthropic.com:443"],
        AgentKind::Codex => &["api.openai.com:443"],
        AgentKind::Command | AgentKind::Scripted | AgentKind::Openai => &[],
    }
}

/// Where an agent's base URL points, as the proxy sees it.
struct BaseUrl {
    /// `host:port` to allow.
    allowed: String,
    /// Its port, when the host is loopback.
    loopback_port: Option<u16>,
}

/// The agent's model API: its `base_url`, or for Claude Code the `ANTHROPIC_BASE_URL` its
/// `env` sets.
fn base_url(agent: &AgentConfig) -> Option<BaseUrl> {
    let from_env = matches!(agent.kind, AgentKind::Claude | AgentKind::Acp)
        .then(|| agent.env.get("ANTHROPIC_BASE_URL"))
        .flatten();
    let url: http::Uri = agent.base_url.as_ref().or(from_env)?.parse().ok()?;
    let authority = url.authority()?;
    let port = authority.port_u16().unwrap_or(match url.scheme_str() {
        Some("http") => 80,
        _ => 443,
    });
    let host = authority.host();
    let loopback = matches!(host, "localhost" | "[::1]") || host.starts_with("127.");
    Some(match loopback {
        // The bridge reaches a loopback base URL at 127.0.0.1, whatever name it has.
        true => BaseUrl {
            allowed: format!("127.0.0.1:{port}"),
            loopback_port: Some(port),
        },
        false => BaseUrl {
            allowed: format!("{host}:{port}"),
            loopback_port: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn agent(kind: AgentKind) -> AgentConfig {
        AgentConfig::new(kind)
    }

    #[test]
    fn an_agents_own_settings_win_and_its_api_hosts_are_allowed() {
        let config = SandboxConfig {
            network: NetworkMode::None,
            allow_hosts: vec!["crates.io".into()],
            ..SandboxConfig::default()
        };
        let codex = AgentConfig {
            sandbox: Some(SandboxMode::Off),
            network: Some(NetworkMode::Allow),
            allow_hosts: vec!["*.github.com".into()],
            base_url: Some("https://llm.internal/v1".into()),
            ..agent(AgentKind::Codex)
        };
        let sandbox = config.for_agent(&codex, None);
        assert_eq!(sandbox.mode, SandboxMode::Off);
        assert_eq!(sandbox.network, NetworkMode::Allow);
        assert_eq!(
            sandbox.allow_hosts,
            [
                "api.openai.com:443",
                "llm.internal:443",
                "crates.io",
                "*.github.com"
            ]
        );
        assert!(sandbox.loopback_ports.is_empty());
        let command = config.for_agent(&agent(AgentKind::Command), None);
        assert_eq!(
            (command.mode, command.network),
            (SandboxMode::Auto, NetworkMode::None)
        );
        assert_eq!(command.allow_hosts, ["crates.io"]);
    }

    #[test]
    fn a_loopback_model_server_is_relayed_at_its_port() {
        let env = BTreeMap::from([(
            "ANTHROPIC_BASE_URL".to_string(),
            "http://localhost:8123".to_string(),
        )]);
        let claude = AgentConfig {
            env,
            ..agent(AgentKind::Claude)
        };
        let sandbox = SandboxConfig::default().for_agent(&claude, None);
        assert_eq!(
            sandbox.allow_hosts,
            ["api.anthropic.com:443", "127.0.0.1:8123"]
        );
        assert_eq!(sandbox.loopback_ports, [8123]);
    }

    #[test]
    fn tilde_is_the_agents_home_and_credentials_of_both_homes_are_hidden() {
        let config = SandboxConfig {
            writable: vec!["~/.cache".into(), "/opt/shared".into(), "~other".into()],
            hide: vec!["~/private".into()],
            ..SandboxConfig::default()
        };
        let own_home = AgentConfig {
            env: BTreeMap::from([("HOME".to_string(), "/agent/home/".to_string())]),
            ..agent(AgentKind::Command)
        };
        let sandbox = config.for_agent(&own_home, Some("/root"));
        assert_eq!(
            sandbox.writable,
            ["/agent/home/.cache", "/opt/shared", "~other"]
        );
        for hidden in [
            "/agent/home/.ssh",
            "/root/.ssh",
            "/root/.netrc",
            "/run/user",
            "/agent/home/private",
        ] {
            assert!(
                sandbox.hidden.iter().any(|h| h == hidden),
                "{hidden}: {:?}",
                sandbox.hidden
            );
        }
        let no_home = AgentConfig {
            pass_env: vec!["PATH".into()],
            ..agent(AgentKind::Command)
        };
        let sandbox = config.for_agent(&no_home, Some("/root"));
        assert_eq!(sandbox.writable, ["/opt/shared", "~other"]);
        assert!(sandbox.hidden.iter().any(|h| h == "/root/.aws"));
        let verify = config.for_verify(Some("/root"));
        assert_eq!(verify.writable, ["/root/.cache", "/opt/shared", "~other"]);
    }

    #[test]
    fn auto_runs_unconfined_with_a_warning_where_bwrap_does_not_work() {
        assert_eq!(
            containment(SandboxMode::Auto, Ok(())),
            Containment::Sandboxed
        );
        assert_eq!(
            containment(SandboxMode::Bwrap, Ok(())),
            Containment::Sandboxed
        );
        let off = containment(SandboxMode::Off, Ok(()));
        assert_eq!(off, Containment::Unconfined { warning: None });
        let missing = "bwrap is not installed";
        assert!(matches!(
            containment(SandboxMode::Auto, Err(missing)),
            Containment::Unconfined { warning: Some(w) } if w.starts_with("no sandbox (bwrap is not installed)")
        ));
        assert!(matches!(
            containment(SandboxMode::Bwrap, Err(missing)),
            Containment::Refused(why) if why.contains("sandbox.mode is \"bwrap\"")
        ));
    }
}
