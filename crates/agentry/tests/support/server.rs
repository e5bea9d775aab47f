//! A running `agentry serve` in a test repository, and a small HTTP/1.1 client over
//! `TcpStream` to speak to it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use super::{Repo, Serve};

/// A running `agentry serve` and a small HTTP client for it.
pub struct Server(pub Serve);

/// A generous bound on an answer: a server that hangs fails the test instead of blocking it.
pub const ANSWER_BOUND: Duration = Duration::from_secs(60);

impl Server {
    pub fn start(repo: &Repo, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self(Serve::start(repo, args, env))
    }

    /// Sends one request as a well-behaved client would: with what `headers` leave out of a
    /// change's `Content-Type: application/json` and the token the server made. Returns the
    /// status and the body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[&str],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let mut all: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        if !["GET", "HEAD"].contains(&method) && !has_header(headers, "content-type") {
            all.push("Content-Type: application/json".to_string());
        }
        if let Some(token) = &self.0.token
            && !has_header(headers, "authorization")
        {
            all.push(format!("Authorization: Bearer {token}"));
        }
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        parse_response(&self.exchange(method, path, &all, body))
    }

    /// Sends one request with only `headers` (and `Connection`, `Content-Length` and, unless
    /// they name another, the server's `Host`); returns the response as it came.
    pub fn exchange(&self, method: &str, path: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
        let mut stream = TcpStream::connect(&self.0.addr).expect("connects");
        stream.set_read_timeout(Some(ANSWER_BOUND)).unwrap();
        stream.set_write_timeout(Some(ANSWER_BOUND)).unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !has_header(headers, "host") {
            head.push_str(&format!("Host: {}\r\n", self.0.addr));
        }
        for header in headers {
            head.push_str(&format!("{header}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("writes the head");
        // The server may answer (413) before it has read a large body; that is not an error here.
        let _ = stream.write_all(body);
        let mut response = Vec::new();
        if let Err(err) = stream.read_to_end(&mut response)
            && response.is_empty()
        {
            panic!("{method} {path}: no answer ({err})");
        }
        response
    }

    pub fn json(
        &self,
        method: &str,
        path: &str,
        headers: &[&str],
        body: Option<Value>,
    ) -> (u16, Value) {
        let bytes = match &body {
            Some(value) => serde_json::to_vec(value).unwrap(),
            None => Vec::new(),
        };
        let (status, body) = self.request(method, path, headers, &bytes);
        let value = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "{method} {path}: not JSON ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        });
        (status, value)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.json("GET", path, &[], None)
    }

    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.json("POST", path, &[], Some(body))
    }

    pub fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.json("PATCH", path, &[], Some(body))
    }
}

/// Whether `headers` (`Name: value` lines) set `name`.
fn has_header(headers: &[&str], name: &str) -> bool {
    headers.iter().any(|header| {
        header
            .split_once(':')
            .is_some_and(|(given, _)| given.trim().eq_ignore_ascii_case(name))
    })
}

/// Splits a response (without chunked encoding handling beyond what `Connection: close` needs).
pub fn parse_response(response: &[u8]) -> (u16, Vec<u8>) {
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head: {}", String::from_utf8_lossy(response)));
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let mut body = response[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size");
        let size = usize::from_str_radix(std::str::from_utf8(&data[..end]).unwrap().trim(), 16)
            .expect("a hex chunk size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 4 + size..];
    }
}

/// The reason of an error answer.
pub fn error_of(value: &Value) -> &str {
    value["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {value}"))
}

/// Creates a task through the API; returns its id.
pub fn create(server: &Server, body: Value) -> String {
    let (status, issue) = server.post("/api/v1/tasks", body);
    assert_eq!(status, 201, "{issue}");
    issue["id"].as_str().expect("an id").to_string()
}
