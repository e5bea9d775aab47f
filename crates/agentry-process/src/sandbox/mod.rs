//! Children run in a sandbox: bubblewrap (`bwrap`) on Linux. The whole file system read-only,
//! a private `/tmp`, `/dev` and `/proc`, only the given paths writable and the hidden ones
//! out of sight; a pid namespace of its own that dies with agentry, no capabilities, a session
//! of its own; and the network as agentry's, none, or only the allowed hosts through a proxy
//! that agentry runs outside, reached over a Unix socket.

mod allow;
mod bridge;
mod bwrap;
mod probe;
mod proxy;

use std::io;
use std::path::{Path, PathBuf};

pub use allow::{AllowList, BadHost};
pub use bridge::{BRIDGE_COMMAND, run_bridge};
pub use probe::bwrap;
pub(crate) use proxy::Running;

/// What a sandboxed child may see, write and reach. A path listed in more than one place
/// takes the most restrictive; a deeper path wins over the folder it lies in (a hidden
/// `~/.ssh` inside a writable `~`, a writable worktree inside a hidden `.agentry/`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sandbox {
    /// Folders and files the child may change: its worktree, state folders.
    pub writable: Vec<PathBuf>,
    /// Read-only even inside a writable folder or a hidden one: a worktree's `.git` link, the
    /// scripts its verify commands run, the prompt file.
    pub read_only: Vec<PathBuf>,
    /// Out of sight: an empty folder or an empty file in their place.
    pub hidden: Vec<PathBuf>,
    /// Kept visible, read-only, where the private `/tmp` would hide them: the repository, the
    /// child's program and home.
    pub visible: Vec<PathBuf>,
    pub network: Network,
}

/// What a sandboxed child's network reaches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Network {
    /// The host's network, as agentry's.
    #[default]
    Host,
    /// Nothing but its own loopback.
    None,
    /// Only the allowed hosts, through agentry's proxy.
    Allow(Proxied),
}

/// The allowed hosts and how the child reaches them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxied {
    pub hosts: AllowList,
    /// A program that runs [`run_bridge`] when its first argument is [`BRIDGE_COMMAND`]
    /// (agentry's own binary): inside the sandbox it relays the child's connections to the
    /// proxy.
    pub bridge: PathBuf,
    /// Loopback ports (a model server on `127.0.0.1`) the child reaches as if it were outside:
    /// the bridge listens on them inside and relays through the proxy.
    pub loopback_ports: Vec<u16>,
}

/// A child's program, arguments and environment once wrapped in its sandbox, and the proxy
/// that must run as long as it does.
pub(crate) struct Wrapped {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<std::ffi::OsString>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) proxy: Option<Running>,
}

impl Sandbox {
    /// `program args` in `cwd` with `env`, as bwrap runs them in this sandbox. Starts the
    /// proxy when the network is `allow`, so it must be called inside a tokio runtime.
    pub(crate) fn wrap(
        &self,
        program: &str,
        args: &[String],
        cwd: &Path,
        env: &[(String, String)],
    ) -> io::Result<Wrapped> {
        let bwrap = probe::bwrap().map_err(|why| io::Error::other(format!("no sandbox: {why}")))?;
        let proxy = match &self.network {
            Network::Allow(proxied) => Some(proxy::start(proxied.hosts.clone())?),
            Network::Host | Network::None => None,
        };
        let mut env: Vec<(String, String)> = env
            .iter()
            .filter(|(name, _)| name != "TMPDIR")
            .cloned()
            .collect();
        env.push(("TMPDIR".into(), "/tmp".into()));
        let mut command = vec![program.to_string()];
        command.extend(args.iter().cloned());
        if let (Network::Allow(proxied), Some(_)) = (&self.network, &proxy) {
            let relay = bridge::Relay::new(&proxied.loopback_ports);
            env.extend(relay.proxy_env());
            command = relay.argv(command);
        }
        let socket = proxy.as_ref().map(|running| running.socket.as_path());
        Ok(Wrapped {
            program: bwrap.to_path_buf(),
            args: bwrap::args(self, cwd, socket, &command),
            env,
            proxy,
        })
    }
}
