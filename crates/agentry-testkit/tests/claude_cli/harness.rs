//! Finding and running the real `claude` CLI in a sealed environment.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use agentry_testkit::ModelServer;
pub use agentry_testkit::claude_or_skip;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Far above a scripted run (about a second), far below the test's 60 s budget.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// A finished claude run.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stdout's JSON lines; panics on a line that is not JSON.
    pub fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }

    /// The lines of `kind` ("assistant", "user", "result", "system").
    pub fn of_type(&self, kind: &str) -> Vec<Value> {
        let mut lines = self.lines();
        lines.retain(|line| line["type"] == kind);
        lines
    }
}

/// Runs `claude -p` headless in `dir/work` against `server`, `prompt` on stdin, with only
/// the environment below plus `extra_env`.
pub async fn run_claude(
    claude: &Path,
    server: &ModelServer,
    dir: &Path,
    prompt: &str,
    extra_env: &[(&str, &str)],
) -> Run {
    let work = dir.join("work");
    std::fs::create_dir_all(&work).expect("the work dir is created");
    let mut child = Command::new(claude)
        .args(["-p", "--output-format", "stream-json", "--verbose"])
        .args([
            "--permission-mode",
            "bypassPermissions",
            "--model",
            "claude-sonnet-4-5",
        ])
        .current_dir(&work)
        .env_clear()
        .envs(sealed_env(server, dir))
        .envs(extra_env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("claude starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(prompt.as_bytes())
        .await
        .expect("the prompt is written");
    drop(stdin);
    let output = tokio::time::timeout(RUN_LIMIT, child.wait_with_output())
        .await
        .expect("claude finishes in time")
        .expect("claude's output is read");
    Run {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Everything claude gets from its environment, so the user's config, keys and network
/// cannot leak into the run.
fn sealed_env(server: &ModelServer, dir: &Path) -> Vec<(&'static str, String)> {
    let (home, tmp) = (dir.join("home"), dir.join("tmp"));
    for path in [&home, &tmp] {
        std::fs::create_dir_all(path).expect("a temp dir is created");
    }
    vec![
        // Its tools (Bash, …) run programs from PATH.
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        // An empty home: no ~/.claude settings, credentials or history from the user.
        ("HOME", home.display().to_string()),
        // Its scratch files and sockets (TMPDIR/cc-socks, TMPDIR/claude-UID) stay in the test dir.
        ("TMPDIR", tmp.display().to_string()),
        // The Messages API goes to the scripted server, authenticated by any key.
        ("ANTHROPIC_BASE_URL", server.base_url()),
        ("ANTHROPIC_API_KEY", "test-key".to_string()),
        // No telemetry, error reports, update checks or other calls beyond the model.
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".to_string()),
        // As root, bypassPermissions is refused unless claude is told it is sandboxed.
        ("IS_SANDBOX", "1".to_string()),
    ]
}

/// Writes `stdout` to `$AGENTRY_SAVE_CLAUDE_FIXTURES/name`, when that is set: how the parser
/// fixtures in crates/agentry-agents/testdata/claude are refreshed after a version bump.
pub fn save_fixture(name: &str, stdout: &str) {
    if let Some(dir) = std::env::var_os("AGENTRY_SAVE_CLAUDE_FIXTURES") {
        std::fs::write(Path::new(&dir).join(name), stdout).expect("the fixture is saved");
    }
}
