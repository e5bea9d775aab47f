//! A bare HTTP/1.1 client over a `TcpStream`: it shows exactly what the server sent,
//! including a body that ends early, which an ordinary client would turn into an error.

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What came back.
pub struct RawResponse {
    pub status: u16,
    /// The status line and headers, as sent.
    pub head: String,
    pub body: String,
    /// False when the connection closed before the body ended.
    pub complete: bool,
}

impl RawResponse {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("the body is JSON")
    }

    /// An event stream's events: the `event:` name (if any) and the `data:` payload, which
    /// is JSON except for OpenAI's closing `[DONE]` (kept as a string).
    pub fn events(&self) -> Vec<(Option<String>, Value)> {
        self.body
            .split("\n\n")
            .filter(|frame| !frame.trim().is_empty())
            .map(|frame| {
                let field = |name: &str| frame.lines().find_map(|line| line.strip_prefix(name));
                let data = field("data: ").expect("every frame has data");
                let data = serde_json::from_str(data).unwrap_or_else(|_| Value::from(data));
                (field("event: ").map(str::to_string), data)
            })
            .collect()
    }
}

/// Posts `body` as JSON to `path` on the server at `base_url` (`http://host:port`).
pub async fn post(base_url: &str, path: &str, body: &Value) -> RawResponse {
    send(base_url, "POST", path, &body.to_string()).await
}

/// Sends a bodiless GET.
pub async fn get(base_url: &str, path: &str) -> RawResponse {
    send(base_url, "GET", path, "").await
}

async fn send(base_url: &str, method: &str, path: &str, body: &str) -> RawResponse {
    let host = base_url
        .strip_prefix("http://")
        .expect("an http:// base URL");
    let mut stream = TcpStream::connect(host).await.expect("the server accepts");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request is sent");
    let mut raw = Vec::new();
    // A dropped connection may end in a reset; what arrived before it is kept in `raw`.
    let _ = stream.read_to_end(&mut raw).await;
    parse(&raw)
}

fn parse(raw: &[u8]) -> RawResponse {
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok());
    let mut response = RawResponse {
        status: status.expect("a status line"),
        head,
        body: String::new(),
        complete: true,
    };
    let rest = &raw[split + 4..];
    let (body, complete) = match response.header("transfer-encoding") {
        Some("chunked") => dechunk(rest),
        _ => (rest.to_vec(), length_matches(&response, rest)),
    };
    response.body = String::from_utf8_lossy(&body).into_owned();
    response.complete = complete;
    response
}

fn length_matches(response: &RawResponse, body: &[u8]) -> bool {
    let length = response
        .header("content-length")
        .and_then(|n| n.parse().ok());
    length == Some(body.len())
}

/// A chunked body's content, and whether its closing zero-size chunk arrived.
fn dechunk(mut rest: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        let Some(end) = rest.windows(2).position(|window| window == b"\r\n") else {
            return (body, false);
        };
        let size = std::str::from_utf8(&rest[..end])
            .ok()
            .and_then(|line| usize::from_str_radix(line.trim(), 16).ok());
        let data = &rest[end + 2..];
        match size {
            Some(0) => return (body, true),
            Some(size) if data.len() >= size + 2 => {
                body.extend_from_slice(&data[..size]);
                rest = &data[size + 2..];
            }
            _ => {
                body.extend_from_slice(data);
                return (body, false);
            }
        }
    }
}
