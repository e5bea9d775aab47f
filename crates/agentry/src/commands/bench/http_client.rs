//! The HTTP benchmark's client: HTTP/1.1 over kept-alive connections, enough for the API's
//! answers (bodies with a Content-Length) and its event streams (chunked). Written by hand so
//! that generating the load costs little CPU beside the server on the same two cores, as wrk
//! would, and so that the benchmark needs nothing installed.

use anyhow::{Context, Result, bail, ensure};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A read's bytes, built once and sent as often as needed.
pub fn get(path: &str) -> Vec<u8> {
    request("GET", path, &[], "")
}

/// A change's bytes: a JSON body, with the service token.
pub fn post(path: &str, body: &str, token: &str) -> Vec<u8> {
    let headers = [
        "Content-Type: application/json".to_string(),
        format!("Authorization: Bearer {token}"),
    ];
    request("POST", path, &headers, body)
}

fn request(method: &str, path: &str, headers: &[String], body: &str) -> Vec<u8> {
    // Any loopback name names the server, whatever its port.
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
    for header in headers {
        text.push_str(&format!("{header}\r\n"));
    }
    if !body.is_empty() {
        text.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text.into_bytes()
}

/// One kept-alive connection.
pub struct Connection {
    stream: TcpStream,
    /// Bytes read and not consumed yet.
    buf: Vec<u8>,
}

struct Head {
    status: u16,
    content_length: Option<usize>,
}

impl Connection {
    pub async fn open(addr: &str) -> Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("could not connect to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    /// Sends a request and reads its whole answer; returns the status and the body.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<(u16, Vec<u8>)> {
        self.stream.write_all(request).await?;
        let head = self.head().await?;
        let length = head
            .content_length
            .context("an answer without Content-Length")?;
        while self.buf.len() < length {
            self.fill().await?;
        }
        Ok((head.status, self.buf.drain(..length).collect()))
    }

    /// Sends a request for an event stream; it must be answered 200.
    pub async fn subscribe(mut self, request: &[u8]) -> Result<EventStream> {
        self.stream.write_all(request).await?;
        let head = self.head().await?;
        ensure!(
            head.status == 200,
            "the event stream answered {}",
            head.status
        );
        Ok(EventStream {
            connection: self,
            body: Vec::new(),
        })
    }

    async fn head(&mut self) -> Result<Head> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let text = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
                self.buf.drain(..end + 4);
                let status = text
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .context("an answer without a status")?;
                let content_length = text
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|value| value.trim().parse().ok());
                return Ok(Head {
                    status,
                    content_length,
                });
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<()> {
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            bail!("the server closed the connection");
        }
        Ok(())
    }
}

/// An open event stream, read as its chunks arrive.
pub struct EventStream {
    connection: Connection,
    /// The body, out of its chunks, not yet split into messages.
    body: Vec<u8>,
}

impl EventStream {
    /// The ids of the events that have arrived whole since the last call (waiting for one at
    /// least); `None` once the stream has ended.
    pub async fn next_ids(&mut self) -> Result<Option<Vec<i64>>> {
        loop {
            let ended = dechunk(&mut self.connection.buf, &mut self.body)?;
            let ids = take_ids(&mut self.body);
            if !ids.is_empty() {
                return Ok(Some(ids));
            }
            if ended {
                return Ok(None);
            }
            self.connection.fill().await?;
        }
    }
}

/// Moves the whole chunks at the start of `raw` to `body`; `true` once the last chunk came.
fn dechunk(raw: &mut Vec<u8>, body: &mut Vec<u8>) -> Result<bool> {
    loop {
        let Some(line_end) = find(raw, b"\r\n") else {
            return Ok(false);
        };
        let size = std::str::from_utf8(&raw[..line_end])?;
        let size = usize::from_str_radix(size.trim(), 16).context("a chunk size")?;
        if size == 0 {
            return Ok(true);
        }
        let start = line_end + 2;
        if raw.len() < start + size + 2 {
            return Ok(false);
        }
        body.extend_from_slice(&raw[start..start + size]);
        raw.drain(..start + size + 2);
    }
}

/// The ids of the whole messages at the start of `body`, which are taken off it.
fn take_ids(body: &mut Vec<u8>) -> Vec<i64> {
    let Some(end) = body.windows(2).rposition(|w| w == b"\n\n") else {
        return Vec::new();
    };
    let messages: Vec<u8> = body.drain(..end + 2).collect();
    String::from_utf8_lossy(&messages)
        .lines()
        .filter_map(|line| line.strip_prefix("id: "))
        .filter_map(|id| id.parse().ok())
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
