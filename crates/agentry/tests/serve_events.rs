//! End-to-end tests of the event streams of `agentry serve` (`GET /api/v1/events` and
//! `GET /api/v1/tasks/{id}/events`): a real server process, read as Server-Sent Events over a
//! plain `TcpStream` as the server sends them.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};
use support::server::{Server, create, error_of};
use support::{Repo, agentry_with};

/// A generous bound on one read from a stream (not a timing assertion): events written by
/// another process arrive at the server's next poll.
const READ_BOUND: Duration = Duration::from_secs(10);
/// A generous bound on the server stopping after SIGTERM.
const STOP_BOUND: Duration = Duration::from_secs(10);

/// One message of a stream.
struct Message {
    id: i64,
    event: Value,
}

impl Message {
    fn is(&self, issue_id: &str, event_type: &str) -> bool {
        self.event["issue_id"] == issue_id && self.event["event_type"] == event_type
    }
}

/// An open event stream: its chunked body decoded and split into messages as it arrives.
struct EventStream {
    reader: BufReader<TcpStream>,
    /// Body text not yet split into messages.
    pending: String,
}

impl EventStream {
    /// Opens `path` and reads the response head, which must be a 200 event stream.
    fn open(server: &Server, path: &str, headers: &[&str]) -> Self {
        let mut stream = TcpStream::connect(&server.0.addr).expect("connects");
        stream.set_read_timeout(Some(READ_BOUND)).unwrap();
        let mut head = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n",
            server.0.addr
        );
        for header in headers {
            head.push_str(&format!("{header}\r\n"));
        }
        head.push_str("\r\n");
        stream
            .write_all(head.as_bytes())
            .expect("writes the request");
        let mut reader = BufReader::new(stream);
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("a head line");
            if line == "\r\n" {
                break;
            }
            lines.push(line.trim_end().to_ascii_lowercase());
        }
        assert!(lines[0].starts_with("http/1.1 200"), "{lines:?}");
        assert!(
            lines.contains(&"content-type: text/event-stream".to_string()),
            "{lines:?}"
        );
        Self {
            reader,
            pending: String::new(),
        }
    }

    /// The next message with an event (comments are skipped).
    fn next(&mut self) -> Message {
        loop {
            if let Some(message) = self.take_message() {
                return message;
            }
            assert!(self.read_chunk(), "the stream ended");
        }
    }

    /// The ids of the next `n` messages.
    fn ids(&mut self, n: usize) -> Vec<i64> {
        (0..n).map(|_| self.next().id).collect()
    }

    /// Reads to the end of the stream, which must come without another event.
    fn assert_ends(&mut self) {
        while self.read_chunk() {}
        let rest = self.pending.clone();
        assert!(
            self.take_message().is_none(),
            "an event before the end: {rest}"
        );
    }

    /// Appends the next chunk of the body; `false` at the end of the body.
    fn read_chunk(&mut self) -> bool {
        let mut size = String::new();
        self.reader.read_line(&mut size).expect("a chunk size");
        if size.is_empty() {
            return false;
        }
        let size = usize::from_str_radix(size.trim(), 16).expect("a hex chunk size");
        let mut data = vec![0; size + 2];
        self.reader.read_exact(&mut data).expect("a chunk");
        self.pending
            .push_str(std::str::from_utf8(&data[..size]).expect("UTF-8"));
        size > 0
    }

    /// Splits the first complete message off `pending`, skipping comments.
    fn take_message(&mut self) -> Option<Message> {
        while let Some(end) = self.pending.find("\n\n") {
            let block: String = self.pending.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.strip_prefix(name).map(str::to_string))
            };
            let (Some(id), Some(data)) = (field("id: "), field("data: ")) else {
                assert!(
                    block.starts_with(':'),
                    "neither event nor comment: {block:?}"
                );
                continue;
            };
            let event: Value = serde_json::from_str(&data).expect("the data is JSON");
            let id = id.parse().expect("a numeric id");
            assert_eq!(event["id"], id, "the id line is the event's id");
            return Some(Message { id, event });
        }
        None
    }
}

fn server(repo: &Repo) -> Server {
    Server::start(repo, &["--no-dispatch"], &[])
}

#[test]
fn a_stream_gets_new_events_from_the_api_and_from_other_processes() {
    let repo = Repo::initialized();
    repo.add("before the stream", &[]);
    let server = server(&repo);
    let mut stream = EventStream::open(&server, "/api/v1/events", &[]);
    let posted = create(&server, json!({"title": "through the API"}));
    let first = stream.next();
    assert!(first.is(&posted, "ISSUE_CREATED"), "{}", first.event);
    assert_eq!(first.event["data"]["title"], "through the API");
    let added = repo.add("through the CLI", &[]);
    let second = stream.next();
    assert!(second.is(&added, "ISSUE_CREATED"), "{}", second.event);
    assert!(second.id > first.id);
}

#[test]
fn a_resumed_stream_gets_the_missed_events_then_live_ones() {
    let repo = Repo::initialized();
    let server = server(&repo);
    for title in ["one", "two", "three"] {
        create(&server, json!({"title": title}));
    }
    let stored = EventStream::open(&server, "/api/v1/events?after=0", &[]).ids(3);
    // A reconnecting EventSource sends Last-Event-ID with the URL it first opened: the header
    // is the newer position.
    let last_seen = format!("Last-Event-ID: {}", stored[0]);
    let mut resumed = EventStream::open(&server, "/api/v1/events?after=0", &[&last_seen]);
    assert_eq!(resumed.ids(2), stored[1..]);
    let live = create(&server, json!({"title": "four"}));
    let next = resumed.next();
    assert!(next.is(&live, "ISSUE_CREATED"), "{}", next.event);
    let after = format!("/api/v1/events?after={}", stored[1]);
    let mut by_query = EventStream::open(&server, &after, &[]);
    assert_eq!(by_query.ids(2), [stored[2], next.id]);
}

#[test]
fn a_task_stream_has_only_that_tasks_events() {
    let repo = Repo::initialized();
    let server = server(&repo);
    let a = create(&server, json!({"title": "a"}));
    let b = create(&server, json!({"title": "b"}));
    let path = format!("/api/v1/tasks/{a}/events?after=0");
    let mut only_a = EventStream::open(&server, &path, &[]);
    let first = only_a.next();
    assert!(first.is(&a, "ISSUE_CREATED"), "{}", first.event);
    for id in [&b, &a] {
        let (status, _) = server.patch(&format!("/api/v1/tasks/{id}"), json!({"priority": 0}));
        assert_eq!(status, 200);
    }
    let next = only_a.next();
    assert!(next.is(&a, "ISSUE_UPDATED"), "{}", next.event);
}

#[test]
fn every_stream_gets_every_event_in_order() {
    let repo = Repo::initialized();
    let server = server(&repo);
    let mut streams: Vec<EventStream> = (0..50)
        .map(|_| EventStream::open(&server, "/api/v1/events", &[]))
        .collect();
    let posted: Vec<String> = (0..20)
        .map(|n| create(&server, json!({"title": format!("task {n}")})))
        .collect();
    for stream in &mut streams {
        let received: Vec<String> = (0..posted.len())
            .map(|_| {
                stream.next().event["issue_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(received, posted);
    }
}

/// Many pages of events in one commit, written by another process: a stream gets each one
/// once, in order.
#[test]
fn a_large_import_reaches_a_stream_whole() {
    let repo = Repo::initialized();
    let server = server(&repo);
    let mut stream = EventStream::open(&server, "/api/v1/events", &[]);
    let issues = 3000;
    let backlog: String = (0..issues)
        .map(|n| format!("{{\"title\":\"imported {n}\"}}\n"))
        .collect();
    let out = agentry_with(repo.path(), &["issue", "import", "-"], &[], Some(&backlog));
    support::assert_ok(&out);
    let first = stream.next();
    assert_eq!(first.event["event_type"], "ISSUE_IMPORTED");
    let ids = stream.ids(issues - 1);
    let expected: Vec<i64> = (first.id + 1..first.id + issues as i64).collect();
    assert_eq!(ids, expected);
}

#[test]
fn bad_streams_are_refused_with_a_reason() {
    let repo = Repo::initialized();
    let server = server(&repo);
    let (status, err) = server.get("/api/v1/tasks/i-zzzz/events");
    assert_eq!(status, 404);
    assert!(error_of(&err).contains("i-zzzz"), "{err}");
    assert_eq!(server.get("/api/v1/tasks/not-an-id/events").0, 404);
    let (status, err) = server.json("GET", "/api/v1/events", &["Last-Event-ID: soon"], None);
    assert_eq!(status, 400);
    assert!(error_of(&err).contains("Last-Event-ID"), "{err}");
    for query in ["after=-1", "after=x"] {
        let (status, err) = server.get(&format!("/api/v1/events?{query}"));
        assert_eq!(status, 400, "{query}");
        assert!(error_of(&err).contains("after"), "{err}");
    }
    let (status, err) = server.get("/api/v1/events?since=3");
    assert_eq!(status, 400);
    assert!(error_of(&err).contains("since"), "{err}");
}

#[test]
fn connections_past_the_limit_close_idle_ones_never_an_open_stream() {
    let repo = Repo::initialized();
    let limit = ("SERVER__MAX_CONNECTIONS", "2");
    let server = Server::start(&repo, &["--no-dispatch"], &[limit]);
    let mut stream = EventStream::open(&server, "/api/v1/events", &[]);
    let idle: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(&server.0.addr).expect("connects"))
        .collect();
    // Each connection past the limit closed the one idle longest: each of these in turn, the
    // last one for the request that creates a task.
    let posted = create(&server, json!({"title": "after the crowd"}));
    for mut connection in idle {
        connection.set_read_timeout(Some(READ_BOUND)).unwrap();
        let mut rest = Vec::new();
        let closed = connection.read_to_end(&mut rest);
        assert!(closed.is_ok() && rest.is_empty(), "{closed:?}: {rest:?}");
    }
    let next = stream.next();
    assert!(next.is(&posted, "ISSUE_CREATED"), "{}", next.event);
}

#[test]
fn sigterm_ends_open_streams_and_stops_the_server() {
    let repo = Repo::initialized();
    let mut server = server(&repo);
    let id = create(&server, json!({"title": "watched"}));
    let mut streams = vec![
        EventStream::open(&server, "/api/v1/events", &[]),
        EventStream::open(&server, &format!("/api/v1/tasks/{id}/events"), &[]),
    ];
    let status = server.0.terminate(STOP_BOUND);
    assert!(status.success(), "{status:?}");
    for stream in &mut streams {
        stream.assert_ends();
    }
}
