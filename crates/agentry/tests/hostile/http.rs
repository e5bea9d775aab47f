//! Attacks through the HTTP API: web pages (CSRF, DNS rebinding) and floods of connections and requests.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::server::{ANSWER_BOUND, Server, parse_response};
use crate::support::{PROCESS_BOUND, QUIET, Repo, agentry_command, kill, wait_bounded};

/// What a page posts: a task whose verify command a dispatcher would run.
const PAYLOAD: &[u8] = br#"{"title":"hi","verify":["touch pwned"]}"#;

#[test]
fn a_web_page_cannot_create_a_task() {
    let repo = Repo::initialized();
    let server = Server::start(&repo, &["--no-dispatch"], &[]);
    // The page may have the token too (a server before tokens had none to make).
    let token = server.0.token.clone().unwrap_or_default();
    let bearer = format!("Authorization: Bearer {token}");
    let (plain, json) = ("Content-Type: text/plain", "Content-Type: application/json");
    let page = "Origin: http://evil.example";
    let attempts: [(&[&str], u16); 5] = [
        // A form-like POST from a page needs no preflight: the browser sends it as it is.
        (&[plain, page], 403),
        (&[plain, page, &bearer], 403),
        (&[json, page, &bearer], 403),
        // Without a page: still no token, or the token but not JSON.
        (&[plain], 401),
        (&[plain, &bearer], 415),
    ];
    for (headers, refused) in attempts {
        let response = server.exchange("POST", "/api/v1/tasks", headers, PAYLOAD);
        let (status, body) = parse_response(&response);
        let text = String::from_utf8_lossy(&response).to_ascii_lowercase();
        assert_eq!(
            status,
            refused,
            "{headers:?}: {}",
            String::from_utf8_lossy(&body)
        );
        assert!(!text.contains("access-control-allow-origin"), "{text}");
    }
    assert_eq!(repo.json(&["issue", "list", "--json"]), json!([]));
}

#[test]
fn a_rebound_name_gets_nothing_even_with_the_token() {
    let repo = Repo::initialized();
    let server = Server::start(&repo, &["--no-dispatch"], &[]);
    let port = server.0.addr.rsplit_once(':').expect("host:port").1;
    let rebound = format!("Host: evil.example:{port}");
    for (method, path, body) in [
        ("GET", "/api/v1/tasks", &b""[..]),
        ("GET", "/", b""),
        ("GET", "/assets/app.js", b""),
        ("GET", "/metrics", b""),
        ("POST", "/api/v1/tasks", PAYLOAD),
    ] {
        // `request` sends the token and JSON, as the dashboard would.
        let (status, answer) = server.request(method, path, &[&rebound], body);
        let answer = String::from_utf8_lossy(&answer);
        assert_eq!(status, 421, "{method} {path}: {answer}");
    }
    assert_eq!(repo.json(&["issue", "list", "--json"]), json!([]));
    let local = format!("Host: localhost:{port}");
    assert_eq!(
        server.request("GET", "/api/v1/health", &[&local], b"").0,
        200
    );
}

/// An `agentry run` stopped with SIGSTOP: its wake socket stays and nothing reads it.
/// Dropped, it is killed and reaped.
struct StoppedDispatcher {
    child: Option<Child>,
}

impl StoppedDispatcher {
    fn start(repo: &Repo) -> Self {
        let child = agentry_command(repo.path(), &["run"], &QUIET)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("agentry run starts");
        let socket = repo.file(&format!(".agentry/runtime/dispatcher-{}.sock", child.id()));
        let stopped = Self { child: Some(child) };
        let deadline = Instant::now() + PROCESS_BOUND;
        while !socket.exists() {
            assert!(Instant::now() < deadline, "the dispatcher never listened");
            std::thread::sleep(Duration::from_millis(10));
        }
        kill(stopped.pid(), libc::SIGSTOP);
        stopped
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("not finished").id()
    }

    /// Lets it go on and stops it as an operator would; it must end.
    fn finish(mut self) {
        let child = self.child.take().expect("not finished");
        kill(child.id(), libc::SIGTERM);
        kill(child.id(), libc::SIGCONT);
        wait_bounded(child, PROCESS_BOUND, "the resumed dispatcher");
    }
}

impl Drop for StoppedDispatcher {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn a_stopped_dispatcher_stalls_neither_the_server_nor_the_cli() {
    let repo = crate::support::scripted_repo();
    // Nothing is ready to work on: the dispatcher is there only for its wake socket.
    let blocker = repo.add("holds every task of the burst", &[]);
    repo.ok(&[
        "issue", "update", &blocker, "--status", "blocked", "--reason", "held",
    ]);
    let server = Server::start(&repo, &["--no-dispatch"], &[]);
    // Started after the server, so dropped before it if the test fails: a server stuck on the
    // socket is freed when the dispatcher dies.
    let dispatcher = StoppedDispatcher::start(&repo);
    // Each change wakes the dispatcher; its socket's queue holds about ten.
    for n in 0..1_000 {
        let task = json!({"title": format!("burst {n}"), "depends_on": [blocker]});
        let (status, body) = server.post("/api/v1/tasks", task);
        assert_eq!(status, 201, "POST {n}: {body}");
    }
    let after = ["issue", "add", "after the burst", "--depends-on", &blocker];
    let add = agentry_command(repo.path(), &after, &QUIET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("agentry issue add starts");
    let added = wait_bounded(add, ANSWER_BOUND, "agentry issue add");
    crate::support::assert_ok(&added);
    dispatcher.finish();
}

/// Opens connections to HOST:PORT until it holds COUNT or SECONDS have passed, prints how many
/// it holds, and holds them, sending nothing, until its stdin closes.
const HOLD_CONNECTIONS: &str = r#"
import socket, sys, time
host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
deadline = time.monotonic() + seconds
held = []
while len(held) < count and time.monotonic() < deadline:
    try:
        held.append(socket.create_connection((host, port), max(0.01, deadline - time.monotonic())))
    except OSError:
        break
print(len(held), flush=True)
sys.stdin.read()
"#;

/// A process holding idle connections to a server; dropped, it is killed and reaped.
struct Holder {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Holder {
    fn start(addr: &str, count: usize) -> Self {
        let (host, port) = addr.rsplit_once(':').expect("host:port");
        let seconds = ANSWER_BOUND.as_secs().to_string();
        let mut child = Command::new("python3")
            .args([
                "-c",
                HOLD_CONNECTIONS,
                host,
                port,
                &count.to_string(),
                &seconds,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs (the connection flood needs it)");
        let out = BufReader::new(child.stdout.take().expect("stdout is piped"));
        Self { child, out }
    }

    /// How many connections it holds, once it has opened them all (or given up).
    fn held(&mut self) -> usize {
        let mut line = String::new();
        self.out.read_line(&mut line).expect("the holder reports");
        line.trim()
            .parse()
            .unwrap_or_else(|_| panic!("not a count: {line:?}"))
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens `total` idle connections to `server`, over processes that each stay far below the
/// open files limit.
fn flood(server: &Server, total: usize) -> Vec<Holder> {
    const PER_PROCESS: usize = 5_000;
    let mut holders: Vec<Holder> = (0..total.div_ceil(PER_PROCESS))
        .map(|n| Holder::start(&server.0.addr, PER_PROCESS.min(total - n * PER_PROCESS)))
        .collect();
    let held: usize = holders.iter_mut().map(Holder::held).sum();
    assert_eq!(held, total, "the server took every connection");
    holders
}

#[test]
fn twenty_thousand_idle_connections_leave_room_for_health() {
    let repo = Repo::initialized();
    let server = Server::start(&repo, &["--no-dispatch"], &[]);
    let _holders = flood(&server, 20_000);
    let (status, health) = server.get("/api/v1/health");
    assert_eq!(status, 200, "{health}");
}

#[test]
fn a_server_out_of_descriptors_closes_idle_connections_and_goes_on() {
    let repo = Repo::initialized();
    // It logs the failed accepts, as it should; the test's output need not show them.
    let server = Server::start(&repo, &["--no-dispatch"], &[("AGENTRY_LOG", "error")]);
    // Far below the connections it may hold, so that accepting fails (EMFILE) first.
    let limit = libc::rlimit {
        rlim_cur: 64,
        rlim_max: 64,
    };
    let pid = libc::pid_t::try_from(server.0.pid()).expect("a pid");
    // SAFETY: prlimit only reads `limit`, and sets the limit of the server this test started.
    let set = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &limit, std::ptr::null_mut()) };
    assert_eq!(set, 0, "{}", std::io::Error::last_os_error());
    let _holders = flood(&server, 200);
    let (status, health) = server.get("/api/v1/health");
    assert_eq!(status, 200, "{health}");
}

#[test]
fn a_connection_that_never_finishes_its_headers_is_closed() {
    let repo = Repo::initialized();
    let timeout = ("SERVER__HEADER_READ_TIMEOUT_SECS", "1");
    let server = Server::start(&repo, &["--no-dispatch"], &[timeout]);
    let mut stream = TcpStream::connect(&server.0.addr).expect("connects");
    stream.set_read_timeout(Some(ANSWER_BOUND)).unwrap();
    let head = format!(
        "GET /api/v1/health HTTP/1.1\r\nHost: {}\r\nX-Slow: ",
        server.0.addr
    );
    stream.write_all(head.as_bytes()).unwrap();
    // Slowloris: a header that never ends, a byte at a time, until the server hangs up.
    let mut writer = stream.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        let deadline = Instant::now() + ANSWER_BOUND;
        while Instant::now() < deadline {
            writer.write_all(b"a")?;
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok::<(), std::io::Error>(())
    });
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer)),
        Err(err) => assert_eq!(err.kind(), ErrorKind::ConnectionReset, "not closed: {err}"),
    }
    let trickled = trickle.join().expect("the trickle ends");
    assert!(
        trickled.is_err(),
        "the server took bytes for as long as they came"
    );
    assert_eq!(server.get("/api/v1/health").0, 200);
}
