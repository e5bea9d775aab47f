//! Finding and running the real `codex` CLI in a sealed environment.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use agentry_testkit::ModelServer;
pub use agentry_testkit::codex_or_skip;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Far above a scripted run (about a second), far below the test's 60 s budget.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// A model codex knows, so it offers its full tool set (`apply_patch` among them) and warns
/// of no missing model metadata.
pub const MODEL: &str = "gpt-5.5";

/// A finished codex run.
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

    /// The `type` of each line, in order ("thread.started", "item.completed", …).
    pub fn types(&self) -> Vec<String> {
        let lines = self.lines();
        lines
            .iter()
            .map(|l| l["type"].as_str().unwrap().to_string())
            .collect()
    }

    /// The items of the `item.completed` lines.
    pub fn completed_items(&self) -> Vec<Value> {
        let lines = self.lines().into_iter();
        let completed = lines.filter(|line| line["type"] == "item.completed");
        completed.map(|line| line["item"].clone()).collect()
    }
}

/// Runs `codex exec --json` in `dir/work` against `server` (as provider `testkit`), `prompt`
/// on stdin, with only the environment below and `extra_args` after the usual ones.
pub async fn run_codex(
    codex: &Path,
    server: &ModelServer,
    dir: &Path,
    prompt: &str,
    extra_args: &[&str],
) -> Run {
    let work = dir.join("work");
    std::fs::create_dir_all(&work).expect("the work dir is created");
    let mut child = Command::new(codex)
        .args([
            "exec",
            "--json",
            "--dangerously-bypass-approvals-and-sandbox",
        ])
        .args(["--model", MODEL])
        .args(provider_args(server))
        .args(QUIET_ARGS)
        .args(extra_args)
        .arg("-")
        .current_dir(&work)
        .env_clear()
        .envs(sealed_env(dir))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("codex starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(prompt.as_bytes())
        .await
        .expect("the prompt is written");
    drop(stdin);
    let output = tokio::time::timeout(RUN_LIMIT, child.wait_with_output())
        .await
        .expect("codex finishes in time")
        .expect("codex's output is read");
    Run {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A custom model provider: the Responses API at the scripted server, its key read from
/// `TESTKIT_KEY`. A provider needs a name; `chat` is no longer a wire API codex accepts.
fn provider_args(server: &ModelServer) -> Vec<String> {
    let url = format!("{}/v1", server.base_url());
    [
        "model_provider=\"testkit\"".to_string(),
        "model_providers.testkit.name=\"testkit\"".to_string(),
        format!("model_providers.testkit.base_url=\"{url}\""),
        "model_providers.testkit.wire_api=\"responses\"".to_string(),
        "model_providers.testkit.env_key=\"TESTKIT_KEY\"".to_string(),
    ]
    .into_iter()
    .flat_map(|setting| ["-c".to_string(), setting])
    .collect()
}

/// No calls beyond the model: without these, codex looks up github.com and chatgpt.com
/// (plugins, apps) and reports analytics.
const QUIET_ARGS: [&str; 8] = [
    "-c",
    "analytics.enabled=false",
    "--disable",
    "plugins",
    "--disable",
    "remote_plugin",
    "--disable",
    "apps",
];

/// Everything codex gets from its environment, so the user's config, login and keys cannot
/// leak into the run.
fn sealed_env(dir: &Path) -> Vec<(&'static str, String)> {
    let (home, codex_home, tmp) = (dir.join("home"), dir.join("codex-home"), dir.join("tmp"));
    for path in [&home, &codex_home, &tmp] {
        std::fs::create_dir_all(path).expect("a temp dir is created");
    }
    vec![
        // Its shell tool runs programs from PATH.
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("HOME", home.display().to_string()),
        // Its config, login, sessions and skills; codex refuses one that does not exist.
        ("CODEX_HOME", codex_home.display().to_string()),
        ("TMPDIR", tmp.display().to_string()),
        // Sent as `Authorization: Bearer test-key`.
        ("TESTKIT_KEY", "test-key".to_string()),
    ]
}

/// Writes `stdout` to `$AGENTRY_SAVE_CODEX_FIXTURES/name`, when that is set: how the parser
/// fixtures in crates/agentry-agents/testdata/codex are refreshed after a version bump.
pub fn save_fixture(name: &str, stdout: &str) {
    if let Some(dir) = std::env::var_os("AGENTRY_SAVE_CODEX_FIXTURES") {
        std::fs::write(Path::new(&dir).join(name), stdout).expect("the fixture is saved");
    }
}
