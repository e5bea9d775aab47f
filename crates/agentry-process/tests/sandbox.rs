//! Children in a real bubblewrap sandbox: what they may write, see and reach, and that
//! nothing they start outlives them. Skipped, with a note, where bwrap does not work, unless
//! `AGENTRY_REQUIRE_SANDBOX=1` (as in CI) makes that a failure.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use agentry_process::sandbox::{self, Network};
use agentry_process::{Confinement, Ending, Finished, Sandbox, Spec, pass_env, run};
use tokio_util::sync::CancellationToken;

fn sandbox_or_skip() -> bool {
    match sandbox::bwrap() {
        Ok(_) => true,
        Err(why) if std::env::var("AGENTRY_REQUIRE_SANDBOX").as_deref() == Ok("1") => {
            panic!("AGENTRY_REQUIRE_SANDBOX=1 but there is no sandbox: {why}")
        }
        Err(why) => {
            eprintln!("skipped: no sandbox here ({why})");
            false
        }
    }
}

/// A folder under /tmp with a writable `work/` and a `secret/` holding a key.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        std::fs::create_dir_all(dir.path().join("secret")).unwrap();
        std::fs::write(dir.path().join("secret/key"), "SECRET-KEY").unwrap();
        Self { dir }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn sandbox(&self, network: Network) -> Sandbox {
        Sandbox {
            writable: vec![self.path("work")],
            hidden: vec![self.path("secret")],
            visible: vec![self.dir.path().to_path_buf()],
            network,
            ..Sandbox::default()
        }
    }
}

async fn sh(script: &str, cwd: &Path, confinement: Confinement) -> Finished {
    let spec = Spec {
        program: "sh".into(),
        args: vec!["-c".into(), script.into()],
        cwd: cwd.to_path_buf(),
        env: pass_env(&["PATH"]),
        stdin: Vec::new(),
        timeout: Duration::from_secs(30),
        idle_timeout: None,
        output_cap: 1 << 16,
        grace: Duration::from_millis(200),
        confinement,
    };
    run(&spec, &CancellationToken::new(), |_| {}).await.unwrap()
}

fn sandboxed(sandbox: Sandbox) -> Confinement {
    Confinement {
        sandbox: Some(sandbox),
        max_file_bytes: None,
    }
}

#[tokio::test]
async fn a_sandboxed_child_writes_only_where_it_may_and_sees_no_secret() {
    if !sandbox_or_skip() {
        return;
    }
    let place = Place::new();
    let marker = format!("/tmp/agentry-sandbox-test-{}", std::process::id());
    let script = format!(
        "echo in > in.txt; echo out > ../out.txt; echo tmp > {marker}; cat ../secret/key; cat in.txt"
    );
    let done = sh(
        &script,
        &place.path("work"),
        sandboxed(place.sandbox(Network::Host)),
    )
    .await;
    assert_eq!(done.ending, Ending::Exited(0), "{done:?}");
    assert_eq!(done.stdout.text, "in\n");
    assert!(
        done.stderr.text.contains("Read-only file system"),
        "{done:?}"
    );
    assert!(place.path("work/in.txt").exists());
    assert!(!place.path("out.txt").exists());
    assert!(!Path::new(&marker).exists(), "/tmp is private");
    assert_eq!(
        std::fs::read_to_string(place.path("secret/key")).unwrap(),
        "SECRET-KEY"
    );
}

#[tokio::test]
async fn nothing_a_sandboxed_child_starts_outlives_it() {
    if !sandbox_or_skip() {
        return;
    }
    let place = Place::new();
    let marker = format!("outlive-{}", std::process::id());
    let script =
        format!("cd / && setsid sh -c 'sleep 300; : {marker}' > /dev/null 2>&1 & echo started");
    let done = sh(
        &script,
        &place.path("work"),
        sandboxed(place.sandbox(Network::Host)),
    )
    .await;
    assert_eq!(done.stdout.text, "started\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !running_with(&marker).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = running_with(&marker);
    for pid in &left {
        // SAFETY: kill only sends a signal, to a process this test started.
        unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
    }
    assert!(left.is_empty(), "left running: {left:?}");
}

/// Processes (not zombies) whose command line mentions `marker`.
fn running_with(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat
                .rsplit(')')
                .next()
                .unwrap_or_default()
                .trim_start()
                .starts_with('Z');
            !zombie && String::from_utf8_lossy(&cmdline).contains(marker)
        })
        .collect()
}

#[tokio::test]
async fn without_a_network_the_hosts_loopback_is_out_of_reach() {
    if !sandbox_or_skip() {
        return;
    }
    let place = Place::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = format!(
        "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 5)' 2>/dev/null && echo reached || echo refused"
    );
    let done = sh(
        &script,
        &place.path("work"),
        sandboxed(place.sandbox(Network::None)),
    )
    .await;
    assert_eq!(done.stdout.text, "refused\n", "{done:?}");
    let host = sh(
        &script,
        &place.path("work"),
        sandboxed(place.sandbox(Network::Host)),
    )
    .await;
    assert_eq!(host.stdout.text, "reached\n", "{host:?}");
}

#[tokio::test]
async fn files_past_the_size_limit_are_not_written_in_or_out_of_a_sandbox() {
    let place = Place::new();
    let mut confinements = vec![Confinement::default()];
    if sandbox_or_skip() {
        confinements.push(sandboxed(place.sandbox(Network::Host)));
    }
    for mut confinement in confinements {
        confinement.max_file_bytes = Some(100_000);
        let done = sh(
            "head -c 300000 /dev/zero > big; wc -c < big",
            &place.path("work"),
            confinement,
        )
        .await;
        assert_eq!(done.stdout.text.trim(), "100000", "{done:?}");
    }
}
