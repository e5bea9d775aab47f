//! The bridge inside a sandbox whose network goes through agentry's proxy. The sandbox has
//! only its own loopback; the bridge listens there, on the port the child's `HTTP_PROXY`
//! names and on the loopback ports of the hosts it reaches as if outside (a model server on
//! `127.0.0.1`), and relays each connection over the proxy's Unix socket. It runs the child
//! and exits with its code.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::bwrap::{BRIDGE_INSIDE, SOCKET_INSIDE};

/// The first argument that makes agentry's binary run [`run_bridge`] with the rest.
pub const BRIDGE_COMMAND: &str = "sandbox-bridge";
/// The port the proxy is served on inside, unless a relayed loopback port takes it.
const PROXY_PORT: u16 = 3128;
/// The exit code of a bridge that could not do its job, as `env` reports its own failures.
const BRIDGE_FAILED: i32 = 125;
/// The longest answer to the bridge's own CONNECT.
const MAX_ANSWER: usize = 8 * 1024;

/// How the bridge is started for one sandbox.
pub(super) struct Relay {
    proxy_port: u16,
    loopback_ports: Vec<u16>,
}

impl Relay {
    pub(super) fn new(loopback_ports: &[u16]) -> Self {
        let proxy_port = (PROXY_PORT..)
            .find(|port| !loopback_ports.contains(port))
            .expect("a free port above 3128");
        Self {
            proxy_port,
            loopback_ports: loopback_ports.to_vec(),
        }
    }

    /// What points the child's HTTP clients at the bridge, loopback left direct.
    pub(super) fn proxy_env(&self) -> Vec<(String, String)> {
        let url = format!("http://127.0.0.1:{}", self.proxy_port);
        let direct = "localhost,127.0.0.1,::1".to_string();
        ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]
            .into_iter()
            .map(|name| (name.to_string(), url.clone()))
            .chain(["NO_PROXY", "no_proxy"].map(|name| (name.to_string(), direct.clone())))
            .collect()
    }

    /// `command` run by the bridge.
    pub(super) fn argv(&self, command: Vec<String>) -> Vec<String> {
        let ports: Vec<String> = self.loopback_ports.iter().map(u16::to_string).collect();
        let mut argv = [
            BRIDGE_INSIDE,
            BRIDGE_COMMAND,
            SOCKET_INSIDE,
            &self.proxy_port.to_string(),
            &ports.join(","),
            "--",
        ]
        .map(String::from)
        .to_vec();
        argv.extend(command);
        argv
    }
}

/// The bridge's main, given what follows [`BRIDGE_COMMAND`]: `SOCKET PROXY_PORT
/// LOOPBACK_PORTS -- PROGRAM ARGS...`. Returns the exit code.
pub fn run_bridge(args: &[String]) -> i32 {
    let bridged = Bridge::parse(args).and_then(|bridge| bridge.run());
    bridged.unwrap_or_else(|e| {
        eprintln!("agentry's sandbox bridge: {e}");
        BRIDGE_FAILED
    })
}

struct Bridge {
    socket: PathBuf,
    proxy_port: u16,
    loopback_ports: Vec<u16>,
    command: Vec<String>,
}

impl Bridge {
    fn parse(args: &[String]) -> io::Result<Self> {
        let bad = || io::Error::other("usage: SOCKET PROXY_PORT LOOPBACK_PORTS -- PROGRAM ARGS...");
        let [socket, proxy_port, loopback_ports, dashes, command @ ..] = args else {
            return Err(bad());
        };
        if dashes != "--" || command.is_empty() {
            return Err(bad());
        }
        let port = |text: &str| text.parse::<u16>().map_err(|_| bad());
        Ok(Self {
            socket: socket.into(),
            proxy_port: port(proxy_port)?,
            loopback_ports: loopback_ports
                .split(',')
                .filter(|p| !p.is_empty())
                .map(port)
                .collect::<io::Result<_>>()?,
            command: command.to_vec(),
        })
    }

    fn run(self) -> io::Result<i32> {
        listen(self.proxy_port, &self.socket, None)?;
        for port in &self.loopback_ports {
            listen(*port, &self.socket, Some(*port))?;
        }
        let status = Command::new(&self.command[0])
            .args(&self.command[1..])
            .status()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.command[0])))?;
        Ok(status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or_default()))
    }
}

/// Listens on loopback `port` and relays every connection to the proxy, tunnelled to
/// `127.0.0.1:tunnel` when that is given.
fn listen(port: u16, socket: &Path, tunnel: Option<u16>) -> io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| io::Error::new(e.kind(), format!("127.0.0.1:{port}: {e}")))?;
    let socket = socket.to_path_buf();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let socket = socket.clone();
            std::thread::spawn(move || relay(client, &socket, tunnel));
        }
    });
    Ok(())
}

fn relay(client: TcpStream, socket: &Path, tunnel: Option<u16>) -> io::Result<()> {
    let mut proxy = UnixStream::connect(socket)?;
    if let Some(port) = tunnel {
        open_tunnel(&mut proxy, port)?;
    }
    let (mut from_client, mut to_proxy) = (client.try_clone()?, proxy.try_clone()?);
    let upward = std::thread::spawn(move || {
        let _ = io::copy(&mut from_client, &mut to_proxy);
        let _ = to_proxy.shutdown(Shutdown::Write);
    });
    let (mut from_proxy, mut to_client) = (proxy, client);
    let _ = io::copy(&mut from_proxy, &mut to_client);
    let _ = to_client.shutdown(Shutdown::Write);
    let _ = upward.join();
    Ok(())
}

/// Asks the proxy for a tunnel to `127.0.0.1:port` and reads its answer, byte by byte so
/// that nothing of what follows is taken.
fn open_tunnel(proxy: &mut UnixStream, port: u16) -> io::Result<()> {
    let target = format!("127.0.0.1:{port}");
    proxy.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())?;
    let mut answer = Vec::new();
    let mut byte = [0];
    while !answer.ends_with(b"\r\n\r\n") && answer.len() < MAX_ANSWER {
        if proxy.read(&mut byte)? == 0 {
            break;
        }
        answer.push(byte[0]);
    }
    let status = answer.split(|b| *b == b' ').nth(1);
    match status == Some(b"200".as_slice()) {
        true => Ok(()),
        false => Err(io::Error::other(format!(
            "the proxy refused {target}: {}",
            String::from_utf8_lossy(&answer)
                .lines()
                .next()
                .unwrap_or_default()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_port_steps_aside_for_a_relayed_loopback_port() {
        let relay = Relay::new(&[3128, 8080]);
        let argv = relay.argv(vec!["claude".into(), "-p".into()]);
        assert_eq!(
            argv[1..].join(" "),
            "sandbox-bridge /tmp/.agentry-sandbox/proxy.sock 3129 3128,8080 -- claude -p"
        );
        let env = relay.proxy_env();
        assert!(env.contains(&("HTTPS_PROXY".into(), "http://127.0.0.1:3129".into())));
        assert!(env.contains(&("no_proxy".into(), "localhost,127.0.0.1,::1".into())));
    }

    #[test]
    fn the_bridge_reads_back_what_it_is_given() {
        let argv = Relay::new(&[]).argv(vec!["true".into()]);
        let bridge = Bridge::parse(&argv[2..]).unwrap();
        assert_eq!(bridge.proxy_port, 3128);
        assert!(bridge.loopback_ports.is_empty());
        assert_eq!(bridge.command, ["true"]);
        assert!(Bridge::parse(&["x".into()]).is_err());
    }
}
