//! The proxy a sandboxed child's network goes through when only some hosts are allowed. It
//! listens on a Unix socket (bound into the sandbox, where the bridge relays to it), tunnels
//! `CONNECT host:port` and forwards plain `GET http://host/...` requests to allowed hosts,
//! and answers 403 to the rest, logging each refusal. Once a connection is open its bytes go
//! to the host it named and nowhere else, so a later request on it cannot reach another host.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use http::Uri;
use http::uri::{Authority, Scheme};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt, copy_bidirectional};
use tokio::net::{TcpStream, UnixListener, UnixStream};
use tokio::task::{JoinHandle, JoinSet};

use super::AllowList;

/// The longest request head the proxy reads.
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;
/// Headers meant for the proxy, or for this one hop, that are not passed on.
const HOP_HEADERS: [&str; 4] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
];

/// A proxy serving one sandbox; it stops, with its connections, when dropped.
pub(crate) struct Running {
    pub(crate) socket: PathBuf,
    task: JoinHandle<()>,
    _dir: TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a proxy for `hosts` on a new socket in a private folder.
pub(super) fn start(hosts: AllowList) -> io::Result<Running> {
    let dir = tempfile::Builder::new()
        .prefix("agentry-proxy-")
        .tempdir()?;
    let socket = dir.path().join("proxy.sock");
    let listener = UnixListener::bind(&socket)?;
    let task = tokio::spawn(accept(listener, Arc::new(hosts)));
    Ok(Running {
        socket,
        task,
        _dir: dir,
    })
}

async fn accept(listener: UnixListener, hosts: Arc<AllowList>) {
    // Owned here, so that stopping the proxy stops every connection too.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    connections.spawn(serve(client, hosts.clone()));
                }
                Err(_) => return,
            },
            Some(_) = connections.join_next() => {}
        }
    }
}

/// Where a request goes, and what to send there first.
struct Destination {
    host: String,
    port: u16,
    /// The request rewritten for the host; None for a tunnel.
    request: Option<Vec<u8>>,
}

async fn serve(mut client: UnixStream, hosts: Arc<AllowList>) {
    let (head, rest) = match read_head(&mut client).await {
        Ok(read) => read,
        Err(_) => return,
    };
    let destination = match destination(&head) {
        Ok(destination) => destination,
        Err(why) => return answer(&mut client, "400 Bad Request", why).await,
    };
    let (host, port) = (destination.host.as_str(), destination.port);
    if !hosts.permits(host, port) {
        tracing::warn!(
            operation = "sandbox",
            host,
            port,
            "refused an agent's connection: the host is not in allow_hosts"
        );
        let why = format!("agentry's sandbox does not allow {host}:{port} (see allow_hosts)");
        return answer(&mut client, "403 Forbidden", &why).await;
    }
    let mut upstream = match TcpStream::connect((host, port)).await {
        Ok(upstream) => upstream,
        Err(e) => return answer(&mut client, "502 Bad Gateway", &e.to_string()).await,
    };
    let opened = match &destination.request {
        None => {
            client
                .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                .await
        }
        Some(request) => upstream.write_all(request).await,
    };
    if opened.is_ok() && upstream.write_all(&rest).await.is_ok() {
        let _ = copy_bidirectional(&mut client, &mut upstream).await;
    }
}

/// The request head, and what the client sent after it.
async fn read_head(client: &mut UnixStream) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((buf, rest));
        }
        if buf.len() >= MAX_HEAD {
            return Err(io::Error::other("request head too long"));
        }
        let mut chunk = [0; 4096];
        match client.read(&mut chunk).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn destination(head: &[u8]) -> Result<Destination, &'static str> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err("not an HTTP request"),
    }
    let (method, target) = (
        request.method.unwrap_or_default(),
        request.path.unwrap_or_default(),
    );
    if method == "CONNECT" {
        let authority: Authority = target.parse().map_err(|_| "CONNECT needs host:port")?;
        let port = authority.port_u16().ok_or("CONNECT needs host:port")?;
        return Ok(Destination {
            host: host_of(&authority),
            port,
            request: None,
        });
    }
    let uri: Uri = target.parse().map_err(|_| "not a URL")?;
    if uri.scheme() != Some(&Scheme::HTTP) {
        return Err("a proxy request needs an http:// URL (https goes through CONNECT)");
    }
    let authority = uri.authority().ok_or("a proxy request needs a host")?;
    Ok(Destination {
        host: host_of(authority),
        port: authority.port_u16().unwrap_or(80),
        request: Some(origin_request(&request, &uri, authority)),
    })
}

/// The host to connect to: a name or an address, IPv6 without its brackets.
fn host_of(authority: &Authority) -> String {
    let host = authority.host();
    host.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host)
        .to_string()
}

/// The request as the host expects it: its path instead of the whole URL, without the
/// proxy's headers, and closed after one exchange.
fn origin_request(request: &httparse::Request, uri: &Uri, authority: &Authority) -> Vec<u8> {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let version = request.version.unwrap_or(1);
    let method = request.method.unwrap_or_default();
    let mut out = format!("{method} {path} HTTP/1.{version}\r\n").into_bytes();
    let mut has_host = false;
    for header in request.headers.iter() {
        let name = header.name.to_ascii_lowercase();
        has_host |= name == "host";
        if !HOP_HEADERS.contains(&name.as_str()) {
            out.extend_from_slice(format!("{}: ", header.name).as_bytes());
            out.extend_from_slice(header.value);
            out.extend_from_slice(b"\r\n");
        }
    }
    if !has_host {
        out.extend_from_slice(format!("Host: {authority}\r\n").as_bytes());
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

async fn answer(client: &mut UnixStream, status: &str, why: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{why}\n",
        why.len() + 1
    );
    let _ = client.write_all(response.as_bytes()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(head: &str) -> Result<(String, u16, Option<String>), &'static str> {
        destination(head.as_bytes()).map(|d| {
            let request = d.request.map(|r| String::from_utf8(r).unwrap());
            (d.host, d.port, request)
        })
    }

    #[test]
    fn connect_names_the_host_and_port() {
        let head = "CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n";
        assert_eq!(parsed(head), Ok(("api.anthropic.com".into(), 443, None)));
        assert!(parsed("CONNECT api.anthropic.com HTTP/1.1\r\n\r\n").is_err());
    }

    #[test]
    fn a_plain_request_goes_to_its_path_without_the_proxy_headers() {
        let head = "GET http://example.test:8080/a?b=1 HTTP/1.1\r\nHost: example.test:8080\r\nProxy-Connection: keep-alive\r\nAccept: */*\r\n\r\n";
        let expected = "GET /a?b=1 HTTP/1.1\r\nHost: example.test:8080\r\nAccept: */*\r\nConnection: close\r\n\r\n";
        assert_eq!(
            parsed(head),
            Ok(("example.test".into(), 8080, Some(expected.into())))
        );
    }

    /// A server on loopback that answers each connection with what it read first.
    async fn echo_server() -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0; 1024];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let _ = stream.write_all(&[b"echo:", &buf[..n]].concat()).await;
            }
        });
        port
    }

    /// Sends `request` through the proxy and reads until the far end closes.
    async fn exchange(socket: &std::path::Path, request: &str) -> String {
        let mut client = UnixStream::connect(socket).await.unwrap();
        client.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        answer
    }

    #[tokio::test]
    async fn allowed_hosts_are_reached_and_others_refused() {
        let (allowed, other) = (echo_server().await, echo_server().await);
        let proxy = start(AllowList::parse(&[format!("127.0.0.1:{allowed}")]).unwrap()).unwrap();
        let tunnel = format!("CONNECT 127.0.0.1:{allowed} HTTP/1.1\r\n\r\nping");
        assert_eq!(
            exchange(&proxy.socket, &tunnel).await,
            "HTTP/1.1 200 Connection Established\r\n\r\necho:ping"
        );
        let plain = format!("GET http://127.0.0.1:{allowed}/x HTTP/1.1\r\n\r\n");
        let forwarded = exchange(&proxy.socket, &plain).await;
        assert!(
            forwarded.starts_with("echo:GET /x HTTP/1.1\r\n"),
            "{forwarded}"
        );
        let refused = format!("CONNECT 127.0.0.1:{other} HTTP/1.1\r\n\r\n");
        let answer = exchange(&proxy.socket, &refused).await;
        assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
        assert!(answer.ends_with(&format!(
            "does not allow 127.0.0.1:{other} (see allow_hosts)\n"
        )));
    }

    #[test]
    fn requests_that_name_no_http_url_are_bad() {
        assert!(parsed("GET /local HTTP/1.1\r\nHost: x\r\n\r\n").is_err());
        assert!(parsed("GET https://x/ HTTP/1.1\r\n\r\n").is_err());
        assert!(parsed("hello\r\n\r\n").is_err());
    }
}
